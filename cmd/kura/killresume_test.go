package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/vecfile"
)

// The kill-and-resume harness (issue 13): kura loadtest (worker processes,
// the hash embedder, three small scales) and kura embed (the mock embedder
// with latency) are killed with SIGKILL at random points, N times each.
// After each kill: no process of the binary is left (the worker dies with
// its parent), nothing is left on disk but what the next run removes (the
// scale directory and temporary files named for the killed process), the
// load test's completed scales are in its results file, and a rerun
// finishes with exit 0, complete results and no debris.
//
// KURA_KILL_RUNS sets N (default 8 each), KURA_KILL_SEED replays the kill
// points of a logged seed (default: from the clock); scripts/kill-resume
// runs it longer. Kill points are times since the start drawn uniformly over
// an uninterrupted reference run's length (timing, not asserted).
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kura and runs it about 40 times (-short)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("finds leftover processes in /proc (Linux)")
	}
	runs := 8
	if v := os.Getenv("KURA_KILL_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("KURA_KILL_RUNS=%q: want a positive number", v)
		}
		runs = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("KURA_KILL_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("KURA_KILL_SEED=%q: %v", v, err)
		}
		seed = s
	}
	t.Logf("kill points from seed %d (KURA_KILL_SEED=%d replays them), %d kills per command", seed, seed, runs)
	bin := buildKura(t)
	rng := rand.New(rand.NewPCG(seed, 13))
	t.Run("loadtest", func(t *testing.T) { killLoadtest(t, bin, runs, rng) })
	t.Run("embed", func(t *testing.T) { killEmbed(t, bin, runs, rng) })
}

// buildKura builds this command into a temporary directory.
func buildKura(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "kura")
	cmd := exec.Command(gobin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// sandbox is one command's world: its temporary directory, output
// directory and environment (no API keys, no user cache).
type sandbox struct {
	bin, tmp, out string
	env           []string
}

func newSandbox(t *testing.T, bin string) *sandbox {
	root := t.TempDir()
	s := &sandbox{bin: bin, tmp: filepath.Join(root, "tmp"), out: filepath.Join(root, "out")}
	for _, d := range []string{s.tmp, s.out, filepath.Join(root, "home")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(root, "home"), "TMPDIR=" + s.tmp}
	return s
}

// run runs the binary to the end.
func (s *sandbox) run(t *testing.T, args ...string) (stderr string, took time.Duration) {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env, cmd.Dir = s.env, s.out
	var eb bytes.Buffer
	cmd.Stderr = &eb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, eb.String())
	}
	return eb.String(), time.Since(start)
}

// kill starts the binary and sends it SIGKILL after d; it returns the
// process ID, its stderr and whether it had already ended by itself.
func (s *sandbox) kill(t *testing.T, d time.Duration, args ...string) (pid int, stderr string, finished bool) {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env, cmd.Dir = s.env, s.out
	var eb bytes.Buffer
	cmd.Stderr = &eb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%v ended before the kill: %v\n%s", args, err, eb.String())
		}
		return cmd.Process.Pid, eb.String(), true
	case <-time.After(d):
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	return cmd.Process.Pid, eb.String(), false
}

// noProcessLeft fails if a process of the binary still runs 10 s after the
// kill (the worker gets its parent-death signal at once; the bound is for a
// hung test only), and kills what it finds.
func noProcessLeft(t *testing.T, bin string) {
	t.Helper()
	var left []int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left = processesOf(bin)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, pid := range left {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(left) > 0 {
		t.Errorf("processes of %s still running after the kill: %v", bin, left)
	}
}

// processesOf lists the running processes whose executable is bin
// (zombies have none and are not listed).
func processesOf(bin string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

// entries lists a directory's names, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range des {
		names = append(names, d.Name())
	}
	sort.Strings(names)
	return names
}

var (
	resultsName = regexp.MustCompile(`^load_test_results_\d{8}_\d{6}(_\d+)?\.(json|csv)$`)
	scaleLine   = regexp.MustCompile(`(?m)^scale ([0-9,]+): `)
)

