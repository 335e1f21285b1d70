package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/media"

	"github.com/urfave/cli/v2"
)

// MediaCommand archives the creatives that a harvest folder's tables link
// to (package media).
type MediaCommand struct {
	Out string
	// Budget and MaxFileSize are sizes as the flags take them ("2GiB");
	// "" is no budget and the default cap.
	Budget      string
	MaxFileSize string
	Concurrency int
	RPS         float64
	Avatars     bool
	// Offline fetches from loopback hosts only (the demo).
	Offline   bool
	RetryBase time.Duration
	Progress  string // auto, log, none
	// Program is how the user runs adharvest, for the hint printed.
	Program string
	Stdout  io.Writer
	Stderr  io.Writer
	Now     func() time.Time
}

func mediaCommand() *cli.Command {
	return &cli.Command{
		Name:  "media",
		Usage: "download every creative (video, image, cover) the folder's tables link to, before the links expire",
		UsageText: `adharvest media --out DIR [--budget BYTES] [--concurrency N] [flags]

Downloads every video, ad image and cover image that ads, ad_details and
commercial_content link to, resumably, into a content-addressed store:
DIR/media/<first two hex digits>/<sha256>[.ext], one copy per distinct file,
whose name is the SHA-256 of its bytes (check one with sha256sum). The table
media says how each link ended (ok, expired, removed, too_large, failed), and
media_links which ad or post links to it. Links already settled are not asked
again; failed ones are. Page links (tiktok.com/@user/video/...) are not files.

Only https is fetched (plain http to loopback hosts only), no credential is
ever sent to a media host, and a redirect is followed only within a link's own
origin. Exit codes: 0 complete, 75 stopped early but resumable (--budget,
Ctrl-C), 2 bad input, 1 other failure.

Examples:
   adharvest media --out eea-2024-01
   adharvest media --out eea-2024-01 --budget 20GB --concurrency 8
   adharvest sql --out eea-2024-01 "SELECT status, count(*) FROM media GROUP BY 1"`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest (required)"},
			&cli.StringFlag{Name: "budget", Usage: "download at most `BYTES` in this run (500MB, 2GiB, ...), then stop with exit 75", DefaultText: "none"},
			&cli.StringFlag{Name: "max-file-size", Usage: "skip (too_large) any file above `BYTES`", DefaultText: media.FormatBytes(media.DefaultMaxFileSize)},
			&cli.IntFlag{Name: "concurrency", Usage: "`N` downloads at once", Value: media.DefaultConcurrency},
			&cli.Float64Flag{Name: "rps", Usage: "at most `N` requests per second to media hosts (0: no limit); separate from the API's rate", Value: 10},
			&cli.BoolFlag{Name: "avatars", Usage: "also keep advertiser avatars (ad_details.avatar_url); the folder remembers it", DefaultText: "off"},
			&cli.StringFlag{Name: "progress", Usage: "`MODE`: auto or log (a line every few seconds on stderr) or none", Value: "auto", DefaultText: "auto"},
			// Hidden: shrink every wait, for tests against the fake CDN only.
			&cli.DurationFlag{Name: "retry-base", Hidden: true},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			cmd := &MediaCommand{
				Out: c.String("out"), Budget: c.String("budget"), MaxFileSize: c.String("max-file-size"),
				Concurrency: c.Int("concurrency"), RPS: c.Float64("rps"), Avatars: c.Bool("avatars"),
				RetryBase: c.Duration("retry-base"), Progress: c.String("progress"), Program: program(c),
				Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Now: time.Now,
			}
			return cmd.Run(c.Context)
		},
	}
}

