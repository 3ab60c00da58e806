package wordpiece

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fixture = "../testdata/bert-tiny"

type refTokens struct {
	I                  int      `json:"i"`
	Text               string   `json:"text"`
	NPiecesUntruncated int      `json:"n_pieces_untruncated"`
	IDs                []int32  `json:"ids"`
	Tokens             []string `json:"tokens"`
}

func readRef(t *testing.T) []refTokens {
	t.Helper()
	f, err := os.Open(filepath.Join(fixture, "token_ids.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []refTokens
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var r refTokens
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("token_ids.jsonl:%d: %v", line, err)
		}
		out = append(out, r)
	}
	if len(out) != 60 {
		t.Fatalf("token_ids.jsonl: %d rows, want 60", len(out))
	}
	return out
}

// TestFixtureIDs checks exact equality with Hugging Face tokenizers on the 60
// bert-tiny inputs, for both vocabulary sources.
func TestFixtureIDs(t *testing.T) {
	ref := readRef(t)
	// inputs.txt must agree with the text field (it is the raw file users read).
	raw, err := os.ReadFile(filepath.Join(fixture, "inputs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := splitLines(string(raw))
	if len(lines) != len(ref) {
		t.Fatalf("inputs.txt has %d lines, want %d", len(lines), len(ref))
	}
	fromJSON, err := LoadTokenizerJSON(filepath.Join(fixture, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	fromTxt, err := LoadVocabTxt(filepath.Join(fixture, "vocab.txt"), opts)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]*Tokenizer{"tokenizer.json": fromJSON, "vocab.txt": fromTxt} {
		for _, r := range ref {
			if lines[r.I] != r.Text {
				t.Fatalf("inputs.txt line %d differs from token_ids.jsonl text", r.I+1)
			}
			ids, n := tok.Encode(r.Text, 256)
			if !slices.Equal(ids, r.IDs) {
				got := make([]string, len(ids))
				for i, id := range ids {
					got[i] = tok.Token(id)
				}
				t.Errorf("%s: input %d %q:\n got  %v\n want %v\n got  %q\n want %q", name, r.I, r.Text, ids, r.IDs, got, r.Tokens)
				continue
			}
			if n != r.NPiecesUntruncated {
				t.Errorf("%s: input %d: untruncated count %d, want %d", name, r.I, n, r.NPiecesUntruncated)
			}
			for i, id := range ids {
				if tok.Token(id) != r.Tokens[i] {
					t.Errorf("%s: input %d piece %d: token %q, want %q", name, r.I, i, tok.Token(id), r.Tokens[i])
				}
			}
		}
	}
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

func TestLoadDir(t *testing.T) {
	tok, err := Load(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 30522 {
		t.Errorf("VocabSize = %d, want 30522", tok.VocabSize())
	}
	if tok.ClsID() != 101 || tok.SepID() != 102 || tok.PadID() != 0 || tok.UnkID() != 100 {
		t.Errorf("special ids %d %d %d %d", tok.ClsID(), tok.SepID(), tok.PadID(), tok.UnkID())
	}
	// A folder with vocab.txt only falls back to it.
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(fixture, "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.txt"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of an empty folder: want an error")
	}
}

// TestCases covers rules the fixture does not reach, with ids derived by hand
// from the rules in the bert-tiny README.
func TestCases(t *testing.T) {
	tok, err := Load(fixture)
	if err != nil {
		t.Fatal(err)
	}
	id := func(s string) int32 {
		v, ok := tok.ID(s)
		if !ok {
			t.Fatalf("%q not in vocab", s)
		}
		return v
	}
	cls, sep, unk := tok.ClsID(), tok.SepID(), tok.UnkID()
	tests := []struct {
		name string
		text string
		max  int
		want []int32
	}{
		{"unlimited", "hello world", 0, []int32{cls, id("hello"), id("world"), sep}},
		{"truncate to 3 keeps SEP", "hello world", 3, []int32{cls, id("hello"), sep}},
		{"max 2 is CLS SEP", "hello world", 2, []int32{cls, sep}},
		{"special in text", "a[MASK]b", 0, []int32{cls, id("a"), id("[MASK]"), id("b"), sep}},
		{"lower-case special is text", "[mask]", 0, []int32{cls, id("["), id("mask"), id("]"), sep}},
		// U+1F970 (Unicode 11) is unassigned in Unicode 9.0, so clean_text removes it and the words join.
		{"post-9.0 emoji removed", "hello\U0001F970world", 0, []int32{cls, id("hello"), id("##world"), sep}},
		// U+1F600 (Unicode 6.1) is a symbol, kept, and not in the vocabulary.
		{"emoji kept", "hello\U0001F600", 0, []int32{cls, unk, sep}},
		{"NEL is other, removed", "ab\u0085cd", 0, []int32{cls, id("abc"), id("##d"), sep}},
		{"em space splits", "hello\u2003world", 0, []int32{cls, id("hello"), id("world"), sep}},
		{"dotted capital I", "İ", 0, []int32{cls, id("i"), sep}},
	}
	for _, tc := range tests {
		got, _ := tok.Encode(tc.text, tc.max)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Encode(%q) = %v, want %v", tc.name, tc.text, got, tc.want)
		}
	}
}

func TestEncodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	tok, err := Load(fixture)
	if err != nil {
		t.Fatal(err)
	}
	text := "The quick brown fox jumps over the lazy dog, unbelievably quickly: ÉCOLE naïve 世界!"
	buf := make([]int32, 0, 512)
	tok.AppendEncode(buf, text, 256) // warm the pool
	allocs := testing.AllocsPerRun(100, func() { tok.AppendEncode(buf[:0], text, 256) })
	if allocs > 2 {
		t.Errorf("AppendEncode allocates %.1f times per call, want at most 2 (none per token)", allocs)
	}
}

func BenchmarkEncode(b *testing.B) {
	tok, err := Load(fixture)
	if err != nil {
		b.Fatal(err)
	}
	text := "The user asked for help debugging a Python script that parses JSON logs and the assistant suggested using a streaming parser with error recovery."
	buf := make([]int32, 0, 512)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		buf, _ = tok.AppendEncode(buf[:0], text, 256)
	}
}

// TestLongText: chunked processing of long texts and the early stop of
// AppendEncodeTruncated give the same ids as tokenising word by word.
func TestLongText(t *testing.T) {
	tok, err := Load(fixture)
	if err != nil {
		t.Fatal(err)
	}
	words := []string{"Café", "naïve", "\t[MASK]", "über-long", "日本語", "e\u0301tude", "x\u200by", "hello,world", "unbelievable"}
	var sb strings.Builder
	var want []int32
	for i := 0; sb.Len() < 50000; i++ {
		w := words[i%len(words)]
		if i > 0 {
			sb.WriteString(" ")
		}
		sb.WriteString(w)
		ids, _ := tok.Encode(w, 0)
		want = append(want, ids[1:len(ids)-1]...)
	}
	text := sb.String()
	got, n := tok.Encode(text, 0)
	if n != len(want)+2 || !slices.Equal(got[1:len(got)-1], want) {
		t.Fatalf("long text: %d ids, want %d (first difference matters)", n, len(want)+2)
	}
	for _, maxLen := range []int{2, 3, 256, len(want) + 1, len(want) + 2, len(want) + 3} {
		full, _ := tok.Encode(text, maxLen)
		early, truncated := tok.AppendEncodeTruncated(nil, text, maxLen)
		if !slices.Equal(full, early) || truncated != (len(want)+2 > maxLen) {
			t.Errorf("maxLen %d: AppendEncodeTruncated differs from Encode (truncated %v)", maxLen, truncated)
		}
	}
	// A single word longer than the chunk size is one [UNK].
	long := strings.Repeat("a", 10000)
	if ids, _ := tok.Encode("x "+long+" y", 0); len(ids) != 5 || ids[2] != tok.UnkID() {
		t.Errorf("10000-letter word: %v", ids)
	}
}
