package mockapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/embed/tokens"
)

// OpenAI's limits on an embeddings request.
const (
	maxInputs        = 2048
	maxInputTokens   = 8192
	maxRequestTokens = 300_000
	maxDims          = 65536
	// MaxVectorValues caps inputs x dimensions in one answer (about 60 MB
	// of JSON): 65,536 dimensions for 2,048 inputs would be 1.3 GB.
	MaxVectorValues   = 2048 * 3072
	cl100kVocabulary  = 100277 // ordinary and special token ids are below this
	defaultEmbedModel = "text-embedding-3-small"
)

// nativeDims is the vector length and largest "dimensions" of OpenAI's
// embedding models; 0 for ada-002 means the field is refused.
var nativeDims = map[string]struct{ dims, maxReq int }{
	"text-embedding-3-small": {1536, 1536},
	"text-embedding-3-large": {3072, 3072},
	"text-embedding-ada-002": {1536, 0},
}

type embeddingsRequest struct {
	s      *Server
	model  string
	texts  []string
	tokens []int // per input; -1 while not counted
	total  int   // tokens of the inputs counted so far
	dims   int
	base64 bool
}

// cost is the request's tokens, for the rate limiter: every input counted.
func (r *embeddingsRequest) cost() int {
	r.countAll()
	return r.total
}

// countAll counts the inputs not counted yet.
func (r *embeddingsRequest) countAll() {
	for i, n := range r.tokens {
		if n < 0 {
			r.tokens[i] = r.s.count(r.texts[i])
			r.total += r.tokens[i]
		}
	}
}

