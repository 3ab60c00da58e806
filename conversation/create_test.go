package conversation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCreateOutputErrors checks that an output that cannot be created is
// reported under its own name, not the name of the temporary file written
// beside it, and that nothing is left behind.
func TestCreateOutputErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing", "summaries.parquet"), "summaries.parquet: directory " + filepath.Join(dir, "missing") + " does not exist"},
		{filepath.Join(file, "summaries.jsonl"), "summaries.jsonl: " + file + " is not a directory"},
		{dir, "is a directory"},
	} {
		_, err := Create[ConversationSummary](tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("Create(%s) = %v, want an error containing %q and no temporary name", tt.path, err, tt.want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries left in %s, want 1", len(ents), dir)
	}
}
