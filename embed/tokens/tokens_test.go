package tokens

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// "tiktoken is great!" -> 6 is the cl100k_base example of OpenAI's cookbook;
// the other counts are what this package (tiktoken-go v0.1.8) gives today and
// guard against regressions in the encoder or its embedded merge table.
func TestCount(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello world", 2},
		{"Hello, world!", 4},
		{"tiktoken is great!", 6},
		{"<|endoftext|>", 7}, // special token text is encoded as ordinary text
		{"The quick brown fox jumps over the lazy dog.", 10},
	}
	for _, tt := range tests {
		if got := Count(tt.text); got != tt.want {
			t.Errorf("Count(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, s := range []string{"hello world", "naïve café — 日本語のテキスト", "line1\nline2\r\n\tx", strings.Repeat("ab ", 100)} {
		if got := Decode(Encode(s)); got != s {
			t.Errorf("Decode(Encode(%q)) = %q", s, got)
		}
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 50)
	tests := []struct {
		name    string
		text    string
		max     int
		wantCut bool
	}{
		{"short text unchanged", "hello world", 10, false},
		{"exact fit unchanged", "hello world", 2, false},
		{"long text cut", long, 100, true},
		{"multibyte text cut", strings.Repeat("日本語のテキスト", 40), 7, true},
		{"zero budget", "hello", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, n, cut := Truncate(tt.text, tt.max)
			if cut != tt.wantCut {
				t.Fatalf("cut = %v, want %v", cut, tt.wantCut)
			}
			if n > tt.max {
				t.Errorf("n = %d > max %d", n, tt.max)
			}
			if got := Count(out); got != n {
				t.Errorf("reported %d tokens, text has %d", n, got)
			}
			if !utf8.ValidString(out) {
				t.Errorf("result is not valid UTF-8: %q", out)
			}
			if !strings.HasPrefix(tt.text, out) {
				t.Errorf("result %q is not a prefix of the input", out)
			}
			if !cut && out != tt.text {
				t.Errorf("uncut text changed: %q", out)
			}
			if tt.max > 50 && n < tt.max-2 {
				t.Errorf("cut too much: %d tokens for max %d", n, tt.max)
			}
		})
	}
}

var sink int

// BenchmarkCount measures counting on summary-sized texts (~60 tokens).
func BenchmarkCount(b *testing.B) {
	text := "The user requested grammatical corrections for a paragraph and then asked for a version without gendered pronouns. The assistant provided corrected versions accordingly."
	Count(text) // build the encoder outside the timed loop
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		sink += Count(text)
	}
}

func BenchmarkInit(b *testing.B) {
	for b.Loop() {
		once = sync.Once{}
		if err := Init(); err != nil {
			b.Fatal(err)
		}
	}
}
