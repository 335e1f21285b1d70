package main

// The media archive under the real binary: killed with SIGKILL at random
// moments and at named points of its atomic writes, stopped by its budget
// and by SIGINT, it resumes to exactly the store and the media table of an
// uninterrupted run, and never leaves a file in DIR/media whose name is not
// the SHA-256 of its bytes.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"adharvest/folder"
	"adharvest/internal/failpoint"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/media"
	"adharvest/sink"
	"adharvest/tiktok/apitest"
)

// mediaJob is a small harvest whose tables link to every kind of creative.
func mediaJob() *job.Job {
	return &job.Job{
		Datasets: []string{job.Ads, job.AdDetails, job.CommercialContent},
		Queries:  []job.Query{{Countries: []string{"FR", "DE"}, From: "2024-01-01", To: "2024-01-04"}},
	}
}

// mediaCLI is `adharvest media` on dir: 1 MiB cap, two downloads at once,
// no rate limit.
func mediaCLI(dir string, extra ...string) []string {
	return append([]string{"media", "--out", dir, "--max-file-size", "1MiB", "--concurrency", "2", "--rps", "0", "--retry-base", "1ms", "--progress", "none"}, extra...)
}

// mediaTable is a folder's media table as text: url, status, sha256, path.
func mediaTable(t *testing.T, dir string) string {
	t.Helper()
	rows, err := sink.ReadParquet[sink.MediaRow](media.TablePath(folder.New(dir), sink.Media))
	if err != nil {
		t.Fatal(err)
	}
	str := func(p *string) string {
		if p == nil {
			return "NULL"
		}
		return *p
	}
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join([]string{r.URL, r.Status, str(r.SHA256), str(r.Path)}, " ")
	}
	return strings.Join(lines, "\n")
}

// mediaStore lists the files of a folder's store, and requires each to be
// named by the SHA-256 of its bytes.
func mediaStore(t *testing.T, dir string) string {
	t.Helper()
	f := folder.New(dir)
	var files []string
	err := filepath.WalkDir(f.MediaStore(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Dir(p) == f.MediaStore() {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		if sum, ext, ok := folder.ParseMediaName(d.Name()); !ok || sum != hex.EncodeToString(h[:]) || f.Rel(p) != folder.MediaRel(sum, ext) {
			t.Errorf("%s is not named by its SHA-256", f.Rel(p))
		}
		files = append(files, f.Rel(p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(files, "\n")
}

func TestMediaCrashResumesToTheSameStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel()
	bin := binary(t)
	// A third of the objects are slow, so that kills land mid-download.
	cdn := &apitest.CDN{Expired: 0.05, Removed: 0.05, Slow: 0.3, SlowDelay: 150 * time.Millisecond, Large: 0.05, LargeSize: 2 << 20}
	srv := testkit.StartAPI(t, apitest.Options{Seed: 11, CDN: cdn, LiveForms: true})
	harvest := func(name string) string {
		dir := filepath.Join(t.TempDir(), name)
		testkit.Harvest(t, srv, dir, mediaJob())
		return dir
	}
	run := func(dir string, env []string, extra ...string) (int, string) {
		cmd := exec.Command(bin, mediaCLI(dir, extra...)...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Run()
		return cmd.ProcessState.ExitCode(), out.String()
	}
	ref := harvest("ref")
	t0 := time.Now()
	if code, out := run(ref, os.Environ()); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, out)
	}
	t.Logf("uninterrupted media run: %s", time.Since(t0).Round(time.Millisecond))
	wantTable, wantStore := mediaTable(t, ref), mediaStore(t, ref)
	same := func(dir, after string) {
		t.Helper()
		if mediaTable(t, dir) != wantTable || mediaStore(t, dir) != wantStore {
			t.Errorf("%s: the media table or the store differs from an uninterrupted run", after)
		}
		testkit.NoTempFiles(t, dir)
		if entries, _ := os.ReadDir(folder.New(dir).MediaTemp()); len(entries) > 0 {
			t.Errorf("%s: downloads left in %s", after, folder.New(dir).MediaTemp())
		}
	}

	t.Run("SIGKILL at random", func(t *testing.T) {
		dir := harvest("kill")
		kills := len(killUntilDone(t, bin, os.Environ(), mediaCLI(dir), 5, newRand(t)))
		if kills < 3 {
			t.Fatalf("only %d kills landed; the run is too quick for this test to mean anything", kills)
		}
		same(dir, "after SIGKILLs")
	})

	// A kill with a download's bytes in its temporary file, and with the
	// file renamed to its staging name but not yet into the store.
	for _, fp := range []string{failpoint.PartWritten + ":5:kill", failpoint.PartRenamed + ":7:kill", failpoint.WriteFile + ":9:kill"} {
		t.Run(fp, func(t *testing.T) {
			dir := harvest("fp")
			code, out := run(dir, append(os.Environ(), failpoint.Env+"="+fp))
			if code != -1 {
				t.Fatalf("failpoint %s did not kill the run: exit %d\n%s", fp, code, out)
			}
			mediaStore(t, dir) // even right after the kill, every name is a hash
			if code, out := run(dir, os.Environ()); code != 0 {
				t.Fatalf("resume after %s: exit %d\n%s", fp, code, out)
			}
			same(dir, "after "+fp)
		})
	}

	t.Run("budget stops exit 75", func(t *testing.T) {
		dir := harvest("budget")
		stops := 0
		for {
			code, out := run(dir, os.Environ(), "--budget", "2MiB")
			if code == 0 {
				break
			}
			if code != 75 || !strings.Contains(out, "budget") {
				t.Fatalf("a budget stop: exit %d\n%s", code, out)
			}
			if stops++; stops > 40 {
				t.Fatal("no end in sight")
			}
		}
		if stops < 2 {
			t.Fatalf("only %d budget stops", stops)
		}
		same(dir, "after budget stops")
	})

	t.Run("SIGINT exits 75", func(t *testing.T) {
		dir := harvest("sigint")
		cmd := exec.Command(bin, mediaCLI(dir)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		start := time.Now()
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 75 || !strings.Contains(out.String(), "interrupted") {
			t.Fatalf("SIGINT: exit %d\n%s", code, out.String())
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("took %s to stop", took)
		}
		if code, out := run(dir, os.Environ()); code != 0 {
			t.Fatalf("resume after SIGINT: exit %d\n%s", code, out)
		}
		same(dir, "after SIGINT")
	})

	if leaks := srv.CDNLeaks(); len(leaks) > 0 {
		t.Errorf("credentials reached the CDN: %v", leaks)
	}
}
