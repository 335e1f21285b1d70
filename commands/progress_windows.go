//go:build windows

package commands

import (
	"os"

	"golang.org/x/sys/windows"
)

// enableANSI turns on the console's handling of ANSI cursor movement
// (Windows 10 and later), and reports whether it is on. Where it is not,
// the progress display is one line, redrawn with a carriage return.
func enableANSI(f *os.File) bool {
	h := windows.Handle(f.Fd())
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return false
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0 {
		return true
	}
	return windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING) == nil
}
