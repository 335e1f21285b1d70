package failpoint

import (
	"errors"
	"syscall"
	"testing"
)

func TestParseAndEnospc(t *testing.T) {
	points = parse("write-file:3:enospc, bogus, x:0:kill, page-commit:2:kill")
	defer func() { points = nil }()
	if len(points) != 2 {
		t.Fatalf("parsed %d points, want 2 (malformed specs are ignored)", len(points))
	}
	for i := 1; i <= 2; i++ {
		if err := Hit(WriteFile); err != nil {
			t.Fatalf("pass %d failed early: %v", i, err)
		}
	}
	for i := 3; i <= 4; i++ {
		if err := Hit(WriteFile); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("pass %d: %v, want ENOSPC from the third pass on", i, err)
		}
	}
	if err := Hit("unarmed"); err != nil {
		t.Fatal(err)
	}
}
