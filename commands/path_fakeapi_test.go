package commands_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"adharvest/commands"
)

// syncBuffer is a buffer one goroutine writes while another reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFakeAPIWalkthrough is the README's walkthrough against fake-api: its
// start-up message says what to export, and a harvest with exactly that
// environment succeeds.
func TestFakeAPIWalkthrough(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	served := make(chan int, 1)
	go func() {
		served <- commands.Main(ctx, commands.Env{Stdout: out, Stderr: out}, []string{"adharvest", "fake-api", "--listen", "127.0.0.1:0"})
	}()
	defer func() {
		cancel()
		if code := <-served; code != 0 {
			t.Errorf("fake-api exit %d: %s", code, out)
		}
	}()
	exportLine := regexp.MustCompile(`(?m)^\s*export (.+)$`)
	var vars []string
	for deadline := time.Now().Add(10 * time.Second); vars == nil; time.Sleep(20 * time.Millisecond) {
		if m := exportLine.FindStringSubmatch(out.String()); m != nil {
			vars = strings.Fields(m[1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake-api never said what to export:\n%s", out)
		}
	}
	t.Setenv("TIKTOK_CLIENT_KEY", "")
	t.Setenv("TIKTOK_CLIENT_SECRET", "")
	t.Setenv("ADHARVEST_API_URL", "")
	seen := map[string]bool{}
	for _, kv := range vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("export %q is not NAME=value", kv)
		}
		t.Setenv(k, v)
		seen[k] = true
	}
	for _, k := range []string{"ADHARVEST_API_URL", "TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET"} {
		if !seen[k] {
			t.Errorf("fake-api's export line does not set %s: %q", k, vars)
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-31", "--progress", "none"); code != 0 {
		t.Fatalf("the walkthrough's harvest: exit %d: %s", code, stderr)
	}
}
