package main

import (
	"errors"
	"os"
	"strings"

	"adharvest/harvest"
	"adharvest/queries"

	"github.com/urfave/cli/v2"
)

func sqlCommand() *cli.Command {
	return &cli.Command{
		Name:  "sql",
		Usage: "run SQL over a harvest folder with embedded DuckDB",
		UsageText: `adharvest sql --out DIR [--format table|csv|json] "SELECT ..."

Every table is a view: ads (one row per ad_id and country_code, the newest fetch) and
ads_all (every fetch). Examples:
   adharvest sql --out eea-2024-01 "SELECT country_code, count(*) AS ads FROM ads GROUP BY 1 ORDER BY 2 DESC"
   adharvest sql --out eea-2024-01 --format csv "SELECT * FROM ads" > ads.csv`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest", Required: true},
			&cli.StringFlag{Name: "format", Usage: "table, csv or json", Value: "table"},
		},
		Action: func(c *cli.Context) error {
			out := c.String("out")
			query := strings.TrimSpace(strings.Join(c.Args().Slice(), " "))
			if query == "" {
				return harvest.Usagef("give a query, e.g. adharvest sql --out %s \"SELECT count(*) FROM ads\"", out)
			}
			switch c.String("format") {
			case "table", "csv", "json":
			default:
				return harvest.Usagef("--format %q is not table, csv or json", c.String("format"))
			}
			if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
				return harvest.Usagef("--out %s is not a harvest folder", out)
			}
			eng, err := queries.Open(c.Context, out)
			if err != nil {
				return wrapAction(err)
			}
			defer eng.Close()
			rows, err := eng.Query(c.Context, query)
			if err != nil {
				return harvest.Usagef("%v", err)
			}
			defer rows.Close()
			if err := queries.Write(c.App.Writer, c.String("format"), rows); err != nil {
				return wrapAction(err)
			}
			if err := rows.Err(); err != nil {
				return wrapAction(errors.New(err.Error()))
			}
			return nil
		},
	}
}
