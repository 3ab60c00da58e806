// Package wordpiece is a BERT WordPiece tokenizer that produces the same ids as
// Hugging Face's BertTokenizerFast (the Rust "tokenizers" library that
// sentence-transformers runs): BertNormalizer, BertPreTokenizer, greedy
// longest-match WordPiece with a "##" continuation prefix, added special tokens
// matched in the raw text, and [CLS] … [SEP] with truncation to a maximum
// sequence length.
//
// A Tokenizer is safe for concurrent use; Encode keeps no state between calls.
package wordpiece

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/rangetable"
)

// Options configures the normalizer and the WordPiece model. The zero value
// is not useful: start from DefaultOptions (bert-base-uncased behaviour).
type Options struct {
	// CleanText removes control and format characters, U+0000 and U+FFFD, and
	// turns whitespace into plain spaces.
	CleanText bool
	// HandleChineseChars puts spaces around CJK ideographs, so each becomes a word.
	HandleChineseChars bool
	// Lowercase lowercases character by character (no context rules: Σ → σ).
	Lowercase bool
	// StripAccents decomposes to NFD and drops non-spacing marks. Nil means
	// "same as Lowercase", as in BertNormalizer.
	StripAccents *bool
	// MaxInputCharsPerWord: longer words become a single unknown token (100).
	MaxInputCharsPerWord int
	// ContinuingSubwordPrefix marks word pieces that continue a word ("##").
	ContinuingSubwordPrefix string
	// Special token strings.
	UnkToken, ClsToken, SepToken, PadToken, MaskToken string
}

// DefaultOptions returns the options of bert-base-uncased and
// all-MiniLM-L6-v2.
func DefaultOptions() Options {
	return Options{
		CleanText:               true,
		HandleChineseChars:      true,
		Lowercase:               true,
		MaxInputCharsPerWord:    100,
		ContinuingSubwordPrefix: "##",
		UnkToken:                "[UNK]",
		ClsToken:                "[CLS]",
		SepToken:                "[SEP]",
		PadToken:                "[PAD]",
		MaskToken:               "[MASK]",
	}
}

// Tokenizer turns text into BERT token ids.
type Tokenizer struct {
	opts         Options
	stripAccents bool
	vocab        map[string]int32
	tokens       []string // id -> token ("" for ids with no token)
	added        []addedToken
	unk, cls     int32
	sep, pad     int32
	pool         sync.Pool // *scratch
}

type addedToken struct {
	content string
	id      int32
}

// scratch holds per-call buffers so that Encode does not allocate per token.
type scratch struct {
	norm  []byte
	nfd   []byte
	piece []byte
}

// New builds a tokenizer from vocab, where vocab[i] is the token with id i.
// The special tokens named in opts must be in the vocabulary. added lists
// tokens matched verbatim in the raw text before normalisation (the
// "added_tokens" of tokenizer.json); nil means the special tokens of opts.
func New(vocab []string, opts Options, added []string) (*Tokenizer, error) {
	m := make(map[string]int32, len(vocab))
	for i, tok := range vocab {
		if tok == "" {
			continue
		}
		if _, dup := m[tok]; !dup {
			m[tok] = int32(i)
		}
	}
	return newTokenizer(m, opts, added)
}

func newTokenizer(m map[string]int32, opts Options, added []string) (*Tokenizer, error) {
	if opts.MaxInputCharsPerWord <= 0 {
		opts.MaxInputCharsPerWord = 100
	}
	t := &Tokenizer{opts: opts, vocab: m}
	t.stripAccents = opts.Lowercase
	if opts.StripAccents != nil {
		t.stripAccents = *opts.StripAccents
	}
	maxID := int32(-1)
	for _, id := range m {
		maxID = max(maxID, id)
	}
	t.tokens = make([]string, maxID+1)
	for tok, id := range m {
		t.tokens[id] = tok
	}
	var err error
	lookup := func(name, tok string) int32 {
		id, ok := m[tok]
		if !ok && err == nil {
			err = fmt.Errorf("wordpiece: %s token %q is not in the vocabulary", name, tok)
		}
		return id
	}
	t.unk = lookup("unknown", opts.UnkToken)
	t.cls = lookup("CLS", opts.ClsToken)
	t.sep = lookup("SEP", opts.SepToken)
	t.pad = lookup("PAD", opts.PadToken)
	if err != nil {
		return nil, err
	}
	if added == nil {
		added = []string{opts.PadToken, opts.UnkToken, opts.ClsToken, opts.SepToken, opts.MaskToken}
	}
	for _, a := range added {
		if a == "" {
			continue
		}
		id, ok := m[a]
		if !ok {
			return nil, fmt.Errorf("wordpiece: added token %q is not in the vocabulary", a)
		}
		t.added = append(t.added, addedToken{a, id})
	}
	// Longest first, so that matching at a position picks the longest token.
	sort.SliceStable(t.added, func(i, j int) bool { return len(t.added[i].content) > len(t.added[j].content) })
	t.pool.New = func() any { return &scratch{} }
	return t, nil
}

