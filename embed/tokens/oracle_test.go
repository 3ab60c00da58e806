package tokens

import (
	"bufio"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	tiktoken "github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"

	"github.com/kura-go/kura/internal/refdata"
)

// oracle is tiktoken-go's cl100k_base, which runs the encoding's regular
// expression through a backtracking engine: the reference this package's
// hand-written pre-tokenizer must agree with, token for token.
func oracle(t testing.TB) *tiktoken.Tiktoken {
	tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	tk, err := tiktoken.GetEncoding(Encoding)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func checkSame(t *testing.T, tk *tiktoken.Tiktoken, s string) bool {
	t.Helper()
	want := tk.EncodeOrdinary(s)
	got := Encode(s)
	if len(want) == 0 {
		want = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Encode(%q)\n got %v\nwant %v (tiktoken-go)", s, got, want)
		return false
	}
	if n := Count(s); n != len(want) {
		t.Errorf("Count(%q) = %d, want %d", s, n, len(want))
		return false
	}
	return true
}

// TestMatchesTiktokenEdgeCases covers every branch of the pre-tokenizer:
// contractions in both cases, letters after punctuation and spaces, digit
// groups, punctuation runs with trailing newlines, and each way a run of
// white space splits.
func TestMatchesTiktokenEdgeCases(t *testing.T) {
	tk := oracle(t)
	cases := []string{
		"", "a", " ", "  ", "\n", "\r\n", " \n ", "\n\n\n", "a  b", "a \n b", "a\t\tb", "x   ", "   x",
		"it's", "IT'S", "we're", "WE'RE", "I've", "I'M", "you'll", "YOU'LL", "he'd", "'s", "'", "''", "'x", "'re'",
		"don't stop", "rock'n'roll", "l'été", "'Ll", "'lL",
		"hello world", "Hello, World!", "$100.50", "1234567", "12 345", "x1y2", "٣٤٥٦", "½¾", "Ⅻ",
		"...", "!!!\n\n", " !!\r\n", "a.b,c;d", "(a)", " (", "--flag=value", "e-mail", "#hashtag", "@user",
		"naïve café", "日本語のテキスト", "Привет, мир!", "مرحبا بالعالم", "🙂🙂 emoji 👍🏽", "a\u00a0b", "a\u2003\u2003b",
		"tab\there", "line1\nline2\r\nline3", "trailing space ", "trailing newline\n", " \t\n\t x",
		"<|endoftext|>", "<|fim_prefix|>x", "\x00\x01\x7f", "a\u0085b", "\u3000\u3000x",
		"Ünïcödé ÅÄÖ åäö", "ﬁne", "K\u212a", "ǅungla", "x\u0301y",
		strings.Repeat("a", 300), strings.Repeat(" ", 300) + "x", strings.Repeat("ab", 500), strings.Repeat("🙂", 50),
	}
	for _, s := range cases {
		checkSame(t, tk, s)
	}
}

// TestMatchesTiktokenRandom compares on random strings drawn from an
// alphabet rich in the characters the pre-tokenizer treats specially.
func TestMatchesTiktokenRandom(t *testing.T) {
	tk := oracle(t)
	alphabet := []rune("aZs tTrReEvVmMlLdD'’ \t\n\r0123456789.,!?-_()[]{}\"/\\|@#$%^&*+=<>~`éßñ日本語🙂Д\u00a0\u2003\u3000٣½\u0301")
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	failures := 0
	for i := 0; i < n && failures < 5; i++ {
		b := make([]rune, r.IntN(40))
		for k := range b {
			b[k] = alphabet[r.IntN(len(alphabet))]
		}
		if !checkSame(t, tk, string(b)) {
			failures++
		}
	}
}

// TestLongPieces: pieces longer than longPiece take the priority-queue merge,
// which must join exactly as the rescanning one does.
func TestLongPieces(t *testing.T) {
	tk := oracle(t)
	r := rand.New(rand.NewPCG(5, 6))
	letters := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	enc, _ := load()
	for _, n := range []int{longPiece + 1, 200, 1000, 3000} {
		for k := 0; k < 5; k++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = letters[r.IntN(len(letters))]
			}
			s := string(b)
			if k == 4 {
				s = strings.Repeat("ab", n/2) // many equal-rank ties
			}
			checkSame(t, tk, s)
			// Also against the rescanning merge directly.
			short := mergeQuadratic(enc, s)
			if long := enc.mergeLong(nil, s); !reflect.DeepEqual(long, short) {
				t.Fatalf("mergeLong differs from the quadratic merge on %d bytes", n)
			}
		}
	}
}

// mergeQuadratic runs the rescanning merge whatever the piece length.
func mergeQuadratic(e *encoder, piece string) []int {
	bounds := make([]int, 0, len(piece)+1)
	for k := 0; k <= len(piece); k++ {
		bounds = append(bounds, k)
	}
	for {
		best, bestRank := -1, math.MaxInt
		for k := 0; k+2 < len(bounds); k++ {
			if r, ok := e.ranks.get(piece[bounds[k]:bounds[k+2]]); ok && r < bestRank {
				best, bestRank = k, r
			}
		}
		if best < 0 {
			break
		}
		bounds = append(bounds[:best+1], bounds[best+2:]...)
	}
	var out []int
	for k := 0; k+1 < len(bounds); k++ {
		out = append(out, e.rank(piece[bounds[k]:bounds[k+1]]))
	}
	return out
}

// BenchmarkCountLongPiece: a 100 kB run of letters (a base64 blob, say).
func BenchmarkCountLongPiece(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	buf := make([]byte, 100_000)
	for i := range buf {
		buf[i] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[r.IntN(52)]
	}
	s := string(buf)
	Count("warm up")
	for b.Loop() {
		sink += Count(s)
	}
}

// TestMatchesTiktokenInvalidUTF8: invalid bytes count as U+FFFD each, as in
// tiktoken-go (which converts the text to runes).
func TestMatchesTiktokenInvalidUTF8(t *testing.T) {
	tk := oracle(t)
	for _, s := range []string{"\xff", "a\xffb", "\xc3", "abc\xe6\x97", "\xff\xfe\xfd x"} {
		checkSame(t, tk, s)
	}
}

// TestMatchesTiktokenOnKuraData compares on every message and summary of the
// MT-Bench Kura checkpoint (real chat text: code, math, many languages).
func TestMatchesTiktokenOnKuraData(t *testing.T) {
	dir := refdata.Path(t, "data/kura-mtbench")
	tk := oracle(t)
	var texts []string
	for _, name := range []string{"conversations.jsonl", "summaries.jsonl"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<26)
		for sc.Scan() {
			var rec struct {
				Summary  string `json:"summary"`
				Messages []struct {
					Content string `json:"content"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Summary != "" {
				texts = append(texts, rec.Summary)
			}
			for _, m := range rec.Messages {
				texts = append(texts, m.Content)
			}
		}
		f.Close()
	}
	if testing.Short() {
		texts = texts[:200]
	}
	failures, total := 0, 0
	for _, s := range texts {
		if !checkSame(t, tk, s) {
			if failures++; failures >= 5 {
				break
			}
		}
		total += Count(s)
	}
	t.Logf("%d texts, %d tokens: identical to tiktoken-go", len(texts), total)
}
