// Package media archives the creatives a harvest links to, before their
// signed links expire: every video, image and cover URL in the tables ads,
// ad_details and commercial_content (and advertiser avatars, when asked).
// Page links (tiktok.com/@user/video/…) are not files and are skipped.
//
// # Store
//
// Files are content-addressed: DIR/media/<first two hex digits>/<sha256>,
// followed by an extension sniffed from the bytes (.mp4, .jpeg, …), one copy
// per distinct content however many links point at it. A download is written
// under DIR/_adharvest/media-tmp, fsynced, and only then renamed into the
// store and the store's folder fsynced (sink.WriteFileAtomicSum, then one
// more rename), so a kill -9 never leaves a file in DIR/media whose name is
// not the SHA-256 of its bytes: `sha256sum` verifies any of them.
//
// # State and tables
//
// How each URL's try ended is recorded in the checkpoint (checkpoint.Media),
// after the file it names is durable: data first, state second. A resumed
// run skips what is final (ok with its file present, expired, removed) and
// tries again what is not (never tried, failed, too_large under a larger
// cap). At the end of every run the derived tables media (one row per URL
// settled, and per link not tried yet whose x-expires is already past) and
// media_links (every link from an ad or post to a URL) are rewritten whole
// from the checkpoint and the parts (sink.Media, sink.MediaLinks); they are
// not parts, so check neither sweeps nor registers them. Refresh rewrites
// them without a request, for a harvest to call at the end of its runs.
//
// A URL whose x-expires is in the past is expired without a request. Links
// that differ only in their signature (x-expires, x-signature) are one object:
// they are tried freshest first, one at a time, and once one of them is
// stored (or found removed) the others take its outcome without a request,
// naming it in source_url.
//
// # Safety
//
// Media URLs are server text. Only https is fetched, or plain http to a
// loopback host (tests, the demo); a redirect is followed only within the
// link's own origin, at most three times. The HTTP client is a plain one of
// this package's own, shared with nothing: no Authorization header, no
// cookie jar, no proxy credentials of the API client, so no API credential
// can reach a CDN. File names are hashes, never taken from the URL. Every
// body is bounded by the per-file cap (too_large beyond it), every request by
// timeouts (connect, headers, and a stall timer while the body flows).
//
// # Stops
//
// Downloads have a concurrency and a request rate of their own, separate from
// the API's, and an optional byte budget per run. The budget is never
// exceeded: a file that would not fit is not started (its Content-Length) or
// is abandoned (no Content-Length), and the run stops with a *StopError
// wrapping ErrBudget. A cancelled context stops the same way, wrapping the
// context's error. Both are resumable: the command line exits 75.
//
// # Use
//
// `adharvest media` is Run. A harvest with the dataset media uses a Queue
// instead, with the lock and checkpoint it holds: Start it, call AddPart for
// every part file as soon as its flush is committed, and Finish at the end,
// before the checkpoint is closed. A harvest without it calls Refresh at the
// end of every run. ReadSummary and TableSummary are for status and report;
// Verify is for check.
package media
