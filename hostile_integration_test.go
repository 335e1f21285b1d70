package main

// Hostile servers against the real binary: what a server can make the whole
// process do (peak memory, leaked secrets) is only visible from outside it.
// The client's own defences are tested in package tiktok.

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"adharvest/tiktok/apitest"
)

// hostileSecret holds the characters that the form, JSON and URL encodings
// spell differently.
const hostileSecret = "Hx7+secret/VALUE=&adharvest~42"

// runHostile runs the binary with args against srv with the hostile secret, for
// at most limit, and returns its combined output, its exit code, its peak RSS
// in MiB and how long it ran.
func runHostile(t *testing.T, srv *httptest.Server, limit time.Duration, args ...string) (out string, code int, rssMiB int64, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(os.Environ(),
		"TIKTOK_CLIENT_KEY=hostile-key",
		"TIKTOK_CLIENT_SECRET="+hostileSecret,
		"ADHARVEST_API_URL="+srv.URL)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("%v still running after %s:\n%s", args, limit, buf.String())
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Fatalf("%v killed by %s after %s (peak RSS %d MiB):\n%s", args, ws.Signal(), took, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss>>10, buf.String())
	}
	return buf.String(), cmd.ProcessState.ExitCode(), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss >> 10, took
}

// TestHostileGzipBombPeakRSS harvests from a server whose every data answer is
// a 300 KB gzip body that inflates to 300 MiB, with eight workers: the process
// must stay under 300 MiB and say why the shards failed. Before the client
// bounded bodies, each worker took 5.4 GiB and the process was OOM-killed.
func TestHostileGzipBombPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary against a gzip bomb")
	}
	const inflated = 300 << 20
	hits := apitest.CountHits(apitest.DataOnly(apitest.GzipBomb(inflated), apitest.Token(hostileSecret)))
	srv := httptest.NewServer(hits)
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "out")
	out, code, rss, took := runHostile(t, srv, 3*time.Minute, "harvest", "--out", dir,
		"--countries", "FR,DE,IT,ES,PL,NL,BE,AT", "--from", "2024-01-01", "--to", "2024-01-28", "--window", "7d",
		"--concurrency", "8", "--retry-base", "1ms", "--rps", "0", "--progress", "log")
	t.Logf("exit %d after %s, peak RSS %d MiB, %d ad/query answers of %d KB inflating to %d MiB each",
		code, took.Round(time.Millisecond), rss, hits.Get("ad/query"), apitest.GzipBombSize(inflated)>>10, inflated>>20)
	if rss >= 300 {
		t.Fatalf("peak RSS %d MiB, want under 300 MiB", rss)
	}
	if code == 0 || !strings.Contains(out, "response body larger than") {
		t.Fatalf("exit %d; the output does not say the bodies were too large:\n%s", code, out)
	}
	if n := hits.Get("ad/query"); n < 8 {
		t.Fatalf("only %d data requests: the bomb was not met by eight workers", n)
	}
}

// TestHostileReflectedSecretsStayOut harvests from data endpoints that echo
// the request (bearer token included) in their error text and refuse tokens
// now and then, and from a token endpoint that echoes the form (client secret
// included) on every other call; then runs status, report and export. Neither the secret, in any
// spelling, nor any token may appear in the output or in any file written.
func TestHostileReflectedSecretsStayOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	var n, m atomic.Int64
	shapes := []http.Handler{
		apitest.Reflect(500, apitest.ReflectEnvelope),
		apitest.Reflect(502, apitest.ReflectHTML),
		apitest.Unauthorized(""), // the renewal meets the echoing token endpoint
		apitest.Reflect(400, apitest.ReflectEnvelope),
		apitest.Reflect(503, apitest.ReflectOAuth),
	}
	data := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shapes[int(n.Add(1))%len(shapes)].ServeHTTP(w, r)
	})
	good, echo := apitest.Token(hostileSecret), apitest.Reflect(503, apitest.ReflectOAuth)
	token := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.Add(1)%2 == 0 {
			echo.ServeHTTP(w, r)
			return
		}
		good.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(apitest.DataOnly(data, token))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "out")
	var outs []string
	out, code, _, _ := runHostile(t, srv, 2*time.Minute, "harvest", "--out", dir,
		"--countries", "FR,DE", "--from", "2024-01-01", "--to", "2024-01-14", "--window", "7d",
		"--concurrency", "4", "--retry-base", "1ms", "--rps", "0", "--progress", "log")
	if code == 0 {
		t.Fatalf("a harvest of failing endpoints succeeded:\n%s", out)
	}
	outs = append(outs, out)
	for _, args := range [][]string{
		{"status", "--out", dir},
		{"report", "--out", dir},
		{"export", "--out", dir, "--duckdb", filepath.Join(dir, "export.duckdb"), "--csv", filepath.Join(dir, "csv")},
	} {
		out, _, _, _ := runHostile(t, srv, time.Minute, args...)
		outs = append(outs, out)
	}

	// The token endpoint, unhurt, issued HostileTokenPrefix + 1, 2, ….
	needles := []string{apitest.HostileTokenPrefix}
	for _, s := range []string{hostileSecret, url.QueryEscape(hostileSecret), url.PathEscape(hostileSecret), strings.ReplaceAll(hostileSecret, "&", `\u0026`)} {
		needles = append(needles, strings.ToLower(s), strings.ToLower(s[:8]))
	}
	check := func(where string, b []byte) {
		low := bytes.ToLower(b)
		for _, nd := range needles {
			if i := bytes.Index(low, []byte(nd)); i >= 0 {
				t.Errorf("%s leaks %q: …%s…", where, nd, b[max(0, i-60):min(len(b), i+60)])
			}
		}
	}
	for i, o := range outs {
		check("command output "+string(rune('1'+i)), []byte(o))
	}
	files := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Error(err)
			return nil
		}
		files++
		check(path, b)
		return nil
	})
	if files == 0 {
		t.Fatal("the harvest wrote no file to search")
	}
	t.Logf("%d files searched; harvest output:\n%s", files, outs[0])
	if !strings.Contains(outs[0], "[REDACTED]") {
		t.Logf("harvest output:\n%s", outs[0])
		t.Fatal("nothing was redacted: the echo never reached the output, so this test proves nothing")
	}
}
