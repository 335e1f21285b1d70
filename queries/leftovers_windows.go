//go:build windows

package queries

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// processGone reports whether no process pid runs on this host: it cannot
// be opened (no such process), or it has exited.
func processGone(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_INVALID_PARAMETER)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if windows.GetExitCodeProcess(h, &code) != nil {
		return false
	}
	const stillActive = 259
	return code != stillActive
}

// ownedByUser is true on Windows: files carry ACLs, not an owner uid, and
// a file the user may not remove stays where it is.
func ownedByUser(os.FileInfo) bool { return true }
