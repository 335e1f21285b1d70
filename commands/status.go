package commands

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"adharvest/checkpoint"
	"adharvest/crawl"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/sink"

	"github.com/urfave/cli/v2"
)

// StatusCommand shows what a harvest folder holds and what is left to do.
type StatusCommand struct {
	Out        string
	DailyQuota int // shows today's requests against it, when above 0
	// Coverage prints the coverage table per dataset and country.
	Coverage bool
	Stdout   io.Writer
	Now      func() time.Time
	// Program is how the user runs adharvest, for the commands status
	// suggests (see Env.Program).
	Program string
}

// invokedWriter rewrites the commands a text suggests ("adharvest check
// --out …") for the way the user runs adharvest (go run ., a path).
type invokedWriter struct {
	w    io.Writer
	prog string
}

func (iw invokedWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(iw.w, asInvoked(iw.prog, string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show what a harvest folder holds and what is left to do",
		UsageText: `adharvest status --out DIR

Example:
   adharvest status --out eea-2024-01`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest (required)"},
			&cli.IntFlag{Name: "daily-quota", Usage: "show today's requests against `N`", EnvVars: []string{"ADHARVEST_DAILY_QUOTA"}},
			&cli.BoolFlag{Name: "coverage", Usage: "show, per dataset and country, the slices and how complete each is against ad/report"},
		},
		Action: func(c *cli.Context) error {
			cmd := &StatusCommand{Out: c.String("out"), DailyQuota: c.Int("daily-quota"), Coverage: c.Bool("coverage"), Stdout: c.App.Writer, Now: time.Now, Program: program(c)}
			return cmd.Run(c.Context)
		},
	}
}

