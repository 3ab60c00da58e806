// Package jsonscan is kura's hand-written JSON scanner for values held in
// memory. It splits a value into its parts without decoding them (Object:
// an object into its fields; Array: an array into its elements; sub-slices
// of the input, no copying), or walks it in one pass with a Scanner whose
// callbacks consume each member (Raw, Number, Null, nested Object or
// Array), so that each part is decoded on its own, straight into its Go
// type, with an error that names it.
//
// Package conversation decodes Kura's records with it (errors name the
// field; unknown and duplicate keys are seen; keys match case-sensitively,
// as pydantic does) and package embed/openai reads embeddings responses
// with it (vectors parsed straight into float32s). Against encoding/json:
// BenchmarkParse (embed/openai) and BenchmarkDecodeVsEncodingJSON
// (conversation); figures in docs/PERFORMANCE.md.
//
// The scanner checks structure (brackets, commas, colons, strings) as it
// descends; scalars are only delimited and are checked when decoded
// (Scanner.Number, IsNumber, String). A stream that does not fit in memory
// (a JSON array of exported conversations) is split into elements by
// package ingest, whose elements are then decoded whole.
package jsonscan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Field is one field of an object: its decoded key and its raw value.
type Field struct {
	Key string
	Val []byte
}

func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func SkipWS(b []byte, i int) int {
	for i < len(b) && IsSpace(b[i]) {
		i++
	}
	return i
}

// SyntaxError describes malformed JSON at a byte offset of the value scanned.
type SyntaxError struct {
	Off       int  // 0-based offset in the value scanned
	Truncated bool // the input ends inside the value
	After     bool // something other than white space follows the value
	Msg       string
}

// Error describes the problem: "truncated JSON: ..." or "invalid JSON at
// byte N: ..." (N 1-based).
func (e *SyntaxError) Error() string {
	if e.Truncated {
		return "truncated JSON: input ends inside a value (expected a complete JSON object)"
	}
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Off+1, e.Msg)
}

func DescribeByte(b []byte, i int) string {
	if i >= len(b) {
		return "end of input"
	}
	c := b[i]
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// SkipString returns the index after the closing quote of the string that
// starts at b[i] == '"'. Runs of eight bytes none of which is a quote, a
// backslash or a control character are stepped over at once (a base64
// embedding is a string of 8 KB).
func SkipString(b []byte, i int) (int, *SyntaxError) {
	j := i + 1
	for {
		for j+8 <= len(b) && !special8(binary.LittleEndian.Uint64(b[j:])) {
			j += 8
		}
		if j >= len(b) {
			break
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++
		case c < 0x20:
			return 0, &SyntaxError{Off: j, Msg: fmt.Sprintf("control character 0x%02x in string (must be escaped)", c)}
		}
		j++
	}
	return 0, &SyntaxError{Off: len(b), Truncated: true}
}

// special8 reports whether any of the eight bytes of x is a quote, a
// backslash or a control character (below 0x20). A byte v - 1 that borrows
// into its top bit, where v itself has it clear, is a zero byte: x with
// the quote or backslash XORed out, or x minus 0x20 for the control
// characters. A borrow can only start at a byte that matches, so the
// answer is exact for the word.
func special8(x uint64) bool {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	q := x ^ ('"' * ones)
	s := x ^ ('\\' * ones)
	return ((q-ones)&^q|(s-ones)&^s|(x-0x20*ones)&^x)&tops != 0
}

// skipValue returns the index just after the JSON value starting at b[i].
// Scalars are only delimited here; their contents are checked when decoded.
func skipValue(b []byte, i int) (int, *SyntaxError) {
	if i >= len(b) {
		return 0, &SyntaxError{Off: i, Truncated: true}
	}
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := SkipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, &SyntaxError{Off: len(b), Truncated: true}
	case ',', ':', '}', ']':
		return 0, &SyntaxError{Off: i, Msg: "expected a value, found " + DescribeByte(b, i)}
	default:
		j := i
		for j < len(b) && !IsSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ':' {
			j++
		}
		return j, nil
	}
}

