package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"adharvest/checkpoint"
	"adharvest/crawl"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/media"
	"adharvest/sink"
	"adharvest/tiktok/apitest"

	"github.com/urfave/cli/v2"
)

// DemoJob is the demo's fixed job: every country, one month, against the
// bundled fake API.
func DemoJob() job.Job {
	return job.Job{
		Datasets: []string{job.Ads, job.AdDetails, job.AdReports, job.CommercialContent, job.Advertisers, job.Media},
		Queries: []job.Query{
			{Countries: []string{"EEA"}, From: "2024-01-01", To: "2024-01-31"},
			{Countries: []string{"FR", "DE"}, From: "2024-01-01", To: "2024-01-31", Terms: []string{"coffee", "election"}},
		},
	}
}

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "harvest offline from the bundled fake API, to see real output without credentials",
		UsageText: `adharvest demo [--out DIR]

Runs the real harvest code against a fake Commercial Content API served on 127.0.0.1,
which speaks the documented endpoints with the documented quirks. Nothing leaves the
machine. Example:
   adharvest demo --out demo-output
   adharvest sql --out demo-output "SELECT country_code, count(*) AS ads FROM ads GROUP BY 1 ORDER BY 2 DESC"`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output `DIR`", Value: "adharvest-demo", DefaultText: "adharvest-demo"},
			&cli.StringFlag{Name: "progress", Usage: "`MODE`: auto (a display on a terminal, log lines otherwise), bar, log or none", Value: "auto", DefaultText: "auto"},
		},
		Action: func(c *cli.Context) error {
			cmd := &DemoCommand{Out: c.String("out"), Progress: c.String("progress"), Program: program(c), Stdout: c.App.Writer, Stderr: c.App.ErrWriter}
			return cmd.Run(c.Context)
		},
	}
}

// DemoCommand harvests DemoJob from the bundled fake API on loopback.
type DemoCommand struct {
	Out      string
	Progress string
	// Program is how the user runs adharvest ("go run ." after `go run .
	// demo`), for the commands the demo suggests; "" is "adharvest".
	Program        string
	Stdout, Stderr io.Writer
	// Served, when set, is called with the fake API (and its CDN) once
	// the harvest has ended, before they close: tests read what the CDN
	// received (apitest.Server.CDNLeaks).
	Served func(*apitest.Server)
}

// demoMaxFileSize is the demo's per-file cap: the fake CDN's large objects
// (DemoCDN) are above it, so the demo shows too_large without writing them.
const demoMaxFileSize = 1 << 20

// DemoCDN is the fake CDN the demo archives its creatives from: some links
// expired, some creatives removed, some slow, and some too large for the
// demo's 1 MiB cap (DemoCDN's LargeSize is 2 MiB), so that every status of
// the media table shows.
func DemoCDN() *apitest.CDN {
	return &apitest.CDN{Expired: 0.05, Removed: 0.05, Slow: 0.02, SlowDelay: 100 * time.Millisecond, Large: 0.02, LargeSize: 2 << 20, Small: true}
}

// Run serves the fake API and its CDN, harvests from them with the real
// harvest code (the creatives included, from loopback only) and says what
// was archived and what to try next.
func (o *DemoCommand) Run(ctx context.Context) error {
	srv := apitest.Start(apitest.Options{Quirks: true, CDN: DemoCDN()})
	defer srv.Close()
	j := DemoJob()
	h := &HarvestCommand{
		Out: o.Out, Job: &j, APIURL: srv.URL,
		ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret,
		Concurrency: 4, AutoRate: true, FlushPages: crawl.DefaultFlushPages, Progress: o.Progress, Program: o.Program,
		Stdout: o.Stdout, Stderr: o.Stderr, Now: time.Now,
	}
	// The media downloads are held to loopback and to the demo's cap.
	h.Tune = func(co *crawl.Options) {
		co.Media.Offline = true
		co.Media.MaxFileSize = demoMaxFileSize
		co.Media.Concurrency = 8
		co.Media.UserAgent = "adharvest/" + Version
	}
	err := h.Run(ctx)
	if o.Served != nil {
		o.Served(srv)
	}
	if err != nil {
		return err
	}
	o.printMedia()
	o.printNext()
	return nil
}

// printMedia says what the demo archived of its creatives, where, and how
// to verify one file.
func (o *DemoCommand) printMedia() {
	s, err := media.ReadSummary(o.Out)
	if err != nil || s.URLs == 0 {
		return
	}
	f := folder.New(o.Out)
	fmt.Fprintf(o.Stdout, "Creatives from the fake CDN: %s.\n", s)
	fmt.Fprintf(o.Stdout, "  They are under %s, each file named by the SHA-256 of its bytes", f.MediaStore())
	rows, err := sink.ReadParquet[sink.MediaRow](media.TablePath(f, sink.Media))
	for _, r := range rows {
		if err == nil && r.Status == checkpoint.MediaOK && r.Path != nil {
			fmt.Fprintf(o.Stdout, "; to verify one:\n    sha256sum %s   # prints the file's own name", shellQuote(f.Abs(*r.Path)))
			break
		}
	}
	fmt.Fprintln(o.Stdout)
}

