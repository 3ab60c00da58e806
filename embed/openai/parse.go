package openai

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/kura-go/kura/internal/httpapi"
)

// parse checks a 2xx body for a batch of n inputs and returns its vectors
// in input order and the prompt tokens it reports. Every vector must be
// present exactly once, placed by its "index", and all must have the same
// length: a response that does not say which vector belongs to which input
// is rejected rather than guessed at.
//
// The body is read by a small purpose-built JSON reader (see reader below)
// rather than encoding/json: a response of 50 vectors of 1,536 floats is
// about 1 MB of number text, and reading it in one pass, straight into
// float32s, takes a third of the CPU time of encoding/json's validate,
// skip and re-parse passes. The reader accepts only valid JSON.
func (c *Client) parse(body []byte, n int) ([][]float32, int64, error) {
	// The reader works on a string; body is not modified after this, so
	// it is viewed as one rather than copied (a response can be tens of MB).
	r := reader{s: unsafe.String(unsafe.SliceData(body), len(body))}
	var data []item
	var haveData bool
	var usage struct{ prompt, total int64 }
	var apiMsg string
	err := r.object(func(key string) error {
		switch key {
		case "data":
			if r.null() {
				return nil
			}
			haveData = true
			return r.array(func(k int) error {
				it := item{index: -1}
				err := r.object(func(key string) error {
					switch key {
					case "index":
						if r.null() {
							return nil
						}
						v, err := r.int()
						if err != nil {
							return fmt.Errorf("data[%d].index: %w", k, err)
						}
						it.index = v
						return nil
					case "embedding":
						v, err := r.vector()
						if err != nil {
							return fmt.Errorf("data[%d].embedding: %w", k, err)
						}
						it.vec, it.haveVec = v, true
						return nil
					}
					return r.skip(0)
				})
				data = append(data, it)
				return err
			})
		case "usage":
			if r.null() {
				return nil
			}
			return r.object(func(key string) error {
				switch key {
				case "prompt_tokens", "total_tokens":
					if r.null() {
						return nil
					}
					v, err := r.int()
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
				return r.skip(0)
			})
		case "error": // some servers answer errors with status 200
			start := r.i
			if err := r.skip(0); err != nil {
				return err
			}
			apiMsg = r.s[start:r.i]
			return nil
		}
		return r.skip(0)
	})
	if err == nil {
		err = r.end()
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
		for j, x := range d.vec {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, 0, &ResponseError{Msg: fmt.Sprintf("data[%d] (index %d): value %d is %v; a vector must be finite", k, i, j, x)}
			}
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
