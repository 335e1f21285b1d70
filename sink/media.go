package sink

import "time"

// MediaRow is one distinct creative URL that the harvest's tables link to and
// that package media has tried (table media): how the try ended (status ok,
// expired, removed, too_large or failed) and, when ok, the stored file: its
// SHA-256, size and path relative to the output folder
// (media/<first two hex digits>/<sha256>[.ext]). sha256, bytes and path are
// NULL unless status is ok. A link not tried yet whose x-expires is already
// past has a row too (expired, not asked); other links not tried yet have
// none. run_id is the run that settled the URL.
type MediaRow struct {
	URL    string `parquet:"url"`
	Status string `parquet:"status"`
	// Kind is video, image, cover or avatar: what the link is in the item.
	Kind   string  `parquet:"kind"`
	SHA256 *string `parquet:"sha256,optional"`
	Bytes  *int64  `parquet:"bytes,optional"`
	// ContentType is the media type the server sent.
	ContentType *string `parquet:"content_type,optional"`
	// HTTPStatus is the answer's status; NULL when nothing was asked (an
	// x-expires already past, a refused URL, a file taken from another link
	// to the same object).
	HTTPStatus *int32     `parquet:"http_status,optional"`
	FetchedAt  *time.Time `parquet:"fetched_at,timestamp(microsecond),optional"`
	Path       *string    `parquet:"path,optional"`
	// Host is the URL's host; ExpiresAt its x-expires, when it has one.
	Host      string     `parquet:"host"`
	ExpiresAt *time.Time `parquet:"expires_at,timestamp(millisecond),optional"`
	// ContentLength is the size the server announced (for too_large: how
	// large the object is).
	ContentLength *int64 `parquet:"content_length,optional"`
	// SourceURL is another link to the same object (same host and path,
	// another signature) that the file was downloaded from; NULL when it
	// came from url itself.
	SourceURL *string `parquet:"source_url,optional"`
	Attempts  int32   `parquet:"attempts"`
	Error     *string `parquet:"error,optional"`
	RunID     string  `parquet:"run_id"`
}

// MediaLinkRow is one link from an ad or a post to a creative URL (table
// media_links): which table and item (ad_id for ads and ad_details,
// content_id for commercial_content), the country the item was found in
// (NULL for ad_details, whose rows are not per country), the field the URL
// was in (video_urls, image_urls, videos.url, videos.cover_image_url,
// download_url, avatar_url) and its kind. Join media on url. fetched_at and
// run_id are those of the newest item row that holds the link.
type MediaLinkRow struct {
	SourceTable string    `parquet:"source_table"`
	AdID        *int64    `parquet:"ad_id,optional"`
	ContentID   *string   `parquet:"content_id,optional"`
	CountryCode *string   `parquet:"country_code,optional"`
	Field       string    `parquet:"field"`
	Kind        string    `parquet:"kind"`
	URL         string    `parquet:"url"`
	FetchedAt   time.Time `parquet:"fetched_at,timestamp(microsecond)"`
	RunID       string    `parquet:"run_id"`
}
