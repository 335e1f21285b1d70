package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"adharvest/harvest"
	"adharvest/harvest/apitest"

	"github.com/urfave/cli/v2"
)

// The demo's fixed job: every country, one month, against the bundled fake API.
var demoJob = harvest.Job{
	Datasets: []string{harvest.DatasetAds, harvest.DatasetAdDetails, harvest.DatasetAdReports, harvest.DatasetCommercialContent, harvest.DatasetAdvertisers},
	Queries: []harvest.Query{
		{Countries: []string{"EEA"}, From: "2024-01-01", To: "2024-01-31"},
		{Countries: []string{"FR", "DE"}, From: "2024-01-01", To: "2024-01-31", Terms: []string{"coffee", "election"}},
	},
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
			srv := apitest.Start(apitest.Options{Quirks: true})
			defer srv.Close()
			o := harvestOptions{
				Out: c.String("out"), Job: demoJob, JobGiven: true, APIURL: srv.URL,
				ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret,
				Concurrency: 4, FlushPages: 20, Progress: c.String("progress"),
				Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Now: time.Now,
			}
			if err := runHarvest(c.Context, o); err != nil {
				return wrapAction(err)
			}
			fmt.Fprintf(c.App.Writer, "Demo harvest written to %s. Try:\n  adharvest sql --out %s \"SELECT country_code, count(*) AS ads FROM ads GROUP BY 1 ORDER BY 2 DESC\"\n  adharvest status --out %s\n", o.Out, o.Out, o.Out)
			return nil
		},
	}
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
			host, _, err := net.SplitHostPort(c.String("listen"))
			if err != nil || (host != "localhost" && !net.ParseIP(host).IsLoopback()) {
				return harvest.Usagef("--listen %q must be a loopback address such as 127.0.0.1:8089", c.String("listen"))
			}
			if h := c.Float64("holes"); h < 0 || h > 1 {
				return harvest.Usagef("--holes %g is outside 0..1", h)
			}
			srv := apitest.New(apitest.Options{Quirks: c.Bool("quirks"), HolesRate: c.Float64("holes")})
			hs := &http.Server{Addr: c.String("listen"), Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
			ln, err := net.Listen("tcp", hs.Addr)
			if err != nil {
				return wrapAction(err)
			}
			fmt.Fprintf(c.App.Writer, "fake API on http://%s (client key %s, secret %s); Ctrl-C stops it\n", ln.Addr(), apitest.DefaultClientKey, apitest.DefaultClientSecret)
			go func() {
				<-c.Context.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_ = hs.Shutdown(ctx)
			}()
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return wrapAction(err)
			}
			return nil
		},
	}
}
