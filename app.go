package main

import (
	"io"

	"adharvest/harvest"

	"github.com/urfave/cli/v2"
)

func newApp(stdout, stderr io.Writer) *cli.App {
	usageErr := func(_ *cli.Context, err error, _ bool) error {
		return &harvest.UsageError{Msg: err.Error() + " (see --help)"}
	}
	cmds := []*cli.Command{harvestCommand(), statusCommand(), sqlCommand(), demoCommand(), fakeAPICommand(), reportCommand(), exportCommand()}
	for _, c := range cmds {
		c.OnUsageError = usageErr
	}
	return &cli.App{
		Name:    "adharvest",
		Usage:   "harvest TikTok's Commercial Content API (Ad Library) into Parquet, resumably",
		Version: version,
		UsageText: `adharvest COMMAND [flags]

Examples:
   adharvest demo                                   # offline harvest from the bundled fake API
   adharvest harvest --out DIR --countries EEA --from 2024-01-01 --to 2024-01-31
   adharvest status --out DIR
   adharvest sql --out DIR "SELECT country_code, count(*) FROM ads GROUP BY 1"`,
		Commands:        cmds,
		Writer:          stdout,
		ErrWriter:       stderr,
		OnUsageError:    usageErr,
		ExitErrHandler:  func(*cli.Context, error) {},
		HideHelpCommand: true,
	}
}
