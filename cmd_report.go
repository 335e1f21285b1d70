package main

import (
	"fmt"
	"os"
	"path/filepath"

	"adharvest/harvest"
	"adharvest/report"

	"github.com/urfave/cli/v2"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "write a self-contained HTML report of what a harvest folder holds and where it is incomplete",
		UsageText: `adharvest report --out DIR [--output FILE]

Writes one HTML file (DIR/report.html unless --output says otherwise) with the harvest's
scope and provenance, an "incomplete" banner when shards or details are still owed,
counts per dataset, weekly ad volume per country, reported against harvested counts,
top advertisers and rejection reasons. Charts are inline SVG; the page loads nothing
from the network, so it can be archived or mailed as it is. Examples:
   adharvest report --out eea-2024-01
   adharvest report --out eea-2024-01 --output ~/reports/eea-2024-01.html`,
		Flags: []cli.Flag{
			// Not Required: urfave/cli would print the whole help to stdout;
			// a missing --out is one line on stderr like every usage error.
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest (required)"},
			&cli.StringFlag{Name: "output", Usage: "write the report to `FILE` (default DIR/report.html)"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return harvest.Usagef("report takes no arguments, got %q", c.Args().First())
			}
			out := c.String("out")
			if out == "" {
				return harvest.Usagef("report needs --out DIR, the folder of a harvest")
			}
			if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
				return harvest.Usagef("--out %s is not a harvest folder", out)
			}
			file := c.String("output")
			if file == "" {
				file = filepath.Join(out, "report.html")
			}
			if fi, err := os.Stat(file); err == nil && fi.IsDir() {
				return harvest.Usagef("--output %s is a directory; give a file name", file)
			}
			if err := report.WriteFile(c.Context, out, file, report.Options{}); err != nil {
				return wrapAction(err)
			}
			fmt.Fprintf(c.App.Writer, "Report written to %s\n", file)
			return nil
		},
	}
}
