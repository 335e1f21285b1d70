package commands_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestFlagDefaultsReadAsMeant: no help shows a default that misleads: a
// --daily-quota "(default: 0)" reads as a budget of zero, where 0 means
// none; "(default: false)" on a switch is noise; a quoted default is not
// what one types.
func TestFlagDefaultsReadAsMeant(t *testing.T) {
	bad := regexp.MustCompile(`\(default: (0|false|".*")\)`)
	for _, cmd := range []string{"harvest", "plan", "status", "check", "sql", "demo", "fake-api", "report", "export"} {
		code, out, stderr := runCLI(t, cmd, "--help")
		if code != 0 {
			t.Fatalf("%s --help: exit %d %s", cmd, code, stderr)
		}
		for _, l := range strings.Split(out, "\n") {
			if m := bad.FindString(l); m != "" {
				t.Errorf("%s --help: %q shows %s", cmd, strings.TrimSpace(l), m)
			}
		}
	}
	_, out, _ := runCLI(t, "harvest", "--help")
	for _, flag := range []string{"--daily-quota N", "--detail-budget N"} {
		if !regexp.MustCompile(regexp.QuoteMeta(flag) + `\s.*\(default: none\)`).MatchString(out) {
			t.Errorf("harvest --help: %s does not say its default is none", flag)
		}
	}
	if regexp.MustCompile(`--\S+ value\s`).MatchString(out) {
		t.Errorf("harvest --help names a flag's value \"value\":\n%s", out)
	}
}
