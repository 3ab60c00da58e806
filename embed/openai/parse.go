package openai

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/kura-go/kura/internal/httpapi"
	"github.com/kura-go/kura/internal/jsonscan"
)

// parse checks a 2xx body for a batch of n inputs and returns its vectors
// in input order and the prompt tokens it reports. Every vector must be
// present exactly once, placed by its "index", and all must have the same
// length: a response that does not say which vector belongs to which input
// is rejected rather than guessed at.
//
// The body is split by package jsonscan's scanner and the vectors' numbers
// are parsed straight into float32s, rather than by encoding/json: a
// response of 50 vectors of 1,536 floats is about 1 MB of number text, and
// this takes a fraction of the CPU time of encoding/json (BenchmarkParse;
// figures in docs/PERFORMANCE.md). Only valid JSON is accepted: values of
// no interest are checked with json.Valid. Nothing returned refers to body,
// whose buffer is used again for later answers (httpapi.Call.Transient).
func (c *Client) parse(body []byte, n int) ([][]float32, int64, error) {
	var data []item
	var haveData bool
	var usage struct{ prompt, total int64 }
	var apiMsg string
	s := jsonscan.NewScanner(body)
	err := s.Object(func(key string) error {
		switch key {
		case "data":
			if s.Null() {
				return nil
			}
			haveData = true
			return s.Array(func(k int) error {
				it := item{index: -1}
				err := s.Object(func(key string) error {
					switch key {
					case "index":
						if s.Null() {
							return nil
						}
						v, err := parseInt(s)
						if err != nil {
							return fmt.Errorf("data[%d].index: %w", k, err)
						}
						it.index = v
						return nil
					case "embedding":
						v, err := parseVector(s)
						if err != nil {
							return fmt.Errorf("data[%d].embedding: %w", k, err)
						}
						it.vec, it.haveVec = v, true
						return nil
					}
					_, err := skipValid(s)
					return err
				})
				data = append(data, it)
				return err
			})
		case "usage":
			if s.Null() {
				return nil
			}
			return s.Object(func(key string) error {
				switch key {
				case "prompt_tokens", "total_tokens":
					if s.Null() {
						return nil
					}
					v, err := parseInt(s)
					if err != nil {
						return fmt.Errorf("usage.%s: %w", key, err)
					}
					if key == "prompt_tokens" {
						usage.prompt = int64(v)
					} else {
						usage.total = int64(v)
					}
					return nil
				}
				_, err := skipValid(s)
				return err
			})
		case "error": // some servers answer errors with status 200
			raw, err := skipValid(s)
			apiMsg = string(raw)
			return err
		}
		_, err := skipValid(s)
		return err
	})
	if err == nil {
		err = s.End()
	}
	if err != nil {
		return nil, 0, &ResponseError{Msg: fmt.Sprintf("not the JSON of an embeddings response: %v (body starts %q)", err, c.head(body))}
	}
	if !haveData {
		if apiMsg != "" {
			return nil, 0, &ResponseError{Msg: "error in a 2xx response: " + c.head([]byte(apiMsg))}
		}
		return nil, 0, &ResponseError{Msg: fmt.Sprintf("no \"data\" array (body starts %q)", c.head(body))}
	}
	if len(data) != n {
		return nil, 0, &ResponseError{Msg: fmt.Sprintf("%d vectors for %d inputs", len(data), n)}
	}
	out := make([][]float32, n)
	dims := -1
	for k, d := range data {
		i := d.index
		switch {
		case i == -1:
			return nil, 0, &ResponseError{Msg: fmt.Sprintf("data[%d] has no index", k)}
		case i < 0 || i >= n:
			return nil, 0, &ResponseError{Msg: fmt.Sprintf("data[%d] has index %d, outside 0..%d", k, i, n-1)}
		case out[i] != nil:
			return nil, 0, &ResponseError{Msg: fmt.Sprintf("index %d appears twice (data[%d])", i, k)}
		case !d.haveVec || len(d.vec) == 0:
			return nil, 0, &ResponseError{Msg: fmt.Sprintf("data[%d] (index %d): no embedding", k, i)}
		case dims >= 0 && len(d.vec) != dims:
			return nil, 0, &ResponseError{Msg: fmt.Sprintf("mixed dimensions: data[%d] has %d values, data[0] has %d", k, len(d.vec), dims)}
		}
		if j := nonFinite(d.vec); j >= 0 {
			return nil, 0, &ResponseError{Msg: fmt.Sprintf("data[%d] (index %d): value %d is %v; a vector must be finite", k, i, j, d.vec[j])}
		}
		dims = len(d.vec)
		out[i] = d.vec
	}
	if n > 0 {
		if err := c.checkDims(dims); err != nil {
			return nil, 0, err
		}
	}
	tokens := usage.prompt
	if tokens == 0 {
		tokens = usage.total
	}
	return out, tokens, nil
}

