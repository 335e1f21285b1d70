package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"adharvest/crawl"

	"github.com/urfave/cli/v2"
)

// PlanCommand is a dry run: it sends only the ad/report requests the plan
// needs and prints what the harvest would cost.
type PlanCommand struct {
	// Harvest carries the job, the connection and the rate; its Out may be
	// empty (the answers are then thrown away).
	Harvest *HarvestCommand
	JSON    bool
}

func planCommand() *cli.Command {
	flags := append(harvestFlags(), connectionFlags()...)
	flags = append(flags, &cli.BoolFlag{Name: "json", Usage: "print the plan as one JSON object"})
	return &cli.Command{
		Name:  "plan",
		Usage: "say what a harvest would cost, sending only ad/report requests",
		UsageText: `adharvest plan [--out DIR] [job flags | --job FILE] [--daily-quota N] [--json]

Asks ad/report how many ads each country published per day (one request per
query and country over the whole range, or one for ALL countries), cuts the
slices the harvest would fetch, and prints per dataset and country the records
expected, the slices and the requests, and how many days --daily-quota needs.
With --out DIR the answers are kept in DIR: a later harvest of the same job
there does not ask again. Search terms and commercial content have no report;
their figures are lower bounds.

Examples:
   adharvest plan --countries EEA --from 2023-01-01 --to 2023-12-31 --daily-quota 1000
   adharvest plan --out eea-2023 --job examples/q1.toml --json`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			h, err := newHarvestCommand(c)
			if err != nil {
				return err
			}
			cmd := &PlanCommand{Harvest: h, JSON: c.Bool("json")}
			return cmd.Run(c.Context)
		},
	}
}

// Run plans and prints.
func (o *PlanCommand) Run(ctx context.Context) error {
	h := *o.Harvest
	tmp := ""
	if h.Out == "" {
		dir, err := os.MkdirTemp("", "adharvest-plan-")
		if err != nil {
			return err
		}
		tmp = dir
		defer os.RemoveAll(tmp)
		h.Out = dir + "/plan"
	}
	if h.Progress == "" || h.Progress == "auto" {
		h.Progress = "none"
	}
	if err := h.check(); err != nil {
		return err
	}
	if err := h.confirmRestart(ctx); err != nil {
		return err
	}
	res, err := h.run(ctx, func(opts *crawl.Options) { opts.PlanOnly = true })
	if err != nil {
		return err
	}
	if res.Estimate == nil {
		return fmt.Errorf("the plan returned no estimate")
	}
	if o.JSON {
		enc := json.NewEncoder(h.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res.Estimate)
	}
	printEstimate(h.Stdout, res, h.DailyQuota, tmp == "")
	return nil
}

// printEstimate writes the plan as a table per dataset and country.
func printEstimate(w io.Writer, res crawl.Result, quota int, kept bool) {
	e := res.Estimate
	fmt.Fprintf(w, "plan: %s\n\n", res.Job.Describe())
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\tcountry\texpected\tslices\trequests\t")
	for _, d := range e.Datasets {
		name := d.Dataset
		if name == "plan" {
			name = "planning reports"
		}
		for _, c := range d.Countries {
			exp := thousands(c.ExpectedRecords)
			if c.Blind {
				exp = "≥ " + exp
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t\n", name, c.Country, exp, c.Slices, c.Requests)
		}
		exp := thousands(d.ExpectedRecords)
		switch d.Bound {
		case "at least":
			exp = "≥ " + exp
		case "at most":
			exp = "≤ " + exp
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t\n", name, "total", exp, d.Slices, d.Requests)
	}
	tw.Flush()
	if len(e.Queries) > 1 {
		fmt.Fprintln(w, "\nper query (a report two queries share is counted under the first; ad-details under the query that finds the ads):")
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "query\tdatasets\trequests\t")
		for _, q := range e.Queries {
			req := thousands(int64(q.Requests))
			if q.Blind {
				req = "≥ " + req
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t\n", q.Query, q.Datasets, req)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\ntotal: %s requests, of which %s report requests this plan has sent", thousands(int64(e.TotalRequests)), thousands(int64(e.ReportRequests)))
	if kept {
		fmt.Fprint(w, " (kept in the folder: the harvest does not send them again)")
	}
	fmt.Fprintln(w)
	if quota > 0 {
		left := e.TotalRequests - e.ReportRequests
		days := (left + quota - 1) / quota
		fmt.Fprintf(w, "at --daily-quota %d: %d more day(s)\n", quota, max(days, 0))
	}
	if e.Blind {
		fmt.Fprintln(w, "≥: search terms and commercial content have no report; they are sliced from what their pages show, so their figures are lower bounds")
	}
	for _, d := range e.Datasets {
		if d.Bound == "at most" {
			fmt.Fprintln(w, "≤: ad-details asks once per distinct ad; ad/report counts an ad once per country it was shown in, so this is an upper bound")
		}
	}
}

// thousands writes n with thin separators: 49,792.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
