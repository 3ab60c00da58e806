package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestExitCodes runs kura as a process of its own (this test binary, see
// TestMain) over many commands and mistakes: usage mistakes (a bad flag,
// a bad value, a missing or nonexistent file argument) exit 2 and print
// the error and one line of help, nothing else (no INFO log, no banner);
// runtime failures exit 1; a mistyped flag or command gets a suggestion.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "t.txt")
	os.WriteFile(text, []byte("a b c\nd e f\n"), 0o644)
	badRecords := filepath.Join(dir, "summaries.jsonl")
	os.WriteFile(badRecords, []byte("{\"summary\": 3}\n"), 0o644)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/v1"
	l.Close()
	v := filepath.Join(dir, "v.npy")
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"version", []string{"version"}, 0, ""},
		{"mistyped command", []string{"loadtset"}, 2, `did you mean "loadtest"?`},
		{"mistyped flag", []string{"loadtest", "--sclaes", "100"}, 2, "unknown flag: --sclaes; did you mean --scales?"},
		{"flag of another command", []string{"embed", "--scales", "100"}, 2, "unknown flag: --scales"},
		{"mistyped global flag", []string{"loadtest", "--verbos"}, 2, "did you mean --verbose?"},
		{"mistyped embed flag", []string{"embed", "--mokc"}, 2, "did you mean --mock?"},
		{"bad value", []string{"loadtest", "--quiet", "--scales", "abc"}, 2, `--scales: scale "abc"`},
		{"bad number", []string{"loadtest", "--repeat", "many"}, 2, `invalid argument "many" for "--repeat"`},
		{"huge price", []string{"loadtest", "--quiet", "--price-per-million", "1e308"}, 2, `"1e308" for "--price-per-million"`},
		{"missing flags", []string{"embed"}, 2, "--in and --out are required"},
		{"missing argument", []string{"validate"}, 2, "requires at least 1 arg"},
		{"missing arguments", []string{"convert"}, 2, "accepts 2 arg"},
		{"nonexistent file argument", []string{"validate", filepath.Join(dir, "nope")}, 2, "no such file"},
		{"nonexistent --in", []string{"embed", "--in", filepath.Join(dir, "nope.txt"), "--out", v, "--mock"}, 2, "no such file"},
		{"nonexistent --data", []string{"loadtest", "--quiet", "--data", filepath.Join(dir, "nope")}, 2, "no such file"},
		{"nonexistent --compare", []string{"loadtest", "--quiet", "--compare", filepath.Join(dir, "nope.json")}, 2, "no such file"},
		{"directory as argument", []string{"loadtest", dir}, 2, "use --data " + dir},
		{"bad mock-api value", []string{"mock-api", "--rpm", "-1"}, 2, "rpm must not be negative"},
		{"bad log format", []string{"version", "--log-format", "xml"}, 2, "text or json"},
		{"unwritable output", []string{"embed", "--in", text, "--out", "/proc/v.npy", "--mock"}, 2, "/proc"},
		{"invalid records", []string{"validate", badRecords}, 1, "problem found"},
		{"unreachable API", []string{"loadtest", "--quiet", "--embedder", "openai", "--base-url", closed, "--scales", "100,200", "--out", "-"}, 1, "is unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := kuraChild(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("kura %s: exit %d, want %d with %q on stderr:\n%s", strings.Join(tt.args, " "), code, tt.code, tt.want, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			switch {
			case tt.code == 2 && (len(lines) > 2 || !strings.HasPrefix(lines[0], "kura: ") || !strings.Contains(stderr, "--help")):
				t.Errorf("a usage error should print the error and one line of help, got:\n%s", stderr)
			case tt.code == 1 && len(lines) != 1:
				t.Errorf("a failure before any work should print one line, got:\n%s", stderr)
			}
			if strings.Contains(stderr, "INFO") {
				t.Errorf("INFO log before the error:\n%s", stderr)
			}
			if strings.Contains(stderr, "attempts") || strings.Contains(stderr, "scale 100") {
				t.Errorf("the unreachable API was retried or a scale ran:\n%s", stderr)
			}
		})
	}
}

// TestExitCodeInterrupted checks that a command stopped by Ctrl-C (SIGINT)
// exits 130 after writing what it has.
func TestExitCodeInterrupted(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	out := t.TempDir()
	args, _ := json.Marshal([]string{"loadtest", "--embedder", "mock", "--mock-latency", "10s", "--batch-size", "100",
		"--scales", "1000,2000", "--sample-size", "100", "--out", out})
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(args))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the first scale is under way.
	sc := bufio.NewScanner(stderr)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.Contains(sc.Text(), "[1/2]") {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	for sc.Scan() {
		seen = append(seen, sc.Text())
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d after SIGINT, want 130; stderr:\n%s", code, strings.Join(seen, "\n"))
	}
	// What Ctrl-C prints names the scale as every other line does, with
	// thousands separators, once as it happens and once at the end.
	all := strings.Join(seen, "\n")
	for _, want := range []string{"\nscale 1,000 interrupted\n", "\nkura: interrupted: scale 1,000 stopped; 0 of 2 scales completed"} {
		if !strings.Contains(all, want) {
			t.Errorf("stderr lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "1000") || strings.Contains(all, "context canceled") {
		t.Errorf("stderr has a scale without separators or the context's error:\n%s", all)
	}
}