// Load reads a tokenizer from a model folder: tokenizer.json when present,
// else vocab.txt (with tokenizer_config.json for do_lower_case and
// strip_accents, when present).
func Load(dir string) (*Tokenizer, error) {
	tj := filepath.Join(dir, "tokenizer.json")
	if _, err := os.Stat(tj); err == nil {
		return LoadTokenizerJSON(tj)
	}
	vt := filepath.Join(dir, "vocab.txt")
	if _, err := os.Stat(vt); err != nil {
		return nil, fmt.Errorf("wordpiece: %s has neither tokenizer.json nor vocab.txt", dir)
	}
	opts := DefaultOptions()
	if err := applyTokenizerConfig(filepath.Join(dir, "tokenizer_config.json"), &opts); err != nil {
		return nil, err
	}
	return LoadVocabTxt(vt, opts)
}

// LoadVocabTxt reads a vocab.txt file (line i+1 is the token with id i).
func LoadVocabTxt(path string, opts Options) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wordpiece: %w", err)
	}
	defer f.Close()
	var vocab []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		vocab = append(vocab, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("wordpiece: %s:%d: %w", path, len(vocab)+1, err)
	}
	if len(vocab) == 0 {
		return nil, fmt.Errorf("wordpiece: %s: empty vocabulary", path)
	}
	t, err := New(vocab, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// applyTokenizerConfig reads do_lower_case, strip_accents and
// tokenize_chinese_chars from a tokenizer_config.json, if the file exists.
func applyTokenizerConfig(path string, opts *Options) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wordpiece: %w", err)
	}
	var c struct {
		DoLowerCase          *bool   `json:"do_lower_case"`
		StripAccents         *bool   `json:"strip_accents"`
		TokenizeChineseChars *bool   `json:"tokenize_chinese_chars"`
		UnkToken             *string `json:"unk_token"`
		SepToken             *string `json:"sep_token"`
		PadToken             *string `json:"pad_token"`
		ClsToken             *string `json:"cls_token"`
		MaskToken            *string `json:"mask_token"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("wordpiece: %s: %w", path, err)
	}
	if c.DoLowerCase != nil {
		opts.Lowercase = *c.DoLowerCase
	}
	opts.StripAccents = c.StripAccents
	if c.TokenizeChineseChars != nil {
		opts.HandleChineseChars = *c.TokenizeChineseChars
	}
	setIf := func(dst *string, v *string) {
		if v != nil && *v != "" {
			*dst = *v
		}
	}
	setIf(&opts.UnkToken, c.UnkToken)
	setIf(&opts.SepToken, c.SepToken)
	setIf(&opts.PadToken, c.PadToken)
	setIf(&opts.ClsToken, c.ClsToken)
	setIf(&opts.MaskToken, c.MaskToken)
	return nil
}

// LoadTokenizerJSON reads a Hugging Face tokenizer.json with a BertNormalizer
// (or none), a BertPreTokenizer and a WordPiece model. Its truncation and
// padding blocks are ignored: the caller passes the maximum length to Encode
// (sentence-transformers takes it from sentence_bert_config.json).
func LoadTokenizerJSON(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wordpiece: %w", err)
	}
	var tj struct {
		AddedTokens []struct {
			ID      int32  `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
		Normalizer *struct {
			Type               string `json:"type"`
			CleanText          *bool  `json:"clean_text"`
			HandleChineseChars *bool  `json:"handle_chinese_chars"`
			StripAccents       *bool  `json:"strip_accents"`
			Lowercase          *bool  `json:"lowercase"`
		} `json:"normalizer"`
		PreTokenizer *struct {
			Type string `json:"type"`
		} `json:"pre_tokenizer"`
		Model struct {
			Type                    string           `json:"type"`
			UnkToken                string           `json:"unk_token"`
			ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
			MaxInputCharsPerWord    int              `json:"max_input_chars_per_word"`
			Vocab                   map[string]int32 `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &tj); err != nil {
		return nil, fmt.Errorf("wordpiece: %s: %w", path, err)
	}
	if tj.Model.Type != "WordPiece" {
		return nil, fmt.Errorf("wordpiece: %s: field model.type: %q is not supported (want WordPiece)", path, tj.Model.Type)
	}
	if len(tj.Model.Vocab) == 0 {
		return nil, fmt.Errorf("wordpiece: %s: field model.vocab: empty vocabulary", path)
	}
	if tj.PreTokenizer != nil && tj.PreTokenizer.Type != "BertPreTokenizer" {
		return nil, fmt.Errorf("wordpiece: %s: field pre_tokenizer.type: %q is not supported (want BertPreTokenizer)", path, tj.PreTokenizer.Type)
	}
	opts := DefaultOptions()
	if n := tj.Normalizer; n != nil {
		if n.Type != "BertNormalizer" {
			return nil, fmt.Errorf("wordpiece: %s: field normalizer.type: %q is not supported (want BertNormalizer)", path, n.Type)
		}
		if n.CleanText != nil {
			opts.CleanText = *n.CleanText
		}
		if n.HandleChineseChars != nil {
			opts.HandleChineseChars = *n.HandleChineseChars
		}
		if n.Lowercase != nil {
			opts.Lowercase = *n.Lowercase
		}
		opts.StripAccents = n.StripAccents
	} else {
		opts.CleanText, opts.HandleChineseChars, opts.Lowercase = false, false, false
		f := false
		opts.StripAccents = &f
	}
	if tj.Model.UnkToken != "" {
		opts.UnkToken = tj.Model.UnkToken
	}
	if p := tj.Model.ContinuingSubwordPrefix; p != nil {
		opts.ContinuingSubwordPrefix = *p
	}
	if tj.Model.MaxInputCharsPerWord > 0 {
		opts.MaxInputCharsPerWord = tj.Model.MaxInputCharsPerWord
	}
	m := tj.Model.Vocab
	added := []string{}
	for _, a := range tj.AddedTokens {
		if cur, ok := m[a.Content]; ok && cur != a.ID {
			return nil, fmt.Errorf("wordpiece: %s: added token %q has id %d but the vocabulary says %d", path, a.Content, a.ID, cur)
		}
		m[a.Content] = a.ID
		added = append(added, a.Content)
	}
	t, err := newTokenizer(m, opts, added)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// VocabSize returns one more than the largest token id.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// Token returns the string of token id, or "" when id is out of range.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// ID returns the id of token and whether it is in the vocabulary.
func (t *Tokenizer) ID(token string) (int32, bool) {
	id, ok := t.vocab[token]
	return id, ok
}

// PadID, ClsID, SepID and UnkID return the special token ids.
func (t *Tokenizer) PadID() int32 { return t.pad }

// ClsID returns the id of the classification token that starts a sequence.
func (t *Tokenizer) ClsID() int32 { return t.cls }

// SepID returns the id of the separator token that ends a sequence.
func (t *Tokenizer) SepID() int32 { return t.sep }

// UnkID returns the id of the unknown token.
func (t *Tokenizer) UnkID() int32 { return t.unk }

// Encode returns [CLS] + word pieces + [SEP] for text, keeping at most maxLen
// ids in all (the first maxLen-2 word pieces); maxLen <= 0 means no limit.
// n is the number of ids before truncation, [CLS] and [SEP] included.
func (t *Tokenizer) Encode(text string, maxLen int) (ids []int32, n int) {
	return t.AppendEncode(nil, text, maxLen)
}

// AppendEncode is Encode appending to dst, for callers that reuse buffers.
func (t *Tokenizer) AppendEncode(dst []int32, text string, maxLen int) (ids []int32, n int) {
	ids, n, _ = t.encode(dst, text, maxLen, false)
	return ids, n
}

// AppendEncodeTruncated is AppendEncode for callers that only need to know
// whether text was truncated: it gives the same ids but stops reading text
// as soon as it holds more than maxLen-2 word pieces, so a huge text costs
// no more than its first few thousand characters.
func (t *Tokenizer) AppendEncodeTruncated(dst []int32, text string, maxLen int) (ids []int32, truncated bool) {
	ids, _, truncated = t.encode(dst, text, maxLen, true)
	return ids, truncated
}

func (t *Tokenizer) encode(dst []int32, text string, maxLen int, early bool) (ids []int32, n int, truncated bool) {
	dst = append(dst, t.cls)
	limit := -1
	if maxLen > 0 {
		limit = max(maxLen-2, 0)
	}
	s := t.pool.Get().(*scratch)
	count := 0
	emit := func(id int32) {
		count++
		if limit < 0 || count <= limit {
			dst = append(dst, id)
		}
	}
	stop := func() bool { return early && limit >= 0 && count > limit }
	// Split the raw text on added tokens, which are matched before normalisation.
	rest := text
	for len(rest) > 0 && !stop() {
		pos, tok := t.findAdded(rest)
		if pos < 0 {
			t.encodeSegment(s, rest, emit, stop)
			break
		}
		t.encodeSegment(s, rest[:pos], emit, stop)
		if !stop() {
			emit(tok.id)
		}
		rest = rest[pos+len(tok.content):]
	}
	t.pool.Put(s)
	dst = append(dst, t.sep)
	return dst, count + 2, limit >= 0 && count > limit
}

// findAdded returns the byte position and token of the leftmost added token in
// s (the longest one when several start there), or -1.
func (t *Tokenizer) findAdded(s string) (int, addedToken) {
	best, bestTok := -1, addedToken{}
	for _, a := range t.added {
		if i := strings.Index(s, a.content); i >= 0 && (best < 0 || i < best) {
			best, bestTok = i, a
		}
	}
	return best, bestTok
}

// unicode9 holds the code points assigned in Unicode 9.0. The Rust tokenizers
// library classifies characters with the unicode_categories crate, whose tables
// are from Unicode 9.0, so every code point unassigned there is "other" (Cn)
// and removed by clean_text, even if later versions assigned it.
var unicode9 = rangetable.Assigned("9.0.0")

// isRemoved reports whether clean_text drops r: U+0000, U+FFFD, and "other"
// characters (Cc, Cf, Co, Cs, Cn) except tab, newline and carriage return.
func isRemoved(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	case 0, 0xFFFD:
		return true
	}
	if r < 0x80 {
		return r < 0x20 || r == 0x7f
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) || !unicode.Is(unicode9, r)
}

// isSpace is Rust's char::is_whitespace (the Unicode White_Space property).
func isSpace(r rune) bool {
	if r < 0x80 {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.Is(unicode.White_Space, r)
}

// isPunct is BertPreTokenizer's punctuation: ASCII punctuation or Unicode P*.
func isPunct(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return unicode.IsPunct(r)
}

// isChinese reports whether r is in the CJK ideograph blocks that
// BertNormalizer surrounds with spaces.
func isChinese(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF, r >= 0x3400 && r <= 0x4DBF,
		r >= 0x20000 && r <= 0x2A6DF, r >= 0x2A700 && r <= 0x2B73F,
		r >= 0x2B740 && r <= 0x2B81F, r >= 0x2B920 && r <= 0x2CEAF,
		r >= 0xF900 && r <= 0xFAFF, r >= 0x2F800 && r <= 0x2FA1F:
		return true
	}
	return false
}

// normalize applies BertNormalizer to seg, leaving the result in s.norm.
func (t *Tokenizer) normalize(s *scratch, seg string) []byte {
	out := s.norm[:0]
	ascii := true
	for _, r := range seg {
		if t.opts.CleanText {
			if isRemoved(r) {
				continue
			}
			if isSpace(r) {
				r = ' '
			}
		}
		if t.opts.HandleChineseChars && isChinese(r) {
			out = append(out, ' ')
			out = utf8.AppendRune(out, r)
			out = append(out, ' ')
			ascii = false
			continue
		}
		if r >= 0x80 {
			ascii = false
		}
		out = utf8.AppendRune(out, r)
	}
	if t.stripAccents && !ascii {
		s.nfd = norm.NFD.Append(s.nfd[:0], out...)
		out = out[:0]
		for i := 0; i < len(s.nfd); {
			r, size := utf8.DecodeRune(s.nfd[i:])
			i += size
			if !unicode.Is(unicode.Mn, r) {
				out = utf8.AppendRune(out, r)
			}
		}
	}
	if t.opts.Lowercase {
		if ascii {
			for i, c := range out {
				if c >= 'A' && c <= 'Z' {
					out[i] = c + 'a' - 'A'
				}
			}
		} else {
			s.nfd = append(s.nfd[:0], out...)
			out = out[:0]
			for i := 0; i < len(s.nfd); {
				r, size := utf8.DecodeRune(s.nfd[i:])
				i += size
				out = appendLower(out, r)
			}
		}
	}
	s.norm = out
	return out
}

// appendLower appends Rust's char::to_lowercase of r: the full (but
// context-free) lowercase mapping. Only U+0130 lowercases to two characters.
func appendLower(dst []byte, r rune) []byte {
	if r == 0x130 {
		return append(dst, "i\u0307"...)
	}
	return utf8.AppendRune(dst, unicode.ToLower(r))
}

// encodeSegment normalises, pre-tokenises and word-pieces a segment of text
// that holds no added token, passing each id to emit.
//
// Long segments are processed in pieces of about 4 KB cut just before an
// ASCII whitespace character, which is a word boundary that normalisation
// leaves alone (it is a starter that NFD neither decomposes nor reorders
// across), so the result is the same; stop is checked between pieces.
func (t *Tokenizer) encodeSegment(s *scratch, seg string, emit func(int32), stop func() bool) {
	const chunk = 4096
	for len(seg) > chunk && !stop() {
		cut := strings.LastIndexAny(seg[:chunk], " \t\n\r")
		if cut <= 0 {
			next := strings.IndexAny(seg[chunk:], " \t\n\r")
			if next < 0 {
				break
			}
			cut = chunk + next
		}
		t.encodeChunk(s, seg[:cut], emit)
		seg = seg[cut:]
	}
	if !stop() {
		t.encodeChunk(s, seg, emit)
	}
}

// encodeChunk normalises, pre-tokenises and word-pieces text that holds no
// added token and does not split a word.
func (t *Tokenizer) encodeChunk(s *scratch, seg string, emit func(int32)) {
	if seg == "" {
		return
	}
	text := t.normalize(s, seg)
	wordStart := -1
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		switch {
		case isSpace(r):
			if wordStart >= 0 {
				t.wordPiece(s, text[wordStart:i], emit)
				wordStart = -1
			}
		case isPunct(r):
			if wordStart >= 0 {
				t.wordPiece(s, text[wordStart:i], emit)
				wordStart = -1
			}
			t.wordPiece(s, text[i:i+size], emit)
		default:
			if wordStart < 0 {
				wordStart = i
			}
		}
		i += size
	}
	if wordStart >= 0 {
		t.wordPiece(s, text[wordStart:], emit)
	}
}

// wordPiece splits word greedily into the longest pieces in the vocabulary,
// continuation pieces carrying the prefix; a word that cannot be split, or
// is longer than MaxInputCharsPerWord characters, is one unknown token.
func (t *Tokenizer) wordPiece(s *scratch, word []byte, emit func(int32)) {
	if utf8.RuneCount(word) > t.opts.MaxInputCharsPerWord {
		emit(t.unk)
		return
	}
	// Fast path: the whole word is a token.
	if id, ok := t.vocab[string(word)]; ok {
		emit(id)
		return
	}
	// First pass: check that the word splits completely, recording piece ends.
	var ids [32]int32
	found := ids[:0]
	start := 0
	prefix := t.opts.ContinuingSubwordPrefix
	for start < len(word) {
		end := len(word)
		matched := false
		for end > start {
			var id int32
			var ok bool
			if start == 0 {
				id, ok = t.vocab[string(word[:end])]
			} else {
				s.piece = append(append(s.piece[:0], prefix...), word[start:end]...)
				id, ok = t.vocab[string(s.piece)]
			}
			if ok {
				found = append(found, id)
				matched = true
				break
			}
			// Step back one character.
			_, size := utf8.DecodeLastRune(word[start:end])
			end -= size
		}
		if !matched {
			emit(t.unk)
			return
		}
		start = end
	}
	for _, id := range found {
		emit(id)
	}
}
