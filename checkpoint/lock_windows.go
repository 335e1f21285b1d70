//go:build windows

package checkpoint

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the lock sits: one byte far beyond the owner record.
// Windows locks are mandatory, so a lock over the record would keep status
// from reading who holds the folder.
const lockOffset = 1 << 40

// tryLock takes an exclusive LockFileEx on f without waiting; busy reports
// that another process holds it. Windows releases it when the handle is
// closed or the process ends.
func tryLock(f *os.File) (busy bool, err error) {
	ol := &windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	return errors.Is(err, windows.ERROR_LOCK_VIOLATION), err
}
