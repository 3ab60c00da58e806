package main

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

// The text log a person reads leaves the time out, so that a line fits 80
// columns; --verbose and json keep it.
func TestHang(t *testing.T) {
	for _, tt := range []struct {
		s             string
		width, indent int
		want          string
	}{
		{"Run Kura's pipeline: summaries, clusters, names", 30, 4, "Run Kura's pipeline:\n    summaries, clusters, names"},
		{"short", 30, 4, "short"},
		{"a https://a.very.long.example/url/that/does/not/fit b", 20, 2, "a\n  https://a.very.long.example/url/that/does/not/fit\n  b"},
		{"too narrow to wrap", 10, 2, "too narrow to wrap"},
	} {
		if got := hang(tt.s, tt.width, tt.indent); got != tt.want {
			t.Errorf("hang(%q, %d, %d) = %q, want %q", tt.s, tt.width, tt.indent, got, tt.want)
		}
	}
}

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

// Help fits the terminal: every command's flag descriptions and the list
// of commands are wrapped within $COLUMNS, and kura loadtest's help fits
// whole.
func TestHelpFitsWidth(t *testing.T) {
	for _, width := range []int{80, 100} {
		t.Setenv("COLUMNS", strconv.Itoa(width))
		out, _, _, _ := execCLI(t, "--help").all()
		inCommands := false
		for _, l := range strings.Split(out, "\n") {
			inCommands = inCommands && l != "" || l == "Available Commands:"
			if inCommands && len(l) > width {
				t.Errorf("kura --help at %d columns: %d columns: %q", width, len(l), l)
			}
		}
		for _, c := range newRootCmd().Commands() {
			if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
				continue
			}
			out, _, err, code := execCLI(t, c.Name(), "--help").all()
			if code != 0 {
				t.Fatalf("%s --help: exit %d: %v", c.Name(), code, err)
			}
			inFlags := false
			for _, l := range strings.Split(out, "\n") {
				if strings.HasSuffix(l, "Flags:") {
					inFlags = true
					continue
				}
				if len(l) > width && (inFlags || c.Name() == "loadtest") {
					t.Errorf("kura %s --help at %d columns: %d columns: %q", c.Name(), width, len(l), l)
				}
			}
		}
	}
}
