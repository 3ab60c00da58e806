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
	_, errText, code := execCLI(t, "report", in1, in2, "-o", out).text()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
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
		{"missing input", []string{"report", filepath.Join(dir, "nope.json"), "-o", out}, 1, "nope.json"},
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
