package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"adharvest/checkpoint"
	"adharvest/crawl"
	"adharvest/folder"
	"adharvest/media"

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
one the checkpoint names; and that every creative in the media store (DIR/media/)
is named by the SHA-256 of its bytes, and every one the checkpoint says was stored
is there. One line per problem, naming the file relative to DIR.
Exit 0 when the folder is intact, 1 when damage remains.

--repair rebuilds damaged or missing parts from their raw twins (raw/), with no
request, and a missing or damaged checkpoint from the parts and raw twins (the job
comes from manifest.json). A part whose raw twin is lost too sends its slice back
to pending, so that the next harvest fetches it again. A damaged creative is
deleted, and it and any missing one are forgotten, so that the next adharvest media
(or harvest with the media dataset) fetches them again while their links work.
Files the checkpoint does not name are never deleted.

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
	mrep, err := o.checkMedia(ctx)
	if err != nil {
		return err
	}
	for _, line := range append(rep.Repaired, mrep.Repaired...) {
		fmt.Fprintln(o.Stdout, "repaired: "+line)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(o.Stdout, p.String())
	}
	for _, p := range mrep.Problems {
		fmt.Fprintln(o.Stdout, p.String())
	}
	if n := len(rep.Problems) + len(mrep.Problems); n > 0 {
		hint := "run `adharvest check --out " + o.Out + " --repair`"
		if o.Repair {
			hint = "what is left cannot be rebuilt without a request"
		}
		return fmt.Errorf("%w in %s: %d problem(s) (%s)", ErrDamaged, o.Out, n, hint)
	}
	fmt.Fprintf(o.Stdout, "%s is intact: %d files as the checkpoint recorded them", o.Out, rep.Files)
	if mrep.Files > 0 {
		fmt.Fprintf(o.Stdout, ", and %d archived creatives (%s), each named by the SHA-256 of its bytes", mrep.Files, media.FormatBytes(mrep.Bytes))
	}
	fmt.Fprintln(o.Stdout)
	return nil
}

// checkMedia verifies the media store (media.Verify) after crawl.Check has
// looked at the rest. With Repair it holds the folder's lock, lets Verify
// delete damaged copies and forget the links whose file is damaged or
// missing, and then rewrites the media tables, so that they no longer name
// files that are gone. A missing or damaged checkpoint (crawl.Check's
// problem) leaves only the files to check.
func (o *CheckCommand) checkMedia(ctx context.Context) (media.VerifyReport, error) {
	f := folder.New(o.Out)
	if !o.Repair {
		store, err := checkpoint.OpenReadOnly(f.Checkpoint())
		if err != nil {
			store = nil
		} else {
			defer store.Close()
		}
		rep, err := media.Verify(ctx, f, store, false)
		if err != nil {
			return rep, fmt.Errorf("check the media store: %w", err)
		}
		return rep, nil
	}
	lock, err := checkpoint.Acquire(f.Lock(), o.Out)
	if err != nil {
		return media.VerifyReport{}, &UsageError{Msg: err.Error()}
	}
	defer lock.Release()
	store, err := checkpoint.Open(f.Checkpoint())
	if err != nil {
		return media.VerifyReport{}, fmt.Errorf("check the media store: %w", err)
	}
	defer store.Close()
	rep, err := media.Verify(ctx, f, store, true)
	if err != nil {
		return rep, fmt.Errorf("repair the media store: %w", err)
	}
	if len(rep.Repaired) == 0 {
		return rep, nil
	}
	if _, err := media.Refresh(f, store, time.Now()); err != nil {
		return rep, fmt.Errorf("rewrite the media tables after the repair: %w", err)
	}
	// Check again what the repair left, so that the figures printed are
	// those of the store as it is now.
	after, err := media.Verify(ctx, f, store, false)
	if err != nil {
		return rep, fmt.Errorf("check the media store after the repair: %w", err)
	}
	after.Repaired = rep.Repaired
	return after, nil
}
