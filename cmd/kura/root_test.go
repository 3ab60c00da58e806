package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// The text log a person reads leaves the time out, so that a line fits 80
// columns; --verbose and json keep it.
func TestSetupLoggingTime(t *testing.T) {
	defer slog.SetDefault(slog.Default())
	for _, tt := range []struct {
		g     globalFlags
		quiet bool
		want  string // the line's start; "" = nothing logged
	}{
		{globalFlags{logFormat: "text"}, false, `level=INFO msg="every scale clusters a PCA of the vectors" dims=32`},
		{globalFlags{logFormat: "TEXT"}, false, `level=INFO msg=`},
		{globalFlags{logFormat: "text", verbose: true}, false, `time=`},
		{globalFlags{logFormat: "json"}, false, `{"time":`},
		{globalFlags{logFormat: "text"}, true, ""},
	} {
		var b bytes.Buffer
		if err := setupLogging(&b, tt.g, tt.quiet); err != nil {
			t.Fatal(err)
		}
		slog.Info("every scale clusters a PCA of the vectors", "dims", 32)
		got := b.String()
		if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
			t.Errorf("%+v quiet=%v: logged %q, want it to start %q", tt.g, tt.quiet, got, tt.want)
		}
	}
}

// Help fits the terminal: every command's help (description, examples,
// flag descriptions, list of subcommands), the root's and every
// subcommand's, is within $COLUMNS.
func TestHelpFitsWidth(t *testing.T) {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(path[:len(path):len(path)], sub.Name()))
		}
	}
	walk(newRootCmd(), nil)
	if len(paths) < 15 {
		t.Fatalf("found %d commands, want every one of kura's (15 or more)", len(paths))
	}
	for _, width := range []int{80, 100} {
		t.Setenv("COLUMNS", strconv.Itoa(width))
		for _, path := range paths {
			name := strings.Join(append([]string{"kura"}, path...), " ")
			out, _, err, code := execCLI(t, append(path, "--help")...).all()
			if code != 0 {
				t.Fatalf("%s --help: exit %d: %v", name, code, err)
			}
			if !strings.Contains(out, "Usage:") {
				t.Fatalf("%s --help printed no usage:\n%s", name, out)
			}
			for _, l := range strings.Split(out, "\n") {
				if len(l) > width {
					t.Errorf("%s --help at %d columns: %d columns: %q", name, width, len(l), l)
				}
			}
		}
	}
}

// An interruption is said with where it stopped, without Go's "context
// canceled".
func TestPrintErrorInterrupted(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("reduce: k-NN graph: %w", context.Canceled), "kura: interrupted: reduce: k-NN graph\n"},
		{fmt.Errorf("embedding texts 1-20000: %w", context.Canceled), "kura: interrupted: embedding texts 1-20000\n"},
		{context.Canceled, "kura: interrupted\n"},
		{errors.New("scale 1,000 stopped; 0 of 2 scales completed"), "kura: interrupted: scale 1,000 stopped; 0 of 2 scales completed\n"},
	} {
		var b bytes.Buffer
		printError(&b, nil, tt.err, true)
		if b.String() != tt.want {
			t.Errorf("printError(%v) = %q, want %q", tt.err, b.String(), tt.want)
		}
	}
}
