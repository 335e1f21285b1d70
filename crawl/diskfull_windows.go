//go:build windows

package crawl

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// diskFull reports whether err says the disk is full: on Windows a write
// fails with ERROR_DISK_FULL or ERROR_HANDLE_DISK_FULL, never ENOSPC (which
// the failpoints still use).
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL)
}
