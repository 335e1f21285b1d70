package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/internal/testkit"
	"adharvest/queries"
	"adharvest/sink"
	"adharvest/tiktok/apitest"

	"github.com/klauspost/compress/zstd"
)

// TestSecretsNeverLeak harvests with a recognisable secret, then looks for it
// and for every token the server issued in every output file (decompressed),
// every table, stdout, stderr and the error of a failing run.
func TestSecretsNeverLeak(t *testing.T) {
	const secret = "SeCrEt-adharvest-9f3c2b71"
	opts := apitest.Flaky()
	opts.ClientSecret = secret
	opts.TokenTTL = time.Second // many tokens, many renewals
	srv := testkit.StartAPI(t, opts)
	testkit.SetEnv(t, srv)
	job := testkit.JobFile(t, testkit.EveryDataset)
	// As --job reads it, with fast retries and no progress output.
	harvestJob := func(dir string, extra ...string) []string {
		return append([]string{"harvest", "--out", dir, "--job", job, "--retry-base", "1ms", "--progress", "none"}, extra...)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o644)
	t.Setenv("TIKTOK_CLIENT_SECRET", "")
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, harvestJob(dir, "--rps", "0", "--client-secret-file", secretFile)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "readable by other users") {
		t.Fatalf("no warning about a world-readable secret file: %s", stderr)
	}
	// Failing runs: the API goes away mid-flight, and the token endpoint refuses.
	closed := apitest.Start(apitest.Options{ClientSecret: secret})
	closed.Close()
	_, o2, e2 := runCLI(t, harvestJob(t.TempDir(), "--api-url", closed.URL, "--client-secret-file", secretFile)...)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("not-"+secret), 0o600)
	_, o3, e3 := runCLI(t, harvestJob(t.TempDir(), "--client-secret-file", wrong)...)
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