// nonFinite returns the index of the first NaN or infinity in v, or -1: a
// float32 whose exponent bits are all ones.
func nonFinite(v []float32) int {
	const exp = 0x7f800000
	for i, x := range v {
		if math.Float32bits(x)&exp == exp {
			return i
		}
	}
	return -1
}

type item struct {
	index   int // -1: absent
	vec     []float32
	haveVec bool
}

// checkDims compares a response's vector length with what is expected, and
// remembers it when nothing was expected yet.
func (c *Client) checkDims(d int) error {
	if c.c.Dims > 0 {
		if d != c.c.Dims {
			return &DimsError{Got: d, Want: c.c.Dims, Why: "requested with the dimensions parameter; does the server support it?"}
		}
		return nil
	}
	// Servers may serve any model under any name, so the first response,
	// not the model name, fixes the length; later ones must agree with it.
	if c.learned.CompareAndSwap(0, int64(d)) {
		return nil
	}
	if want := int(c.learned.Load()); d != want {
		return &DimsError{Got: d, Want: want, Why: "the length of earlier responses"}
	}
	return nil
}

// head returns the start of a body for an error message, redacted (a proxy
// may echo the request's headers).
func (c *Client) head(b []byte) string {
	if len(b) > 120 {
		return httpapi.Redact(string(b[:120]), c.c.APIKey) + "..."
	}
	return httpapi.Redact(string(b), c.c.APIKey)
}

// skipValid consumes a value of no interest, which must be valid JSON.
func skipValid(s *jsonscan.Scanner) ([]byte, error) {
	raw, err := s.Raw()
	if err == nil && !json.Valid(raw) {
		err = fmt.Errorf("invalid JSON value %.40q", raw)
	}
	return raw, err
}

// number consumes a number and returns its text, viewed as a string (the
// body is not modified while it is parsed).
func number(s *jsonscan.Scanner) (string, error) {
	raw, err := s.Number()
	if err != nil {
		return "", err
	}
	return unsafe.String(unsafe.SliceData(raw), len(raw)), nil
}

func parseInt(s *jsonscan.Scanner) (int, error) {
	t, err := number(s)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(t)
	if err != nil {
		return 0, fmt.Errorf("%s is not an integer", t)
	}
	return v, nil
}

// parseVector consumes an embedding: an array of numbers, or a base64
// string of little-endian float32 values (encoding_format=base64).
func parseVector(s *jsonscan.Scanner) ([]float32, error) {
	switch s.Peek() {
	case '"':
		raw, err := s.Raw()
		if err != nil {
			return nil, err
		}
		b64 := raw[1 : len(raw)-1] // s.Raw checked the quotes
		if bytes.IndexByte(b64, '\\') >= 0 {
			// Escaped characters (some encoders write "/" as "\/"): unquote.
			str, err := jsonscan.String(raw)
			if err != nil {
				return nil, err
			}
			b64 = []byte(str)
		}
		return base64Floats(b64)
	case '[':
		v := make([]float32, 0, 1536)
		err := s.Array(func(k int) error {
			t, err := number(s)
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
		return nil, &jsonscan.SyntaxError{Truncated: true}
	}
	raw, _ := s.Raw()
	return nil, fmt.Errorf("embedding is neither an array of numbers nor a base64 string but %s", jsonscan.TypeName(raw))
}

// littleEndian reports whether float32s are stored least significant byte
// first, as the API's base64 embeddings are.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// base64Floats decodes a base64 embedding (little-endian float32 values)
// straight into the vector's memory: no decoded copy, no second pass on
// little-endian machines.
func base64Floats(b64 []byte) ([]float32, error) {
	n := base64.StdEncoding.DecodedLen(len(b64)) // at least the bytes decoded
	v := make([]float32, (n+3)/4)
	dst := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
	k, err := base64.StdEncoding.Decode(dst, b64)
	if err != nil {
		return nil, fmt.Errorf("base64 embedding: %w", err)
	}
	if k%4 != 0 {
		return nil, fmt.Errorf("base64 embedding of %d bytes is not a whole number of float32 values", k)
	}
	v = v[:k/4]
	if !littleEndian {
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(dst[4*i:]))
		}
	}
	return v, nil
}
