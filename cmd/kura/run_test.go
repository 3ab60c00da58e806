package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/internal/refdata"
	"github.com/kura-go/kura/mockapi"
	"github.com/kura-go/kura/pipeline"
	"github.com/kura-go/kura/vecfile"
)

// kura run on Kura's MT-Bench checkpoint, offline; kura validate accepts
// what it wrote and kura tree shows it.
func TestRunMTBenchOffline(t *testing.T) {
	data := refdata.Path(t, "data/kura-mtbench")
	out := filepath.Join(t.TempDir(), "run")
	stdout, errText, code := execCLI(t, "run", "--data", data, "--out", out, "--stats-json", filepath.Join(out, "stats.json")).text()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	if !strings.HasPrefix(stdout, "stage ") {
		t.Errorf("stdout does not start with the table's header:\n%q", stdout)
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
	if !strings.HasPrefix(tree, "1,000 conversations in ") {
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
		{[]string{"run", "--data", dir, "--vector-dtype", "bf16"}, `--vector-dtype: unknown vector dtype "bf16"`},
		{[]string{"tree"}, "accepts 1 arg"},
		{[]string{"tree", "--depth", "-1", dir}, "--depth"},
	} {
		_, errText, code := execCLI(t, tc.args...).text()
		if code != 2 || !strings.Contains(errText, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errText, tc.want)
		}
	}
}

// Killing kura run (SIGKILL, no chance to clean up) while it summarises,
// then running it again, loses no finished summary: the rerun keeps every
// summary the killed run appended and asks the LLM only for the others.
func TestRunKilledDuringSummariesResumes(t *testing.T) {
	srv := mockapi.New(mockapi.Config{Latency: 20 * time.Millisecond})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	if _, errText, code := execCLI(t, "sample", "--out", filepath.Join(dir, "s"), "--conversations", "300", "--topics", "5").text(); code != 0 {
		t.Fatal(errText)
	}
	out := filepath.Join(dir, "run")
	args := []string{"run", "--data", filepath.Join(dir, "s", "conversations.jsonl"), "--out", out, "--no-map", "--no-cache",
		"--llm-base-url", ts.URL + "/v1", "--llm-concurrency", "2", "--naming", "keywords", "--hierarchy", "agglomerative", "-q"}
	enc, _ := json.Marshal(args)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+string(enc))
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(out, "summaries.partial.jsonl")
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(partial)
		if bytes.Count(b, []byte("\n")) >= 30 {
			break
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("no 30 summaries appended within a minute (%d bytes)", len(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	b, err := os.ReadFile(partial)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]string{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var s struct {
			ChatID  string `json:"chat_id"`
			Summary string `json:"summary"`
		}
		if json.Unmarshal(line, &s) == nil && s.ChatID != "" {
			kept[s.ChatID] = s.Summary
		}
	}
	if len(kept) < 30 || len(kept) >= 300 {
		t.Fatalf("%d summaries appended before the kill, want 30..299", len(kept))
	}
	// The killed run's requests in flight (up to --llm-concurrency) are
	// still being answered or dropped by the server: count from when they
	// are done, or one of them lands in the rerun's count.
	for deadline := time.Now().Add(10 * time.Second); srv.Stats().InFlight > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests of the killed run still in flight after 10 s", srv.Stats().InFlight)
		}
	}
	before := srv.Stats().OK
	stdout, errText, code := execCLI(t, args...).text()
	if code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, errText)
	}
	if !strings.Contains(stdout, "resuming an interrupted run") {
		t.Errorf("the rerun does not say it resumed:\n%s", stdout)
	}
	if got, want := srv.Stats().OK-before, int64(300-len(kept)); got != want {
		t.Errorf("rerun asked for %d summaries, want %d (300 - %d kept)", got, want, len(kept))
	}
	sums, err := conversation.ReadFile[conversation.ConversationSummary](filepath.Join(out, "summaries.jsonl"), conversation.ReadOptions{})
	if err != nil || len(sums) != 300 {
		t.Fatalf("%d summaries, %v", len(sums), err)
	}
	for _, s := range sums {
		if k, ok := kept[s.ChatID]; ok && k != s.Summary {
			t.Errorf("%s: the summary of the killed run was replaced", s.ChatID)
		}
	}
}

// kura run --vector-dtype float16 writes a float16 embeddings.npy that the
// later stages read, and the checkpoint validates.
func TestRunFloat16Vectors(t *testing.T) {
	dir := t.TempDir()
	if _, errText, code := execCLI(t, "sample", "--out", filepath.Join(dir, "s"), "--conversations", "80", "--topics", "4").text(); code != 0 {
		t.Fatal(errText)
	}
	out := filepath.Join(dir, "run")
	if _, errText, code := execCLI(t, "run", "--data", filepath.Join(dir, "s", "conversations.jsonl"), "--out", out,
		"--embedder", "hash", "--dims", "64", "--vector-dtype", "float16", "--quiet").text(); code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	m, err := vecfile.Open(filepath.Join(out, "embeddings.npy"), 64)
	if err != nil {
		t.Fatal(err)
	}
	if m.DType != vecfile.Float16 || m.Rows != 80 {
		t.Errorf("embeddings.npy: %d rows of %v, want 80 of float16", m.Rows, m.DType)
	}
	m.Close()
	if _, errText, code := execCLI(t, "validate", out).text(); code != 0 {
		t.Fatalf("validate: exit %d: %s", code, errText)
	}
}

// TestPrintStages: the closing table starts at its header (stdout began
// with a blank line), one row per stage, then the total, then the reasons.
func TestPrintStages(t *testing.T) {
	for _, tt := range []struct {
		name   string
		stages []pipeline.StageStats
		want   []string // lines, in order
	}{
		{"one stage", []pipeline.StageStats{
			{Stage: "summarise", Status: "ran", Reason: "no summaries yet", Items: 3, Seconds: 1.5, PeakRSSBytes: 2 << 20, Calls: 3},
		}, []string{
			"stage     status   items time (s) peak MiB  calls  in tokens out tokens   cost $",
			"summarise ran          3     1.50      2.0      3          0          0   0.0000",
			"total                  3     1.50      2.0      3          0          0   0.0000",
			"  summarise: no summaries yet",
		}},
		{"skipped stage, cache and retries", []pipeline.StageStats{
			{Stage: "summarise", Status: "skipped", Reason: "summaries up to date", Items: 2},
			{Stage: "embed", Status: "ran", Reason: "new summaries", Items: 2, Seconds: 0.25, CacheHits: 1, Retries: 2},
		}, []string{
			"stage     status   items time (s) peak MiB  calls  in tokens out tokens   cost $",
			"summarise skipped      2     0.00        -      0          0          0   0.0000",
			"embed     ran          2     0.25        -      0          0          0   0.0000",
			"total                  2     0.25        -      0          0          0   0.0000",
			"  summarise: summaries up to date",
			"  embed: new summaries; 1 from the cache; 2 retries",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			printStages(&b, &pipeline.Result{Stages: tt.stages})
			if want := strings.Join(tt.want, "\n") + "\n"; b.String() != want {
				t.Errorf("printStages =\n%s\nwant\n%s", b.String(), want)
			}
		})
	}
}
