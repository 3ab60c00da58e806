package conversation

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/kura-go/kura/internal/refdata"
)

// benchData returns the kura-mtbench file for kind, repeated to at least
// 8 MiB so that a run measures steady-state decoding.
func benchData(b *testing.B, name string) (data []byte, records int) {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join(refdata.Path(b, "data/kura-mtbench"), name))
	if err != nil {
		b.Fatal(err)
	}
	n := bytes.Count(raw, []byte{'\n'})
	for len(data) < 8<<20 {
		data = append(data, raw...)
		records += n
	}
	return data, records
}

func benchRead[T Record](b *testing.B, name string) {
	data, n := benchData(b, name)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := NewReader[T](bytes.NewReader(data), name, ReadOptions{})
		got := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != n {
			b.Fatalf("read %d records, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReadSummariesJSONL measures streaming, validated reading of
// Kura's summaries.jsonl.
func BenchmarkReadSummariesJSONL(b *testing.B) { benchRead[ConversationSummary](b, "summaries.jsonl") }

// BenchmarkReadConversationsJSONL measures reading conversations.jsonl.
func BenchmarkReadConversationsJSONL(b *testing.B) { benchRead[Conversation](b, "conversations.jsonl") }

// BenchmarkWriteSummariesJSONL measures writing summaries as JSONL.
func BenchmarkWriteSummariesJSONL(b *testing.B) {
	data, n := benchData(b, "summaries.jsonl")
	recs := make([]ConversationSummary, 0, n)
	r := NewReader[ConversationSummary](bytes.NewReader(data), "s", ReadOptions{})
	for {
		s, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, s)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := NewWriter[ConversationSummary](io.Discard)
		for _, s := range recs {
			if err := w.Write(s); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReadSummariesParquet measures reading the same summaries from
// Parquet.
func BenchmarkReadSummariesParquet(b *testing.B) {
	data, n := benchData(b, "summaries.jsonl")
	recs := make([]ConversationSummary, 0, n)
	r := NewReader[ConversationSummary](bytes.NewReader(data), "s", ReadOptions{})
	for {
		s, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, s)
	}
	var buf bytes.Buffer
	w := newParquetWriter[ConversationSummary](&buf)
	for _, s := range recs {
		if err := w.Write(s); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	pq := buf.Bytes()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pr, err := NewParquetReader[ConversationSummary](bytes.NewReader(pq), int64(len(pq)), "s.parquet", ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			_, err := pr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		pr.Close()
		if got != n {
			b.Fatalf("read %d, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeVsEncodingJSON decodes the lines of Kura's summaries.jsonl
// and conversations.jsonl with this package's decoder (package jsonscan's
// scanner, each field decoded on its own so that errors name it, unknown
// and duplicate keys seen, keys matched case-sensitively) and with
// encoding/json into the same structs' plain twins (no validation, no
// field-level errors, keys matched case-insensitively): what the
// hand-written scanner has to beat to be kept. MB/s is of JSONL.
func BenchmarkDecodeVsEncodingJSON(b *testing.B) {
	type plainMessage struct {
		CreatedAt string `json:"created_at"`
		Role      string `json:"role"`
		Content   string `json:"content"`
	}
	type plainConversation struct {
		ChatID    string         `json:"chat_id"`
		CreatedAt string         `json:"created_at"`
		Messages  []plainMessage `json:"messages"`
		Metadata  map[string]any `json:"metadata"`
	}
	type plainSummary struct {
		Summary         string         `json:"summary"`
		Request         *string        `json:"request"`
		Topic           *string        `json:"topic"`
		Languages       []string       `json:"languages"`
		Task            *string        `json:"task"`
		ConcerningScore *int           `json:"concerning_score"`
		UserFrustration *int           `json:"user_frustration"`
		AssistantErrors []string       `json:"assistant_errors"`
		ChatID          string         `json:"chat_id"`
		Metadata        map[string]any `json:"metadata"`
		Embedding       []float64      `json:"embedding"`
	}
	for _, file := range []string{"summaries.jsonl", "conversations.jsonl"} {
		data, _ := benchData(b, file)
		lines := bytes.Split(bytes.TrimSpace(data), []byte{'\n'})
		b.Run(file+"/jsonscan", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				for _, l := range lines {
					var err *RecordError
					if file == "summaries.jsonl" {
						var s ConversationSummary
						err = s.decodeJSON(l, nil)
					} else {
						var c Conversation
						err = c.decodeJSON(l, nil)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(file+"/encoding_json", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				for _, l := range lines {
					var err error
					if file == "summaries.jsonl" {
						var s plainSummary
						err = json.Unmarshal(l, &s)
					} else {
						var c plainConversation
						err = json.Unmarshal(l, &c)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