// killLoadtest kills kura loadtest runs and checks each aftermath and rerun.
func killLoadtest(t *testing.T, bin string, runs int, rng *rand.Rand) {
	scales := []int{100, 200, 400}
	args := []string{"loadtest", "--embedder", "hash", "--scales", "100,200,400", "--out", ".", "--format", "json"}
	s := newSandbox(t, bin)
	_, ref := s.run(t, args...)
	t.Logf("reference run: %v", ref.Round(time.Millisecond))
	checkClean(t, s, nil)
	seen := map[string]bool{}
	for _, n := range entries(t, s.out) {
		seen[n] = true
	}
	var table []string
	for i := range runs {
		d := time.Duration(rng.Float64() * float64(ref))
		pid, stderr, finished := s.kill(t, d, args...)
		noProcessLeft(t, bin)
		// What the killed run left: its scale directory and temporary
		// files (named for it, removed by the next run), its results.
		var debris []string
		for _, n := range entries(t, s.tmp) {
			if !strings.HasPrefix(n, fmt.Sprintf("kura-loadtest-pid%d-", pid)) {
				t.Errorf("kill %d: %s in the temporary directory is not the killed run's", i, n)
			}
			debris = append(debris, "tmp/"+n)
		}
		var resultsFile string
		for _, n := range entries(t, s.out) {
			switch {
			case seen[n]:
			case resultsName.MatchString(n):
				if strings.HasSuffix(n, ".json") {
					resultsFile = n
				}
				seen[n] = true
			case strings.Contains(n, fmt.Sprintf(".pid%d-", pid)) && strings.HasSuffix(n, ".tmp"):
				debris = append(debris, n)
			default:
				t.Errorf("kill %d: %s left in --out", i, n)
			}
		}
		printed := len(scaleLine.FindAllString(stderr, -1))
		saved := -1 // no results file
		if resultsFile != "" {
			res, err := loadtest.LoadResults(filepath.Join(s.out, resultsFile))
			if err != nil {
				t.Errorf("kill %d: the killed run's %s: %v", i, resultsFile, err)
			} else {
				saved = len(res.Scales)
				for k, sc := range res.Scales {
					if sc.Scale != scales[k] || sc.Conversations != scales[k] {
						t.Errorf("kill %d: %s: scale %d is %d (%d conversations), want %d", i, resultsFile, k, sc.Scale, sc.Conversations, scales[k])
					}
				}
				// Only the final write, after every scale, drops the mark.
				if res.Incomplete != (saved < len(scales)) {
					t.Errorf("kill %d: %s: incomplete=%v with %d of %d scales", i, resultsFile, res.Incomplete, saved, len(scales))
				}
			}
		}
		// Completed scales are on disk: each scale line is printed just
		// before its results are written (a kill between the two loses
		// that one), and before the first completed scale no file exists.
		if saved < 0 && printed > 1 || saved >= 0 && saved != printed && saved != printed-1 {
			t.Errorf("kill %d: %d scales completed, %d in the results file", i, printed, max(saved, 0))
		}
		if finished && (saved != len(scales) || len(debris) > 0) {
			t.Errorf("kill %d: the run finished before the kill, yet %d scales saved and debris %v", i, saved, debris)
		}
		// The rerun removes the killed run's leftovers and finishes.
		s.run(t, args...)
		rerun := checkClean(t, s, seen)
		if len(rerun) != 1 {
			t.Errorf("kill %d: rerun wrote %v, want one results file", i, rerun)
		}
		for _, n := range rerun {
			res, err := loadtest.LoadResults(filepath.Join(s.out, n))
			if err != nil || res.Incomplete || len(res.Scales) != len(scales) {
				t.Errorf("kill %d: rerun's %s: %v (incomplete=%v, scales %v)", i, n, err, res != nil && res.Incomplete, scaleCount(res))
			}
		}
		state := fmt.Sprintf("%d of %d scales done", printed, len(scales))
		if finished {
			state = "finished"
		}
		table = append(table, fmt.Sprintf("%6.0f%%  %-22s  %-28s  %s", 100*float64(d)/float64(ref), state,
			savedText(saved, len(scales)), strings.Join(append(debris, "-")[:max(len(debris), 1)], " ")))
	}
	t.Logf("kill at (%% of a run), state, results on disk, left for the rerun to remove:\n%s", strings.Join(table, "\n"))
}