// options checks the flags and builds the media options.
func (o *MediaCommand) options() (media.Options, error) {
	var mo media.Options
	switch {
	case o.Out == "":
		return mo, usagef("--out is required: the folder of a harvest, e.g. adharvest media --out eea-2024-01")
	case o.Concurrency < 1 || o.Concurrency > 64:
		return mo, usagef("--concurrency: %d is outside 1..64", o.Concurrency)
	case o.RPS < 0:
		return mo, usagef("--rps: %g must not be negative (0 means unlimited)", o.RPS)
	}
	switch o.Progress {
	case "", "auto", "log", "none":
	default:
		return mo, usagef("--progress: %q is not auto, log or none", o.Progress)
	}
	if o.Budget != "" {
		n, err := media.ParseBytes(o.Budget)
		if err != nil {
			return mo, usagef("--budget: %v", err)
		}
		if n == 0 {
			return mo, usagef("--budget: 0 would download nothing; leave it out for no budget")
		}
		mo.Budget = n
	}
	if o.MaxFileSize != "" {
		n, err := media.ParseBytes(o.MaxFileSize)
		if err != nil || n == 0 {
			if err == nil {
				err = errors.New("it must be above 0")
			}
			return mo, usagef("--max-file-size: %v", err)
		}
		mo.MaxFileSize = n
	}
	mo.Concurrency, mo.RPS, mo.Avatars, mo.Offline = o.Concurrency, o.RPS, o.Avatars, o.Offline
	mo.RetryBase, mo.Now, mo.UserAgent = o.RetryBase, o.Now, "adharvest/"+Version
	return mo, nil
}

// Run checks the options, archives the folder's media and prints where
// they are and how the links ended.
func (o *MediaCommand) Run(ctx context.Context) error {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	mo, err := o.options()
	if err != nil {
		return err
	}
	if fi, err := os.Stat(o.Out); err != nil || !fi.IsDir() {
		return usagef("--out %s does not exist or is not a folder", o.Out)
	}
	if _, err := os.Stat(folder.New(o.Out).Checkpoint()); err != nil {
		return usagef("%s holds no harvest (no %s); harvest into it first", o.Out, folder.CheckpointName())
	}
	if o.Progress != "none" {
		var mu sync.Mutex
		last := time.Now()
		mo.Logf = func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(o.Stderr, "adharvest: "+format+"\n", args...)
		}
		mo.Progress = func(p media.Progress) {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(last) < 5*time.Second {
				return
			}
			last = time.Now()
			fmt.Fprintf(o.Stderr, "adharvest: media %d of %d links settled, %d files stored, %s downloaded\n", p.Done, p.Queued, p.Stored, media.FormatBytes(p.Bytes))
		}
	}
	res, err := media.Run(ctx, o.Out, mo)
	var le *checkpoint.LockedError
	switch {
	case errors.As(err, &le):
		return &UsageError{Msg: le.Error()}
	case errors.Is(err, media.ErrNoHarvest):
		return usagef("%v; harvest into it first", err)
	}
	var se *media.StopError
	if err == nil || errors.As(err, &se) {
		o.print(res)
	}
	return err
}

// print writes the run's outcome on stdout.
func (o *MediaCommand) print(r media.Result) {
	w := o.Stdout
	fmt.Fprintf(w, "media of %s: %d of %d linked files archived (%d stored files, %s)\n", o.Out, r.OK, r.URLs, r.Files, media.FormatBytes(r.Bytes))
	fmt.Fprintf(w, "  %d expired, %d removed, %d too large, %d failed, %d not tried yet\n", r.Expired, r.Removed, r.TooLarge, r.Failed, r.Pending)
	fmt.Fprintf(w, "  this run: %d links settled, %d files stored, %s downloaded\n", r.Tried, r.Stored, media.FormatBytes(r.Downloaded))
	fmt.Fprint(w, asInvoked(o.Program, fmt.Sprintf("Files are under %s, named by their SHA-256. Try:\n  adharvest sql --out %s \"SELECT kind, status, count(*) FROM media GROUP BY ALL ORDER BY ALL\"\n",
		folder.New(o.Out).MediaStore(), o.Out)))
}
