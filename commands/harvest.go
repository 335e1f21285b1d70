package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"adharvest/crawl"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/tiktok"

	"github.com/urfave/cli/v2"
)

// HarvestCommand harvests a job into a folder, or resumes the one it holds.
type HarvestCommand struct {
	Out string
	// Job is the job the flags or the job file describe; nil resumes the
	// job stored in Out (or restarts it, with Restart).
	Job *job.Job
	// JobFile is the job file Job came from, "" when it came from flags; it
	// decides how errors name a bad value (from: in the file, --from on the
	// command line).
	JobFile string
	// ExtendTo, with Job nil, moves the stored job's last day to this one
	// (a date or yesterday): `harvest --out DIR --to yesterday`.
	ExtendTo string
	// Restart discards what Out holds and starts afresh. When Out holds
	// data, Run first asks on a terminal (Ask), and refuses without Yes
	// when there is no terminal to ask on.
	Restart bool
	Yes     bool
	// Ask asks the user a yes/no question; nil asks on Stdin when it is a
	// terminal (see askYesNo) and otherwise cannot ask.
	Ask   func(question string) (bool, error)
	Stdin io.Reader
	// Program is how the user runs adharvest, for the hints (Env.Program).
	Program string
	APIURL  string
	// APIFromFolder says APIURL is the one the folder was harvested from,
	// not one the command line gave: the run says so.
	APIFromFolder bool
	ClientKey     string
	ClientSecret  string
	Concurrency   int
	RPS           float64
	AutoRate      bool // --rps auto: learn the rate; RPS then caps it (0: no cap)
	DailyQuota    int
	DetailBudget  int
	RecheckDays   int
	FlushPages    int
	Retry         tiktok.RetryPolicy
	SearchIDWait  time.Duration
	Progress      string // auto, bar, log, none
	Stdout        io.Writer
	Stderr        io.Writer
	Now           func() time.Time
	// Tune, when set, adjusts the crawl's options last (the demo holds the
	// media downloads to loopback and to its cap).
	Tune func(*crawl.Options)
}

// jobFlags are the flags that describe a job; without any, the stored job resumes.
var jobFlags = []string{"datasets", "countries", "from", "to", "window", "slice-ads", "term", "search-type", "advertiser-id", "creator-username", "reach-min", "reach-max", "max-count"}

// flagOf names the flag that sets a job-file key.
var flagOf = map[string]string{
	"datasets": "--datasets", "window": "--window", "slice_ads": "--slice-ads", "max_count": "--max-count", "countries": "--countries",
	"from": "--from", "to": "--to", "terms": "--term", "search_type": "--search-type",
	"advertiser_ids": "--advertiser-id", "creator_usernames": "--creator-username",
	"reach_min": "--reach-min", "reach_max": "--reach-max",
}

func harvestCommand() *cli.Command {
	return &cli.Command{
		Name:  "harvest",
		Usage: "harvest datasets into Parquet under --out, resumably",
		UsageText: `adharvest harvest --out DIR [--datasets LIST] [--countries LIST] --from DATE --to DATE [flags]

Examples:
   # every ad shown in the EEA in January 2024
   adharvest harvest --out eea-2024-01 --countries EEA --from 2024-01-01 --to 2024-01-31

   # ads matching two terms in France and Germany, in 14-day windows
   adharvest harvest --out elections --countries FR,DE --from 2024-05-01 --to 2024-06-09 \
       --term election --term wahl --window 14d

   # ads, their details, daily ad counts and paid partnerships for three countries
   adharvest harvest --out q1 --datasets ads,ad-details,ad-reports,commercial-content \
       --countries FR,DE,IT --from 2023-01-01 --to 2023-03-31

   # several queries at once, from a YAML or TOML job file (see README)
   adharvest harvest --out elections --job examples/elections.yaml

   # resume an interrupted harvest: same folder, no other flags
   adharvest harvest --out eea-2024-01

   # monitor: a job asked up to yesterday; the same line every night moves it on,
   # fetching only the new day and the days still provisional (see README, Monitoring)
   adharvest harvest --out elections --countries FR,DE --from 2026-05-01 --to yesterday
   adharvest harvest --out elections

   # extend a folder's job: a later --to, more countries, terms or datasets
   adharvest harvest --out eea-2024-01 --countries EEA --from 2024-01-01 --to 2024-02-29

   # discard what a folder holds and start its job afresh (asks first; --yes in scripts)
   adharvest harvest --out eea-2024-01 --restart

Credentials come from TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (or --client-key and
--client-secret-file). Exit codes: 0 complete, 75 stopped early but resumable (quota,
Ctrl-C), 2 bad input, 1 other failure.`,
		Flags: append(harvestFlags(), connectionFlags()...),
		Action: func(c *cli.Context) error {
			cmd, err := newHarvestCommand(c)
			if err != nil {
				return err
			}
			return cmd.Run(c.Context)
		},
	}
}

func harvestFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "out", Usage: "output `DIR` (created if missing; required)"},
		&cli.StringFlag{Name: "job", Usage: "read datasets and queries from a YAML or TOML `FILE` instead of the query flags"},
		&cli.StringFlag{Name: "datasets", Usage: "comma `LIST` of ads,ad-details,ad-reports,commercial-content,advertisers,media", Value: "ads", DefaultText: "ads"},
		&cli.StringFlag{Name: "countries", Usage: "EEA, EU, ALL or a comma `LIST` of ISO codes", Value: "EEA", DefaultText: "EEA"},
		&cli.StringFlag{Name: "from", Usage: "first day, inclusive, `DATE` as YYYY-MM-DD or YYYYMMDD, on or after 2022-10-01"},
		&cli.StringFlag{Name: "to", Usage: "last day, inclusive, `DATE`, before today (UTC), or yesterday (kept as the word: every later run moves on)"},
		&cli.StringFlag{Name: "window", Usage: "cut date ranges into fixed windows of `N` days (7, 7d, 2w) instead of planning slices from ad/report", DefaultText: "planned from ad/report"},
		&cli.IntFlag{Name: "slice-ads", Usage: "plan slices of at most `N` ads (what a lost search_id may cost)", DefaultText: "2500"},
		&cli.StringSliceFlag{Name: "term", Usage: "search `TEXT` (at most 50 characters); repeatable"},
		&cli.StringFlag{Name: "search-type", Usage: "`TYPE` of term match: exact_phrase or fuzzy_phrase", Value: "exact_phrase", DefaultText: "exact_phrase"},
		&cli.StringSliceFlag{Name: "advertiser-id", Usage: "advertiser business `ID`; repeatable"},
		&cli.StringSliceFlag{Name: "creator-username", Usage: "commercial-content creator `NAME`; repeatable"},
		&cli.StringFlag{Name: "reach-min", Usage: "only ads seen by at least `SIZE` users (e.g. 10K)"},
		&cli.StringFlag{Name: "reach-max", Usage: "only ads seen by at most `SIZE` users (e.g. 1M)"},
		&cli.IntFlag{Name: "max-count", Usage: "page size: `N` items per request, at most 50", Value: 50},
		&cli.BoolFlag{Name: "restart", Usage: "discard what --out holds (data, raw twins, manifest and checkpoint; the daily request count is kept) and start this job afresh; asks first when --out holds data"},
		&cli.BoolFlag{Name: "yes", Usage: "with --restart, discard without asking: needed when standard input is not a terminal and --out holds data"},
		&cli.IntFlag{Name: "concurrency", Usage: "`N` shards fetched at once", Value: 4},
		&cli.StringFlag{Name: "rps", Usage: "requests per second across all shards: auto finds and holds the API's limit, `N` caps it, 0 is unlimited", Value: "auto", DefaultText: "auto"},
		&cli.IntFlag{Name: "daily-quota", Usage: "stop (exit 75) before spending more than `N` requests per UTC day; counted across runs", EnvVars: []string{"ADHARVEST_DAILY_QUOTA"}, DefaultText: "none"},
		&cli.IntFlag{Name: "detail-budget", Usage: "spend at most `N` ad/detail calls in this run (newest ads first; the rest stay owed)", DefaultText: "none"},
		&cli.IntFlag{Name: "recheck-days", Usage: "with ad-details, ask ad/detail again for ads still active whose last_shown_date is `N` days old or more and that no detail looked at for N days (takedowns come late); within --detail-budget, newest first", DefaultText: "never"},
		&cli.IntFlag{Name: "flush-pages", Usage: "write a Parquet part every `N` pages of a slice (a planned slice fits in one)", Value: crawl.DefaultFlushPages},
		&cli.StringFlag{Name: "progress", Usage: "`MODE`: auto (a display on a terminal, log lines otherwise), bar, log or none", Value: "auto", DefaultText: "auto"},
		// Hidden: shrink every wait, for tests against the fake API only.
		&cli.DurationFlag{Name: "retry-base", Hidden: true},
	}
}

func connectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "api-url", Usage: "API base `URL`", Value: tiktok.DefaultAPIURL, DefaultText: tiktok.DefaultAPIURL, EnvVars: []string{"ADHARVEST_API_URL"}},
		&cli.StringFlag{Name: "client-key", Usage: "client `KEY`", EnvVars: []string{"TIKTOK_CLIENT_KEY"}},
		&cli.StringFlag{Name: "client-secret-file", Usage: "read the client secret from `FILE` instead of TIKTOK_CLIENT_SECRET"},
	}
}

// FastRetry is the retry policy of --retry-base d: every wait scaled down,
// for tests against the fake API.
func FastRetry(d time.Duration) tiktok.RetryPolicy {
	return tiktok.RetryPolicy{Initial: d, Max: 10 * d, MaxElapsed: 10000 * d, MaxAttempts: 15, MaxRetryAfter: 1500 * time.Millisecond}
}

// newHarvestCommand reads the harvest flags. A job file replaces the query
// flags; a value the job cannot take is reported by Run, naming the flag or
// key it came from.
func newHarvestCommand(c *cli.Context) (*HarvestCommand, error) {
	o := &HarvestCommand{
		Out: c.String("out"), Restart: c.Bool("restart"), Yes: c.Bool("yes"), Stdin: c.App.Reader, Program: program(c), APIURL: c.String("api-url"),
		Concurrency: c.Int("concurrency"), DailyQuota: c.Int("daily-quota"), DetailBudget: c.Int("detail-budget"), RecheckDays: c.Int("recheck-days"),
		FlushPages: c.Int("flush-pages"), Progress: c.String("progress"),
		Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Now: time.Now,
	}
	var err error
	if o.RPS, o.AutoRate, err = tiktok.ParseRate(c.String("rps")); err != nil {
		return nil, usagef("%v", err)
	}
	given, onlyTo := false, c.IsSet("to")
	for _, f := range jobFlags {
		given = given || c.IsSet(f)
		onlyTo = onlyTo && (f == "to" || !c.IsSet(f))
	}
	if d := c.Duration("retry-base"); d > 0 {
		o.Retry, o.SearchIDWait = FastRetry(d), d
	}
	if f := c.String("job"); f != "" {
		for _, name := range jobFlags {
			if c.IsSet(name) {
				return nil, usagef("--job %s and --%s cannot be combined: put %s in the job file", f, name, name)
			}
		}
		j, err := job.LoadFile(f)
		if err != nil {
			return nil, o.jobError(err)
		}
		o.Job, o.JobFile = &j, f
	} else if onlyTo && !o.Restart {
		// --to alone moves the folder's job on (the nightly run); in an
		// empty folder it is a job without --from, which Run refuses.
		o.ExtendTo = c.String("to")
	} else if given {
		days := 0
		if c.IsSet("window") {
			d, err := job.ParseWindow(c.String("window"))
			if err != nil {
				return nil, o.jobError(err)
			}
			days = d
		}
		q := job.Query{
			Countries: job.SplitList(c.String("countries")), From: c.String("from"), To: c.String("to"),
			Terms: c.StringSlice("term"), SearchType: c.String("search-type"),
			CreatorUsernames: c.StringSlice("creator-username"),
			ReachMin:         c.String("reach-min"), ReachMax: c.String("reach-max"),
		}
		for _, s := range c.StringSlice("advertiser-id") {
			for _, part := range job.SplitList(s) {
				id, err := job.ParseAdvertiserID(part)
				if err != nil {
					return nil, usagef("--advertiser-id: %v", err)
				}
				q.AdvertiserIDs = append(q.AdvertiserIDs, id)
			}
		}
		if !c.IsSet("countries") && !o.Restart {
			// Extending a folder's job, the countries it holds are the
			// default, not EEA: a forgotten --countries must not add
			// thirty countries to a job of one.
			if stored, ok, err := crawl.StoredJob(o.Out); err == nil && ok && len(stored.Queries) > 0 {
				q.Countries = stored.Queries[0].Countries
			}
		}
		o.Job = &job.Job{Datasets: job.SplitList(c.String("datasets")), WindowDays: days, SliceAds: c.Int("slice-ads"), MaxCount: c.Int("max-count"), Queries: []job.Query{q}}
	}
	if err := o.keepSettings(c); err != nil {
		return nil, err
	}
	if err := credentialsFrom(c, o); err != nil {
		return nil, err
	}
	return o, nil
}