// printNext says what to try on the demo's output, in commands the user can
// run as they are: after `go run . demo` there is no adharvest command yet,
// so the hints say `go run .` and how to get the command.
func (o *DemoCommand) printNext() {
	prog := o.Program
	if prog == "" {
		prog = "adharvest"
	}
	out := shellQuote(o.Out)
	fmt.Fprintf(o.Stdout, "Demo harvest written to %s. Try:\n", o.Out)
	fmt.Fprintf(o.Stdout, "  %s sql --out %s \"SELECT country_code, count(*) AS ads FROM ads GROUP BY 1 ORDER BY 2 DESC\"\n", prog, out)
	fmt.Fprintf(o.Stdout, "  %s sql --out %s --query top-advertisers\n", prog, out)
	fmt.Fprintf(o.Stdout, "  %s status --out %s\n", prog, out)
	fmt.Fprintf(o.Stdout, "  %s report --out %s       # then open %s\n", prog, out, shellQuote(filepath.Join(o.Out, "report.html")))
	if prog == "go run ." {
		fmt.Fprintf(o.Stdout, "`go run .` rebuilds adharvest each time and works only in this folder. To have an adharvest command:\n"+
			"  go install .              # into %s, which must be on your PATH\n"+
			"  go build -o adharvest .   # here: then ./adharvest sql --out %s …\n", goBin(), out)
	}
}

// goBin is where `go install` puts commands: $GOBIN, or $GOPATH/bin
// (~/go/bin by default).
func goBin() string {
	if d := os.Getenv("GOBIN"); d != "" {
		return d
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "$(go env GOPATH)/bin"
		}
		gopath = filepath.Join(home, "go")
	}
	return filepath.Join(filepath.SplitList(gopath)[0], "bin")
}

func fakeAPICommand() *cli.Command {
	return &cli.Command{
		Name:  "fake-api",
		Usage: "serve the bundled fake Commercial Content API on a loopback address (for trying flags offline)",
		UsageText: `adharvest fake-api [--listen 127.0.0.1:8089] [--quirks=false] [--holes 0.05] [--cdn]

Serves a fake Commercial Content API, with every documented endpoint and quirk,
until Ctrl-C. It accepts only its own credentials, which it prints when it starts:
export them (and the API's address) in the shell that runs harvest. With --cdn, the
media links of its data point at a fake CDN on another loopback port, which serves
deterministic bytes (some links expired, some creatives removed, some slow, some
large), so that adharvest media and --datasets ...,media can be tried offline.

Example, in a second terminal:
   adharvest fake-api --listen 127.0.0.1:8089
then in the first:
   export ADHARVEST_API_URL=http://127.0.0.1:8089
   export TIKTOK_CLIENT_KEY=` + apitest.DefaultClientKey + ` TIKTOK_CLIENT_SECRET=` + apitest.DefaultClientSecret + `
   adharvest harvest --out DIR --countries FR --from 2024-01-01 --to 2024-01-31`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Usage: "loopback `ADDR` to listen on", Value: "127.0.0.1:8089", DefaultText: "127.0.0.1:8089"},
			&cli.BoolFlag{Name: "quirks", Usage: "vary encodings as the documentation contradicts itself (--quirks=false for none)", Value: true, DefaultText: "on"},
			&cli.Float64Flag{Name: "holes", Usage: "`FRACTION` of removed items that make pages short or empty while has_more stays true (0 to 1)", DefaultText: "none"},
			&cli.BoolFlag{Name: "cdn", Usage: "also serve the creatives the media links name, from a fake CDN on a loopback port", DefaultText: "off"},
		},
		Action: func(c *cli.Context) error {
			cmd := &FakeAPICommand{Listen: c.String("listen"), Quirks: c.Bool("quirks"), Holes: c.Float64("holes"), CDN: c.Bool("cdn"), Stdout: c.App.Writer}
			return cmd.Run(c.Context)
		},
	}
}

// FakeAPICommand serves the bundled fake API until ctx ends.
type FakeAPICommand struct {
	Listen string
	Quirks bool
	Holes  float64
	// CDN serves the media links from a fake CDN (apitest.DefaultCDN) on a
	// loopback port of its own.
	CDN    bool
	Stdout io.Writer
}

// Run serves.
func (o *FakeAPICommand) Run(ctx context.Context) error {
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil || (host != "localhost" && !net.ParseIP(host).IsLoopback()) {
		return usagef("--listen %q must be a loopback address such as 127.0.0.1:8089", o.Listen)
	}
	if o.Holes < 0 || o.Holes > 1 {
		return usagef("--holes %g is outside 0..1", o.Holes)
	}
	opts := apitest.Options{Quirks: o.Quirks, HolesRate: o.Holes}
	if o.CDN {
		opts.CDN = apitest.DefaultCDN()
	}
	srv := apitest.New(opts)
	defer srv.Close()
	hs := &http.Server{Addr: o.Listen, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", hs.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "fake API on http://%s; Ctrl-C stops it. It takes only its own credentials: in the shell that runs harvest,\n"+
		"  export ADHARVEST_API_URL=http://%s TIKTOK_CLIENT_KEY=%s TIKTOK_CLIENT_SECRET=%s\n",
		ln.Addr(), ln.Addr(), apitest.DefaultClientKey, apitest.DefaultClientSecret)
	if o.CDN {
		fmt.Fprintf(o.Stdout, "fake CDN on %s: the media links of the data point at it (adharvest media --out DIR fetches them)\n", srv.CDNURL())
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
