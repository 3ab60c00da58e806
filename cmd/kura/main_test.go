package main

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// childEnv, when set in the environment, makes this test binary run the kura
// CLI with the JSON-encoded arguments it holds instead of the tests, so that
// a test can run kura as a process of its own (and kill it).
const childEnv = "KURA_TEST_CLI_ARGS"

func TestMain(m *testing.M) {
	// A load test run through childEnv starts its workers as this
	// executable with the worker command: run it, not the parent's args.
	if len(os.Args) > 1 && os.Args[1] == "loadtest-worker" {
		os.Exit(run(context.Background(), os.Args[1:]))
	}
	if v := os.Getenv(childEnv); v != "" {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			os.Stderr.WriteString("bad " + childEnv + ": " + err.Error() + "\n")
			os.Exit(3)
		}
		// As main does: Ctrl-C or SIGTERM cancels the command.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, args)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
