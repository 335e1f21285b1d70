//go:build !windows

package commands

import "os"

// enableANSI reports whether the terminal f takes ANSI cursor movement:
// every terminal outside Windows does.
func enableANSI(*os.File) bool { return true }
