package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/creack/pty"
)

var updateTerminal = flag.Bool("update-terminal", false, "rewrite the terminal golden files in testdata")

// screen is what a terminal of a given width shows after a stream of
// output: the rows written, top to bottom, scrollback included. It
// interprets what a terminal would of the stream: printable characters
// (auto-wrapping at the right margin, as xterm does, with the wrap deferred
// until the next character), \r, \n, \b, \t, and the CSI sequences a
// progress line uses (erase in line, cursor up/down/column, show/hide
// cursor). Any other escape sequence is recorded in unknown, so that a test
// sees output it cannot judge.
type screen struct {
	width    int
	rows     [][]rune
	wrapped  []bool // the row was continued onto the next by auto-wrap
	row, col int
	pending  bool // the last column was written: the next character wraps
	unknown  []string
}

func newScreen(width int) *screen {
	return &screen{width: width, rows: [][]rune{nil}, wrapped: []bool{false}}
}

func (s *screen) line() []rune {
	for len(s.rows[s.row]) < s.col {
		s.rows[s.row] = append(s.rows[s.row], ' ')
	}
	return s.rows[s.row]
}

func (s *screen) newline() {
	s.row++
	if s.row == len(s.rows) {
		s.rows = append(s.rows, nil)
		s.wrapped = append(s.wrapped, false)
	}
}

func (s *screen) put(r rune) {
	if s.pending {
		s.wrapped[s.row] = true
		s.newline()
		s.col, s.pending = 0, false
	}
	l := s.line()
	if s.col < len(l) {
		l[s.col] = r
	} else {
		l = append(l, r)
	}
	s.rows[s.row] = l
	if s.col == s.width-1 {
		s.pending = true
	} else {
		s.col++
	}
}

// write interprets b.
func (s *screen) write(b []byte) {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == '\r':
			s.col, s.pending = 0, false
		case r == '\n':
			s.newline()
			s.pending = false
		case r == '\b':
			s.col, s.pending = max(s.col-1, 0), false
		case r == '\t':
			for s.put(' '); s.col%8 != 0 && !s.pending; {
				s.put(' ')
			}
		case r == 0x1b:
			n = s.escape(b)
		case r < 0x20 || r == 0x7f:
			s.unknown = append(s.unknown, fmt.Sprintf("control %#x", r))
		default:
			s.put(r)
		}
		b = b[n:]
	}
}

// csi matches a control sequence: ESC [ parameters final byte.
var csi = regexp.MustCompile(`^\x1b\[([?0-9;]*)([@-~])`)

// escape interprets the escape sequence at the start of b and returns its
// length.
func (s *screen) escape(b []byte) int {
	m := csi.FindSubmatch(b)
	if m == nil {
		s.unknown = append(s.unknown, fmt.Sprintf("escape %q", b[:min(len(b), 8)]))
		return 1
	}
	param, final := string(m[1]), m[2][0]
	num := func(def int) int {
		if v, err := strconv.Atoi(param); err == nil {
			return v
		}
		return def
	}
	switch {
	case final == 'K': // erase in line: 0 to the end, 1 to the cursor, 2 all
		l := s.line()
		switch num(0) {
		case 0:
			s.rows[s.row] = l[:s.col]
		case 1:
			for i := 0; i <= s.col && i < len(l); i++ {
				l[i] = ' '
			}
		case 2:
			s.rows[s.row] = nil
		}
		s.pending = false
	case final == 'A':
		s.row, s.pending = max(s.row-num(1), 0), false
	case final == 'B':
		for range num(1) {
			s.newline()
		}
		s.pending = false
	case final == 'G':
		s.col, s.pending = min(max(num(1)-1, 0), s.width-1), false
	case final == 'h' || final == 'l' && strings.HasPrefix(param, "?"): // cursor shown/hidden, modes
	default:
		s.unknown = append(s.unknown, fmt.Sprintf("CSI %q", m[0]))
	}
	return len(m[0])
}

// lines returns the rows as text, trailing spaces and the empty last row
// (the cursor's after a final newline) left out.
func (s *screen) lines() []string {
	var out []string
	for _, r := range s.rows {
		out = append(out, strings.TrimRight(string(r), " "))
	}
	if n := len(out); n > 0 && out[n-1] == "" {
		out = out[:n-1]
	}
	return out
}

func TestScreen(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wrapped bool
	}{
		{"abc\r\x1b[Kxy\n", []string{"xy"}, false},
		{"progress\rshort\x1b[K\r\x1b[Kdone\n", []string{"done"}, false},
		{"0123456789\n", []string{"0123456789"}, false},
		{"01234567890\n", []string{"0123456789", "0"}, true},
		{"0123456789\rX\n", []string{"X123456789"}, false},
		{"one\r\ntwo\x1b[1A\rONE\x1b[1B\r\n", []string{"ONE", "two"}, false},
	}
	for _, tt := range tests {
		s := newScreen(10)
		s.write([]byte(tt.in))
		if got := s.lines(); !equalLines(got, tt.want) || len(s.unknown) > 0 {
			t.Errorf("%q: %q (unknown %v), want %q", tt.in, got, s.unknown, tt.want)
		}
		if w := anyTrue(s.wrapped); w != tt.wrapped {
			t.Errorf("%q: wrapped %v, want %v", tt.in, w, tt.wrapped)
		}
	}
	s := newScreen(10)
	s.write([]byte("\x1b[31mred"))
	if len(s.unknown) != 1 {
		t.Errorf("an unknown sequence not reported: %v", s.unknown)
	}
}

