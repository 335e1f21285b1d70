//go:build !windows

package sink

import "os"

// syncDirHandle fsyncs an open directory, so that renames in it are durable.
func syncDirHandle(d *os.File) error { return d.Sync() }
