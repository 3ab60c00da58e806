package conversation

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func writeParquetRows[R any](t *testing.T, name string, rows []R) string {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[R](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParquetErrors checks that problems in Parquet files name the file and
// the 1-based row.
func TestParquetErrors(t *testing.T) {
	good := pqMessage{CreatedAt: "2025-06-12T11:04:56", Role: "user", Content: "hi"}
	convs := []pqConversation{
		{ChatID: "a", CreatedAt: "2025-06-12T11:04:56", Messages: []pqMessage{good}, Metadata: "{}"},
		{ChatID: "b", CreatedAt: "2025-06-12T11:04:56", Messages: []pqMessage{good, {CreatedAt: "soon", Role: "user"}}, Metadata: "{}"},
		{ChatID: "c", CreatedAt: "2025-06-12T11:04:56", Messages: []pqMessage{{CreatedAt: "2025-06-12T11:04:56", Role: "robot"}}, Metadata: "{}"},
		{ChatID: "d", CreatedAt: "2025-06-12T11:04:56", Messages: nil, Metadata: `{"x":`},
		{ChatID: "", CreatedAt: "2025-06-12T11:04:56", Messages: nil, Metadata: "{}"},
		{ChatID: "f", CreatedAt: "2025-06-12T11:04:56", Messages: nil, Metadata: ""},
	}
	path := writeParquetRows(t, "conversations.parquet", convs)
	var got []string
	recs, err := ReadFile[Conversation](path, ReadOptions{SkipInvalid: true, OnSkip: func(e *RecordError) { got = append(got, e.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		path + `:2: field messages[1].created_at: not an ISO-8601 time: "soon" (expected e.g. 2025-06-12T11:04:56.965428 or with +00:00)`,
		path + `:3: field messages[0].role: expected one of user, assistant, system, tool, got "robot"`,
		path + `:4: field metadata.x: truncated JSON: input ends inside a value (expected a complete JSON object)`,
		path + `:5: field chat_id: expected non-empty string`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(recs) != 2 || recs[0].ChatID != "a" || recs[1].ChatID != "f" {
		t.Errorf("read %+v, want a and f", recs)
	}

	// Without SkipInvalid the first problem stops ReadFile.
	if _, err := ReadFile[Conversation](path, ReadOptions{}); err == nil || err.Error() != want[0] {
		t.Errorf("ReadFile = %v, want %q", err, want[0])
	}
}

func TestParquetSchemaMismatch(t *testing.T) {
	type other struct {
		ChatID string `parquet:"chat_id"`
		Text   string `parquet:"text"`
	}
	path := writeParquetRows(t, "summaries.parquet", []other{{"a", "b"}})
	_, err := ReadFile[ConversationSummary](path, ReadOptions{})
	want := path + ": Parquet column(s) summary, request, topic, languages, task, concerning_score, user_frustration, assistant_errors, metadata, embedding missing"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want prefix %q", err, want)
	}

	notPQ := writeTemp(t, "clusters.parquet", "this is not parquet\n")
	if _, err := ReadFile[Cluster](notPQ, ReadOptions{}); err == nil || !strings.HasPrefix(err.Error(), notPQ+": not a readable Parquet file") {
		t.Errorf("err = %v, want a not-Parquet error", err)
	}
}

// TestParquetManyRowGroups writes enough rows for several batches and
// checks that all come back in order.
func TestParquetManyRowGroups(t *testing.T) {
	recs := make([]ConversationSummary, 3*parquetRowsPerBatch+7)
	for i := range recs {
		recs[i] = ConversationSummary{Summary: strings.Repeat("x", i%13), ChatID: "c" + string(rune('a'+i%26)), Embedding: []float64{float64(i)}}
	}
	path := filepath.Join(t.TempDir(), "summaries.parquet")
	if err := WriteFile(path, recs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile[ConversationSummary](path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("read %d, want %d", len(got), len(recs))
	}
	for i := range got {
		if got[i].Embedding[0] != float64(i) || got[i].Summary != recs[i].Summary {
			t.Fatalf("row %d: %+v, want %+v", i+1, got[i], recs[i])
		}
	}
}

// TestReadKuraPythonParquet reads Parquet files in Python Kura's own layout
// (JSON-text list columns, optional columns, str(datetime) times) and checks
// that they give exactly Kura's JSONL records.
func TestReadKuraPythonParquet(t *testing.T) {
	dir := filepath.Join("testdata", "kura-parquet")
	for _, k := range []Kind{Conversations, Summaries, MetaClusters, Dimensionality} {
		in := filepath.Join(dir, k.String()+".parquet")
		out := filepath.Join(t.TempDir(), k.String()+".jsonl")
		n, _, err := ConvertFile(t.Context(), in, out, k, ReadOptions{})
		if err != nil || n != 3 {
			t.Errorf("%s: %d records, %v", in, n, err)
			continue
		}
		got, _ := os.ReadFile(out)
		want, _ := os.ReadFile(filepath.Join(dir, k.String()+".jsonl"))
		if !bytes.Equal(got, want) {
			t.Errorf("%s read as\n%s\nwant\n%s", in, got, want)
		}
	}
}
