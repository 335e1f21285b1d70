package commands

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"adharvest/crawl"

	"github.com/urfave/cli/v2"
)

// ReparseCommand rebuilds a harvest folder's tables from its raw responses,
// with no request.
type ReparseCommand struct {
	Out    string
	Stdout io.Writer
	// Stderr gets a progress line every few seconds on long folders.
	Stderr io.Writer
	Now    func() time.Time
}

func reparseCommand() *cli.Command {
	return &cli.Command{
		Name:  "reparse",
		Usage: "rebuild every table from the raw responses in DIR/raw/, with no request",
		UsageText: `adharvest reparse --out DIR

Decodes every response kept in DIR/raw/ again and rewrites the tables from
them, spending no quota: after an upgrade of adharvest the tables gain what
the new parser reads (status says when a folder was written by an older
one); otherwise they come out exactly as the harvest wrote them. The new
tables are written beside the old ones and swapped in at the end, so an
interrupted reparse leaves the old tables or the new ones, never a mix; run
it again to go on where it stopped. A part whose raw twin is lost is kept as
it was. Exit codes: 0 done, 2 bad input (not a harvest folder, or one a
harvest is using), 1 other failure.

Example:
   adharvest reparse --out eea-2024-01`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest (required)"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			cmd := &ReparseCommand{Out: c.String("out"), Stdout: c.App.Writer, Stderr: c.App.ErrWriter}
			return cmd.Run(c.Context)
		},
	}
}

// Run reparses the folder and prints what it did.
func (o *ReparseCommand) Run(ctx context.Context) error {
	if o.Out == "" {
		return usagef("--out is required: the folder of a harvest, e.g. adharvest reparse --out eea-2024-01")
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	var last time.Time
	progress := func(done, total int) {
		if now := time.Now(); now.Sub(last) >= 2*time.Second && done < total {
			last = now
			fmt.Fprintf(o.Stderr, "reparse: %d of %d parts\n", done, total)
		}
	}
	rep, err := crawl.Reparse(ctx, o.Out, crawl.ReparseOptions{Progress: progress, Now: o.Now})
	if rep.Finished {
		fmt.Fprintln(o.Stdout, "finished the table swap of an interrupted reparse")
	}
	if err != nil {
		return err
	}
	what := fmt.Sprintf("reparsed %d parts", rep.Parts+rep.Reused)
	if rep.Reused > 0 {
		what += fmt.Sprintf(" (%d staged by the interrupted run)", rep.Reused)
	}
	if rep.OldSchema > 0 {
		what += fmt.Sprintf("; %d files had been written by an older parser", rep.OldSchema)
	}
	fmt.Fprintf(o.Stdout, "%s, with no request, into %s\n", what, o.Out)
	tables := make([]string, 0, len(rep.Rows))
	for t := range rep.Rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	var parts []string
	for _, t := range tables {
		parts = append(parts, fmt.Sprintf("%s %d", t, rep.Rows[t]))
	}
	if len(parts) > 0 {
		fmt.Fprintf(o.Stdout, "rows: %s\n", strings.Join(parts, ", "))
	}
	if len(rep.Kept) > 0 {
		fmt.Fprintf(o.Stdout, "%d parts kept as they were, their raw twins being lost or unreadable (%s); `adharvest check --out %s` says more\n",
			len(rep.Kept), strings.Join(first3(rep.Kept), ", "), o.Out)
	}
	return nil
}

func first3(s []string) []string {
	if len(s) > 3 {
		return append(s[:3:3], "…")
	}
	return s
}
