package queries

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// This file names the temporary files and folders that an export and an
// Engine create after the process that creates them, and removes those that
// a killed process left behind. A process killed with SIGKILL runs no
// cleanup: its temporary database (and DuckDB's .wal beside it), its folder
// of CSV files being written and its engine's placeholder folder stay where
// they were. The next run removes them, but only what it can prove is a
// leftover:
//
//   - the name has the prefix of what the run is about to write (the
//     temporary names of this very target, or "adharvest-views-" in the
//     system temporary directory), followed by exactly an owner tag and
//     the random digits: "<prefix><pid>@<host>-<random>";
//   - the host is this host, the pid is not this process's, and no process
//     has that pid any more (kill(pid, 0) fails with ESRCH). A live process,
//     even another user's, or a pid that was reused since, keeps its files;
//   - the entry belongs to this user.
//
// Names without an owner tag (written by older versions) are left alone: no
// one can tell whether their writer still runs.

// ownerTag is "<pid>@<host>", the owner part of a temporary name.
func ownerTag() string { return strconv.Itoa(os.Getpid()) + "@" + hostTag() }

// tempPattern is the os.CreateTemp or os.MkdirTemp pattern of a temporary
// name with prefix, owned by this process.
func tempPattern(prefix string) string { return prefix + ownerTag() + "-*" }

var (
	hostOnce sync.Once
	hostName string
)

// hostTag is the host name reduced to the characters that a name and
// ownerRE can hold.
func hostTag() string {
	hostOnce.Do(func() {
		h, _ := os.Hostname()
		var b strings.Builder
		for _, r := range h {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		if b.Len() == 0 {
			b.WriteString("localhost")
		}
		hostName = b.String()
	})
	return hostName
}

// ownerRE is what follows the prefix in a temporary name: the owner tag, the
// random digits that os.CreateTemp and os.MkdirTemp put last, and the ".wal"
// that DuckDB may add.
var ownerRE = regexp.MustCompile(`^([0-9]+)@([A-Za-z0-9_-]+)-[0-9]+(\.wal)?$`)

// leftover reports whether name, an entry of dir, is a temporary file or
// folder made of prefix and an owner tag (see tempPattern) whose owner is
// provably gone.
func leftover(dir, name, prefix string) bool {
	if !strings.HasPrefix(name, prefix) {
		return false
	}
	m := ownerRE.FindStringSubmatch(name[len(prefix):])
	if m == nil {
		return false
	}
	pid, err := strconv.Atoi(m[1])
	if err != nil || pid <= 0 || pid == os.Getpid() || m[2] != hostTag() {
		return false
	}
	if !processGone(pid) {
		return false
	}
	info, err := os.Lstat(filepath.Join(dir, name))
	return err == nil && ownedByUser(info)
}

// sweepLeftovers removes the entries of dir that leftover accepts, and
// reports whether it removed any. It is best effort: a folder it cannot read
// or an entry it cannot remove is left as it is.
func sweepLeftovers(dir, prefix string) (removed bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if leftover(dir, e.Name(), prefix) {
			if os.RemoveAll(filepath.Join(dir, e.Name())) == nil {
				removed = true
			}
		}
	}
	return removed
}
