// Command adharvest harvests TikTok's Commercial Content API (the Ad Library
// research API) into Parquet, resumably, and queries the result with DuckDB.
// See README.md; the commands are in package commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"adharvest/commands"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	// stderr is shared with the progress display: a notice written through
	// it clears the display first, so that it stands on a line of its own.
	stderr := commands.NewConsole(os.Stderr)
	// onInterrupt, when set, takes Ctrl-C instead of stopping the command.
	var onInterrupt atomic.Pointer[func()]
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for {
			s := <-sigs
			if f := onInterrupt.Load(); f != nil && s == os.Interrupt {
				(*f)()
				continue
			}
			break
		}
		fmt.Fprintln(stderr, "adharvest: stopping at a safe point; press Ctrl-C again to quit at once (the checkpoint stays consistent)")
		cancel()
		<-sigs
		stderr.Stop()
		fmt.Fprintln(os.Stderr, "adharvest: quitting now; run the same command again to resume")
		os.Exit(commands.ExitResume)
	}()
	exe, _ := os.Executable()
	env := commands.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: stderr,
		Interrupt: func(f func()) {
			if f == nil {
				onInterrupt.Store(nil)
			} else {
				onInterrupt.Store(&f)
			}
		},
		// The hints say "go run . sql …" after `go run . demo`.
		Program: commands.Invocation(os.Args[0], exe),
	}
	os.Exit(commands.Main(ctx, env, os.Args))
}