func (s *Server) embeddings(body []byte) (apiRequest, *requestError) {
	var raw struct {
		Input          json.RawMessage `json:"input"`
		Model          *string         `json:"model"`
		Dimensions     *int            `json:"dimensions"`
		EncodingFormat *string         `json:"encoding_format"`
		User           *string         `json:"user"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, badRequest("", "We could not parse the JSON body of your request: %v.", err)
	}
	r := &embeddingsRequest{s: s}
	if raw.Model == nil || *raw.Model == "" {
		if s.cfg.Embedder == nil || s.cfg.Model == "" {
			return nil, badRequest("model", "You must provide a model parameter.")
		}
		raw.Model = &s.cfg.Model
	}
	r.model = *raw.Model
	if raw.EncodingFormat != nil {
		switch *raw.EncodingFormat {
		case "float":
		case "base64":
			r.base64 = true
		default:
			return nil, badRequest("encoding_format", "Invalid value for 'encoding_format': %q. Supported values are: 'float' and 'base64'.", *raw.EncodingFormat)
		}
	}
	if err := r.parseInput(raw.Input); err != nil {
		return nil, err
	}
	// The limits are checked before the answer is computed, so a request
	// over them is answered at once; counting inputs that cannot break
	// them waits for the answer (answer). A token is at least one byte, so
	// a text of at most maxInputTokens bytes is within the input limit, and
	// texts of at most maxRequestTokens bytes in all within the request's.
	bound := 0
	for i, t := range r.texts {
		n := r.tokens[i]
		if n < 0 && len(t) > maxInputTokens {
			n = s.count(t)
			r.tokens[i] = n
		}
		if n > maxInputTokens {
			param := "input"
			if len(r.texts) > 1 {
				param = fmt.Sprintf("input[%d]", i)
			}
			return nil, badRequest(param, "This model's maximum context length is %d tokens, however you requested %d tokens (%d in your prompt; 0 for the completion) in input %d. Please reduce your prompt.", maxInputTokens, n, n, i)
		}
		if n >= 0 {
			r.total += n
			bound += n
		} else {
			bound += len(t)
		}
	}
	if bound > maxRequestTokens {
		if r.countAll(); r.total > maxRequestTokens {
			return nil, badRequest("input", "Requested %d tokens, max %d tokens per request.", r.total, maxRequestTokens)
		}
	}
	// Vector length: the request's dimensions, else Config.Dims, else the model's.
	native, known := nativeDims[r.model]
	r.dims = s.dims
	if s.cfg.Embedder == nil && s.cfg.Dims <= 0 && known {
		r.dims = native.dims
	}
	if d := raw.Dimensions; d != nil {
		limit := maxDims
		switch {
		case s.cfg.Embedder != nil:
			limit = s.dims
		case known:
			limit = native.maxReq
		}
		if known && native.maxReq == 0 {
			return nil, badRequest("dimensions", "This model does not support specifying dimensions.")
		}
		if *d < 1 || *d > limit {
			return nil, badRequest("dimensions", "Invalid value for 'dimensions' = %d. Must be between 1 and %d.", *d, limit)
		}
		r.dims = *d
	}
	if v := len(r.texts) * r.dims; v > MaxVectorValues {
		return nil, badRequest("dimensions", "%d inputs of %d dimensions are %d values; kura mock-api answers at most %d values per request (OpenAI's largest: 2,048 inputs of 3,072). Send fewer inputs per request or fewer dimensions.",
			len(r.texts), r.dims, v, MaxVectorValues)
	}
	return r, nil
}

// parseInput reads input as a string, an array of strings, an array of token
// ids, or an array of arrays of token ids. Token ids are decoded with
// cl100k_base to get the text to embed. tokens[i] is -1 for texts not yet counted.
func (r *embeddingsRequest) parseInput(in json.RawMessage) *requestError {
	in = bytes.TrimSpace(in)
	if len(in) == 0 || string(in) == "null" {
		return badRequest("input", "You must provide an input: a string, an array of strings, or token ids.")
	}
	invalid := func(i int, why string) *requestError {
		if i < 0 {
			return badRequest("input", "Invalid 'input': %s.", why)
		}
		return badRequest(fmt.Sprintf("input[%d]", i), "Invalid 'input[%d]': %s.", i, why)
	}
	if in[0] == '"' {
		var one string
		if json.Unmarshal(in, &one) == nil {
			if one == "" {
				return invalid(-1, "empty string")
			}
			r.texts, r.tokens = []string{one}, []int{-1}
			return nil
		}
	}
	// An array of non-empty strings, as clients send, in one pass; anything
	// else (token ids, null or empty elements, mistakes) element by element
	// below, which says what is wrong where.
	var strs []string
	if in[0] == '[' && json.Unmarshal(in, &strs) == nil && len(strs) > 0 && len(strs) <= maxInputs && !slices.Contains(strs, "") {
		r.texts, r.tokens = strs, make([]int, len(strs))
		for i := range r.tokens {
			r.tokens[i] = -1
		}
		return nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(in, &elems); err != nil {
		return invalid(-1, "must be a string, an array of strings, an array of token ids or an array of arrays of token ids")
	}
	if len(elems) == 0 {
		return invalid(-1, "empty array")
	}
	if len(elems) > maxInputs {
		return badRequest("input", "Invalid 'input': array too long. Expected an array with maximum length %d, but got an array with length %d instead.", maxInputs, len(elems))
	}
	switch c := bytes.TrimSpace(elems[0]); {
	case len(c) > 0 && c[0] >= '0' && c[0] <= '9' || len(c) > 0 && c[0] == '-':
		// One input given as token ids.
		ids, err := tokenIDs(in)
		if err != "" {
			return invalid(-1, err)
		}
		r.texts, r.tokens = []string{tokens.Decode(ids)}, []int{len(ids)}
		return nil
	}
	r.texts = make([]string, len(elems))
	r.tokens = make([]int, len(elems))
	for i, e := range elems {
		e = bytes.TrimSpace(e)
		switch {
		case len(e) > 0 && e[0] == '"':
			if err := json.Unmarshal(e, &r.texts[i]); err != nil {
				return invalid(i, err.Error())
			}
			if r.texts[i] == "" {
				return invalid(i, "empty string")
			}
			r.tokens[i] = -1
		case len(e) > 0 && e[0] == '[':
			ids, err := tokenIDs(e)
			if err != "" {
				return invalid(i, err)
			}
			r.texts[i], r.tokens[i] = tokens.Decode(ids), len(ids)
		default:
			return invalid(i, "must be a string or an array of token ids")
		}
	}
	return nil
}

func tokenIDs(b []byte) ([]int, string) {
	var ids []int
	if err := json.Unmarshal(b, &ids); err != nil {
		return nil, "token ids must be integers"
	}
	if len(ids) == 0 {
		return nil, "empty array of token ids"
	}
	for _, id := range ids {
		if id < 0 || id >= cl100kVocabulary {
			return nil, fmt.Sprintf("token id %d is not in cl100k_base", id)
		}
	}
	return ids, ""
}

func (r *embeddingsRequest) answer(ctx context.Context, bad bool, kind int) ([]byte, usage, error) {
	r.countAll()
	vecs, err := r.s.vectors(ctx, r.texts, r.dims)
	if err != nil {
		return nil, usage{}, err
	}
	extra := -1 // index of a vector given one element too many
	if bad {
		switch kind {
		case 1:
			vecs = vecs[:len(vecs)-1]
		case 2:
			extra = len(vecs) - 1
		}
	}
	per := 20 * r.dims
	if r.base64 {
		per = 6 * r.dims
	}
	buf := make([]byte, 0, 256+len(vecs)*(per+48))
	buf = append(buf, `{"object":"list","data":[`...)
	for i, v := range vecs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"object":"embedding","index":`...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, `,"embedding":`...)
		if i == extra {
			v = append(v[:len(v):len(v)], 0)
		}
		buf = appendVector(buf, v, r.base64)
		buf = append(buf, '}')
	}
	buf = append(buf, `],"model":`...)
	buf = strconv.AppendQuote(buf, r.model)
	buf = append(buf, `,"usage":{"prompt_tokens":`...)
	buf = strconv.AppendInt(buf, int64(r.total), 10)
	buf = append(buf, `,"total_tokens":`...)
	buf = strconv.AppendInt(buf, int64(r.total), 10)
	buf = append(buf, "}}\n"...)
	if bad && kind == 0 {
		buf = buf[:len(buf)/2]
	}
	return buf, usage{inputs: len(r.texts), prompt: r.total}, nil
}

// appendVector writes v as a JSON array of numbers or, for base64, as a JSON
// string of its little-endian float32 bytes.
func appendVector(buf []byte, v []float32, b64 bool) []byte {
	if b64 {
		raw := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
		}
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, raw)
		return append(buf, '"')
	}
	buf = append(buf, '[')
	for j, x := range v {
		if j > 0 {
			buf = append(buf, ',')
		}
		buf = appendFloat32(buf, x)
	}
	return append(buf, ']')
}

