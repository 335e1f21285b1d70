//go:build !windows

package crawl

import (
	"errors"
	"syscall"
)

// diskFull reports whether err says the disk is full.
func diskFull(err error) bool { return errors.Is(err, syscall.ENOSPC) }
