package tokens

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kura-go/kura/internal/allocbound"
)

// FuzzTokens checks the cl100k_base tokenizer on arbitrary text: Count
// agrees with Encode, Decode(Encode(s)) gives s back for valid UTF-8,
// Truncate never exceeds its budget and keeps UTF-8 valid, and memory stays
// bounded by the text (long single "words" used to cost far more).
func FuzzTokens(f *testing.F) {
	if err := Init(); err != nil { // the table loads once, outside the bound
		f.Fatal(err)
	}
	for _, s := range []string{"hello world", "<|endoftext|> special", "naïve café 日本語 🙂", strings.Repeat("a", 50_000),
		strings.Repeat("ab1 ", 5000), "\xff\xfe broken", "   \n\t  ", strings.Repeat("🙂", 3000)} {
		f.Add(s, uint16(7))
	}
	f.Fuzz(func(t *testing.T, s string, budget uint16) {
		var ids []int
		allocbound.Check(t, allocbound.PerByte(len(s), 96, 1<<20), "text", func() {
			ids = Encode(s)
		})
		if n := Count(s); n != len(ids) {
			t.Fatalf("Count = %d, len(Encode) = %d", n, len(ids))
		}
		if utf8.ValidString(s) && Decode(ids) != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, Decode(ids))
		}
		max := int(budget % 64)
		out, n, cut := Truncate(s, max)
		if n > max && max >= 0 && cut {
			t.Fatalf("Truncate(%d) kept %d tokens", max, n)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Truncate made invalid UTF-8 from valid text")
		}
		if !cut && out != s {
			t.Fatalf("not cut but changed")
		}
	})
}