// Scanner walks a JSON value held in memory in one pass: objects and
// arrays are visited with callbacks that consume each member's value (Raw,
// Number, Null, or a nested Object or Array), so that a caller decodes what
// it wants straight from the input. Errors are *SyntaxError with offsets in
// the input, or an error a callback returned.
type Scanner struct {
	b []byte
	i int
}

// NewScanner returns a scanner at the start of b.
func NewScanner(b []byte) *Scanner { return &Scanner{b: b} }

// Peek skips white space and returns the next byte, 0 at the end.
func (s *Scanner) Peek() byte {
	s.i = SkipWS(s.b, s.i)
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// Object reads an object, calling member with each key when the scanner is
// at the key's value, which member must consume.
func (s *Scanner) Object(member func(key string) error) error {
	b := s.b
	i := SkipWS(b, s.i)
	if i >= len(b) {
		return &SyntaxError{Off: i, Truncated: true}
	}
	if b[i] != '{' {
		return &SyntaxError{Off: i, Msg: "expected '{' to start an object, found " + DescribeByte(b, i)}
	}
	i = SkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		s.i = i + 1
		return nil
	}
	for {
		if i >= len(b) {
			return &SyntaxError{Off: i, Truncated: true}
		}
		if b[i] != '"' {
			return &SyntaxError{Off: i, Msg: "expected a quoted field name, found " + DescribeByte(b, i)}
		}
		end, err := SkipString(b, i)
		if err != nil {
			return err
		}
		key, kerr := String(b[i:end])
		if kerr != nil {
			return &SyntaxError{Off: i, Msg: kerr.Error()}
		}
		i = SkipWS(b, end)
		if i >= len(b) {
			return &SyntaxError{Off: i, Truncated: true}
		}
		if b[i] != ':' {
			return &SyntaxError{Off: i, Msg: "expected ':' after field name, found " + DescribeByte(b, i)}
		}
		s.i = SkipWS(b, i+1)
		if err := member(key); err != nil {
			return err
		}
		i = SkipWS(b, s.i)
		if i >= len(b) {
			return &SyntaxError{Off: i, Truncated: true}
		}
		switch b[i] {
		case ',':
			i = SkipWS(b, i+1)
		case '}':
			s.i = i + 1
			return nil
		default:
			return &SyntaxError{Off: i, Msg: "expected ',' or '}' after a field, found " + DescribeByte(b, i)}
		}
	}
}

// Array reads an array, calling elem with each element's index when the
// scanner is at the element, which elem must consume.
func (s *Scanner) Array(elem func(k int) error) error {
	b := s.b
	i := SkipWS(b, s.i)
	if i >= len(b) || b[i] != '[' {
		return &SyntaxError{Off: i, Msg: "expected '['"}
	}
	s.i = SkipWS(b, i+1)
	if s.i < len(b) && b[s.i] == ']' {
		s.i++
		return nil
	}
	for k := 0; ; k++ {
		if err := elem(k); err != nil {
			return err
		}
		i = SkipWS(b, s.i)
		if i >= len(b) {
			return &SyntaxError{Off: i, Truncated: true}
		}
		switch b[i] {
		case ',':
			s.i = SkipWS(b, i+1)
		case ']':
			s.i = i + 1
			return nil
		default:
			return &SyntaxError{Off: i, Msg: "expected ',' or ']' in a list, found " + DescribeByte(b, i)}
		}
	}
}

// Raw consumes the next value and returns it undecoded (see skipValue).
func (s *Scanner) Raw() ([]byte, error) {
	start := SkipWS(s.b, s.i)
	end, err := skipValue(s.b, start)
	if err != nil {
		return nil, err
	}
	s.i = end
	return s.b[start:end], nil
}

