package commands

import (
	"context"
	"errors"
	"fmt"
	"io"

	"adharvest/crawl"

	"github.com/urfave/cli/v2"
)

// CheckCommand verifies a harvest folder against its checkpoint and, with
// Repair, rebuilds what it can without a request.
type CheckCommand struct {
	Out    string
	Repair bool
	Stdout io.Writer
}

// ErrDamaged is check's answer when damage remains: exit 1.
var ErrDamaged = errors.New("damage remains")

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "verify a harvest folder against its checkpoint, and repair it without spending requests",
		UsageText: `adharvest check --out DIR [--repair]

Verifies every file the checkpoint names: it exists, has the size and SHA-256
recorded, is readable and holds the rows recorded; and that every data file is
one the checkpoint names. One line per problem, naming the file relative to DIR.
Exit 0 when the folder is intact, 1 when damage remains.

--repair rebuilds damaged or missing parts from their raw twins (raw/), with no
request, and a missing or damaged checkpoint from the parts and raw twins (the job
comes from manifest.json). A part whose raw twin is lost too sends its slice back
to pending, so that the next harvest fetches it again. Files the checkpoint does
not name are never deleted.

Examples:
   adharvest check --out eea-2024-01
   adharvest check --out eea-2024-01 --repair`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest (required)"},
			&cli.BoolFlag{Name: "repair", Usage: "rebuild what can be rebuilt without a request"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			cmd := &CheckCommand{Out: c.String("out"), Repair: c.Bool("repair"), Stdout: c.App.Writer}
			return cmd.Run(c.Context)
		},
	}
}

// Run checks, repairs when asked, and prints one line per problem and per
// repair.
func (o *CheckCommand) Run(ctx context.Context) error {
	if o.Out == "" {
		return usagef("--out is required: the folder of a harvest, e.g. adharvest check --out eea-2024-01")
	}
	rep, err := crawl.Check(ctx, o.Out, o.Repair)
	if err != nil {
		return err
	}
	for _, line := range rep.Repaired {
		fmt.Fprintln(o.Stdout, "repaired: "+line)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(o.Stdout, p.String())
	}
	if !rep.Intact() {
		hint := "run `adharvest check --out " + o.Out + " --repair`"
		if o.Repair {
			hint = "what is left cannot be rebuilt without a request"
		}
		return fmt.Errorf("%w in %s: %d problem(s) (%s)", ErrDamaged, o.Out, len(rep.Problems), hint)
	}
	fmt.Fprintf(o.Stdout, "%s is intact: %d files as the checkpoint recorded them\n", o.Out, rep.Files)
	return nil
}