// Run prints the status.
func (o *StatusCommand) Run(context.Context) error {
	if o.Out == "" {
		return usagef("--out is required: the folder of a harvest, e.g. adharvest status --out eea-2024-01")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s, err := crawl.ReadStatus(o.Out, o.Now())
	if err != nil {
		return err
	}
	w := io.Writer(invokedWriter{w: o.Stdout, prog: o.Program})
	if s.Live {
		owner := "another process"
		if s.Owner.PID != 0 {
			owner = fmt.Sprintf("adharvest pid %d on %s since %s", s.Owner.PID, s.Owner.Host, s.Owner.Started.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "folder    %s (being harvested by %s; figures as of %s)\njob       %s\n", o.Out, owner, s.Manifest.UpdatedAt.Format(time.RFC3339), s.Job.Describe())
		if s.Day != "" {
			if o.DailyQuota > 0 {
				fmt.Fprintf(w, "requests  %d of %d on %s (UTC)\n", s.Requests, o.DailyQuota, s.Day)
			} else {
				fmt.Fprintf(w, "requests  %d on %s (UTC)\n", s.Requests, s.Day)
			}
		}
		printCounts(w, s.Job, s.Counts)
		printMedia(w, o.Out, s.Job)
		if e := s.LastError; e != nil {
			printLastError(w, *e)
		}
		return nil
	}
	fmt.Fprintf(w, "folder    %s\njob       %s\n", o.Out, s.Job.Describe())
	if terms := s.Job.Terms(); len(terms) > 0 {
		fmt.Fprintf(w, "terms     %s\n", strings.Join(terms, " | "))
	}
	if o.DailyQuota > 0 {
		fmt.Fprintf(w, "requests  %d of %d today (%s UTC)\n", s.Requests, o.DailyQuota, s.Day)
	} else {
		fmt.Fprintf(w, "requests  %d today (%s UTC)\n", s.Requests, s.Day)
	}
	printUsage(w, s.Usage)
	printCounts(w, s.Job, s.Counts)
	printCoverage(w, s.Coverage, o.Coverage)
	if s.MissingCount > 0 {
		fmt.Fprintf(w, "\nwarning: %d file(s) the checkpoint names are missing (first %s); the next harvest fetches their slices again, or run `adharvest check --out %s --repair` to rebuild them from raw/\n",
			s.MissingCount, strings.Join(s.Missing, ", "), o.Out)
	}
	if s.WarningCount > 0 {
		fmt.Fprintf(w, "\nwarnings: %d\n", s.WarningCount)
		for _, line := range s.Warnings {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	if len(s.Stops) > 0 {
		kinds := make([]string, 0, len(s.Stops))
		n := 0
		for _, k := range []string{"empty_pages", "capped"} {
			if s.Stops[k] > 0 {
				kinds = append(kinds, fmt.Sprintf("%d %s", s.Stops[k], k))
				n += s.Stops[k]
			}
		}
		fmt.Fprintf(w, "\nstopped early: %d slices ended before the API said it had no more (%s); their coverage says how much is missing\n", n, strings.Join(kinds, ", "))
		for _, line := range s.StoppedSlices {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	if len(s.DroppedFields) > 0 {
		var parts []string
		for _, ep := range crawl.SortedEndpoints(s.DroppedFields) {
			parts = append(parts, ep+": "+strings.Join(s.DroppedFields[ep], ", "))
		}
		fmt.Fprintf(w, "\nfields the API refused, asked without since (their columns stay NULL): %s\n", strings.Join(parts, "; "))
	}
	if s.OldSchema > 0 {
		fmt.Fprintf(w, "\nparser: %d files were written by an older adharvest; `adharvest reparse --out %s` rebuilds them from raw/ with no request\n", s.OldSchema, o.Out)
	}
	if s.SwapPending {
		fmt.Fprintf(w, "\nwarning: a reparse was interrupted while it moved the new tables into place; `adharvest reparse --out %s` finishes it\n", o.Out)
	}
	if s.Rejects > 0 {
		fmt.Fprintf(w, "\nrejects: %d items the API sent could not be decoded; they are kept in the rejects table (adharvest sql --out %s \"SELECT * FROM rejects\")\n", s.Rejects, o.Out)
	}
	if s.Job.Has(job.AdDetails) {
		fmt.Fprintf(w, "\nad-details: %d ads still owed a detail, %d refused by the API\n", s.DetailsOwed, s.DetailsRefused)
	}
	printMedia(w, o.Out, s.Job)
	if e := s.LastError; e != nil {
		printLastError(w, *e)
	}
	if s.Manifest != nil {
		if r, ok := s.Manifest.LastRun(); ok {
			fmt.Fprintf(w, "\nlast run  %s %s", r.RunID, r.Status)
			if r.Message != "" {
				fmt.Fprintf(w, ": %s", oneLine(r.Message))
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// printCoverage says how complete the harvest is against ad/report: one
// line always, and with all a table per dataset and country.
func printCoverage(w io.Writer, rows []sink.CoverageRow, all bool) {
	if len(rows) == 0 {
		return
	}
	by := map[string]int{}
	for _, r := range rows {
		by[r.Status]++
	}
	order := []string{crawl.CoverComplete, crawl.CoverShort, crawl.CoverEmptyPages, crawl.CoverCapped, crawl.CoverUnverified, crawl.CoverProvisional, crawl.CoverPending}
	var parts []string
	for _, st := range order {
		if by[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", by[st], st))
		}
	}
	fmt.Fprintf(w, "\ncoverage  %d slices: %s\n", len(rows), strings.Join(parts, ", "))
	if by[crawl.CoverShort] > 0 {
		fmt.Fprintf(w, "          short slices returned fewer ads than ad/report counts (see --coverage); the live service is known to end paging early\n")
	}
	if by[crawl.CoverUnverified] > 0 {
		fmt.Fprintf(w, "          unverified slices have no report that counts them exactly (search terms, ALL countries, commercial content)\n")
	}
	if by[crawl.CoverProvisional] > 0 {
		fmt.Fprintf(w, "          provisional slices cover recent days; the next run harvests them again\n")
	}
	if !all {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\tcountry\tslices\treported\tharvested\tshare\tstatus\t")
	for _, c := range crawl.ByCountry(rows) {
		share, rep := "", "-"
		if c.Exact && c.Reported > 0 {
			share = fmt.Sprintf("%.1f%%", 100*float64(c.Harvested)/float64(c.Reported))
		}
		if c.Reported > 0 || c.Exact {
			rep = fmt.Sprint(c.Reported)
		}
		var st []string
		for _, k := range order {
			if n := c.Statuses[k]; n > 0 {
				st = append(st, fmt.Sprintf("%d %s", n, k))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\t\n", c.Dataset, c.Country, c.Slices, rep, c.Harvested, share, strings.Join(st, ", "))
	}
	tw.Flush()
}

// printUsage shows the day's requests per endpoint, and throttled answers,
// since the live quota may be counted per endpoint.
func printUsage(w io.Writer, u checkpoint.DayUsage) {
	if len(u.ByEndpoint) == 0 {
		return
	}
	eps := make([]string, 0, len(u.ByEndpoint))
	for ep := range u.ByEndpoint {
		eps = append(eps, ep)
	}
	sort.Strings(eps)
	parts := make([]string, len(eps))
	for i, ep := range eps {
		parts[i] = fmt.Sprintf("%s %d", ep, u.ByEndpoint[ep])
		if n := u.Throttled[ep]; n > 0 {
			parts[i] += fmt.Sprintf(" (%d throttled)", n)
		}
	}
	fmt.Fprintf(w, "          %s\n", strings.Join(parts, ", "))
}

func printCounts(w io.Writer, j job.Job, counts map[string]manifest.DatasetCounts) {
	fmt.Fprintf(w, "\n%-19s %7s %7s %7s %7s %10s %9s\n", "dataset", "shards", "done", "pending", "failed", "rows", "requests")
	provisional := 0
	for _, d := range j.Datasets {
		if d == job.Media {
			continue // no shards: printMedia says how the creatives stand
		}
		c := counts[d]
		fmt.Fprintf(w, "%-19s %7d %7d %7d %7d %10d %9d\n", d, c.Shards, c.Done, c.Pending, c.Failed, c.Rows, c.Requests)
		provisional += c.Provisional
	}
	if provisional > 0 {
		fmt.Fprintf(w, "(%d done shards cover days that were less than %d days old when fetched; the next run harvests them again)\n", provisional, crawl.ProvisionalDays)
	}
}

func printLastError(w io.Writer, e manifest.ErrorRecord) {
	fmt.Fprintf(w, "\nlast error (%s, shard %s", e.At.Format(time.RFC3339), e.Shard)
	if e.LogID != "" {
		fmt.Fprintf(w, ", log_id %s", e.LogID)
	}
	fmt.Fprintf(w, "):\n  %s\n", e.Error)
}