// appendFloat32 writes x with 9 significant digits, enough for the float32
// to be read back exactly, in plain decimal notation for 1e-6 <= |x| < 1
// (the components of unit vectors) and with strconv otherwise. It is about
// three times faster than strconv's shortest formatting, which dominated the
// cost of an embeddings answer.
func appendFloat32(buf []byte, x float32) []byte {
	v := float64(x)
	if v < 0 {
		buf = append(buf, '-')
		v = -v
	}
	if !(v >= 1e-6 && v < 1) { // also NaN and Inf
		if x < 0 {
			buf = buf[:len(buf)-1]
		}
		return strconv.AppendFloat(buf, float64(x), 'g', -1, 32)
	}
	// v = m * 10^-(9+z) with 1e8 <= m < 1e9 and z leading zeros after the point.
	z := 0
	for v < 0.1 {
		v *= 10
		z++
	}
	m := uint64(v*1e9 + 0.5)
	if m >= 1e9 { // rounded up to the next decade: 0.0999999999 -> 0.1
		m /= 10
		if z > 0 {
			z--
		} else {
			return append(buf, '1')
		}
	}
	buf = append(buf, '0', '.')
	for ; z > 0; z-- {
		buf = append(buf, '0')
	}
	var d [9]byte
	n := 9
	for m%10 == 0 && n > 1 { // trailing zeros
		m /= 10
		n--
	}
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + m%10)
		m /= 10
	}
	return append(buf, d[:n]...)
}

// vectors returns unit vectors of length dims for texts.
func (s *Server) vectors(ctx context.Context, texts []string, dims int) ([][]float32, error) {
	if e := s.cfg.Embedder; e != nil {
		vecs, err := e.Embed(ctx, texts)
		if err != nil {
			return nil, fmt.Errorf("embedder %s: %w", e.Name(), err)
		}
		if len(vecs) != len(texts) {
			return nil, fmt.Errorf("embedder %s returned %d vectors for %d texts", e.Name(), len(vecs), len(texts))
		}
		for i, v := range vecs {
			if len(v) < dims {
				return nil, fmt.Errorf("embedder %s returned a vector of %d dims, want %d", e.Name(), len(v), dims)
			}
			if len(v) > dims {
				vecs[i] = fold(v, dims)
			}
		}
		return vecs, nil
	}
	vecs := make([][]float32, len(texts))
	for i, t := range texts {
		vecs[i] = mock.Vector(t, dims, 0)
	}
	return vecs, nil
}

// fold reduces v to dims components, adding component i into i mod dims,
// and renormalises. Unlike truncation (what text-embedding-3 does with its
// Matryoshka vectors) it keeps the similarities of sparse hashed vectors and
// of models not trained for truncation: it is a random projection.
func fold(v []float32, dims int) []float32 {
	out := make([]float32, dims)
	for i, x := range v {
		out[i%dims] += x
	}
	return normalize(out)
}

func normalize(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return v
	}
	inv := 1 / math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return v
}
