//go:build unix

package queries

import (
	"errors"
	"os"
	"syscall"
)

// processGone reports whether no process pid runs on this host.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// ownedByUser reports whether the current user owns the file info is of.
func ownedByUser(info os.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
