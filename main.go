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

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	commands.Version = version
	ctx, cancel := context.WithCancel(context.Background())
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
		fmt.Fprintln(os.Stderr, "adharvest: stopping at a safe point; press Ctrl-C again to quit at once (the checkpoint stays consistent)")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "adharvest: quitting now; run the same command again to resume")
		os.Exit(commands.ExitResume)
	}()
	env := commands.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Interrupt: func(f func()) {
			if f == nil {
				onInterrupt.Store(nil)
			} else {
				onInterrupt.Store(&f)
			}
		},
	}
	os.Exit(commands.Main(ctx, env, os.Args))
}
