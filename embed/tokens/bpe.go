package tokens

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// This file is a self-contained cl100k_base encoder: a hand-written
// pre-tokenizer that splits text exactly as cl100k_base's regular expression
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// does (alternatives tried in order at each position, with the regex's
// backtracking worked out by hand), followed by byte-pair merging of each
// piece with the encoding's ranks. It is an order of magnitude faster than
// running the regular expression through a backtracking engine, and a
// differential test checks it token for token against tiktoken-go.

// encoder holds the merge ranks of an encoding.
type encoder struct {
	ranks *rankTable
}

// rank returns the rank of a piece known to be a token.
func (e *encoder) rank(s string) int {
	r, _ := e.ranks.get(s)
	return r
}

// encode appends the token ids of text to dst.
func (e *encoder) encode(dst []int, text string) []int {
	if !utf8.ValidString(text) {
		text = replaceInvalid(text)
	}
	for i := 0; i < len(text); {
		j := nextPiece(text, i)
		piece := text[i:j]
		if id, ok := e.ranks.get(piece); ok {
			dst = append(dst, id)
		} else {
			dst = e.merge(dst, piece)
		}
		i = j
	}
	return dst
}

// count returns the number of tokens of text without building the ids.
func (e *encoder) count(text string) int {
	if !utf8.ValidString(text) {
		text = replaceInvalid(text)
	}
	n := 0
	var scratch [64]int
	for i := 0; i < len(text); {
		j := nextPiece(text, i)
		piece := text[i:j]
		if _, ok := e.ranks.get(piece); ok {
			n++
		} else {
			n += len(e.merge(scratch[:0], piece))
		}
		i = j
	}
	return n
}

func (e *encoder) decode(ids []int) string {
	n := 0
	for _, id := range ids {
		if id >= 0 && id < e.ranks.len() {
			n += len(e.ranks.token(id))
		}
	}
	b := make([]byte, 0, n)
	for _, id := range ids {
		if id >= 0 && id < e.ranks.len() {
			b = append(b, e.ranks.token(id)...)
		}
	}
	return string(b)
}

// merge byte-pair encodes a piece that is not itself a token: starting
// from single bytes, it repeatedly joins the adjacent pair whose union has
// the lowest rank (the leftmost on ties) until no adjacent union is a token.
func (e *encoder) merge(dst []int, piece string) []int {
	const none = math.MaxInt
	n := len(piece)
	if n == 1 {
		return append(dst, e.rank(piece))
	}
	if n > longPiece {
		return e.mergeLong(dst, piece)
	}
	// bounds[k] is the start of part k; bounds[len-1] == n.
	var bbuf [65]int
	var rbuf [64]int
	bounds, ranks := bbuf[:0], rbuf[:0]
	if n+1 > len(bbuf) {
		bounds, ranks = make([]int, 0, n+1), make([]int, 0, n)
	}
	for k := 0; k <= n; k++ {
		bounds = append(bounds, k)
	}
	// ranks[k] is the rank of parts k and k+1 joined.
	pairRank := func(k int) int {
		if k+2 >= len(bounds) {
			return none
		}
		if r, ok := e.ranks.get(piece[bounds[k]:bounds[k+2]]); ok {
			return r
		}
		return none
	}
	for k := 0; k < n-1; k++ {
		ranks = append(ranks, pairRank(k))
	}
	for len(ranks) > 0 {
		best, bestRank := -1, none
		for k, r := range ranks {
			if r < bestRank {
				best, bestRank = k, r
			}
		}
		if best < 0 {
			break
		}
		// Join parts best and best+1: drop the boundary between them.
		bounds = append(bounds[:best+1], bounds[best+2:]...)
		ranks = append(ranks[:best], ranks[best+1:]...)
		if best < len(ranks) {
			ranks[best] = pairRank(best)
		}
		if best > 0 {
			ranks[best-1] = pairRank(best - 1)
		}
	}
	for k := 0; k+1 < len(bounds); k++ {
		dst = append(dst, e.rank(piece[bounds[k]:bounds[k+1]]))
	}
	return dst
}

// longPiece is the length above which merge switches from rescanning all
// pairs after each join (quadratic, fastest for the short pieces of normal
// text) to a priority queue (n log n, for long runs such as base64 blobs or
// minified code, which would otherwise take seconds).
const longPiece = 128

type pairEntry struct {
	rank, start, ver int32
}

