package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"adharvest/internal/failpoint"
	"adharvest/queries"
	"adharvest/sink"
	"adharvest/tiktok/apitest"

	"github.com/klauspost/compress/zstd"
)

// everyDataset is a small job that touches all five datasets.
const everyDataset = `
datasets: [ads, ad-details, ad-reports, commercial-content, advertisers]
max_count: 20
from: 2024-01-01
to: 2024-01-14
queries:
  - countries: [FR, DE]
  - countries: [FR]
    terms: [coffee]
`

var (
	jobOnce sync.Once
	jobPath string
)

func harvestArgs(dir string, extra ...string) []string {
	jobOnce.Do(func() {
		f, err := os.CreateTemp("", "adharvest-job-*.yaml")
		if err != nil {
			panic(err)
		}
		f.WriteString(everyDataset)
		f.Close()
		jobPath = f.Name()
	})
	args := []string{"harvest", "--out", dir, "--job", jobPath, "--retry-base", "1ms", "--progress", "none"}
	return append(args, extra...)
}

// reference harvests the job from a clean fake API once per test. The
// documented contradictions are deterministic per item, so quirks on both
// sides give the same rows.
func reference(t *testing.T) string {
	t.Helper()
	srv := apitest.Start(apitest.Options{Quirks: true})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, harvestArgs(dir, "--rps", "0")...); code != 0 {
		t.Fatalf("clean reference run: exit %d %s", code, stderr)
	}
	return dir
}

// sameTables requires every table of dir to hold exactly the rows of ref.
func sameTables(t *testing.T, ref, dir string) {
	t.Helper()
	for _, tb := range sink.Tables {
		want, got := snapshot(t, ref, tb.Name), snapshot(t, dir, tb.Name)
		if len(want) == 0 {
			t.Fatalf("%s: the reference is empty, so the comparison means nothing", tb.Name)
		}
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Fatalf("%s differs from a clean run: %d rows, want %d", tb.Name, len(got), len(want))
		}
	}
}

// resumeToReference resumes the harvest in dir with the binary, with no job
// flags, and requires it to finish with exactly the rows of ref.
func resumeToReference(t *testing.T, bin string, srv *apitest.Server, ref, dir, after string) {
	t.Helper()
	cmd := exec.Command(bin, "harvest", "--out", dir, "--retry-base", "1ms", "--rps", "0", "--progress", "none")
	cmd.Env = binEnv(srv)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("resume %s: %v\n%s", after, err, out)
	}
	sameTables(t, ref, dir)
}

func TestFaultProfilesGiveTheCleanResult(t *testing.T) {
	ref := reference(t)
	for _, tc := range []struct {
		name  string
		opts  apitest.Options
		extra []string
	}{
		{name: "flaky", opts: apitest.Flaky(), extra: []string{"--rps", "0"}},
		// Slow enough that tokens and search_ids die under the crawl.
		{name: "hostile", opts: apitest.Hostile(), extra: []string{"--rps", "60"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := apitest.Start(tc.opts)
			defer srv.Close()
			setCreds(t, srv)
			dir := t.TempDir()
			code, _, stderr := runCLI(t, harvestArgs(dir, tc.extra...)...)
			if code != 0 {
				t.Fatalf("exit %d under %s: %s", code, tc.name, stderr)
			}
			sameTables(t, ref, dir)
			st := srv.Stats()
			t.Logf("%s: %d data requests, codes %v, %d tokens", tc.name, st.DataRequests, st.ByCode, st.Tokens)
			if tc.name == "flaky" && st.ByCode["internal_error"]+st.ByCode["rate_limit_exceeded"] == 0 {
				t.Fatal("no fault was injected")
			}
			if tc.name == "hostile" && st.Tokens < 2 {
				t.Fatal("the token never expired under the crawl")
			}
		})
	}
	t.Run("quota", func(t *testing.T) {
		srv := apitest.Start(apitest.Quota(40))
		defer srv.Close()
		setCreds(t, srv)
		dir := t.TempDir()
		code, days := 75, 0
		for ; code == 75 && days < 30; days++ {
			srv.ResetQuota()
			var stderr string
			code, _, stderr = runCLI(t, harvestArgs(dir, "--rps", "0", "--concurrency", "2")...)
			if code == 75 && !strings.Contains(stderr, "daily quota") {
				t.Fatalf("exit 75 without the quota message: %s", stderr)
			}
		}
		if code != 0 {
			t.Fatalf("exit %d after %d quota days", code, days)
		}
		if days < 3 {
			t.Fatalf("finished in %d days: the quota never bit", days)
		}
		sameTables(t, ref, dir)
		// A stopped run repeats no request that had succeeded.
		seen := map[string]bool{}
		repeated := 0
		for _, r := range srv.Requests() {
			if r.Status != 200 || r.Endpoint == "oauth/token" {
				continue
			}
			k := r.Endpoint + string(r.Body)
			if seen[k] {
				repeated++
			}
			seen[k] = true
		}
		t.Logf("quota profile: %d days, %d successful requests repeated", days, repeated)
		if repeated > 0 {
			t.Fatalf("%d successful requests were repeated across quota stops", repeated)
		}
	})
}

