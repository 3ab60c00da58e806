package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestServeUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--dir is required"},
		{[]string{"serve", "--dir", filepath.Join(dir, "missing")}, "not a directory"},
		{[]string{"serve", "--dir", writeCLIFile(t, dir, "f.jsonl", "")}, "not a directory"},
		{[]string{"serve", "--dir", dir, "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		_, errText, code := execCLI(t, tt.args...).text()
		if code != 2 || !strings.Contains(errText, tt.want) {
			t.Errorf("%v: exit %d (%s), want 2 (%s)", tt.args, code, errText, tt.want)
		}
	}
}