func equalLines(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

// runInPTY runs this test binary as kura with args under a pseudo-terminal
// of cols × rows (stdin, stdout and stderr all on it, as in a shell) and
// returns everything it wrote and its exit code.
func runInPTY(t *testing.T, dir string, cols, rows int, args ...string) ([]byte, int) {
	t.Helper()
	enc, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = dir
	env := []string{childEnv + "=" + string(enc), "TERM=xterm"}
	for _, kv := range os.Environ() {
		// The width must come from the terminal, not from the environment.
		if !strings.HasPrefix(kv, "COLUMNS=") && !strings.HasPrefix(kv, "LINES=") && !strings.HasPrefix(kv, "TERM=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer f.Close()
	var out bytes.Buffer
	_, err = io.Copy(&out, f)
	// Linux ends a pty's output with EIO once the child has gone.
	if err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatalf("reading the terminal: %v", err)
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return out.Bytes(), code
}

// Volatile parts of the terminal report: what a run measures of the
// machine and when it ran. normalise replaces them so that the golden files
// keep the layout: which lines, in which order, with which labels.
var (
	number     = regexp.MustCompile(`[0-9]+([.,][0-9]+)*`)
	spaces     = regexp.MustCompile(` {2,}`)
	pathOfRun  = regexp.MustCompile(`load_test_results_[0-9_]+`)
	summaryRow = regexp.MustCompile(`^  ([A-Z][a-z]+) +`)
)

// normalise turns the rendered screen into the golden file's lines: every
// number is N, runs of spaces one, the results' file names fixed; summary
// lines are kept to their label (their words depend on measured timings:
// a verdict, the slowest stage), leaving out the lines that come and go
// with the timings (CPU, notes); the table's rows and the columns left out
// (which fit depends on the numbers' widths) are kept to their kind; of the
// rest, indented lines (continuations, the details' figures, verdicts and
// fitted models) are left out.
func normalise(lines []string) []string {
	var out []string
	inSummary, inTable := false, false
	for _, l := range lines {
		switch {
		case l == "Summary":
			inSummary = true
		case inSummary && l == "":
			inSummary = false
		case inSummary:
			if m := summaryRow.FindStringSubmatch(l); m != nil && m[1] != "CPU" && m[1] != "Note" {
				out = append(out, "  "+m[1]+" ...")
			}
			continue
		case strings.HasPrefix(l, "Scale "):
			inTable = true
			out = append(out, "<table header>")
			continue
		case inTable && strings.HasPrefix(l, "Peak:"):
			inTable = false
		case inTable:
			out = append(out, "<table row>")
			continue
		case strings.HasPrefix(l, "Not shown (--wide):"):
			out = append(out, "Not shown (--wide): ...")
			continue
		case strings.HasPrefix(l, " "):
			continue
		}
		l = pathOfRun.ReplaceAllString(l, "load_test_results_T")
		l = number.ReplaceAllString(l, "N")
		l = spaces.ReplaceAllString(l, " ")
		out = append(out, l)
	}
	return out
}

// checkGolden compares lines with testdata/name, or rewrites it with
// -update-terminal.
func checkGolden(t *testing.T, name string, lines []string) {
	t.Helper()
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", name)
	if *updateTerminal {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-terminal to create it)", err)
	}
	if got != string(want) {
		t.Errorf("the terminal differs from %s (-update-terminal to accept an intended change):\n%s", path, got)
	}
}

// kura loadtest in an 80 × 40 terminal, as a person runs it: its worker
// processes, its progress line redrawn in place, the report. Rendered as
// the terminal shows it, no line is wider than 80 columns (nothing
// wraps), no progress line is left behind, the whole run fits one screen
// (40 lines) without --details and the summary comes before the table;
// the layout matches a golden file, with what was measured normalised.
func TestLoadtestTerminal80(t *testing.T) {
	if testing.Short() {
		t.Skip("runs kura loadtest in a pseudo-terminal")
	}
	const cols, rows = 80, 40
	// Five scales, as many as the default run, but small: the report has
	// the default's lines.
	base := []string{"loadtest", "--embedder", "hash", "--scales", "100,150,200,300,400"}
	tests := []struct {
		name     string
		args     []string
		maxLines int
	}{
		{"loadtest80.golden", nil, rows},
		{"loadtest80_details.golden", []string{"--details", "--out", "-"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, code := runInPTY(t, t.TempDir(), cols, rows, append(base, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, raw)
			}
			if !bytes.Contains(raw, []byte("\r[1/5] ")) {
				t.Errorf("no progress line drawn in place (\\r[1/5] ...) on the terminal")
			}
			s := newScreen(cols)
			s.write(raw)
			lines := s.lines()
			if len(s.unknown) > 0 {
				t.Errorf("output a terminal would not show as text: %v", s.unknown)
			}
			for i, l := range lines {
				if s.wrapped[i] {
					t.Errorf("line %d is wider than %d columns and wrapped: %q", i+1, cols, l)
				}
				if strings.Contains(l, "ETA") || strings.HasPrefix(l, "[") {
					t.Errorf("line %d: a progress line left on the screen: %q", i+1, l)
				}
			}
			if tt.maxLines > 0 && len(lines) > tt.maxLines {
				t.Errorf("%d lines, more than one %d-line screen:\n%s", len(lines), tt.maxLines, strings.Join(lines, "\n"))
			}
			summary, table := -1, -1
			for i, l := range lines {
				if l == "Summary" && summary < 0 {
					summary = i
				}
				if strings.HasPrefix(l, "Scale ") && table < 0 {
					table = i
				}
			}
			if summary < 0 || table < summary {
				t.Errorf("the summary (line %d) does not come before the table (line %d)", summary+1, table+1)
			}
			t.Logf("%d lines at %d columns", len(lines), cols)
			checkGolden(t, tt.name, normalise(lines))
		})
	}
}

// progressScale is the elapsed time of the scale that a progress line
// prints ("... | stage 4.98s, scale 5.01s"), scaleDone the line kura
// prints when a scale ends ("scale 20: 10.3s (embed ..."), and embedCount
// the texts embedded of a 20-conversation scale ("embed 5/20 25% ...").
var (
	progressScale = regexp.MustCompile(`scale ([0-9.]+)s$`)
	scaleDone     = regexp.MustCompile(`^scale [0-9,]+: ([0-9.]+)s[ ,]`)
	embedCount    = regexp.MustCompile(` embed ([0-9]+)/20 `)
)

// Piped (CI logs), kura loadtest prints whole progress lines while a scale
// runs: one when it starts and more from the clock (every 5 s; the cadence
// itself is internal/progress's TestDisplayPlainTicks). The scale is made
// slow by the mock embedder's latency (four requests of 2.5 s, one at a
// time), so the clock must print at least once during it. The test checks
// what the lines say and their order, never how far apart in time they
// come: the scale's clock they print only grows, the embed count only
// grows and stays within the scale, and the line ending the scale comes
// last (its time is the scale process's own, which starts after the
// progress clock, so it is not compared with theirs).
func TestLoadtestProgressPiped(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10 s load test")
	}
	args := []string{"loadtest", "--mock", "--mock-latency", "2.5s", "--batch-size", "5", "--concurrency", "1",
		"--scales", "20", "--out", "-", "--format", "json"}
	enc, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), childEnv+"="+string(enc))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v:\n%s", err, stderr.String())
	}
	var at []float64
	var stages []string
	end, lastCount := -1.0, -1
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "\r") || strings.Contains(l, "\x1b") {
			t.Errorf("terminal control in piped output: %q", l)
		}
		if m := scaleDone.FindStringSubmatch(l); m != nil {
			end, _ = strconv.ParseFloat(m[1], 64)
			continue
		}
		m := progressScale.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if end >= 0 {
			t.Errorf("progress line after the scale ended: %q", l)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		at = append(at, v)
		if !strings.HasPrefix(l, "[1/1] 20 ") {
			t.Errorf("progress line %q does not start with the scale [1/1] 20", l)
			continue
		}
		stages = append(stages, strings.Fields(l)[2])
		if c := embedCount.FindStringSubmatch(l); c != nil {
			n, _ := strconv.Atoi(c[1])
			if n < lastCount || n > 20 {
				t.Errorf("embed count %d after %d (of 20): %q", n, lastCount, l)
			}
			lastCount = n
		}
	}
	if len(at) < 2 || end < 0 {
		t.Fatalf("progress lines at %v s, scale done at %v s: want the start line, one from the clock and the end; stderr:\n%s", at, end, stderr.String())
	}
	if end < 10 {
		t.Fatalf("the scale took %.1f s: under the 10 s of mock latency (mock latency not applied?)", end)
	}
	if stages[0] != "start" || at[0] != 0 {
		t.Errorf("first progress line is stage %q at %.2f s, want the start at 0", stages[0], at[0])
	}
	for i, v := range at[1:] {
		if v < at[i] {
			t.Errorf("the scale's clock goes back from %.2f s to %.2f s; stderr:\n%s", at[i], v, stderr.String())
		}
	}
	t.Logf("progress lines at %v s in stages %v; scale done at %.1f s", at, stages, end)
}
