package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/embed/tokens"
)

// fakeServer is an in-process OpenAI-compatible /v1/embeddings endpoint on
// 127.0.0.1. Each input's vector is mock.Vector(input, dims, 0), so results
// can be checked text by text. It shuffles the order of "data" (clients must
// place vectors by index) and injects faults at the configured rates.
type fakeServer struct {
	Dims       int
	Latency    time.Duration
	Rate429    float64 // share of requests answered 429
	Rate500    float64 // share of requests answered 500
	RetryAfter string  // Retry-After header on 429s ("" for none)
	RetryMs    string  // retry-after-ms header on 429s ("" for none)
	NoUsage    bool    // omit "usage" from responses
	// RejectBase64 answers 400 to encoding_format "base64", as servers
	// without base64 support do.
	RejectBase64 bool
	Shuffle      bool // shuffle the order of "data"
	// Mutate, when set, may rewrite a successful response before it is sent.
	Mutate func(r *fakeResponse)
	// Respond, when set, answers the n-th request (1-based) itself when it returns true.
	Respond func(n int, w http.ResponseWriter, r *http.Request) bool

	cache    sync.Map
	mu       sync.Mutex
	rng      *rand.Rand
	Requests int
	N429     int
	N500     int
	OK       int
	Inputs   int   // inputs in successful responses
	Tokens   int64 // tokens of inputs in successful responses
	Times    []time.Time
	Headers  []http.Header
	Bodies   []embRequest
}

type embRequest struct {
	Input          []string `json:"input"`
	Model          string   `json:"model"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions"`
}

type fakeItem struct {
	Object    string `json:"object"`
	Index     any    `json:"index,omitempty"`
	Embedding any    `json:"embedding"`
}

type fakeResponse struct {
	Object string     `json:"object"`
	Data   []fakeItem `json:"data"`
	Model  string     `json:"model"`
	Usage  any        `json:"usage,omitempty"`
}

func (f *fakeServer) start(t testing.TB) string {
	if f.rng == nil {
		f.rng = rand.New(rand.NewPCG(1, 2))
	}
	srv := httptest.NewServer(f) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	var req embRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.Requests++
	n := f.Requests
	if f.RejectBase64 && req.EncodingFormat == "base64" {
		f.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":{"message":"Invalid value for encoding_format: only 'float' is supported","type":"invalid_request_error","param":"encoding_format","code":null}}`))
		return
	}
	f.Times = append(f.Times, time.Now())
	f.Headers = append(f.Headers, r.Header.Clone())
	f.Bodies = append(f.Bodies, req)
	u := f.rng.Float64()
	f.mu.Unlock()

	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if f.Respond != nil && f.Respond(n, w, r) {
		return
	}
	switch {
	case u < f.Rate429:
		f.mu.Lock()
		f.N429++
		f.mu.Unlock()
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.RetryMs != "" {
			w.Header().Set("retry-after-ms", f.RetryMs)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`))
		return
	case u < f.Rate429+f.Rate500:
		f.mu.Lock()
		f.N500++
		f.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}`))
		return
	}
	dims := f.Dims
	if req.Dimensions > 0 {
		dims = req.Dimensions
	}
	resp := fakeResponse{Object: "list", Model: req.Model}
	var ntok int64
	for i, s := range req.Input {
		e := f.entry(s, dims, req.EncodingFormat)
		resp.Data = append(resp.Data, fakeItem{Object: "embedding", Index: i, Embedding: e.emb})
		ntok += e.tokens
	}
	if f.Shuffle {
		f.mu.Lock()
		f.rng.Shuffle(len(resp.Data), func(i, j int) { resp.Data[i], resp.Data[j] = resp.Data[j], resp.Data[i] })
		f.mu.Unlock()
	}
	if !f.NoUsage {
		resp.Usage = map[string]int64{"prompt_tokens": ntok, "total_tokens": ntok}
	}
	if f.Mutate != nil {
		f.Mutate(&resp)
	}
	var body []byte
	if f.Mutate != nil {
		var err error
		if body, err = json.Marshal(resp); err != nil {
			panic(err)
		}
	} else {
		body = appendResponse(nil, &resp)
	}
	f.mu.Lock()
	f.OK++
	f.Inputs += len(req.Input)
	f.Tokens += ntok
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

type cached struct {
	emb    any // json.RawMessage or base64 string
	tokens int64
}

// entry returns the embedding of text in the requested format and its token
// count, cached so that the server spends little CPU in benchmarks.
func (f *fakeServer) entry(text string, dims int, format string) cached {
	key := fmt.Sprint(dims, format, text)
	if e, ok := f.cache.Load(key); ok {
		return e.(cached)
	}
	v := mock.Vector(text, dims, 0)
	var emb any = json.RawMessage(floatsJSON(v))
	if format == "base64" {
		b := make([]byte, 4*len(v))
		for k, x := range v {
			binary.LittleEndian.PutUint32(b[4*k:], math.Float32bits(x))
		}
		emb = base64.StdEncoding.EncodeToString(b)
	}
	e := cached{emb: emb, tokens: int64(tokens.Count(text))}
	f.cache.Store(key, e)
	return e
}

// appendResponse writes a response without encoding/json's re-validation
// of the cached vectors.
func appendResponse(b []byte, r *fakeResponse) []byte {
	b = append(b, `{"object":"list","data":[`...)
	for k, it := range r.Data {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(it.Index.(int)), 10)
		b = append(b, `,"embedding":`...)
		switch e := it.Embedding.(type) {
		case json.RawMessage:
			b = append(b, e...)
		case string: // base64: nothing to escape
			b = append(b, '"')
			b = append(b, e...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = strconv.AppendQuote(b, r.Model)
	if r.Usage != nil {
		u := r.Usage.(map[string]int64)
		b = fmt.Appendf(b, `,"usage":{"prompt_tokens":%d,"total_tokens":%d}`, u["prompt_tokens"], u["total_tokens"])
	}
	return append(b, '}')
}

// floatsJSON formats a vector as a JSON array the way servers do.
func floatsJSON(v []float32) []byte {
	b := make([]byte, 0, len(v)*12)
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return append(b, ']')
}
