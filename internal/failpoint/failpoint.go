// Package failpoint lets tests crash or fail the real binary at a chosen point
// of the commit protocol, deterministically, instead of hoping a random SIGKILL
// lands there. It is driven by one environment variable,
//
//	ADHARVEST_FAILPOINT=NAME:N:ACTION[,NAME:N:ACTION…]
//
// where the N-th time the code passes NAME it performs ACTION: "kill" sends the
// process SIGKILL (a crash at exactly that instant), "enospc" makes that pass
// and every later one fail with "no space left on device" (a full disk). With
// the variable unset, Hit costs one map lookup and does nothing.
package failpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Env is the variable that arms failpoints.
const Env = "ADHARVEST_FAILPOINT"

// The points the code passes. Tests name them; the code calls Hit with them.
const (
	PartWritten  = "part-written"  // a part's bytes are in its temporary file, not yet renamed
	PartRenamed  = "part-renamed"  // a part is renamed into place, its directory not yet synced
	PageFetched  = "page-fetched"  // a response arrived, not yet committed to the checkpoint
	PageCommit   = "page-commit"   // a page is committed to the checkpoint
	FlushCommit  = "flush-commit"  // a part's files are durable, the checkpoint does not yet name them
	WriteFile    = "write-file"    // any atomic file write begins
	DetailCommit = "detail-commit" // an ad/detail response is committed with its id marked done
	ReparsePart  = "reparse-part"  // reparse has staged a part, not yet recorded it
	ReparseSwap  = "reparse-swap"  // reparse has moved a table folder into place, not yet the others
	// ObservationsKept: the rows of a slice's parts are copied to
	// ad_observations, the slice not yet started again.
	ObservationsKept = "observations-kept"
)

type point struct {
	at     int
	action string
	seen   int
}

var (
	mu     sync.Mutex
	points = parse(os.Getenv(Env))
)

func parse(s string) map[string]*point {
	out := map[string]*point{}
	for _, spec := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(spec), ":")
		if len(parts) != 3 {
			continue
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil || n < 1 {
			continue
		}
		out[parts[0]] = &point{at: n, action: parts[2]}
	}
	return out
}

// Hit marks a pass through the named point. It returns an error only for an
// armed "enospc" point; an armed "kill" point never returns.
func Hit(name string) error {
	if len(points) == 0 {
		return nil
	}
	mu.Lock()
	p, ok := points[name]
	if !ok {
		mu.Unlock()
		return nil
	}
	p.seen++
	fire := p.seen >= p.at
	mu.Unlock()
	if !fire {
		return nil
	}
	switch p.action {
	case "kill":
		if p.seen == p.at {
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Kill() // SIGKILL on Unix, TerminateProcess on Windows
			}
			select {} // SIGKILL is asynchronous; never run past the point
		}
	case "enospc":
		return fmt.Errorf("failpoint %s: %w", name, syscall.ENOSPC)
	}
	return nil
}
