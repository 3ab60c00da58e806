package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/sample"
)

func TestSampleCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "corpus")
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"sample", "--conversations", "300", "--topics", "5", "--seed", "9", "--out", dir})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "wrote 300 conversations on 5 topics (seed 9)") {
		t.Errorf("output %q", out.String())
	}
	for file, want := range map[string]int{sample.ConversationsFile: 300, sample.SummariesFile: 300, sample.ClustersFile: 5} {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		lines := 0
		for sc.Scan() {
			lines++
		}
		f.Close()
		if lines != want {
			t.Errorf("%s: %d lines, want %d", file, lines, want)
		}
	}
}

func TestSampleCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"sample", "--conversations", "0", "--out", dir},
		{"sample", "--topics", "1000", "--out", dir},
		{"sample", "--topics", "0", "--out", dir},
		{"sample", "--out", ""},
		{"sample", "extra-arg"},
		{"sample", "--conversations", "many"},
	} {
		if code := run(context.Background(), args); code != 2 {
			t.Errorf("%v: exit code %d, want 2", args, code)
		}
	}
}
