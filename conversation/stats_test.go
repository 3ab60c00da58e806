package conversation

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// longTextConversations returns n conversations each with a message of
// about size bytes of random letters and words: text that Snappy hardly
// compresses, so that any copy of it in the statistics shows in the size.
func longTextConversations(n, size int) []Conversation {
	rng := rand.New(rand.NewPCG(7, 8))
	words := strings.Fields("the user asked about rust lifetimes borrow checker async tokio pandas dataframe merge plot model training loss")
	t, _ := ParseTime("2025-06-12T11:04:56.965428")
	out := make([]Conversation, n)
	for i := range out {
		var b strings.Builder
		for b.Len() < size {
			if rng.IntN(8) == 0 {
				b.WriteString(words[rng.IntN(len(words))])
			}
			b.WriteByte(byte('a' + rng.IntN(26)))
			if rng.IntN(6) == 0 {
				b.WriteByte(' ')
			}
		}
		s := b.String()
		out[i] = Conversation{ChatID: fmt.Sprintf("c%05d", i), CreatedAt: t,
			Messages: []Message{{CreatedAt: t, Role: "user", Content: s}, {CreatedAt: t, Role: "assistant", Content: s[:size/2]}},
			Metadata: map[string]any{"long": s[:size/4]}}
	}
	return out
}

// TestParquetTextStatistics checks that long texts are not stored again as
// min/max statistics: one 8 MB message used to take 5 times its size (page
// header min and max, each twice, and the column chunk's min and max; a
// 52 MB JSONL line became 221 MB of Parquet). Ids and times keep theirs.
func TestParquetTextStatistics(t *testing.T) {
	recs := longTextConversations(2, 8_000_000)
	var jsonl bytes.Buffer
	w := NewWriter[Conversation](&jsonl)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	p := filepath.Join(t.TempDir(), "c.parquet")
	if err := WriteFile(p, recs); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > int64(jsonl.Len()) {
		t.Errorf("Parquet %d bytes for %d bytes of JSONL: statistics repeat the texts", st.Size(), jsonl.Len())
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			name := strings.Join(c.MetaData.PathInSchema, ".")
			s := c.MetaData.Statistics
			has := len(s.MinValue)+len(s.MaxValue) > 0
			switch name {
			case "chat_id", "created_at", "messages.list.element.created_at", "messages.list.element.role":
				if !has {
					t.Errorf("%s: no min/max statistics, want them for a short column", name)
				}
			case "messages.list.element.content", "metadata":
				if has {
					t.Errorf("%s: min/max statistics of %d+%d bytes, want none for free text", name, len(s.MinValue), len(s.MaxValue))
				}
			}
		}
	}
	back, err := ReadFile[Conversation](p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(recs) || !reflect.DeepEqual(back[1].Messages, recs[1].Messages) {
		t.Error("records do not read back the same")
	}
}