// TestFailpointCrashes kills the binary at exact points of the commit protocol,
// checks that what is on disk at that instant reads cleanly (a torn file is
// never data), and that resuming gives the clean result.
func TestFailpointCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := binary(t)
	ref := reference(t)
	for _, fp := range []string{
		failpoint.PageFetched + ":3", failpoint.PageCommit + ":5", failpoint.PartWritten + ":2",
		failpoint.PartRenamed + ":4", failpoint.FlushCommit + ":3", failpoint.DetailCommit + ":7",
		failpoint.PartWritten + ":9", failpoint.FlushCommit + ":12",
	} {
		t.Run(fp, func(t *testing.T) {
			srv := apitest.Start(apitest.Options{Quirks: true})
			defer srv.Close()
			dir := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(bin, harvestArgs(dir, "--rps", "0", "--flush-pages", "1")...)
			cmd.Env = append(binEnv(srv), failpoint.Env+"="+fp+":kill")
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("failpoint %s did not kill the run: %v\n%s", fp, err, out)
			}
			// The crashed folder must read cleanly, torn temporary files and all.
			eng, err := queries.Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range sink.Tables {
				var n int
				if err := eng.DB().QueryRow("SELECT count(*) FROM " + tb.Name + "_all").Scan(&n); err != nil {
					t.Fatalf("%s after a crash at %s: %v", tb.Name, fp, err)
				}
			}
			eng.Close()
			resumeToReference(t, bin, srv, ref, dir, "after "+fp)
			noTempFiles(t, dir)
		})
	}
}

func TestDiskFullStopsCleanlyAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	ref := reference(t)
	srv := apitest.Start(apitest.Options{Quirks: true})
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(bin, harvestArgs(dir, "--rps", "0", "--flush-pages", "1")...)
	cmd.Env = append(binEnv(srv), failpoint.Env+"="+failpoint.WriteFile+":6:enospc")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 75 || !bytes.Contains(out, []byte("disk is full")) {
		t.Fatalf("full disk: exit %d (%v), want 75 naming the full disk:\n%s", code, err, out)
	}
	resumeToReference(t, bin, srv, ref, dir, "after a full disk")
	noTempFiles(t, dir)
}

