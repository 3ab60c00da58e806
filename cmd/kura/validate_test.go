package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/refdata"
)

func TestValidateMTBench(t *testing.T) {
	t.Setenv("COLUMNS", "80") // the total is wrapped within it
	dir := refdata.Path(t, "data/kura-mtbench")
	out, errText, code := execCLI(t, "validate", dir).text()
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errText, out)
	}
	want := "total: 1,000 conversations, 1,000 summaries, 13 clusters, 19 meta clusters,\n  19 projected clusters; no problems\n"
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
	if code != 1 || errText != "1 problem found" {
		t.Errorf("exit %d (%s), want 1 (1 problem found)", code, errText)
	}
	for _, want := range []string{
		summaries + ": 2 summaries, 1 problem\n",
		clusters + ": 1 cluster\n",
		"problems (1):\n  " + summaries + ":2: field chat_id: expected string, got number 3\n",
		"total: 2 summaries, 1 cluster; 1 problem\n",
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
		"total: 2 summaries; 1 invalid record skipped; no problems\n",
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
		{[]string{"validate", filepath.Join(dir, "missing.jsonl")}, 2, "no such file"}, // a named file that does not exist: a usage error
		{[]string{"validate", t.TempDir()}, 1, "is not a Kura checkpoint directory"},
	}
	for _, tc := range tests {
		_, errText, code := execCLI(t, tc.args...).text()
		if code != tc.code || !strings.Contains(errText, tc.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, errText, tc.code, tc.want)
		}
	}
	if out, errText, code := execCLI(t, "validate", "--type", "summaries", odd).text(); code != 0 || !strings.Contains(out, "1 summary") {
		t.Errorf("--type summaries: exit %d %s\n%s", code, errText, out)
	}
}

func TestValidateConsistencyWarnings(t *testing.T) {
	dir := t.TempDir()
	writeCLIFile(t, dir, "summaries.jsonl", cliGoodSummary+"\n")
	clusters := writeCLIFile(t, dir, "clusters.jsonl", strings.Replace(cliGoodCluster, `["c1"]`, `["c1","ghost"]`, 1)+"\n")
	out, errText, code := execCLI(t, "validate", dir).text()
	want := "consistency warnings (between the files of a checkpoint) (1):\n  " + clusters +
		`: 1 chat id listed by clusters but not in ` + filepath.Join(dir, "summaries.jsonl") + ` (e.g. "ghost")` + "\n"
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d %s\n%s\nwant it to contain\n%s", code, errText, out, want)
	}
}

// TestValidateExports checks that conversations.json files (Kura's dump,
// Claude.ai and ChatGPT exports) are told by content and checked, alone and
// in a checkpoint directory, and that a broken one is a problem naming the
// conversation and field.
func TestValidateExports(t *testing.T) {
	dir := t.TempDir()
	claude := writeCLIFile(t, dir, "export.dat", readTestdata(t, "../../ingest/testdata/claude-export.json"))
	chatgpt := filepath.Join("..", "..", "ingest", "testdata", "chatgpt-export.json")
	out, errText, code := execCLI(t, "validate", claude, chatgpt).text()
	if code != 0 {
		t.Fatalf("exit %d (%s)\n%s", code, errText, out)
	}
	for _, want := range []string{
		claude + ": 3 conversations (Claude.ai export)\n",
		chatgpt + ": 2 conversations (ChatGPT export)\n",
		"total: 5 conversations; no problems\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output:\n%s\nwant it to contain\n%s", out, want)
		}
	}

	// A checkpoint directory with conversations.json beside summaries: both
	// checked, and cross-checked.
	ck := filepath.Join(dir, "ck")
	os.Mkdir(ck, 0o755)
	dump := writeCLIFile(t, ck, "conversations.json", readTestdata(t, "../../ingest/testdata/kura-conversations.json"))
	summaries := writeCLIFile(t, ck, "summaries.jsonl", strings.Replace(cliGoodSummary, `"chat_id":"c1"`, `"chat_id":"81_alpaca-13b_0"`, 1)+"\n"+cliGoodSummary+"\n")
	out, errText, code = execCLI(t, "validate", ck).text()
	if code != 0 {
		t.Fatalf("dir: exit %d (%s)\n%s", code, errText, out)
	}
	for _, want := range []string{
		summaries + ": 2 summaries\n",
		dump + ": 3 conversations (Kura conversations.json)\n",
		summaries + `: 1 summary of a chat id not in ` + dump + ` (e.g. "c1")`,
		"total: 3 conversations, 2 summaries; no problems\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dir output:\n%s\nwant it to contain\n%s", out, want)
		}
	}

	// Broken: a wrong type in the second conversation, and a cut-off end.
	broken := writeCLIFile(t, dir, "broken.json", `[{"uuid":"a","created_at":"2024-01-01T00:00:00Z","chat_messages":[]},`+
		`{"uuid":"b","created_at":"2024-01-01T00:00:00Z","chat_messages":[{"sender":7}]},{"uuid":"c"`)
	out, errText, code = execCLI(t, "validate", broken).text()
	if code != 1 || errText != "2 problems found" {
		t.Errorf("broken: exit %d (%s), want 1", code, errText)
	}
	for _, want := range []string{
		broken + ": 1 conversation (Claude.ai export), 2 problems\n",
		"  " + broken + ": conversation 2 (byte 70): field chat_messages.sender: expected string, got number\n",
		"  " + broken + ": conversation 3 (byte 150): truncated: the input ends inside conversation 3; the file was probably cut short\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("broken output:\n%s\nwant it to contain\n%s", out, want)
		}
	}
}

func readTestdata(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
