package conversation

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// nestedMeta returns a metadata object {"k": V} where V is n lists (or
// objects with key key) around the number 1.
func nestedMeta(n int, objects bool, key string) string {
	var b strings.Builder
	b.WriteString(`{"k":`)
	for range n {
		if objects {
			b.WriteString(`{"` + key + `":`)
		} else {
			b.WriteByte('[')
		}
	}
	b.WriteByte('1')
	for range n {
		if objects {
			b.WriteByte('}')
		} else {
			b.WriteByte(']')
		}
	}
	b.WriteByte('}')
	return b.String()
}

func convWithMeta(meta string) string {
	return strings.Replace(goodConv, `{"model":"m"}`, meta, 1)
}

// allocDuring returns the bytes allocated while f runs.
func allocDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDeepMetadata checks that deeply nested metadata is refused while it is
// decoded, at MaxMetadataDepth, with an error naming file, line and field, and
// that the cost does not grow with the depth: a 100k-deep value used to cost
// gigabytes (a recursion per level and a path string rebuilt per level).
func TestDeepMetadata(t *testing.T) {
	deepIdx := strings.Repeat("[0]", MaxMetadataDepth+1)
	deepKey := strings.Repeat(".a", MaxMetadataDepth+1)
	longKey := strings.Repeat("x", 100_000)
	longPath := strings.Repeat("."+strings.Repeat("x", maxPathKey)+"…", MaxMetadataDepth+1)
	tests := []struct {
		name    string
		meta    string
		wantErr string // "" for a valid record
		maxLine int
	}{
		{name: "64 lists", meta: nestedMeta(MaxMetadataDepth, false, "")},
		{name: "64 objects", meta: nestedMeta(MaxMetadataDepth, true, "a")},
		{name: "65 lists", meta: nestedMeta(MaxMetadataDepth+1, false, ""),
			wantErr: "FILE:1: field metadata.k" + deepIdx + ": nested more than 64 levels deep"},
		{name: "65 objects", meta: nestedMeta(MaxMetadataDepth+1, true, "a"),
			wantErr: "FILE:1: field metadata.k" + deepKey + ": nested more than 64 levels deep"},
		{name: "100k lists", meta: nestedMeta(100_000, false, ""),
			wantErr: "FILE:1: field metadata.k" + deepIdx + ": nested more than 64 levels deep"},
		{name: "100k objects", meta: nestedMeta(100_000, true, "a"),
			wantErr: "FILE:1: field metadata.k" + deepKey + ": nested more than 64 levels deep"},
		{name: "200 objects with 100 kB keys", meta: nestedMeta(200, true, longKey),
			wantErr: "FILE:1: field metadata.k" + longPath + ": nested more than 64 levels deep"},
		{name: "64 objects with 100 kB keys", meta: nestedMeta(MaxMetadataDepth, true, longKey)},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line := convWithMeta(tc.meta) + "\n"
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".jsonl")
			if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
			var recs []Conversation
			var skipped []*RecordError
			data := []byte(line)
			alloc := allocDuring(func() {
				r := NewReader[Conversation](bytes.NewReader(data), path, ReadOptions{
					SkipInvalid: true, OnSkip: func(e *RecordError) { skipped = append(skipped, e) }, MaxLineBytes: tc.maxLine})
				for {
					rec, err := r.Next()
					if err != nil {
						break
					}
					recs = append(recs, rec)
				}
			})
			// The line is read into a buffer (~3x its length while it doubles),
			// its keys are decoded once (at most 65 levels), a few small
			// objects per level. Before the fix, the 64 x 100 kB keys case
			// allocated 256 MB (paths rebuilt per level) and 100k levels
			// several gigabytes.
			if limit := uint64(4*len(line) + 1<<20); alloc > limit {
				t.Errorf("reading a %d-byte line allocated %d bytes, want <= %d", len(line), alloc, limit)
			}
			if tc.wantErr == "" {
				if len(recs) != 1 || len(skipped) != 0 {
					t.Fatalf("read %d records, skipped %v; want 1 record", len(recs), skipped)
				}
				return
			}
			want := strings.ReplaceAll(tc.wantErr, "FILE", path)
			if len(skipped) != 1 || skipped[0].Error() != want {
				t.Fatalf("skipped %v, want exactly\n%.300s", skipped, want)
			}
		})
	}
}

// TestDeepParquetMetadata checks the same limit for metadata read from
// Parquet, where it is a JSON string column.
func TestDeepParquetMetadata(t *testing.T) {
	good := pqMessage{CreatedAt: "2025-06-12T11:04:56", Role: "user", Content: "hi"}
	deep := nestedMeta(100_000, false, "")
	path := writeParquetRows(t, "deep.parquet", []pqConversation{
		{ChatID: "a", CreatedAt: "2025-06-12T11:04:56", Messages: []pqMessage{good}, Metadata: nestedMeta(MaxMetadataDepth, false, "")},
		{ChatID: "b", CreatedAt: "2025-06-12T11:04:56", Messages: []pqMessage{good}, Metadata: deep},
	})
	var got []string
	var recs []Conversation
	alloc := allocDuring(func() {
		var err error
		recs, err = ReadFile[Conversation](path, ReadOptions{SkipInvalid: true, OnSkip: func(e *RecordError) { got = append(got, e.Error()) }})
		if err != nil {
			t.Fatal(err)
		}
	})
	want := path + ":2: field metadata.k" + strings.Repeat("[0]", MaxMetadataDepth+1) + ": nested more than 64 levels deep"
	if len(got) != 1 || got[0] != want {
		t.Errorf("skipped %q, want %q", got, want)
	}
	if len(recs) != 1 || recs[0].ChatID != "a" {
		t.Errorf("read %d records, want a", len(recs))
	}
	if limit := uint64(16*len(deep) + 8<<20); alloc > limit {
		t.Errorf("reading %d bytes of metadata allocated %d bytes, want <= %d", len(deep), alloc, limit)
	}
}