// TestSignals stops the binary with SIGINT or SIGTERM mid-crawl: it must stop
// within a few seconds with exit 75, and a second SIGINT must end it at once.
// Either way the resumed harvest equals a clean one.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	ref := reference(t)
	for _, tc := range []struct {
		name    string
		signals []syscall.Signal
		within  time.Duration
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}, 5 * time.Second},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}, 5 * time.Second},
		{"second SIGINT quits at once", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Slow answers keep requests in flight when the signal lands.
			opts := apitest.Options{Quirks: true, Faults: apitest.Faults{Slow: 0.3, SlowDelay: 3 * time.Second}}
			srv := apitest.Start(opts)
			defer srv.Close()
			dir := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(bin, harvestArgs(dir, "--rps", "20")...)
			cmd.Env = binEnv(srv)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			start := time.Now()
			for _, s := range tc.signals {
				cmd.Process.Signal(s)
				time.Sleep(50 * time.Millisecond)
			}
			cmd.Wait()
			took := time.Since(start)
			if code := cmd.ProcessState.ExitCode(); code != 75 {
				t.Fatalf("exit %d after %v, want 75:\n%s", code, tc.signals, stderr.String())
			}
			if took > tc.within {
				t.Fatalf("took %s to stop, want under %s", took, tc.within)
			}
			t.Logf("%s: stopped in %s", tc.name, took.Round(time.Millisecond))
			srv.SetFaults(apitest.Faults{})
			resumeToReference(t, bin, srv, ref, dir, "after "+tc.name)
		})
	}
}

// TestSecretsNeverLeak harvests with a recognisable secret, then looks for it
// and for every token the server issued in every output file (decompressed),
// every table, stdout, stderr and the error of a failing run.
func TestSecretsNeverLeak(t *testing.T) {
	const secret = "SeCrEt-adharvest-9f3c2b71"
	opts := apitest.Flaky()
	opts.ClientSecret = secret
	opts.TokenTTL = time.Second // many tokens, many renewals
	srv := apitest.Start(opts)
	defer srv.Close()
	setCreds(t, srv)
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o644)
	t.Setenv("TIKTOK_CLIENT_SECRET", "")
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, harvestArgs(dir, "--rps", "0", "--client-secret-file", secretFile)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "readable by other users") {
		t.Fatalf("no warning about a world-readable secret file: %s", stderr)
	}
	// Failing runs: the API goes away mid-flight, and the token endpoint refuses.
	closed := apitest.Start(apitest.Options{ClientSecret: secret})
	closed.Close()
	_, o2, e2 := runCLI(t, harvestArgs(t.TempDir(), "--api-url", closed.URL, "--client-secret-file", secretFile)...)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("not-"+secret), 0o600)
	_, o3, e3 := runCLI(t, harvestArgs(t.TempDir(), "--client-secret-file", wrong)...)
	if !strings.Contains(e2, "connect") && !strings.Contains(e2, "refused") {
		t.Fatalf("closed server: %q", e2)
	}

	needles := append([]string{secret}, srv.Tokens()...)
	if len(needles) < 3 {
		t.Fatalf("only %d tokens issued; the renewal path was not exercised", len(needles)-1)
	}
	hay := map[string]string{"stdout": stdout, "stderr": stderr, "closed stdout": o2, "closed stderr": e2, "wrong stdout": o3, "wrong stderr": e3}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		hay[p] = string(b)
		if strings.HasSuffix(p, ".zst") {
			r, _ := zstd.NewReader(bytes.NewReader(b))
			plain, _ := io.ReadAll(r)
			hay[p+" (decompressed)"] = string(plain)
		}
		return nil
	})
	eng, err := queries.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for _, tb := range sink.Tables {
		var text string
		eng.DB().QueryRow(fmt.Sprintf("SELECT coalesce(string_agg(CAST(x AS VARCHAR), ''), '') FROM %s_all AS x", tb.Name)).Scan(&text)
		hay["table "+tb.Name] = text
	}
	for where, text := range hay {
		for _, n := range needles {
			if strings.Contains(text, n) {
				t.Errorf("%s contains a secret or token (%.12s…)", where, n)
			}
		}
	}
}

func TestStaleLockIsTakenOver(t *testing.T) {
	srv := apitest.Start(apitest.Options{})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	// A lock file left by a process that died: nobody holds the flock.
	os.MkdirAll(filepath.Join(dir, "_adharvest"), 0o755)
	os.WriteFile(filepath.Join(dir, "_adharvest", "lock"), []byte(`{"pid":999999,"host":"gone","started":"2024-01-01T00:00:00Z"}`), 0o644)
	if code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07", "--rps", "0", "--progress", "none"); code != 0 {
		t.Fatalf("stale lock blocked the run: %s", stderr)
	}
}

