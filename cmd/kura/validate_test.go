package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/shared"
)

func TestValidateMTBench(t *testing.T) {
	dir := shared.Path(t, "data/kura-mtbench")
	out, errText, code := execCLI(t, "validate", dir).text()
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errText, out)
	}
	want := "total: 1000 conversations, 1000 summaries, 13 clusters, 19 meta clusters, 19 projected clusters; no problems\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("output:\n%s\nwant it to end with\n%s", out, want)
	}
}

const (
	cliGoodSummary = `{"summary":"s","request":null,"topic":null,"languages":["english"],"task":null,"concerning_score":1,"user_frustration":2,"assistant_errors":[],"chat_id":"c1","metadata":{},"embedding":null}`
	cliGoodCluster = `{"id":"x","name":"n","description":"d","slug":"s","chat_ids":["c1"],"parent_id":null,"count":1}`
)

func writeCLIFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateProblems(t *testing.T) {
	dir := t.TempDir()
	bad := strings.Replace(cliGoodSummary, `"chat_id":"c1"`, `"chat_id":3`, 1)
	summaries := writeCLIFile(t, dir, "summaries.jsonl", cliGoodSummary+"\n"+bad+"\n"+cliGoodSummary+"\n")
	clusters := writeCLIFile(t, dir, "clusters.jsonl", cliGoodCluster+"\n")
	empty := writeCLIFile(t, dir, "export.jsonl", "")

	out, errText, code := execCLI(t, "validate", dir).text()
	if code != 1 || errText != "1 problem(s) found" {
		t.Errorf("exit %d (%s), want 1 (1 problem(s) found)", code, errText)
	}
	for _, want := range []string{
		summaries + ": 2 summaries, 1 problem(s)\n",
		clusters + ": 1 clusters\n",
		"problems (1):\n  " + summaries + ":2: field chat_id: expected string, got number 3\n",
		"total: 2 summaries, 1 clusters; 1 problem(s)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output:\n%s\nwant it to contain\n%s", out, want)
		}
	}

	// --skip-invalid: the bad record is skipped, not a problem.
	out, errText, code = execCLI(t, "validate", "--skip-invalid", summaries).text()
	if code != 0 {
		t.Errorf("--skip-invalid: exit %d (%s)\n%s", code, errText, out)
	}
	for _, want := range []string{
		summaries + ": 2 summaries, 1 invalid skipped\n",
		"skipped invalid records (1):\n  " + summaries + ":2: field chat_id: expected string, got number 3\n",
		"total: 2 summaries; 1 invalid record(s) skipped; no problems\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--skip-invalid output:\n%s\nwant it to contain\n%s", out, want)
		}
	}

	// An empty file is reported, and is not a problem.
	out, errText, code = execCLI(t, "validate", "--type", "conversations", empty).text()
	if code != 0 || !strings.Contains(out, empty+": 0 conversations\n") || !strings.Contains(out, empty+": no records: the file is empty") {
		t.Errorf("empty file: exit %d (%s)\n%s", code, errText, out)
	}
}

func TestValidateUsageErrors(t *testing.T) {
	dir := t.TempDir()
	odd := writeCLIFile(t, dir, "export.jsonl", cliGoodSummary+"\n")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"validate"}, 2, "requires at least 1 arg"},
		{[]string{"validate", odd}, 2, "cannot tell the record type of " + odd},
		{[]string{"validate", "--type", "bogus", odd}, 2, `--type: unknown record type "bogus"`},
		{[]string{"validate", "--type", "summaries", dir}, 2, "--type applies to files"},
		{[]string{"validate", filepath.Join(dir, "missing.jsonl")}, 1, "no such file"},
		{[]string{"validate", t.TempDir()}, 1, "is not a Kura checkpoint directory"},
	}
	for _, tc := range tests {
		_, errText, code := execCLI(t, tc.args...).text()
		if code != tc.code || !strings.Contains(errText, tc.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, errText, tc.code, tc.want)
		}
	}
	if out, errText, code := execCLI(t, "validate", "--type", "summaries", odd).text(); code != 0 || !strings.Contains(out, "1 summaries") {
		t.Errorf("--type summaries: exit %d %s\n%s", code, errText, out)
	}
}

func TestValidateConsistencyWarnings(t *testing.T) {
	dir := t.TempDir()
	writeCLIFile(t, dir, "summaries.jsonl", cliGoodSummary+"\n")
	clusters := writeCLIFile(t, dir, "clusters.jsonl", strings.Replace(cliGoodCluster, `["c1"]`, `["c1","ghost"]`, 1)+"\n")
	out, errText, code := execCLI(t, "validate", dir).text()
	want := "consistency warnings (between the files of a checkpoint) (1):\n  " + clusters +
		`: 1 chat ids listed by clusters but not in ` + filepath.Join(dir, "summaries.jsonl") + ` (e.g. "ghost")` + "\n"
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d %s\n%s\nwant it to contain\n%s", code, errText, out, want)
	}
}
