// Command kura embeds, clusters and load-tests chat data. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// gracePeriod is how long kura waits, after Ctrl-C or SIGTERM, for the
// command to write what it has and return before it exits regardless.
const gracePeriod = 15 * time.Second

func main() {
	// The first Ctrl-C (or SIGTERM) cancels the context: commands stop and
	// write what they have. Restoring the default handler then lets a
	// second Ctrl-C end the process at once, and a command that does not
	// return within gracePeriod is ended too.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
		time.Sleep(gracePeriod)
		fmt.Fprintf(os.Stderr, "kura: interrupted, and still busy after %v: exiting\n", gracePeriod)
		os.Exit(130)
	}()
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the CLI and maps errors to exit codes: 0 ok, 1 failure, 2 usage error.
func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			fmt.Fprintf(os.Stderr, "kura: interrupted: %v\n", err)
		} else {
			fmt.Fprintf(os.Stderr, "kura: %v\n", err)
		}
	}
	return exitCode(err)
}

// exitCode maps an error to kura's exit codes: 0 ok, 1 failure, 2 usage error.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}
