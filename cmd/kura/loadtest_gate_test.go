package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// kuraChild runs the kura CLI as a process of its own (this test binary,
// see TestMain), so that a load test's scales run in worker processes as
// they do for a user, and returns its stdout, stderr and exit code.
func kuraChild(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	enc, _ := json.Marshal(args)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(enc))
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("kura %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// newestResults returns the results JSON a load test wrote to dir.
func newestResults(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "load_test_results_*.json"))
	if len(m) != 1 {
		t.Fatalf("results in %s: %v", dir, m)
	}
	return m[0]
}

// TestLoadtestCompareIdenticalReruns runs the same small load test 11
// times back to back, each run gated against the one before: the 10
// comparisons of identical runs must all pass (issue 13: an identical
// rerun at --repeat 1 once failed the gate with "45% slower"). The scales
// take tens of milliseconds, where the noise is largest.
func TestLoadtestCompareIdenticalReruns(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("11 load tests in processes of their own: not with -short or -race")
	}
	args := []string{"loadtest", "--quiet", "--embedder", "hash", "--scales", "100,200", "--sample-size", "200"}
	dir := t.TempDir()
	prev := ""
	failed := 0
	for i := range 11 {
		out := filepath.Join(dir, "run"+string(rune('a'+i)))
		a := append(append([]string(nil), args...), "--out", out)
		if prev != "" {
			a = append(a, "--compare", prev)
		}
		stdout, stderr, code := kuraChild(t, a...)
		if code != 0 {
			failed++
			t.Errorf("run %d (identical to run %d): exit %d\n%s\n%s", i+1, i, code, stderr, stdout[max(strings.Index(stdout, "Comparison"), 0):])
		}
		if prev != "" && !strings.Contains(stdout, "Comparison with") {
			t.Errorf("run %d printed no comparison:\n%s", i+1, stdout)
		}
		prev = newestResults(t, out)
	}
	t.Logf("%d of 10 identical back-to-back comparisons passed the gate", 10-failed)
}

// TestLoadtestCompareCatchesSlowdown checks that the noise-aware gate still
// fails a real slowdown: the embedding API (the mock) answering in 100 ms
// instead of 50 ms makes the scale about twice as slow.
func TestLoadtestCompareCatchesSlowdown(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("load tests in processes of their own: not with -short or -race")
	}
	dir := t.TempDir()
	args := func(latency, out string) []string {
		return []string{"loadtest", "--quiet", "--embedder", "mock", "--mock-latency", latency, "--batch-size", "10", "--concurrency", "1",
			"--scales", "200", "--sample-size", "200", "--out", filepath.Join(dir, out)}
	}
	if _, stderr, code := kuraChild(t, args("50ms", "old")...); code != 0 {
		t.Fatalf("baseline run: exit %d\n%s", code, stderr)
	}
	old := newestResults(t, filepath.Join(dir, "old"))
	stdout, stderr, code := kuraChild(t, append(args("100ms", "new"), "--compare", old)...)
	if code != 1 || !strings.Contains(stderr, "regression gate") || !strings.Contains(stderr, "time at scale 200 worse") || !strings.Contains(stdout, "REGRESSION") {
		t.Errorf("twice the API latency: exit %d, want 1 and a time regression\n%s\n%s", code, stderr, stdout)
	}
	// The same latency again passes.
	if stdout, stderr, code := kuraChild(t, append(args("50ms", "same"), "--compare", old)...); code != 0 {
		t.Errorf("the same latency: exit %d\n%s\n%s", code, stderr, stdout)
	}
}
