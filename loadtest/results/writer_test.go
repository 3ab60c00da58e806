package results

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/loadtest/measure/measuretest"
	"github.com/kura-go/kura/loadtest/scaledata"
)

// Runs started in the same second and sharing a directory each get their
// own files (issue 13: two load tests sharing --out could write the same
// name, 1 trial in 12, and lose a run): the names are claimed with O_EXCL,
// so no check-then-write race is left.
func TestWriterConcurrentRunsNeverShareAFile(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)
	const runs = 16
	paths := make([]string, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &Writer{Dir: dir}
			r := &loadtest.Results{SchemaVersion: loadtest.SchemaVersion, StartedAt: start, Baseline: loadtestInfo(i)}
			// Each run writes several times, as after each scale.
			for k := range 3 {
				r.Scales = append(r.Scales, measuretest.Scale(100*(k+1), 1, 30<<20, 10<<20, 0.001))
				if err := w.Write(r); err != nil {
					t.Error(err)
					return
				}
			}
			paths[i] = w.JSONPath()
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, p := range paths {
		if seen[p] {
			t.Fatalf("two runs wrote %s", p)
		}
		seen[p] = true
		res, err := loadtest.LoadResults(p)
		if err != nil {
			t.Fatal(err)
		}
		if res.Baseline.Source != loadtestInfo(i).Source || len(res.Scales) != 3 {
			t.Errorf("%s holds run %q with %d scales, want run %d's 3", p, res.Baseline.Source, len(res.Scales), i)
		}
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 2*runs {
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		sort.Strings(names)
		t.Errorf("%d files, want %d: %v", len(files), 2*runs, names)
	}
}

func loadtestInfo(i int) scaledata.Info { return scaledata.Info{Source: fmt.Sprintf("run-%d", i)} }

// A failed write leaves no temporary file and, on the first write, no
// empty claimed file either; a later write keeps the earlier version.
func TestWriterFailedWriteLeavesNoDebris(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	w := &Writer{Dir: dir}
	r := &loadtest.Results{SchemaVersion: loadtest.SchemaVersion, StartedAt: time.Now(),
		Scales: []measure.Scale{measuretest.Scale(100, 1, 30<<20, 10<<20, 0.001)}, Incomplete: true}
	if err := w.Write(r); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	r.Scales = append(r.Scales, measuretest.Scale(200, 2, 40<<20, 10<<20, 0.001))
	r.Incomplete = false
	if err := w.Write(r); err == nil {
		t.Fatal("write into a read-only directory succeeded")
	}
	os.Chmod(dir, 0o755)
	names := dirNames(t, dir)
	if len(names) != 2 || !strings.HasSuffix(names[0], ".csv") || !strings.HasSuffix(names[1], ".json") {
		t.Fatalf("files after a failed rewrite: %v (want the JSON and CSV, no .tmp)", names)
	}
	old, err := loadtest.LoadResults(w.JSONPath())
	if err != nil || len(old.Scales) != 1 || !old.Incomplete {
		t.Fatalf("the earlier version was not kept: %v %+v", err, old)
	}

	// A first write that fails removes its claimed (empty) files.
	dir2 := t.TempDir()
	w2 := &Writer{Dir: dir2}
	if err := os.Chmod(dir2, 0o500); err != nil {
		t.Fatal(err)
	}
	err = w2.Write(r)
	os.Chmod(dir2, 0o755)
	if err == nil {
		t.Fatal("first write into a read-only directory succeeded")
	}
	if names := dirNames(t, dir2); len(names) != 0 {
		t.Errorf("debris after a failed first write: %v", names)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	sort.Strings(names)
	return names
}

// The temporary file of a run killed while it replaced its results (a
// SIGKILL between writing and renaming) is removed by the next run's
// first write; the killed run's results are kept.
func TestWriterRemovesKilledRunsTemporary(t *testing.T) {
	dir := t.TempDir()
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	killed := "load_test_results_20261205_200000.json"
	stale := "." + killed + ".pid" + strconv.Itoa(dead.Process.Pid) + "-42.tmp"
	for _, n := range []string{killed, stale} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w := &Writer{Dir: dir}
	r := &loadtest.Results{SchemaVersion: loadtest.SchemaVersion, StartedAt: time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC),
		Scales: []measure.Scale{measuretest.Scale(100, 1, 30<<20, 10<<20, 0.001)}}
	if err := w.Write(r); err != nil {
		t.Fatal(err)
	}
	want := []string{killed, "load_test_results_20261205_210000.csv", "load_test_results_20261205_210000.json"}
	if got := dirNames(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files: %v, want %v", got, want)
	}
}
