// Package hash is the "hash" embedder: a weights-free bag-of-words
// embedder that needs no model files and no network. Each text becomes a
// TF-IDF weighted bag of word unigrams and bigrams, folded into a fixed number
// of dimensions by signed feature hashing, and scaled to unit length.
//
// It captures lexical similarity only (shared words and word pairs), which is
// enough to group summaries of the same request; it does not know synonyms.
//
// Pipeline for one text:
//
//  1. Words: lower-cased runs of letters and digits (Unicode-aware);
//     apostrophes inside words are dropped ("user's" -> "users").
//  2. English stop words are removed (unless KeepStopWords), and a light
//     plural stemmer maps "requests" to "request" (unless NoStem).
//  3. Features: every remaining word, and every pair of adjacent remaining
//     words (unless NoBigrams).
//  4. Weight of a feature: (1 + ln tf) × idf, where tf is its count in the
//     text and idf = ln((1+N)/(1+df)) + 1 from the corpus given to Fit (N
//     texts, df of them containing the feature); idf = 1 before Fit.
//  5. Feature f adds ±weight to component hash(f) mod Dims, the sign taken
//     from another bit of the same 64-bit FNV-1a hash, so that collisions
//     cancel out on average instead of piling up.
//  6. The vector is L2-normalised. A text with no words gets the zero vector.
package hash

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/kura-go/kura/internal/parallel"

	"github.com/kura-go/kura/embed"
)

// Options configures the hash embedder. The zero value is the default.
type Options struct {
	Dims          int     // vector length; default 1024
	NoBigrams     bool    // use single words only
	KeepStopWords bool    // keep English stop words
	NoStem        bool    // do not strip plural endings
	BigramWeight  float64 // weight of a bigram relative to a word; default 1
}

// Embedder is the hash embedder. Fit must not run concurrently with Embed;
// Embed itself is safe for concurrent use.
type Embedder struct {
	o Options

	mu   sync.RWMutex
	df   map[uint64]uint32 // documents containing each feature, from Fit
	docs int               // texts seen by Fit

	inputs atomic.Int64
}

// DefaultDims is the vector length when Options.Dims is 0.
const DefaultDims = 1024

// New returns a hash embedder. Call Fit with the corpus to weight rare
// features up; without it all features weigh the same.
func New(o Options) *Embedder {
	if o.Dims <= 0 {
		o.Dims = DefaultDims
	}
	if o.BigramWeight <= 0 {
		o.BigramWeight = 1
	}
	return &Embedder{o: o}
}

// Name returns "hash".
func (e *Embedder) Name() string { return "hash" }

// Dims returns the vector length.
func (e *Embedder) Dims() int { return e.o.Dims }

// Usage reports the texts embedded; the hash embedder makes no requests and
// costs nothing.
func (e *Embedder) Usage() embed.Usage { return embed.Usage{Inputs: e.inputs.Load()} }

// Fitted reports how many texts the IDF weights were fitted on (0: not fitted).
func (e *Embedder) Fitted() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.docs
}

// Fit learns document frequencies from texts (typically the corpus about to
// be embedded), replacing any earlier fit.
func (e *Embedder) Fit(texts []string) {
	e.FitStream(func(yield func(string)) error {
		for _, t := range texts {
			yield(t)
		}
		return nil
	})
}

// FitStream is Fit over the texts that texts hands to yield, one at a
// time, so that a corpus larger than memory can be read from a file: it
// keeps the document frequencies, not the texts. If texts returns an
// error, the earlier fit is kept and the error returned.
func (e *Embedder) FitStream(texts func(yield func(string)) error) error {
	df := make(map[uint64]uint32)
	seen := make(map[uint64]struct{})
	docs := 0
	err := texts(func(t string) {
		clear(seen)
		e.features(t, func(h uint64, _ bool) { seen[h] = struct{}{} })
		for h := range seen {
			df[h]++
		}
		docs++
	})
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.df, e.docs = df, docs
	e.mu.Unlock()
	return nil
}

// Embed returns one vector per text, spreading large inputs over all cores.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	e.mu.RLock()
	defer e.mu.RUnlock()
	// Term-frequency scratch space is reused per worker.
	workers := runtime.GOMAXPROCS(0)
	scratch := make([]*termFreq, workers)
	err := parallel.For(ctx, len(texts), 64, workers, func(w, lo, hi int) {
		if scratch[w] == nil {
			scratch[w] = &termFreq{index: make(map[uint64]int32), acc: make([]float64, e.o.Dims)}
		}
		for i := lo; i < hi; i++ {
			out[i] = e.vector(texts[i], scratch[w])
		}
		embed.ReportProgress(ctx, hi-lo)
	})
	if err != nil {
		// Interrupted: the texts finished are a run from the first (For
		// claims chunks in order and finishes those it claimed).
		return out, err
	}
	e.inputs.Add(int64(len(texts)))
	return out, nil
}

type feature struct {
	h      uint64
	count  int
	bigram bool
}