// Null consumes a null if one is next.
func (s *Scanner) Null() bool {
	if s.Peek() == 'n' && len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// Number consumes the next value, which must be a number by JSON's
// grammar, and returns its text.
func (s *Scanner) Number() ([]byte, error) {
	b := s.b
	start := SkipWS(b, s.i)
	i := start
	digits := func() int {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - j
	}
	bad := func(what string) error {
		if i >= len(b) {
			return &SyntaxError{Off: i, Truncated: true}
		}
		return &SyntaxError{Off: i, Msg: what + ", found " + DescribeByte(b, i)}
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return nil, bad("expected a number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return nil, bad("expected digits after the decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, bad("expected digits in the exponent")
		}
	}
	s.i = i
	return b[start:i], nil
}

// End checks that nothing but white space follows.
func (s *Scanner) End() error { return nilIfNone(Trailing(s.b, s.i)) }

// eachField calls fn with each field of the JSON object b, in order: its
// decoded key and its raw value (a sub-slice of b). Nothing but white space
// may follow the object. The error is a *SyntaxError, or the first error fn
// returns, which stops the scan.
func eachField(b []byte, fn func(key string, val []byte) error) error {
	s := Scanner{b: b}
	err := s.Object(func(key string) error {
		v, err := s.Raw()
		if err != nil {
			return err
		}
		return fn(key, v)
	})
	if err != nil {
		return err
	}
	return s.End()
}

// eachElem calls fn with each element of the JSON array b, in order, as a
// raw value (a sub-slice of b). Nothing but white space may follow the
// array. The error is a *SyntaxError, or the first error fn returns.
func eachElem(b []byte, fn func(k int, val []byte) error) error {
	s := Scanner{b: b}
	err := s.Array(func(k int) error {
		v, err := s.Raw()
		if err != nil {
			return err
		}
		return fn(k, v)
	})
	if err != nil {
		return err
	}
	return s.End()
}

// nilIfNone turns a nil *SyntaxError into a nil error.
func nilIfNone(e *SyntaxError) error {
	if e == nil {
		return nil
	}
	return e
}

// Object appends the fields of the JSON object b to dst (see eachField).
func Object(b []byte, dst []Field) ([]Field, *SyntaxError) {
	err := eachField(b, func(key string, val []byte) error {
		dst = append(dst, Field{Key: key, Val: val})
		return nil
	})
	if err != nil {
		return dst, err.(*SyntaxError)
	}
	return dst, nil
}

// Array appends the elements of the JSON array b to dst (see eachElem).
func Array(b []byte, dst [][]byte) ([][]byte, *SyntaxError) {
	err := eachElem(b, func(_ int, val []byte) error {
		dst = append(dst, val)
		return nil
	})
	if err != nil {
		return dst, err.(*SyntaxError)
	}
	return dst, nil
}

// Trailing checks that b holds nothing but white space from i on.
func Trailing(b []byte, i int) *SyntaxError {
	i = SkipWS(b, i)
	if i < len(b) {
		return &SyntaxError{Off: i, After: true, Msg: "unexpected " + DescribeByte(b, i) + " after the end of the value"}
	}
	return nil
}

// TypeName names the JSON type of a raw value for error messages.
func TypeName(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "list"
	case 't', 'f':
		return "boolean " + string(raw)
	case 'n':
		return "null"
	}
	if IsNumber(raw) {
		return "number " + string(raw)
	}
	if len(raw) > 20 {
		raw = raw[:20]
	}
	return fmt.Sprintf("invalid token %q", raw)
}

func IsNull(raw []byte) bool { return string(raw) == "null" }

// IsNumber reports whether b is a JSON number.
func IsNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(b)
}

// String decodes a JSON string literal.
func String(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", fmt.Errorf("expected string, got %s", TypeName(raw))
	}
	simple := true
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' || c == '"' || c < 0x20 {
			simple = false
			break
		}
	}
	if simple {
		return string(raw[1 : len(raw)-1]), nil
	}
	return unquote(raw[1 : len(raw)-1])
}

// unquote decodes the body of a JSON string with escapes. Lone UTF-16
// surrogates become U+FFFD, as in encoding/json.
func unquote(b []byte) (string, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return "", fmt.Errorf("invalid string: unescaped '\"' at byte %d", i+2)
		case c < 0x20:
			return "", fmt.Errorf("invalid string: control character 0x%02x (must be escaped)", c)
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return "", errors.New("invalid string: ends with a backslash")
		}
		e := b[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i)
			if !ok {
				return "", errors.New("invalid string: \\u must be followed by 4 hex digits")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
					r2, ok = hex4(b, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", fmt.Errorf("invalid string: unknown escape \\%c", e)
		}
	}
	return string(out), nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