func TestOutNotWritable(t *testing.T) {
	srv := apitest.Start(apitest.Options{})
	defer srv.Close()
	setCreds(t, srv)
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o644)
	cases := map[string]string{"under a file": filepath.Join(file, "out")}
	if os.Geteuid() != 0 { // root writes anywhere, so only an ordinary user can test permissions
		ro := filepath.Join(t.TempDir(), "ro")
		os.Mkdir(ro, 0o555)
		cases["read-only folder"] = filepath.Join(ro, "out")
	}
	for name, out := range cases {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "harvest", "--out", out, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07", "--progress", "none")
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--out") {
				t.Fatalf("exit %d %q", code, stderr)
			}
		})
	}
	if srv.Stats().DataRequests != 0 {
		t.Fatal("requests were spent before the folder was checked")
	}
}

func TestDailyQuotaBudgetAddsUpAcrossRuns(t *testing.T) {
	srv := apitest.Start(apitest.Options{})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	args := []string{"harvest", "--out", dir, "--countries", "FR,DE,IT", "--from", "2024-01-01", "--to", "2024-02-29", "--max-count", "10",
		"--daily-quota", "25", "--rps", "0", "--progress", "none"}
	code, _, stderr := runCLI(t, args...)
	if code != 75 || !strings.Contains(stderr, "--daily-quota") {
		t.Fatalf("exit %d %q", code, stderr)
	}
	if n := srv.Stats().DataRequests; n != 25 {
		t.Fatalf("%d requests under a budget of 25", n)
	}
	// A second run the same day has nothing left to spend.
	code, _, _ = runCLI(t, args...)
	if code != 75 || srv.Stats().DataRequests != 25 {
		t.Fatalf("second run: exit %d, %d requests in all", code, srv.Stats().DataRequests)
	}
	code, out, _ := runCLI(t, "status", "--out", dir, "--daily-quota", "25")
	if code != 0 || !strings.Contains(out, "25 of 25 today") {
		t.Fatalf("status:\n%s", out)
	}
}

// TestStatusReportsFailuresAndRunningHarvests checks what status shows: per
// dataset counts with failed shards, the last error with its log_id, and a
// useful answer while another process holds the folder.
func TestStatusReportsFailuresAndRunningHarvests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv := apitest.Start(apitest.Options{Faults: apitest.Faults{Err500: 1}})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07", "--retry-base", "1ms", "--rps", "0", "--progress", "none")
	if code != 1 || !strings.Contains(stderr, "run the same command again") {
		t.Fatalf("a shard that keeps failing: exit %d %q", code, stderr)
	}
	code, out, _ := runCLI(t, "status", "--out", dir)
	if code != 0 || !strings.Contains(out, "      1       0       0       1") || !strings.Contains(out, "log_id") || !strings.Contains(out, "internal_error") {
		t.Fatalf("status after a failure:\n%s", out)
	}

	// While a harvest runs, status reads the manifest that run keeps fresh.
	bin := binary(t)
	slow := apitest.Start(apitest.Options{})
	defer slow.Close()
	running := filepath.Join(t.TempDir(), "running")
	cmd := exec.Command(bin, "harvest", "--out", running, "--countries", "EEA", "--from", "2024-01-01", "--to", "2024-03-31", "--rps", "20", "--progress", "none")
	cmd.Env = binEnv(slow)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out, stderr = runCLI(t, "status", "--out", running)
		if code == 0 && strings.Contains(out, "being harvested by adharvest pid") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status on a running harvest: exit %d\n%s%s", code, out, stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(out, "ads") || !strings.Contains(out, "requests") {
		t.Fatalf("status while running:\n%s", out)
	}
}