// mergeLong is merge with a binary heap of candidate pairs ordered by rank
// then position, so it joins the same pairs in the same order. Its tables
// use 32-bit indices (a piece is far below 2 GiB) to keep memory per input
// byte low for very long pieces.
func (e *encoder) mergeLong(dst []int, piece string) []int {
	n := int32(len(piece))
	next := make([]int32, n+1) // next[s]: start of the part after the one at s (n: end)
	prev := make([]int32, n+1)
	ver := make([]int32, n+1)
	alive := make([]bool, n+1)
	for s := int32(0); s <= n; s++ {
		next[s], prev[s], alive[s] = s+1, s-1, true
	}
	h := make([]pairEntry, 0, n)
	less := func(a, b pairEntry) bool { return a.rank < b.rank || a.rank == b.rank && a.start < b.start }
	push := func(x pairEntry) {
		h = append(h, x)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !less(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	pop := func() pairEntry {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && less(h[l], h[m]) {
				m = l
			}
			if r < len(h) && less(h[r], h[m]) {
				m = r
			}
			if m == i {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
		return top
	}
	// candidate queues the pair of the part at s and the part after it.
	candidate := func(s int32) {
		if s < 0 || s >= n || next[s] >= n {
			return
		}
		ver[s]++
		if r, ok := e.ranks.get(piece[s:next[next[s]]]); ok {
			push(pairEntry{rank: int32(r), start: s, ver: ver[s]})
		}
	}
	for s := int32(0); s < n-1; s++ {
		candidate(s)
	}
	for len(h) > 0 {
		x := pop()
		if !alive[x.start] || x.ver != ver[x.start] {
			continue // stale: a neighbour changed since this pair was queued
		}
		s := x.start
		t := next[s]
		alive[t] = false
		next[s] = next[t]
		prev[next[t]] = s
		candidate(s)
		candidate(prev[s])
	}
	for s := int32(0); s < n; s = next[s] {
		dst = append(dst, e.rank(piece[s:next[s]]))
	}
	return dst
}

// replaceInvalid replaces every byte that is not part of a valid UTF-8
// sequence with U+FFFD, as converting the string to runes does.
func replaceInvalid(s string) string {
	b := make([]byte, 0, len(s)+8)
	for _, r := range s {
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r)
}

func isNumber(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return unicode.IsNumber(r)
}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || '\t' <= r && r <= '\r'
	}
	return unicode.IsSpace(r)
}

func isNewline(r rune) bool { return r == '\r' || r == '\n' }

// at decodes the rune at byte offset i (utf8.RuneError, 0 at the end).
func at(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// nextPiece returns the end of the pre-token that starts at byte i of s.
func nextPiece(s string, i int) int {
	r0, w0 := at(s, i)
	r1, w1 := at(s, i+w0)

	// 1. (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r0 == '\'' && r1 >= 0 {
		lower := func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}
		a := lower(r1)
		switch a {
		case 's', 't', 'm', 'd':
			return i + 2
		}
		r2, _ := at(s, i+2)
		b := lower(r2)
		if a == 'r' && b == 'e' || a == 'v' && b == 'e' || a == 'l' && b == 'l' {
			return i + 3
		}
	}

	// 2. [^\r\n\p{L}\p{N}]?\p{L}+
	if r0 >= 0 && !isNewline(r0) && !isLetter(r0) && !isNumber(r0) && r1 >= 0 && isLetter(r1) {
		return letterRun(s, i+w0+w1)
	}
	if isLetter(r0) {
		return letterRun(s, i+w0)
	}

	// 3. \p{N}{1,3}
	if isNumber(r0) {
		j := i + w0
		for k := 0; k < 2; k++ {
			r, w := at(s, j)
			if r < 0 || !isNumber(r) {
				break
			}
			j += w
		}
		return j
	}

	// 4.  ?[^\s\p{L}\p{N}]+[\r\n]*
	isPunct := func(r rune) bool { return r >= 0 && !isSpace(r) && !isLetter(r) && !isNumber(r) }
	start := -1
	switch {
	case r0 == ' ' && isPunct(r1):
		start = i + w0
	case isPunct(r0):
		start = i
	}
	if start >= 0 {
		j := start
		for {
			r, w := at(s, j)
			if !isPunct(r) {
				break
			}
			j += w
		}
		for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return j
	}

	// r0 is white space from here on. Find the maximal run i..end and the
	// last newline in it.
	end, lastNL := i, -1
	for {
		r, w := at(s, end)
		if r < 0 || !isSpace(r) {
			break
		}
		if isNewline(r) {
			lastNL = end
		}
		end += w
	}
	// 5. \s*[\r\n]+ : up to and including the run's last newline.
	if lastNL >= 0 {
		return lastNL + 1
	}
	// 6. \s+(?!\S) : the run, less its last character when text follows.
	if end == len(s) {
		return end
	}
	_, lastW := utf8.DecodeLastRuneInString(s[i:end])
	if end-lastW > i {
		return end - lastW
	}
	// 7. \s+
	return end
}

func letterRun(s string, j int) int {
	for {
		r, w := at(s, j)
		if r < 0 || !isLetter(r) {
			return j
		}
		j += w
	}
}
