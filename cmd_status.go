package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"adharvest/checkpoint"
	"adharvest/harvest"

	"github.com/urfave/cli/v2"
)

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
		},
		Action: func(c *cli.Context) error {
			return wrapAction(runStatus(c.App.Writer, c.String("out"), c.Int("daily-quota"), time.Now()))
		},
	}
}

func runStatus(w io.Writer, out string, budget int, now time.Time) error {
	if out == "" {
		return harvest.Usagef("--out is required: the folder of a harvest, e.g. adharvest status --out eea-2024-01")
	}
	if _, err := os.Stat(out); err != nil {
		return harvest.Usagef("--out %s does not exist", out)
	}
	store, err := checkpoint.OpenReadOnly(out)
	if err != nil {
		if errors.Is(err, checkpoint.ErrBusy) {
			return statusFromManifest(w, out, budget)
		}
		return &harvest.UsageError{Msg: err.Error()}
	}
	defer store.Close()
	b, err := store.Meta(jobKey)
	if err != nil || b == nil {
		return harvest.Usagef("%s holds no harvest job", out)
	}
	var job harvest.Job
	if err := json.Unmarshal(b, &job); err != nil {
		return err
	}
	states, err := store.Shards()
	if err != nil {
		return err
	}
	shards := harvest.Plan(job)
	counts := harvest.Count(job, shards, states)
	fmt.Fprintf(w, "folder    %s\njob       %s\n", out, describeJob(job))
	if terms := job.Terms(); len(terms) > 0 {
		fmt.Fprintf(w, "terms     %s\n", strings.Join(terms, " | "))
	}
	day := now.UTC().Format("2006-01-02")
	used, _ := store.Usage(day)
	if budget > 0 {
		fmt.Fprintf(w, "requests  %d of %d today (%s UTC)\n", used, budget, day)
	} else {
		fmt.Fprintf(w, "requests  %d today (%s UTC)\n", used, day)
	}
	printCounts(w, job, counts)
	if job.Has(harvest.DatasetAdDetails) {
		owed, failed, err := harvest.DetailsOwed(context.Background(), out, store)
		if err == nil {
			fmt.Fprintf(w, "\nad-details: %d ads still owed a detail, %d refused by the API\n", owed, failed)
		}
	}
	if e := harvest.LastError(states); e != nil {
		printLastError(w, *e)
	}
	if m, err := harvest.ReadManifest(out); err == nil && len(m.Runs) > 0 {
		r := m.Runs[len(m.Runs)-1]
		fmt.Fprintf(w, "\nlast run  %s %s", r.RunID, r.Status)
		if r.Message != "" {
			fmt.Fprintf(w, ": %s", oneLine(r.Message))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// statusFromManifest reports on a folder whose checkpoint a running harvest
// holds, from the manifest that harvest rewrites every few seconds.
func statusFromManifest(w io.Writer, out string, budget int) error {
	m, err := harvest.ReadManifest(out)
	if err != nil {
		return harvest.Usagef("%s is being harvested right now and has no readable manifest.json yet; try again in a few seconds", out)
	}
	owner := "another process"
	if b, err := os.ReadFile(filepath.Join(out, checkpoint.StateDir, "lock")); err == nil {
		var o checkpoint.Owner
		if json.Unmarshal(b, &o) == nil && o.PID != 0 {
			owner = fmt.Sprintf("adharvest pid %d on %s since %s", o.PID, o.Host, o.Started.Format(time.RFC3339))
		}
	}
	fmt.Fprintf(w, "folder    %s (being harvested by %s; figures as of %s)\njob       %s\n", out, owner, m.UpdatedAt.Format(time.RFC3339), describeJob(m.Job))
	if u := m.Usage; u != nil {
		if budget > 0 {
			fmt.Fprintf(w, "requests  %d of %d on %s (UTC)\n", u.Requests, budget, u.Day)
		} else {
			fmt.Fprintf(w, "requests  %d on %s (UTC)\n", u.Requests, u.Day)
		}
	}
	printCounts(w, m.Job, m.Datasets)
	if e := m.LastError; e != nil {
		printLastError(w, *e)
	}
	return nil
}

func printCounts(w io.Writer, job harvest.Job, counts map[string]harvest.DatasetCounts) {
	fmt.Fprintf(w, "\n%-19s %7s %7s %7s %7s %10s %9s\n", "dataset", "shards", "done", "pending", "failed", "rows", "requests")
	provisional := 0
	for _, d := range job.Datasets {
		c := counts[d]
		fmt.Fprintf(w, "%-19s %7d %7d %7d %7d %10d %9d\n", d, c.Shards, c.Done, c.Pending, c.Failed, c.Rows, c.Requests)
		provisional += c.Provisional
	}
	if provisional > 0 {
		fmt.Fprintf(w, "(%d done shards cover days that were less than %d days old when fetched; the next run harvests them again)\n", provisional, harvest.ProvisionalDays)
	}
}

func printLastError(w io.Writer, e harvest.ErrorRecord) {
	fmt.Fprintf(w, "\nlast error (%s, shard %s", e.At.Format(time.RFC3339), e.Shard)
	if e.LogID != "" {
		fmt.Fprintf(w, ", log_id %s", e.LogID)
	}
	fmt.Fprintf(w, "):\n  %s\n", e.Error)
}
