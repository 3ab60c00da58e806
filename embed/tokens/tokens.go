// Package tokens counts and truncates text in OpenAI's cl100k_base encoding,
// the tokenizer of text-embedding-3-small, text-embedding-3-large and
// text-embedding-ada-002. The encoding's merge table is compiled into the
// binary (from github.com/pkoukk/tiktoken-go-loader), so nothing is
// downloaded at run time.
//
// The encoder is built once per process on first use (some tens of
// milliseconds) and shared; all functions are safe for concurrent use.
// Special tokens such as "<|endoftext|>" are encoded as ordinary text, as
// the embeddings API does.
package tokens

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// Encoding is the name of the encoding used by this package.
const Encoding = "cl100k_base"

var (
	once    sync.Once
	enc     *encoder
	initErr error
)

func load() (*encoder, error) {
	once.Do(func() {
		// The ranks are embedded in the binary (tiktoken-go-loader's
		// assets), so nothing is fetched at run time.
		ranks, err := loadRankTable(Encoding)
		if err == nil && ranks.len() < 100000 {
			err = fmt.Errorf("only %d ranks", ranks.len())
		}
		if err != nil {
			initErr = fmt.Errorf("tokens: loading the embedded %s encoding: %w", Encoding, err)
			return
		}
		enc = &encoder{ranks: ranks}
	})
	return enc, initErr
}

// Init builds the encoder now rather than on first use and reports whether
// the embedded encoding could be loaded. Callers that want a clean error
// instead of a panic from a corrupt build call it once at start-up.
func Init() error {
	_, err := load()
	return err
}

func mustLoad() *encoder {
	e, err := load()
	if err != nil {
		// The encoding is compiled into the binary: failing to load it
		// means the build itself is broken, not that the input is bad.
		panic(err)
	}
	return e
}

// Encode returns the cl100k_base token ids of text. Special tokens such as
// "<|endoftext|>" are encoded as ordinary text, as the embeddings API does.
func Encode(text string) []int {
	if text == "" {
		return nil
	}
	return mustLoad().encode(nil, text)
}

// Decode returns the text of a sequence of token ids.
func Decode(ids []int) string {
	if len(ids) == 0 {
		return ""
	}
	return mustLoad().decode(ids)
}

// Count returns the number of cl100k_base tokens in text.
func Count(text string) int {
	if text == "" {
		return 0
	}
	return mustLoad().count(text)
}

// Truncate cuts text to at most max tokens. It returns the (possibly
// shortened) text, its token count, and whether it was cut. A cut may fall
// inside a multi-byte character; the partial character is dropped so that
// the result is valid UTF-8 and never longer than max tokens.
func Truncate(text string, max int) (out string, n int, cut bool) {
	ids := Encode(text)
	if len(ids) <= max {
		return text, len(ids), false
	}
	if max <= 0 {
		return "", 0, len(ids) > 0
	}
	valid := utf8.ValidString(text)
	for k := max; k > 0; k-- {
		out = Decode(ids[:k])
		if valid && !utf8.ValidString(out) {
			// The cut split a multi-byte character: drop its partial bytes.
			continue
		}
		// BPE is not prefix-stable: re-encoding the cut text can, rarely,
		// take more tokens than the ids it came from. Check the real count.
		if n = Count(out); n <= max {
			return out, n, true
		}
	}
	return "", 0, true
}