// termFreq is one text's features, in the order of their first occurrence,
// and scratch space for its vector.
type termFreq struct {
	index map[uint64]int32 // a feature's place in feats
	feats []feature
	acc   []float64
}

// vector embeds one text. Its features are summed in the order they occur
// in it (not a map's), so that a text's vector is the same bits in every
// run. Callers hold e.mu.RLock.
func (e *Embedder) vector(text string, tf *termFreq) []float32 {
	clear(tf.index)
	tf.feats = tf.feats[:0]
	e.features(text, func(h uint64, bigram bool) {
		k, ok := tf.index[h]
		if !ok {
			k = int32(len(tf.feats))
			tf.index[h] = k
			tf.feats = append(tf.feats, feature{h: h})
		}
		tf.feats[k].count++
		tf.feats[k].bigram = bigram
	})
	v := make([]float32, e.o.Dims)
	if len(tf.feats) == 0 {
		return v
	}
	acc := tf.acc
	clear(acc)
	for _, f := range tf.feats {
		h := f.h
		w := 1 + math.Log(float64(f.count))
		if e.docs > 0 {
			w *= math.Log(float64(1+e.docs)/float64(1+e.df[h])) + 1
		}
		if f.bigram {
			w *= e.o.BigramWeight
		}
		i := int(h % uint64(e.o.Dims))
		if h>>63 == 1 {
			w = -w
		}
		acc[i] += w
	}
	var norm float64
	for _, x := range acc {
		norm += x * x
	}
	if norm == 0 { // every feature cancelled out: keep it the zero vector
		return v
	}
	inv := 1 / math.Sqrt(norm)
	for i, x := range acc {
		v[i] = float32(x * inv)
	}
	return v
}

// features calls emit with the hash of every word and bigram of text. A
// bigram's hash is the FNV-1a hash of "first second", computed by carrying
// on from the first word's hash.
func (e *Embedder) features(text string, emit func(h uint64, bigram bool)) {
	var prev uint64
	havePrev := false
	var buf [64]byte
	forEachWord(text, buf[:0], func(w []byte) {
		if !e.o.KeepStopWords && stopWords[string(w)] { // no allocation: map index by converted bytes
			return
		}
		if !e.o.NoStem {
			w = stem(w)
		}
		h := hashBytes(offset64, w)
		emit(h, false)
		if !e.o.NoBigrams && havePrev {
			emit(hashBytes(hashByte(prev, ' '), w), true)
		}
		prev, havePrev = h, true
	})
}

// forEachWord calls f with every lower-cased run of letters and digits,
// built in buf (f must not keep it). Apostrophes between letters are
// skipped so "user's" is one word.
func forEachWord(text string, buf []byte, f func([]byte)) {
	w := buf[:0]
	for i, r := range text {
		switch {
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || '0' <= r && r <= '9'):
			w = append(w, byte(r))
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			w = append(w, byte(r)+'a'-'A')
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			w = utf8.AppendRune(w, unicode.ToLower(r))
		case (r == '\'' || r == '’') && len(w) > 0 && nextIsLetter(text[i+utf8.RuneLen(r):]):
			// inside a word: drop the apostrophe
		default:
			if len(w) > 0 {
				f(w)
				w = w[:0]
			}
		}
	}
	if len(w) > 0 {
		f(w)
	}
}

func nextIsLetter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r)
}

// stem strips common English plural endings from words of four letters or
// more: "queries" -> "query", "boxes" -> "box", "requests" -> "request". It
// leaves "ss", "us" and "is" endings alone ("class", "status", "analysis").
// It may rewrite w in place.
func stem(w []byte) []byte {
	n := len(w)
	if n < 4 || w[n-1] != 's' {
		return w
	}
	switch {
	case hasSuffix(w, "ies") && n > 4:
		return append(w[:n-3], 'y')
	case hasSuffix(w, "sses"), hasSuffix(w, "xes"), hasSuffix(w, "ches"), hasSuffix(w, "shes"):
		return w[:n-2]
	case hasSuffix(w, "ss"), hasSuffix(w, "us"), hasSuffix(w, "is"):
		return w
	}
	return w[:n-1]
}

func hasSuffix(w []byte, suf string) bool {
	return len(w) >= len(suf) && string(w[len(w)-len(suf):]) == suf
}

const (
	offset64 = 14695981039346656037
	prime64  = 1099511628211
)

func hashBytes(h uint64, s []byte) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime64
	}
	return h
}

func hashByte(h uint64, c byte) uint64 {
	h ^= uint64(c)
	return h * prime64
}

// Terms calls f with every term of text as the hash embedder sees it:
// lower-cased words of letters and digits, English stop words removed, plural
// endings stemmed ("requests" -> "request"). Other packages use it to count
// words the same way (keyword names of clusters, for one).
func Terms(text string, f func(term string)) {
	var buf [64]byte
	forEachWord(text, buf[:0], func(w []byte) {
		if stopWords[string(w)] {
			return
		}
		f(string(stem(w)))
	})
}

// IsStopWord reports whether a lower-cased word is one of the English stop
// words the hash embedder ignores.
func IsStopWord(w string) bool { return stopWords[w] }
