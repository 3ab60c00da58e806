package main

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/shared"
	"github.com/kura-go/kura/mockapi"
	"github.com/kura-go/kura/pipeline"
)

// kura run on Kura's MT-Bench checkpoint, offline; kura validate accepts
// what it wrote and kura tree shows it.
func TestRunMTBenchOffline(t *testing.T) {
	data := shared.Path(t, "data/kura-mtbench")
	out := filepath.Join(t.TempDir(), "run")
	stdout, errText, code := execCLI(t, "run", "--data", data, "--out", out, "--stats-json", filepath.Join(out, "stats.json")).text()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	for _, s := range []string{"summarise", "embed", "cluster", "name", "hierarchy", "map", "total"} {
		if !strings.Contains(stdout, "\n"+s+" ") {
			t.Errorf("closing table lacks %s:\n%s", s, stdout)
		}
	}
	if _, errText, code := execCLI(t, "validate", out).text(); code != 0 {
		t.Fatalf("validate: exit %d: %s", code, errText)
	}
	tree, errText, code := execCLI(t, "tree", out).text()
	if code != 0 {
		t.Fatalf("tree: exit %d: %s", code, errText)
	}
	if !strings.HasPrefix(tree, "1000 conversations in ") {
		t.Errorf("tree:\n%s", tree)
	}
	for _, line := range strings.Split(strings.TrimRight(tree, "\n"), "\n") {
		if w := len([]rune(line)); w > 80 {
			t.Errorf("tree line of %d columns: %q", w, line)
		}
	}
	js, _, code := execCLI(t, "tree", "--json", "--depth", "1", out).text()
	var jt pipeline.JSONTree
	if err := json.Unmarshal([]byte(js), &jt); err != nil || code != 0 || jt.Conversations != 1000 || len(jt.Roots) == 0 || len(jt.Roots) > 10 {
		t.Fatalf("tree --json: exit %d, %v, %+v", code, err, jt)
	}
	for _, r := range jt.Roots {
		if len(r.Children) != 0 {
			t.Errorf("--depth 1 shows children of %q", r.Name)
		}
	}
	// A rerun skips every stage.
	stdout, _, code = execCLI(t, "run", "--data", data, "--out", out).text()
	if code != 0 || strings.Count(stdout, " skipped ") != 6 {
		t.Errorf("rerun: exit %d\n%s", code, stdout)
	}
}

// kura run against kura mock-api exercises every LLM path.
func TestRunAgainstMockAPI(t *testing.T) {
	srv := mockapi.New(mockapi.Config{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	if _, errText, code := execCLI(t, "sample", "--out", filepath.Join(dir, "s"), "--conversations", "120", "--topics", "6").text(); code != 0 {
		t.Fatal(errText)
	}
	out := filepath.Join(dir, "run")
	stdout, errText, code := execCLI(t, "run", "--data", filepath.Join(dir, "s", "conversations.jsonl"), "--out", out,
		"--llm-base-url", ts.URL+"/v1", "--algorithm", "kmeans", "--k", "8", "--max-top-clusters", "3").text()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	st := srv.Stats()
	if st.ByEndpoint.ChatCompletions < 120+8 {
		t.Errorf("%d chat completions, want at least %d (summaries and names)", st.ByEndpoint.ChatCompletions, 128)
	}
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && (f[0] == "summarise" && (f[1] != "ran" || f[2] != "120" || f[5] != "120") || f[0] == "hierarchy" && f[5] == "0") {
			t.Errorf("table line %q\n%s", line, stdout)
		}
	}
	if _, errText, code := execCLI(t, "validate", out).text(); code != 0 {
		t.Fatalf("validate: exit %d: %s", code, errText)
	}
}

func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "--data is required"},
		{[]string{"run", "--data", dir, "--llm-model", "gpt-4o"}, "needs --llm-base-url"},
		{[]string{"run", "--data", dir, "--format", "csv"}, "jsonl or parquet"},
		{[]string{"run", "--data", dir, "--input-format", "xml"}, "unknown input format"},
		{[]string{"tree"}, "accepts 1 arg"},
		{[]string{"tree", "--depth", "-1", dir}, "--depth"},
	} {
		_, errText, code := execCLI(t, tc.args...).text()
		if code != 2 || !strings.Contains(errText, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errText, tc.want)
		}
	}
}
