package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"adharvest/job"
	"adharvest/tiktok/apitest"

	"github.com/urfave/cli/v2"
)

// DemoJob is the demo's fixed job: every country, one month, against the
// bundled fake API.
func DemoJob() job.Job {
	return job.Job{
		Datasets: []string{job.Ads, job.AdDetails, job.AdReports, job.CommercialContent, job.Advertisers},
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
			&cli.StringFlag{Name: "out", Usage: "output `DIR`", Value: "adharvest-demo"},
			&cli.StringFlag{Name: "progress", Usage: "auto, bar, log or none", Value: "auto"},
		},
		Action: func(c *cli.Context) error {
			cmd := &DemoCommand{Out: c.String("out"), Progress: c.String("progress"), Stdout: c.App.Writer, Stderr: c.App.ErrWriter}
			return cmd.Run(c.Context)
		},
	}
}

// DemoCommand harvests DemoJob from the bundled fake API on loopback.
type DemoCommand struct {
	Out            string
	Progress       string
	Stdout, Stderr io.Writer
}

// Run serves the fake API, harvests from it with the real harvest code and
// says what to try next.
func (o *DemoCommand) Run(ctx context.Context) error {
	srv := apitest.Start(apitest.Options{Quirks: true})
	defer srv.Close()
	j := DemoJob()
	h := &HarvestCommand{
		Out: o.Out, Job: &j, APIURL: srv.URL,
		ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret,
		Concurrency: 4, FlushPages: 20, Progress: o.Progress,
		Stdout: o.Stdout, Stderr: o.Stderr, Now: time.Now,
	}
	if err := h.Run(ctx); err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "Demo harvest written to %s. Try:\n  adharvest sql --out %s \"SELECT country_code, count(*) AS ads FROM ads GROUP BY 1 ORDER BY 2 DESC\"\n  adharvest status --out %s\n", o.Out, o.Out, o.Out)
	return nil
}

func fakeAPICommand() *cli.Command {
	return &cli.Command{
		Name:  "fake-api",
		Usage: "serve the bundled fake Commercial Content API on a loopback address (for trying flags offline)",
		UsageText: `adharvest fake-api [--listen 127.0.0.1:8089] [--quirks] [--holes 0.05]

Example:
   adharvest fake-api --listen 127.0.0.1:8089 &
   ADHARVEST_API_URL=http://127.0.0.1:8089 TIKTOK_CLIENT_KEY=demo-client-key \
   TIKTOK_CLIENT_SECRET=demo-client-secret adharvest harvest --out DIR --from 2024-01-01 --to 2024-01-31`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Usage: "loopback `ADDR` to listen on", Value: "127.0.0.1:8089"},
			&cli.BoolFlag{Name: "quirks", Usage: "vary encodings as the documentation contradicts itself", Value: true},
			&cli.Float64Flag{Name: "holes", Usage: "fraction of removed items that make pages short or empty while has_more stays true (0 to 1)"},
		},
		Action: func(c *cli.Context) error {
			cmd := &FakeAPICommand{Listen: c.String("listen"), Quirks: c.Bool("quirks"), Holes: c.Float64("holes"), Stdout: c.App.Writer}
			return cmd.Run(c.Context)
		},
	}
}

// FakeAPICommand serves the bundled fake API until ctx ends.
type FakeAPICommand struct {
	Listen string
	Quirks bool
	Holes  float64
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
	srv := apitest.New(apitest.Options{Quirks: o.Quirks, HolesRate: o.Holes})
	hs := &http.Server{Addr: o.Listen, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", hs.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "fake API on http://%s (client key %s, secret %s); Ctrl-C stops it\n", ln.Addr(), apitest.DefaultClientKey, apitest.DefaultClientSecret)
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
