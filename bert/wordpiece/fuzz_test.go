package wordpiece

import (
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
)

// FuzzEncode checks the WordPiece tokenizer on arbitrary text: ids within
// the vocabulary, [CLS] first and [SEP] last, the limit kept, truncation
// reported consistently, and memory bounded by the text.
func FuzzEncode(f *testing.F) {
	tok, err := Load(fixture)
	if err != nil {
		f.Skip("bert-tiny fixture:", err)
	}
	for _, s := range []string{"Hello, world!", "naïve café 日本語", strings.Repeat("x", 20_000), strings.Repeat("un", 3000) + "believable",
		"\u0000\u200b\ufeff", "[CLS] [SEP] [MASK]", strings.Repeat("é", 4000)} {
		f.Add(s, uint16(16))
	}
	f.Fuzz(func(t *testing.T, s string, maxLen uint16) {
		limit := int(maxLen % 600)
		var ids []int32
		var n int
		allocbound.Check(t, allocbound.PerByte(len(s), 64, 1<<20), "text", func() {
			ids, n = tok.Encode(s, limit)
		})
		if len(ids) < 2 || ids[0] != tok.ClsID() || ids[len(ids)-1] != tok.SepID() {
			t.Fatalf("ids %v lack [CLS] ... [SEP]", ids)
		}
		if limit > 0 && len(ids) > max(limit, 2) {
			t.Fatalf("%d ids over the limit %d", len(ids), limit)
		}
		if n < len(ids) {
			t.Fatalf("n = %d < %d ids", n, len(ids))
		}
		for _, id := range ids {
			if id < 0 || int(id) >= tok.VocabSize() {
				t.Fatalf("id %d outside the vocabulary of %d", id, tok.VocabSize())
			}
		}
		_, truncated := tok.AppendEncodeTruncated(nil, s, limit)
		if truncated != (limit > 0 && n > len(ids)) {
			t.Fatalf("truncated = %v, but n = %d and %d ids kept", truncated, n, len(ids))
		}
	})
}