// keepSettings gives every connection and pacing flag the command line does
// not set (nor its environment variable) the value the folder was last
// harvested with, from its manifest: a plain resume, or tomorrow's cron line,
// goes on against the same API, at the same rate and concurrency, within the
// same budgets. A folder without a manifest keeps the defaults.
func (o *HarvestCommand) keepSettings(c *cli.Context) error {
	if o.Out == "" {
		return nil
	}
	m, err := manifest.Read(folder.New(o.Out).Manifest())
	if err != nil {
		return nil // no harvest there yet, or none this tool can read
	}
	if !c.IsSet("api-url") && m.APIURL != "" && m.APIURL != o.APIURL {
		o.APIURL, o.APIFromFolder = m.APIURL, true
	}
	s := m.Settings
	if s == nil {
		return nil
	}
	if !c.IsSet("rps") && s.RPS != "" {
		rps, auto, err := tiktok.ParseRate(s.RPS)
		if err != nil {
			return usagef("%s: its stored rate: %v; give --rps", filepath.Base(folder.New(o.Out).Manifest()), err)
		}
		o.RPS, o.AutoRate = rps, auto
	}
	if !c.IsSet("concurrency") && s.Concurrency > 0 {
		o.Concurrency = s.Concurrency
	}
	if !c.IsSet("detail-budget") {
		o.DetailBudget = s.DetailBudget
	}
	if !c.IsSet("daily-quota") {
		o.DailyQuota = s.DailyQuota
	}
	if !c.IsSet("recheck-days") {
		o.RecheckDays = s.RecheckDays
	}
	return nil
}

// credentialsFrom reads the key and secret. The secret never comes from a flag
// value, where ps and shell history would show it.
func credentialsFrom(c *cli.Context, o *HarvestCommand) error {
	o.ClientKey = strings.TrimSpace(c.String("client-key"))
	if f := c.String("client-secret-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return usagef("--client-secret-file: %v", errors.Unwrap(err))
		}
		if fi, err := os.Stat(f); err == nil && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(c.App.ErrWriter, "adharvest: warning: %s is readable by other users; chmod 600 it\n", f)
		}
		o.ClientSecret = strings.TrimSpace(string(b))
	} else {
		o.ClientSecret = strings.TrimSpace(os.Getenv("TIKTOK_CLIENT_SECRET"))
	}
	return nil
}

// check is a usage error for options no harvest can run with.
func (o *HarvestCommand) check() error {
	switch {
	case o.Out == "":
		return usagef("--out is required: the folder to harvest into (created if missing), e.g. --out eea-2024-01")
	case o.Concurrency < 1 || o.Concurrency > 64:
		return usagef("--concurrency: %d is outside 1..64", o.Concurrency)
	case o.RPS < 0:
		return usagef("--rps: %g must not be negative (0 means unlimited)", o.RPS)
	case o.DetailBudget < 0:
		return usagef("--detail-budget: %d must not be negative (0 means no cap)", o.DetailBudget)
	case o.RecheckDays < 0:
		return usagef("--recheck-days: %d must not be negative (0 means never)", o.RecheckDays)
	case o.DailyQuota < 0:
		return usagef("--daily-quota: %d must not be negative (0 means no budget)", o.DailyQuota)
	case o.FlushPages < 1:
		return usagef("--flush-pages: %d must be at least 1", o.FlushPages)
	}
	switch o.Progress {
	case "auto", "bar", "log", "none":
	default:
		return usagef("--progress: %q is not auto, bar, log or none", o.Progress)
	}
	return nil
}

// jobError renders a job's field error as the user wrote the value: a flag,
// or a key of the job file.
func (o *HarvestCommand) jobError(err error) error {
	var fe *job.FieldError
	if !errors.As(err, &fe) {
		var fi *job.FileError
		if errors.As(err, &fi) {
			return &UsageError{Msg: fi.Error()}
		}
		return err
	}
	if o.JobFile != "" {
		return &UsageError{Msg: "job file " + o.JobFile + ": " + fe.Error()}
	}
	if fe == job.ErrNoDates {
		return &UsageError{Msg: "--from and --to are required (YYYY-MM-DD); re-run with no flags only to resume a folder that already holds a job"}
	}
	name, ok := flagOf[fe.Field]
	if !ok {
		return &UsageError{Msg: fe.Error()}
	}
	return &UsageError{Msg: name + ": " + fe.Msg}
}

