package conversation

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
	"github.com/parquet-go/parquet-go"
)

// fuzzSeeds are records of every kind, broken ones, and inputs that reach
// depth (metadata nested past the limit) and size (a long line).
func fuzzSeeds() []string {
	return []string{goodConv, goodSummary, `{"id":"x","name":"n","description":"d","slug":"s","chat_ids":["a"],"parent_id":null,"count":1}`,
		`{"id":"x","name":"n","description":"d","slug":"s","chat_ids":[],"parent_id":"p","x_coord":1.5,"y_coord":-2e-9,"level":1,"count":0}`,
		`{"a":[1,{"b":"\u00e9\""}],"c":tru}`, "\xef\xbb\xbf{}\r\n\n[", `{"chat_id":"c","metadata":{"k":[1,2,{"x":null}]}}`,
		convWithMeta(nestedMeta(MaxMetadataDepth, false, "")), convWithMeta(nestedMeta(MaxMetadataDepth+1, true, "k")),
		convWithMeta(nestedMeta(5000, false, "")), string(bigConversation(200 << 10))}
}

// FuzzReader checks that no input makes the readers panic, that every
// record read re-encodes to JSON that reads back to the same encoding, and
// that reading allocates a bounded amount per input byte.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		allocbound.Check(t, allocbound.PerByte(len(data), 64, 4<<20), "JSONL input", func() {
			fuzzKind[Conversation](t, data)
			fuzzKind[ConversationSummary](t, data)
			fuzzKind[Cluster](t, data)
			fuzzKind[ProjectedCluster](t, data)
		})
	})
}

func fuzzKind[T Record](t *testing.T, data []byte) {
	r := NewReader[T](bytes.NewReader(data), "f", ReadOptions{SkipInvalid: true})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("non-record error with SkipInvalid: %v", err)
		}
		enc := any(&rec).(jsonAppender).appendJSON(nil)
		r2 := NewReader[T](bytes.NewReader(enc), "re", ReadOptions{})
		back, err := r2.Next()
		if err != nil {
			t.Fatalf("re-encoded record %s does not read back: %v", enc, err)
		}
		if enc2 := any(&back).(jsonAppender).appendJSON(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
	}
}

// FuzzParquetReader feeds arbitrary bytes, and Parquet files with
// arbitrary metadata strings, to the Parquet reader: an error or records,
// never a panic.
func FuzzParquetReader(f *testing.F) {
	good := pqMessage{CreatedAt: "2025-06-12T11:04:56", Role: "user", Content: "hi"}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[pqConversation](&buf)
	w.Write([]pqConversation{{ChatID: "a", CreatedAt: "2025-06-12T11:04:56", Messages: []pqMessage{good}, Metadata: `{"k":[1]}`}})
	w.Close()
	f.Add(buf.Bytes(), "")
	f.Add([]byte("PAR1"), `{"x":`)
	f.Add(buf.Bytes()[:buf.Len()/2], nestedMeta(5000, true, "a"))
	f.Add([]byte{}, nestedMeta(MaxMetadataDepth+1, false, ""))
	f.Fuzz(func(t *testing.T, file []byte, meta string) {
		allocbound.Check(t, allocbound.PerByte(len(file)+len(meta), 256, 32<<20), "Parquet input", func() {
			if len(meta) > 0 {
				// The metadata string as a Parquet file would hold it.
				m, keys, err := metaFromString(meta)
				if err == nil && m != nil && strings.TrimSpace(meta) != "" {
					_ = metaToString(m, keys)
				}
			}
			r, err := NewParquetReader[Conversation](bytes.NewReader(file), int64(len(file)), "f", ReadOptions{SkipInvalid: true})
			if err != nil {
				return
			}
			defer r.Close()
			for range 10_000 {
				if _, err := r.Next(); err != nil {
					return
				}
			}
		})
	})
}
