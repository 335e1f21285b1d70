package commands

import (
	"context"
	"fmt"
	"io"
	"os"

	"adharvest/folder"
	"adharvest/report"

	"github.com/urfave/cli/v2"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "write a self-contained HTML report of what a harvest folder holds and where it is incomplete",
		UsageText: `adharvest report --out DIR [--output FILE]

Writes one HTML file (DIR/report.html unless --output says otherwise) with the harvest's
scope and provenance, a banner that says "complete" only when every shard is done and
every slice holds what ad/report counts (and otherwise what is owed, short, provisional
or unverified), the coverage audit per country, counts per dataset and the items that
could not be read, weekly ad volume per country, reported against harvested counts, what
the API withholds (fields sent per country), top advertisers and rejection reasons, and
the creatives archived, expired, removed, too large or failed per country (media).
Charts are inline SVG; the page loads nothing from the network, so it can be archived or
mailed as it is. Examples:
   adharvest report --out eea-2024-01
   adharvest report --out eea-2024-01 --output ~/reports/eea-2024-01.html`,
		Flags: []cli.Flag{
			// Not Required: urfave/cli would print the whole help to stdout;
			// a missing --out is one line on stderr like every usage error.
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest (required)"},
			&cli.StringFlag{Name: "output", Usage: "write the report to `FILE` (default DIR/report.html)"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			cmd := &ReportCommand{Out: c.String("out"), Output: c.String("output"), Stdout: c.App.Writer}
			return cmd.Run(c.Context)
		},
	}
}

// ReportCommand writes the HTML report of a harvest folder.
type ReportCommand struct {
	Out    string
	Output string // default: the folder's report.html
	Stdout io.Writer
}

// Run writes the report.
func (o *ReportCommand) Run(ctx context.Context) error {
	out := o.Out
	if out == "" {
		return usagef("report needs --out DIR, the folder of a harvest")
	}
	if err := harvestFolder(out); err != nil {
		return err
	}
	file := o.Output
	if file == "" {
		file = folder.New(out).Report()
	}
	if fi, err := os.Stat(file); err == nil && fi.IsDir() {
		return usagef("--output %s is a directory; give a file name", file)
	}
	if err := report.WriteFile(ctx, out, file, report.Options{}); err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "Report written to %s\n", file)
	return nil
}