func scaleCount(r *loadtest.Results) []int {
	if r == nil {
		return nil
	}
	out := make([]int, len(r.Scales))
	for i, s := range r.Scales {
		out[i] = s.Scale
	}
	return out
}

func savedText(saved, of int) string {
	if saved < 0 {
		return "no results file"
	}
	return fmt.Sprintf("%d of %d scales saved", saved, of)
}

// checkClean fails on anything in the sandbox but results files: no
// temporary directory or file, no .tmp. It returns the JSON results files
// not in seen (and adds every name to seen).
func checkClean(t *testing.T, s *sandbox, seen map[string]bool) []string {
	t.Helper()
	if left := entries(t, s.tmp); len(left) > 0 {
		t.Errorf("left in the temporary directory after a complete run: %v", left)
	}
	var fresh []string
	for _, n := range entries(t, s.out) {
		if !resultsName.MatchString(n) {
			t.Errorf("left in --out after a complete run: %s", n)
			continue
		}
		if seen != nil && !seen[n] {
			if strings.HasSuffix(n, ".json") {
				fresh = append(fresh, n)
			}
			seen[n] = true
		}
	}
	return fresh
}

// killEmbed kills kura embed runs and checks each aftermath and rerun.
func killEmbed(t *testing.T, bin string, runs int, rng *rand.Rand) {
	s := newSandbox(t, bin)
	const texts = 3000
	var in strings.Builder
	for i := range texts {
		fmt.Fprintf(&in, "text %d about topic %d, asked in words of its own\n", i, i%17)
	}
	if err := os.WriteFile(filepath.Join(s.out, "in.txt"), []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"embed", "--in", "in.txt", "--out", "v.npy", "--mock", "--dims", "64", "--mock-latency", "10ms",
		"--batch-size", "20", "--concurrency", "2", "--chunk", "200", "--stats-json", "stats.json"}
	_, ref := s.run(t, args...)
	t.Logf("reference run: %v", ref.Round(time.Millisecond))
	want, err := os.ReadFile(filepath.Join(s.out, "v.npy"))
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for i := range runs {
		for _, f := range []string{"v.npy", "stats.json"} {
			os.Remove(filepath.Join(s.out, f))
		}
		d := time.Duration(rng.Float64() * float64(ref))
		pid, _, finished := s.kill(t, d, args...)
		noProcessLeft(t, bin)
		var debris []string
		for _, n := range entries(t, s.out) {
			switch {
			case n == "in.txt":
			case n == "v.npy" || n == "stats.json":
				// Only complete files appear under the final names.
				if n == "v.npy" {
					checkVectors(t, filepath.Join(s.out, n), want)
				}
				debris = append(debris, n+" (complete)")
			case n == fmt.Sprintf(".v.partial-%d.npy", pid) ||
				strings.HasPrefix(n, fmt.Sprintf(".stats.json.pid%d-", pid)) && strings.HasSuffix(n, ".tmp"):
				debris = append(debris, n)
			default:
				t.Errorf("kill %d: %s left beside the output", i, n)
			}
		}
		if left := entries(t, s.tmp); len(left) > 0 {
			t.Errorf("kill %d: left in the temporary directory: %v", i, left)
		}
		s.run(t, args...)
		checkVectors(t, filepath.Join(s.out, "v.npy"), want)
		if got := entries(t, s.out); strings.Join(got, " ") != "in.txt stats.json v.npy" {
			t.Errorf("kill %d: after the rerun: %v, want in.txt stats.json v.npy", i, got)
		}
		state := "embedding"
		if finished {
			state = "finished"
		}
		table = append(table, fmt.Sprintf("%6.0f%%  %-10s  %s", 100*float64(d)/float64(ref), state, strings.Join(append(debris, "-")[:max(len(debris), 1)], " ")))
	}
	t.Logf("kill at (%% of a run), state, left (the rerun removes the hidden ones):\n%s", strings.Join(table, "\n"))
}

// checkVectors fails unless path holds exactly the reference vectors.
func checkVectors(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return
	}
	if !bytes.Equal(got, want) {
		_, rows, cols, err := vecfile.Read(path, 0)
		t.Errorf("%s differs from the reference run's vectors (%d bytes vs %d; %d×%d, %v)", path, len(got), len(want), rows, cols, err)
	}
}
