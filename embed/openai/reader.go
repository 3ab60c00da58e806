package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// reader is a minimal one-pass JSON reader over a string, enough to walk an
// embeddings response: objects and arrays are visited with callbacks, values
// of no interest are skipped (and still checked to be valid JSON), and
// arrays of numbers are parsed straight into float32s.
type reader struct {
	s string
	i int
}

// maxDepth bounds nesting in skipped values.
const maxDepth = 64

var errEnd = errors.New("unexpected end of input")

func (r *reader) ws() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *reader) errorf(format string, a ...any) error {
	return fmt.Errorf("at byte %d: %s", r.i, fmt.Sprintf(format, a...))
}

// peek skips white space and returns the next byte (0 at the end).
func (r *reader) peek() byte {
	r.ws()
	if r.i >= len(r.s) {
		return 0
	}
	return r.s[r.i]
}

func (r *reader) expect(c byte) error {
	if got := r.peek(); got != c {
		if got == 0 {
			return errEnd
		}
		return r.errorf("want %q, found %q", c, got)
	}
	r.i++
	return nil
}

// end checks that nothing but white space follows.
func (r *reader) end() error {
	if r.peek() != 0 {
		return r.errorf("unexpected data after the response object")
	}
	return nil
}

// null consumes a JSON null if one is next.
func (r *reader) null() bool {
	if r.peek() == 'n' && len(r.s)-r.i >= 4 && r.s[r.i:r.i+4] == "null" {
		r.i += 4
		return true
	}
	return false
}

// object reads an object, calling member for each key with the reader
// positioned at the value; member must consume the value.
func (r *reader) object(member func(key string) error) error {
	if err := r.expect('{'); err != nil {
		return err
	}
	if r.peek() == '}' {
		r.i++
		return nil
	}
	for {
		key, err := r.str()
		if err != nil {
			return err
		}
		if err := r.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return nil
		case 0:
			return errEnd
		default:
			return r.errorf("want ',' or '}' in object, found %q", r.s[r.i])
		}
	}
}

// array reads an array, calling elem for each element; elem must consume it.
func (r *reader) array(elem func(k int) error) error {
	if err := r.expect('['); err != nil {
		return err
	}
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for k := 0; ; k++ {
		if err := elem(k); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return nil
		case 0:
			return errEnd
		default:
			return r.errorf("want ',' or ']' in array, found %q", r.s[r.i])
		}
	}
}

// str reads a string, decoding escapes.
func (r *reader) str() (string, error) {
	if err := r.expect('"'); err != nil {
		return "", err
	}
	start := r.i
	escaped := false
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == '"':
			r.i++
			if !escaped {
				return r.s[start : r.i-1], nil
			}
			var out string
			if err := json.Unmarshal([]byte(r.s[start-1:r.i]), &out); err != nil {
				return "", r.errorf("bad string: %v", err)
			}
			return out, nil
		case c == '\\':
			escaped = true
			r.i += 2
		case c < 0x20:
			return "", r.errorf("control character in string")
		default:
			r.i++
		}
	}
	return "", errEnd
}

// number returns the text of a number, checked against JSON's grammar.
func (r *reader) number() (string, error) {
	r.ws()
	start := r.i
	s := r.s
	i := r.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		r.i = i
		if i >= len(s) {
			return "", errEnd
		}
		return "", r.errorf("want a number, found %q", s[i])
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			r.i = i
			return "", r.errorf("no digits after the decimal point")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			r.i = i
			return "", r.errorf("no digits in the exponent")
		}
	}
	r.i = i
	return s[start:i], nil
}

func (r *reader) int() (int, error) {
	t, err := r.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(t)
	if err != nil {
		return 0, fmt.Errorf("%s is not an integer", t)
	}
	return v, nil
}

// vector reads an embedding: an array of numbers, or a base64 string of
// little-endian float32 values (encoding_format=base64).
func (r *reader) vector() ([]float32, error) {
	switch r.peek() {
	case '"':
		b64, err := r.str()
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("base64 embedding: %w", err)
		}
		if len(b)%4 != 0 {
			return nil, fmt.Errorf("base64 embedding of %d bytes is not a whole number of float32 values", len(b))
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v, nil
	case '[':
		v := make([]float32, 0, 1536)
		err := r.array(func(k int) error {
			t, err := r.number()
			if err != nil {
				return fmt.Errorf("value %d: %w", k, err)
			}
			f, err := parseFloat32(t)
			if err != nil {
				return fmt.Errorf("value %d: %s is out of float32 range", k, t)
			}
			v = append(v, f)
			return nil
		})
		return v, err
	case 0:
		return nil, errEnd
	}
	return nil, r.errorf("embedding is neither an array of numbers nor a base64 string")
}

// skip consumes any JSON value, checking its syntax.
func (r *reader) skip(depth int) error {
	if depth > maxDepth {
		return r.errorf("nesting deeper than %d", maxDepth)
	}
	switch c := r.peek(); c {
	case '{':
		return r.object(func(string) error { return r.skip(depth + 1) })
	case '[':
		return r.array(func(int) error { return r.skip(depth + 1) })
	case '"':
		_, err := r.str()
		return err
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if len(r.s)-r.i >= len(lit) && r.s[r.i:r.i+len(lit)] == lit {
				r.i += len(lit)
				return nil
			}
		}
		return r.errorf("invalid literal")
	case 0:
		return errEnd
	default:
		_, err := r.number()
		return err
	}
}
