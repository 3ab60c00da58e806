// Command kura embeds, clusters and load-tests chat data. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
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

// run executes the CLI and maps errors to exit codes: 0 ok, 1 failure, 2
// usage error, 130 interrupted (Ctrl-C or SIGTERM).
func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	printError(os.Stderr, cmd, err, ctx.Err() != nil)
	if err != nil && ctx.Err() != nil {
		return 130
	}
	return exitCode(err)
}

// printError prints err: one line "kura: ERROR", and for a usage error one
// line of help; nothing for an error already reported (reportedError).
func printError(w io.Writer, cmd *cobra.Command, err error, interrupted bool) {
	var re *reportedError
	switch {
	case err == nil || errors.As(err, &re):
		return
	case interrupted:
		// Where it stopped, without Go's "context canceled" (the load
		// test's errors leave it out too).
		msg := strings.TrimSuffix(err.Error(), context.Canceled.Error())
		msg = strings.TrimSuffix(strings.TrimSuffix(msg, " "), ":")
		if msg == "" {
			fmt.Fprintln(w, "kura: interrupted")
		} else {
			fmt.Fprintf(w, "kura: interrupted: %s\n", msg)
		}
		return
	}
	fmt.Fprintf(w, "kura: %v\n", err)
	if exitCode(err) == 2 && !strings.Contains(err.Error(), "--help") {
		path := "kura"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", path)
	}
}

// exitCode maps an error to kura's exit codes: 0 ok, 1 failure, 2 usage
// error. A file or directory named on the command line that does not exist
// is a usage error too, whichever command opens it.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue), errors.Is(err, fs.ErrNotExist):
		return 2
	default:
		return 1
	}
}
