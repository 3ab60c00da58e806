package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	in1 := filepath.Join("..", "..", "report", "testdata", "run_100-500.json")
	in2 := filepath.Join("..", "..", "report", "testdata", "run_100-10000.json")
	out := filepath.Join(dir, "r.html")
	t.Setenv("COLUMNS", "80")
	_, stderr, err, code := execCLI(t, "report", in1, in2, "-o", out).all()
	if code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	// What it wrote, in binary units, within the width.
	if said := strings.Join(strings.Fields(stderr), " "); !strings.HasPrefix(said, "wrote "+out+" (") || !strings.Contains(said, " KiB; 2 runs: "+in1+", "+in2+")") {
		t.Errorf("stderr %q", stderr)
	}
	for _, l := range strings.Split(stderr, "\n") {
		if len(l) > 80 {
			t.Errorf("%d columns: %q", len(l), l)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "<!DOCTYPE html>") || !strings.Contains(string(b), "run_100-10000.json") {
		t.Errorf("output is not the report of both files")
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no -o", []string{"report", in1}, 2, "-o FILE.html is required"},
		{"no input", []string{"report", "-o", out}, 2, "requires at least 1 arg"},
		{"missing input", []string{"report", filepath.Join(dir, "nope.json"), "-o", out}, 2, "nope.json"},
		{"not results", []string{"report", writeCLIFile(t, dir, "x.json", `{"a":`), "-o", out}, 1, "x.json: not a load test results file"},
		{"overwrite input", []string{"report", in1, "-o", in1}, 2, "refusing to overwrite the input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errText, code := execCLI(t, tt.args...).text()
			if code != tt.code || !strings.Contains(errText, tt.want) {
				t.Errorf("exit %d (%s), want %d (%s)", code, errText, tt.code, tt.want)
			}
		})
	}
}

func TestLoadtestReportFlag(t *testing.T) {
	dir := t.TempDir()
	html := filepath.Join(dir, "run.html")
	common := []string{"loadtest", "--in-process", "--quiet", "--embedder", "hash", "--dims", "64",
		"--sample-size", "40", "--sample-topics", "2", "--clusterer", "kmeans", "--k", "2", "--out", dir, "--scales", "20,40"}
	out, _, err, code := execCLI(t, append(common, "--report", html)...).all()
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	if !strings.Contains(out, "Report:  "+html) {
		t.Errorf("output does not name the report:\n%s", out)
	}
	jsons, _ := filepath.Glob(filepath.Join(dir, "load_test_results_*.json"))
	b, err := os.ReadFile(html)
	if err != nil || len(jsons) != 1 {
		t.Fatalf("report %v, results %v", err, jsons)
	}
	if !strings.Contains(string(b), filepath.Base(jsons[0])) {
		t.Errorf("report does not name its results file %s", filepath.Base(jsons[0]))
	}

	// With --compare both runs are in the report (the gate's verdict on
	// two millisecond-scale runs is noise, so the exit code is not checked).
	html2 := filepath.Join(dir, "compare.html")
	execCLI(t, append(common, "--compare", jsons[0], "--report", html2)...)
	b, err = os.ReadFile(html2)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"file":"load_test_results_`); n != 2 {
		t.Errorf("compare report holds %d runs, want 2", n)
	}

	_, errText, code := execCLI(t, append(common, "--compare", jsons[0], "--report", jsons[0])...).text()
	if code != 2 || !strings.Contains(errText, "refusing to overwrite the input") {
		t.Errorf("--report over the --compare file: exit %d (%s), want 2", code, errText)
	}
}