// Run checks the options, harvests and prints a summary of the run.
func (o *HarvestCommand) Run(ctx context.Context) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if err := o.confirmRestart(ctx); err != nil {
		return err
	}
	res, err := o.run(ctx, o.Tune)
	if res.Run.RunID != "" {
		printSummary(o.Stderr, o.program(), o.Out, res)
	}
	return err
}

// program is how the user runs adharvest, for the hints.
func (o *HarvestCommand) program() string {
	if o.Program == "" {
		return "adharvest"
	}
	return o.Program
}

// confirmRestart lets --restart discard a folder's data only when the user
// said so: it asks on a terminal (y/N, no by default), and without a
// terminal to ask on (a script, cron, nohup) it refuses unless --yes was
// given. A folder that holds nothing needs no confirmation.
func (o *HarvestCommand) confirmRestart(ctx context.Context) error {
	if !o.Restart || o.Yes {
		return nil
	}
	held, ok := holdings(o.Out)
	if !ok {
		return nil
	}
	ask := o.Ask
	if ask == nil {
		if !isTerminal(o.Stdin) {
			return usagef("--restart would discard what %s holds (%s); there is no terminal to ask on, so nothing was discarded: add --yes to discard it", o.Out, held)
		}
		ask = func(q string) (bool, error) { return askYesNo(ctx, o.Stdin, o.Stderr, q) }
	}
	yes, err := ask(fmt.Sprintf("--restart discards what %s holds: %s. The daily request count is kept. Discard it and start afresh?", o.Out, held))
	if err != nil {
		return err
	}
	if !yes {
		return usagef("nothing was discarded: --restart was not confirmed (without --restart, the same command resumes %s)", o.Out)
	}
	return nil
}

// holdings describes what --restart would discard in dir: "12,345 rows of
// ads,ad-details for 30 countries, 2024-01-01 to 2024-01-31, harvested in 3
// runs since 2024-02-01; 1,234 files, 5.6 GB". ok is false when dir holds
// nothing of a harvest.
func holdings(dir string) (string, bool) {
	f := folder.New(dir)
	var files, size int64
	for _, p := range append(f.Artifacts(), f.Checkpoint()) {
		_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files++
				if fi, err := d.Info(); err == nil {
					size += fi.Size()
				}
			}
			return nil
		})
	}
	if files == 0 {
		return "", false
	}
	var parts []string
	if m, err := manifest.Read(f.Manifest()); err == nil && len(m.Job.Queries) > 0 {
		var rows int64
		for _, c := range m.Datasets {
			rows += c.Rows
		}
		s := fmt.Sprintf("%s rows of %s", thousands(rows), m.Job.Describe())
		if n := len(m.Runs); n > 0 {
			s += fmt.Sprintf(", harvested in %d run%s since %s", n, plural(n), m.Runs[0].Started.UTC().Format("2006-01-02"))
		}
		parts = append(parts, s)
	}
	parts = append(parts, fmt.Sprintf("%s file%s, %s", thousands(files), plural(int(files)), fmtBytes(size)))
	return strings.Join(parts, "; "), true
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// fmtBytes is n bytes for a person: 5.6 GB, 312 MB, 4 KB.
func fmtBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v < 10 {
		return fmt.Sprintf("%.1f %cB", v, "kMGTPE"[exp])
	}
	return fmt.Sprintf("%.0f %cB", v, "kMGTPE"[exp])
}

// askYesNo asks question on out and reads the answer from in: yes for "y"
// or "yes", no for anything else, an empty line or the end of the input.
// Ctrl-C while it waits discards nothing.
func askYesNo(ctx context.Context, in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprintf(out, "adharvest: %s [y/N] ", question)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(in).ReadString('\n')
		answer <- line
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(out)
		return false, usagef("interrupted: nothing was discarded")
	case a := <-answer:
		if !strings.HasSuffix(a, "\n") {
			fmt.Fprintln(out) // the input ended: end the question's line
		}
		a = strings.ToLower(strings.TrimSpace(a))
		return a == "y" || a == "yes", nil
	}
}
