package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/refdata"
)

// TestConvertMTBenchDir converts the kura-mtbench checkpoint to Parquet and
// back with the CLI; the JSONL files must come back byte for byte.
func TestConvertMTBenchDir(t *testing.T) {
	src := refdata.Path(t, "data/kura-mtbench")
	tmp := t.TempDir()
	pq, back := filepath.Join(tmp, "pq"), filepath.Join(tmp, "back")
	if out, errText, code := execCLI(t, "convert", src, pq).text(); code != 0 {
		t.Fatalf("convert to Parquet: exit %d %s\n%s", code, errText, out)
	}
	out, errText, code := execCLI(t, "convert", pq, back).text()
	if code != 0 {
		t.Fatalf("convert back: exit %d %s\n%s", code, errText, out)
	}
	if !strings.Contains(out, filepath.Join(back, "summaries.jsonl")+": 1,000 summaries (parquet -> jsonl)") {
		t.Errorf("output:\n%s", out)
	}
	for _, name := range []string{"conversations", "summaries", "clusters", "meta_clusters", "dimensionality"} {
		want, err := os.ReadFile(filepath.Join(src, name+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(back, name+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s.jsonl changed in the round trip", name)
		}
	}
}

func TestConvertFile(t *testing.T) {
	dir := t.TempDir()
	bad := strings.Replace(cliGoodCluster, `"id":"x"`, `"id":""`, 1)
	in := writeCLIFile(t, dir, "clusters.jsonl", cliGoodCluster+"\n"+bad+"\n")
	out := filepath.Join(dir, "c.parquet")

	_, errText, code := execCLI(t, "convert", in, out).text()
	if code != 1 || errText != in+":2: field id: expected non-empty string" {
		t.Errorf("exit %d %q", code, errText)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written despite the error", out)
	}

	stdout, errText, code := execCLI(t, "convert", "--skip-invalid", in, out).text()
	if code != 0 || !strings.Contains(stdout, out+": 1 cluster (jsonl -> parquet), 1 invalid skipped") {
		t.Errorf("--skip-invalid: exit %d %s\n%s", code, errText, stdout)
	}
	back := filepath.Join(dir, "back.jsonl")
	if _, errText, code := execCLI(t, "convert", "--type", "clusters", out, back).text(); code != 0 {
		t.Fatalf("convert back: exit %d %s", code, errText)
	}
	if got, _ := os.ReadFile(back); string(got) != cliGoodCluster+"\n" {
		t.Errorf("round trip gave %q", got)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"convert", filepath.Join(dir, "back.jsonl"), filepath.Join(dir, "x.parquet")}, "cannot tell the record type"},
		{[]string{"convert", "--format", "csv", dir, t.TempDir()}, "--format must be jsonl or parquet"},
		{[]string{"convert", "--format", "jsonl", in, out}, "--format applies to directories"},
		{[]string{"convert", in}, "accepts 2 arg(s)"},
	} {
		if _, errText, code := execCLI(t, tc.args...).text(); code != 2 || !strings.Contains(errText, tc.want) {
			t.Errorf("%v: exit %d %q, want 2 and %q", tc.args, code, errText, tc.want)
		}
	}
}

// TestConvertExport converts a ChatGPT export (told by content) to a Kura
// conversations file: byte for byte the expected conversations; and a
// broken Claude.ai export with --skip-invalid.
func TestConvertExport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "conversations.jsonl")
	in := filepath.Join("..", "..", "ingest", "testdata", "chatgpt-export.json")
	stdout, errText, code := execCLI(t, "convert", in, out).text()
	if code != 0 || stdout != out+": 2 conversations (ChatGPT export -> jsonl), 6 messages left out (system, tool, hidden or empty)\n" {
		t.Fatalf("exit %d (%s): %s", code, errText, stdout)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(filepath.Join("..", "..", "ingest", "testdata", "chatgpt-export.want.jsonl"))
	if string(got) != string(want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte(`[{"uuid":"a","created_at":"2024-01-01T00:00:00Z","chat_messages":[]},`+
		`{"uuid":"b","created_at":"2024-01-01T00:00:00Z","chat_messages":[{"sender":7}]}]`), 0o644)
	pq := filepath.Join(dir, "c.parquet")
	_, errText, code = execCLI(t, "convert", broken, pq).text()
	if code != 1 || errText != broken+": conversation 2 (byte 70): field chat_messages.sender: expected string, got number" {
		t.Errorf("exit %d: %s", code, errText)
	}
	if _, err := os.Stat(pq); !os.IsNotExist(err) {
		t.Errorf("output written after a failure: %v", err)
	}
	stdout, errText, code = execCLI(t, "convert", "--skip-invalid", broken, pq).text()
	if code != 0 || stdout != pq+": 1 conversation (Claude.ai export -> parquet), 1 invalid skipped\n" {
		t.Errorf("--skip-invalid: exit %d (%s): %s", code, errText, stdout)
	}
}
