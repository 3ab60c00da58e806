package mockapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/embed/tokens"
)

// start serves c on 127.0.0.1 and stops the server at the end of the test.
func start(t testing.TB, c Config) (*Server, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, base, err := Start(ctx, "127.0.0.1:0", c)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := s.Wait(); err != nil {
			t.Errorf("Wait: %v", err)
		}
	})
	return s, base
}

// call sends a request straight to the handler.
func call(s *Server, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

type embeddingsResponse struct {
	Object string `json:"object"`
	Data   []struct {
		Object    string          `json:"object"`
		Index     int             `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
	Usage struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

func decodeVector(t *testing.T, raw json.RawMessage, b64 bool) []float32 {
	t.Helper()
	if b64 {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("base64 embedding is not a string: %v", err)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b)%4 != 0 {
			t.Fatalf("bad base64 embedding: %v (%d bytes)", err, len(b))
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v
	}
	var v []float32
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("embedding is not an array of numbers: %v", err)
	}
	return v
}

func TestEmbeddingsFormat(t *testing.T) {
	s := New(Config{})
	hello := tokens.Encode("hello world")
	tests := []struct {
		name   string
		body   string
		texts  []string
		dims   int
		base64 bool
	}{
		{"string", `{"model":"text-embedding-3-small","input":"hello world"}`, []string{"hello world"}, 1536, false},
		{"array", `{"model":"text-embedding-3-small","input":["a cat","a dog","hello world"]}`, []string{"a cat", "a dog", "hello world"}, 1536, false},
		{"tokens", fmt.Sprintf(`{"model":"text-embedding-3-small","input":%s}`, mustMarshal(hello)), []string{"hello world"}, 1536, false},
		{"token arrays", fmt.Sprintf(`{"model":"text-embedding-3-small","input":[%s,"x y"]}`, mustMarshal(hello)), []string{"hello world", "x y"}, 1536, false},
		{"dimensions", `{"model":"text-embedding-3-small","input":["a","b"],"dimensions":64}`, []string{"a", "b"}, 64, false},
		{"base64", `{"model":"text-embedding-3-small","input":["a","b"],"encoding_format":"base64","dimensions":32}`, []string{"a", "b"}, 32, true},
		{"float", `{"model":"text-embedding-3-small","input":["a"],"encoding_format":"float"}`, []string{"a"}, 1536, false},
		{"large model", `{"model":"text-embedding-3-large","input":"a"}`, []string{"a"}, 3072, false},
		{"other model", `{"model":"nomic-embed-text","input":"a","dimensions":4000}`, []string{"a"}, 4000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(s, "POST", "/v1/embeddings", tt.body)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var r embeddingsResponse
			if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
				t.Fatalf("invalid JSON: %v", err)
			}
			var req struct{ Model string }
			json.Unmarshal([]byte(tt.body), &req)
			if r.Object != "list" || r.Model != req.Model || len(r.Data) != len(tt.texts) {
				t.Fatalf("object %q model %q with %d data, want list %q %d", r.Object, r.Model, len(r.Data), req.Model, len(tt.texts))
			}
			want := 0
			for i, text := range tt.texts {
				want += tokens.Count(text)
				d := r.Data[i]
				if d.Object != "embedding" || d.Index != i {
					t.Errorf("data[%d]: object %q index %d", i, d.Object, d.Index)
				}
				v := decodeVector(t, d.Embedding, tt.base64)
				if len(v) != tt.dims {
					t.Fatalf("data[%d]: %d dims, want %d", i, len(v), tt.dims)
				}
				hv := mock.Vector(text, tt.dims, 0)
				for j := range v {
					if v[j] != hv[j] {
						t.Fatalf("data[%d][%d] = %v, want mock.Vector's %v", i, j, v[j], hv[j])
					}
				}
			}
			if r.Usage.PromptTokens != want || r.Usage.TotalTokens != want {
				t.Errorf("usage %+v, want %d tokens", r.Usage, want)
			}
		})
	}
}

// fixedEmbedder returns vectors (i+1, 1, 0, ..., 0, 1) for the i-th text of every call.
type fixedEmbedder struct{ dims int }

func (e fixedEmbedder) Name() string { return "fixed" }
func (e fixedEmbedder) Dims() int    { return e.dims }
func (e fixedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range texts {
		v := make([]float32, e.dims)
		v[0], v[1], v[e.dims-1] = float32(i+1), 1, 1
		out[i] = v
	}
	return out, nil
}

func TestEmbedder(t *testing.T) {
	s := New(Config{Embedder: fixedEmbedder{dims: 8}, Model: "fixed-model", Dims: 999})
	w := call(s, "POST", "/v1/embeddings", `{"input":["a","b"]}`)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var r embeddingsResponse
	json.Unmarshal(w.Body.Bytes(), &r)
	if r.Model != "fixed-model" || len(r.Data) != 2 {
		t.Fatalf("model %q, %d vectors", r.Model, len(r.Data))
	}
	if v := decodeVector(t, r.Data[1].Embedding, false); len(v) != 8 || v[0] != 2 || v[1] != 1 || v[7] != 1 {
		t.Errorf("vector 1 = %v, want the embedder's (2, 1, 0, ..., 0, 1)", v)
	}
	// dimensions below the embedder's folds and renormalises: (2+0+0+0, 1+0+0+1)/sqrt(8).
	w = call(s, "POST", "/v1/embeddings", `{"model":"m","input":["a","b"],"dimensions":2}`)
	json.Unmarshal(w.Body.Bytes(), &r)
	v := decodeVector(t, r.Data[1].Embedding, false)
	if len(v) != 2 || math.Abs(float64(v[0])-2/math.Sqrt(8)) > 1e-6 || math.Abs(float64(v[1])-2/math.Sqrt(8)) > 1e-6 {
		t.Errorf("folded vector = %v, want (2,2)/sqrt(8) within 1e-6", v)
	}
	if w := call(s, "POST", "/v1/embeddings", `{"model":"m","input":"a","dimensions":9}`); w.Code != 400 {
		t.Errorf("dimensions above the embedder's: status %d, want 400", w.Code)
	}
}

type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func checkError(t *testing.T, w *httptest.ResponseRecorder, status int, typ string) errorBody {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	var e errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, w.Body)
	}
	if e.Error.Message == "" || e.Error.Type != typ {
		t.Fatalf("error %+v, want type %q and a message", e.Error, typ)
	}
	return e
}

func TestEmbeddingsBadRequests(t *testing.T) {
	s := New(Config{})
	ids := func(n int) string { return strings.TrimSuffix(strings.Repeat("1,", n), ",") }
	many := `["` + strings.Repeat(`x","`, maxInputs) + `x"]`
	var big strings.Builder
	big.WriteString(`[`)
	for i := 0; i < 40; i++ {
		if i > 0 {
			big.WriteString(",")
		}
		big.WriteString("[" + ids(8000) + "]")
	}
	big.WriteString(`]`)
	tests := []struct {
		name, body, param string
	}{
		{"invalid JSON", `{"model":`, ""},
		{"no input", `{"model":"text-embedding-3-small"}`, "input"},
		{"null input", `{"model":"text-embedding-3-small","input":null}`, "input"},
		{"empty string", `{"model":"text-embedding-3-small","input":""}`, "input"},
		{"empty array", `{"model":"text-embedding-3-small","input":[]}`, "input"},
		{"empty element", `{"model":"text-embedding-3-small","input":["a",""]}`, "input[1]"},
		{"number element", `{"model":"text-embedding-3-small","input":["a",3]}`, "input[1]"},
		{"object input", `{"model":"text-embedding-3-small","input":{"a":1}}`, "input"},
		{"too many inputs", `{"model":"text-embedding-3-small","input":` + many + `}`, "input"},
		{"no model", `{"input":"a"}`, "model"},
		{"bad encoding", `{"model":"text-embedding-3-small","input":"a","encoding_format":"int8"}`, "encoding_format"},
		{"input too long", `{"model":"text-embedding-3-small","input":[` + ids(8193) + `]}`, "input"},
		{"request too long", `{"model":"text-embedding-3-small","input":` + big.String() + `}`, "input"},
		{"string input too long", `{"model":"text-embedding-3-small","input":["a","` + strings.Repeat(" a", 8193) + `"]}`, "input[1]"},
		{"strings too long together", `{"model":"text-embedding-3-small","input":["` + strings.Repeat(strings.Repeat(" a", 8000)+`","`, 38) + `a"]}`, "input"},
		{"negative token", `{"model":"text-embedding-3-small","input":[1,-2]}`, "input"},
		{"token out of vocabulary", `{"model":"text-embedding-3-small","input":[[1],[200000]]}`, "input[1]"},
		{"dimensions zero", `{"model":"text-embedding-3-small","input":"a","dimensions":0}`, "dimensions"},
		{"dimensions too large", `{"model":"text-embedding-3-small","input":"a","dimensions":1537}`, "dimensions"},
		{"dimensions on ada", `{"model":"text-embedding-ada-002","input":"a","dimensions":256}`, "dimensions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := checkError(t, call(s, "POST", "/v1/embeddings", tt.body), 400, "invalid_request_error")
			got := ""
			if e.Error.Param != nil {
				got = *e.Error.Param
			}
			if got != tt.param {
				t.Errorf("param %q, want %q (message %q)", got, tt.param, e.Error.Message)
			}
		})
	}
	if st := s.Stats(); st.BadRequests != int64(len(tests)) || st.OK != 0 || st.Requests != int64(len(tests)) {
		t.Errorf("stats %+v, want %d bad requests", st, len(tests))
	}
}

// TestEmbeddingsCountLate checks that the limits are checked before the
// answer but texts that cannot break them are counted only while answering
// (inside the latency), and that the usage answered is the exact count
// either way.
func TestEmbeddingsCountLate(t *testing.T) {
	var counted atomic.Int64
	s := New(Config{CountTokens: func(t string) int { counted.Add(1); return tokens.Count(t) }})
	long := strings.Repeat("x", 9000)  // over 8,192 bytes, under 8,192 tokens
	wide := strings.Repeat(" a", 4100) // 8,200 bytes, 4,100 tokens
	var many []string
	for range 40 {
		many = append(many, wide) // 328,000 bytes, 164,000 tokens
	}
	tests := []struct {
		name          string
		texts         []string
		countedBefore int64 // texts counted before the answer
	}{
		{"short texts", []string{"hello world", "a cat", "lorem ipsum"}, 0},
		{"a text of more bytes than the input limit", []string{"hello", long}, 1},
		{"more bytes in all than the request limit", many, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counted.Store(0)
			body := fmt.Sprintf(`{"model":"text-embedding-3-small","input":%s,"dimensions":8}`, mustMarshal(tt.texts))
			req, rerr := s.embeddings([]byte(body))
			if rerr != nil {
				t.Fatalf("refused: %s", rerr.msg)
			}
			if got := counted.Load(); got != tt.countedBefore {
				t.Errorf("%d texts counted before the answer, want %d", got, tt.countedBefore)
			}
			_, u, err := req.answer(context.Background(), false, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, text := range tt.texts {
				want += tokens.Count(text)
			}
			if u.prompt != want || counted.Load() != int64(len(tt.texts)) {
				t.Errorf("usage %d tokens after counting %d texts; want %d and %d", u.prompt, counted.Load(), want, len(tt.texts))
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	s := New(Config{})
	for _, path := range []string{"/v1/embeddings", "/embeddings", "/v1/embeddings/"} {
		if w := call(s, "POST", path, `{"model":"m","input":"a","dimensions":4}`); w.Code != 200 {
			t.Errorf("POST %s: status %d", path, w.Code)
		}
	}
	for _, path := range []string{"/v1/models", "/models"} {
		w := call(s, "GET", path, "")
		var list struct {
			Object string
			Data   []struct{ ID, Object string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 || list.Object != "list" || len(list.Data) == 0 || list.Data[0].Object != "model" {
			t.Errorf("GET %s: status %d, %v: %s", path, w.Code, err, w.Body)
		}
	}
	w := call(s, "GET", "/v1/models/text-embedding-3-small", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"id":"text-embedding-3-small"`) {
		t.Errorf("GET one model: %d %s", w.Code, w.Body)
	}
	checkError(t, call(s, "GET", "/v1/embeddings", ""), 404, "invalid_request_error")
	checkError(t, call(s, "POST", "/v1/completions", "{}"), 404, "invalid_request_error")
	checkError(t, call(s, "POST", "/stats", ""), 405, "invalid_request_error")
	if w := call(s, "GET", "/healthz", ""); w.Code != 200 {
		t.Errorf("healthz: %d", w.Code)
	}
	st := s.Stats()
	want := EndpointStats{Embeddings: 3, Models: 3, Other: 2}
	if st.ByEndpoint != want || st.Requests != 8 || st.OK != 6 || st.BadRequests != 2 {
		t.Errorf("stats %+v, want endpoints %+v, 8 requests, 6 ok, 2 bad", st, want)
	}
}

func TestAPIKey(t *testing.T) {
	s := New(Config{APIKey: "sk-test-123456"})
	body := `{"model":"m","input":"a","dimensions":4}`
	req := func(auth string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/v1/embeddings", strings.NewReader(body))
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	checkError(t, req(""), 401, "invalid_request_error")
	e := checkError(t, req("Bearer sk-wrong-000000"), 401, "invalid_request_error")
	if e.Error.Code == nil || *e.Error.Code != "invalid_api_key" || strings.Contains(e.Error.Message, "sk-wrong-000000") {
		t.Errorf("wrong key: %+v (code invalid_api_key, key redacted)", e.Error)
	}
	if w := req("Bearer sk-test-123456"); w.Code != 200 {
		t.Errorf("right key: status %d", w.Code)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		c  Config
		ok bool
	}{
		{Config{}, true},
		{Config{RateLimitRate: 0.3, ErrorRate: 0.05, TimeoutRate: 0.05, MalformedRate: 0.6}, true},
		{Config{RateLimitRate: 1}, true},
		{Config{RateLimitRate: -0.1}, false},
		{Config{ErrorRate: 1.5}, false},
		{Config{TimeoutRate: math.NaN()}, false},
		{Config{RateLimitRate: 0.6, ErrorRate: 0.5}, false},
		{Config{Latency: -time.Second}, false},
		{Config{Jitter: -time.Second}, false},
		{Config{RPM: -1}, false},
		{Config{TPM: -1}, false},
		{Config{Dims: -1}, false},
		{Config{Dims: maxDims + 1}, false},
	}
	for _, tt := range tests {
		if err := tt.c.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.c, err, tt.ok)
		}
	}
	if _, _, err := Start(context.Background(), "127.0.0.1:0", Config{ErrorRate: 2}); err == nil {
		t.Error("Start accepted an invalid config")
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8089": true, "127.0.0.2:0": true, "[::1]:80": true, "localhost:8089": true,
		":8089": false, "0.0.0.0:8089": false, "192.168.1.2:80": false, "example.com:80": false, "[::]:80": false, "nonsense": false,
	} {
		if err := CheckLoopback(addr); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

// faultCounts sends n small embedding requests straight to a new server.
func faultCounts(c Config, n int) (Stats, map[string]int) {
	s := New(c)
	kinds := map[string]int{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // held requests return at once
	for i := 0; i < n; i++ {
		req := httptest.NewRequest("POST", "/v1/embeddings", strings.NewReader(`{"model":"m","input":["a","b","c"],"dimensions":4}`)).WithContext(ctx)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code == 200 {
			var r embeddingsResponse
			switch err := json.Unmarshal(w.Body.Bytes(), &r); {
			case err != nil:
				kinds["invalid json"]++
			case len(r.Data) != 3:
				kinds["missing vector"]++
			default:
				for _, d := range r.Data {
					var v []float32
					json.Unmarshal(d.Embedding, &v)
					if len(v) != 4 {
						kinds["wrong dims"]++
						break
					}
				}
			}
		}
	}
	return s.Stats(), kinds
}

func TestFaultRates(t *testing.T) {
	const n, seed = 1000, 42
	// With the seed fixed, the counts are exact outcomes of the seeded
	// stream (logged); the ranges, rate ± 10% (± 30% for the 5% rate), say
	// what they mean and hold for this seed.
	tests := []struct {
		name   string
		c      Config
		get    func(Stats) int64
		lo, hi int64
	}{
		{"rate-limit", Config{RateLimitRate: 0.3}, func(s Stats) int64 { return s.RateLimitedInjected }, 270, 330},
		{"error", Config{ErrorRate: 0.3}, func(s Stats) int64 { return s.ServerErrors }, 270, 330},
		{"timeout", Config{TimeoutRate: 0.3}, func(s Stats) int64 { return s.Timeouts }, 270, 330},
		{"malformed", Config{MalformedRate: 0.3}, func(s Stats) int64 { return s.Malformed }, 270, 330},
		{"combined: 429s", Config{RateLimitRate: 0.3, ErrorRate: 0.05}, func(s Stats) int64 { return s.RateLimitedInjected }, 270, 330},
		{"combined: 500s", Config{RateLimitRate: 0.3, ErrorRate: 0.05}, func(s Stats) int64 { return s.ServerErrors }, 35, 65},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Seed = seed
			st, kinds := faultCounts(tt.c, n)
			got := tt.get(st)
			t.Logf("seed %d: %d of %d", seed, got, n)
			if got < tt.lo || got > tt.hi {
				t.Errorf("%d of %d requests, want %d..%d", got, n, tt.lo, tt.hi)
			}
			if sum := st.OK + st.Malformed + st.RateLimited + st.ServerErrors + st.Timeouts + st.BadRequests + st.Canceled; sum != st.Requests || st.Requests != n {
				t.Errorf("outcomes add up to %d, requests %d, want %d", sum, st.Requests, n)
			}
			if st.Inputs != 3*st.OK {
				t.Errorf("inputs %d, want 3 per OK answer (%d)", st.Inputs, st.OK)
			}
			if tt.c.MalformedRate > 0 {
				total := 0
				for k, c := range kinds {
					if c < 60 {
						t.Errorf("malformed kind %q: %d, want each kind about a third", k, c)
					}
					total += c
				}
				if len(kinds) != 3 || int64(total) != st.Malformed {
					t.Errorf("malformed kinds %v, want 3 kinds adding up to %d", kinds, st.Malformed)
				}
			}
			again, _ := faultCounts(tt.c, n)
			if tt.get(again) != got {
				t.Errorf("same seed gave %d then %d", got, tt.get(again))
			}
		})
	}
}

func TestInjected429Headers(t *testing.T) {
	for _, tt := range []struct {
		ra          time.Duration
		secs, milli string
	}{
		{0, "1", "1000"},
		{2500 * time.Millisecond, "3", "2500"},
		{-1, "", ""},
	} {
		s := New(Config{RateLimitRate: 1, RetryAfter: tt.ra})
		w := call(s, "POST", "/v1/embeddings", `{"model":"m","input":"a"}`)
		e := checkError(t, w, 429, "requests")
		if e.Error.Code == nil || *e.Error.Code != "rate_limit_exceeded" {
			t.Errorf("code %v, want rate_limit_exceeded", e.Error.Code)
		}
		if got := w.Header().Get("Retry-After"); got != tt.secs {
			t.Errorf("RetryAfter %v: Retry-After %q, want %q", tt.ra, got, tt.secs)
		}
		if got := w.Header().Get("retry-after-ms"); got != tt.milli {
			t.Errorf("RetryAfter %v: retry-after-ms %q, want %q", tt.ra, got, tt.milli)
		}
	}
}

// clock is a settable clock for the rate limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRPMLimit(t *testing.T) {
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Config{RPM: 60, Now: clk.Now})
	body := `{"model":"m","input":"a","dimensions":4}`
	for i := 0; i < 60; i++ {
		if w := call(s, "POST", "/v1/embeddings", body); w.Code != 200 {
			t.Fatalf("request %d: status %d, want 200 within the burst of 60", i, w.Code)
		}
	}
	w := call(s, "POST", "/v1/embeddings", body)
	checkError(t, w, 429, "requests")
	for h, want := range map[string]string{"Retry-After": "1", "retry-after-ms": "1000", "x-ratelimit-limit-requests": "60",
		"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m0s"} {
		if got := w.Header().Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	clk.Add(500 * time.Millisecond)
	w = call(s, "POST", "/v1/embeddings", body)
	checkError(t, w, 429, "requests")
	if got := w.Header().Get("retry-after-ms"); got != "500" {
		t.Errorf("half a second later: retry-after-ms %q, want 500", got)
	}
	clk.Add(500 * time.Millisecond)
	if w := call(s, "POST", "/v1/embeddings", body); w.Code != 200 {
		t.Errorf("a second later: status %d, want 200", w.Code)
	}
	clk.Add(10 * time.Second) // refills 10 requests
	ok := 0
	for i := 0; i < 20; i++ {
		if call(s, "POST", "/v1/embeddings", body).Code == 200 {
			ok++
		}
	}
	if ok != 10 {
		t.Errorf("10 s later: %d of 20 admitted, want 10", ok)
	}
	if st := s.Stats(); st.RateLimitedRPM != 12 || st.RateLimited != 12 || st.OK != 71 {
		t.Errorf("stats %+v, want 12 RPM 429s and 71 OK", st)
	}
}

func TestTPMLimit(t *testing.T) {
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Config{TPM: 1000, Now: clk.Now})
	ids := strings.TrimSuffix(strings.Repeat("1,", 300), ",")
	body := `{"model":"m","input":[` + ids + `],"dimensions":4}`
	for i := 0; i < 3; i++ {
		w := call(s, "POST", "/v1/embeddings", body)
		if w.Code != 200 {
			t.Fatalf("request %d: status %d", i, w.Code)
		}
		if got, want := w.Header().Get("x-ratelimit-remaining-tokens"), fmt.Sprint(1000-300*(i+1)); got != want {
			t.Errorf("request %d: remaining tokens %q, want %q", i, got, want)
		}
	}
	// 100 tokens left; 300 needed: 200 more at 1000/60 per second = 12 s.
	w := call(s, "POST", "/v1/embeddings", body)
	checkError(t, w, 429, "tokens")
	if got := w.Header().Get("Retry-After"); got != "12" {
		t.Errorf("Retry-After %q, want 12", got)
	}
	if got := w.Header().Get("retry-after-ms"); got != "12000" {
		t.Errorf("retry-after-ms %q, want 12000", got)
	}
	clk.Add(12 * time.Second)
	if w := call(s, "POST", "/v1/embeddings", body); w.Code != 200 {
		t.Errorf("12 s later: status %d, want 200", w.Code)
	}
	huge := `{"model":"m","input":[` + strings.TrimSuffix(strings.Repeat("1,", 1001), ",") + `],"dimensions":4}`
	w = call(s, "POST", "/v1/embeddings", huge)
	e := checkError(t, w, 429, "tokens")
	if !strings.Contains(e.Error.Message, "too large") || w.Header().Get("Retry-After") != "" {
		t.Errorf("request above the TPM limit: %q, Retry-After %q; want 'too large' and no Retry-After", e.Error.Message, w.Header().Get("Retry-After"))
	}
	if st := s.Stats(); st.RateLimitedTPM != 2 || st.PromptTokens != 1200 {
		t.Errorf("stats %+v, want 2 TPM 429s and 1200 prompt tokens", st)
	}
}

func TestTimeoutHeldUntilClientGivesUp(t *testing.T) {
	s, base := start(t, Config{TimeoutRate: 1})
	client := &http.Client{Timeout: 200 * time.Millisecond}
	_, err := client.Post(base+"/embeddings", "application/json", strings.NewReader(`{"model":"m","input":"a"}`))
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("client got %v, want a timeout", err)
	}
	waitFor(t, func() bool { return s.Stats().InFlight == 0 })
	if st := s.Stats(); st.Timeouts != 1 || st.Requests != 1 || st.OK != 0 {
		t.Errorf("stats %+v, want 1 timeout", st)
	}
}

// waitFor polls cond until it holds (synchronisation, not a timing assertion).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition not reached in 10 s")
}

func TestShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, base, err := Start(ctx, "127.0.0.1:0", Config{TimeoutRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/v1") {
		t.Errorf("base URL %q", base)
	}
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Post(base+"/embeddings", "application/json", strings.NewReader(`{"model":"m","input":"a"}`))
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("held request answered with status %d", resp.StatusCode)
		} else {
			err = nil
		}
		errc <- err
	}()
	waitFor(t, func() bool { return s.Stats().Timeouts == 1 })
	cancel()
	if err := s.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if err := <-errc; err != nil {
		t.Error(err)
	}
	if _, err := http.Get(base + "/models"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestLatencyWaitCanceled(t *testing.T) {
	s := New(Config{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptest.NewRequest("POST", "/v1/embeddings", strings.NewReader(`{"model":"m","input":"a"}`)).WithContext(ctx)
		s.ServeHTTP(httptest.NewRecorder(), req)
	}()
	waitFor(t, func() bool { return s.Stats().InFlight == 1 })
	cancel()
	<-done
	if st := s.Stats(); st.Canceled != 1 || st.InFlight != 0 {
		t.Errorf("stats %+v, want 1 canceled", st)
	}
}

// TestLatencyCountedFromArrival checks that an answer's latency is counted
// from the request's arrival, before its body is read, as an API's is: a
// body that takes the whole latency to come in is answered once it is read,
// with no wait after it. Time is the injected clock's, which the body moves
// on by the latency as it is read; no real time is measured or waited for.
func TestLatencyCountedFromArrival(t *testing.T) {
	var (
		mu    sync.Mutex
		now   = time.Unix(1_700_000_000, 0)
		order []string // "clock" for each reading of the clock, "read" for the body's first read
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := New(Config{Latency: time.Hour, Dims: 8, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, "clock")
		if order[0] == "read" {
			// The latency started after the body was read, so the handler
			// would wait the hour: stop it (the test fails below).
			cancel()
		}
		return now
	}})
	mu.Lock()
	order = nil // New reads the clock for the rate limiter
	mu.Unlock()
	body := &readHook{r: strings.NewReader(`{"model":"m","input":["a","b"]}`), first: func() {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, "read")
		now = now.Add(time.Hour) // the body takes the whole latency to arrive
	}}
	req := httptest.NewRequest("POST", "/v1/embeddings", body).WithContext(ctx)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	mu.Lock()
	defer mu.Unlock()
	if len(order) < 2 || order[0] != "clock" || order[1] != "read" {
		t.Errorf("clock and body reads in the order %v, want the latency's clock read before the body", order)
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d (%s), want 200 with no wait after the body", rec.Code, rec.Body)
	}
	var got struct {
		Data []struct{ Embedding []float32 }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Data) != 2 || len(got.Data[0].Embedding) != 8 {
		t.Errorf("answer %s (%v), want 2 vectors of 8", rec.Body, err)
	}
	if st := s.Stats(); st.OK != 1 || st.Canceled != 0 {
		t.Errorf("stats %+v, want 1 ok", st)
	}
}

// readHook is a reader that calls first before its first read.
type readHook struct {
	r     io.Reader
	first func()
	once  sync.Once
}

func (h *readHook) Read(p []byte) (int, error) {
	h.once.Do(h.first)
	return h.r.Read(p)
}

func TestStatsEndpoint(t *testing.T) {
	s, base := start(t, Config{Seed: 3, RateLimitRate: 0.25, ErrorRate: 0.25, MalformedRate: 0.25})
	texts := 0
	for i := 0; i < 40; i++ {
		n := 1 + i%4
		texts += n
		in, _ := json.Marshal(strings.Fields(strings.Repeat("lorem ", n)))
		resp, err := http.Post(base+"/embeddings", "application/json", bytes.NewReader([]byte(`{"model":"m","dimensions":8,"input":`+string(in)+`}`)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := http.Get(strings.TrimSuffix(base, "/v1") + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got Stats
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got != s.Stats() {
		t.Errorf("/stats = %+v, Stats() = %+v", got, s.Stats())
	}
	defer func() {
		resp, err := http.Post(strings.TrimSuffix(base, "/v1")+"/stats/reset", "", nil)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("reset: %v %v", err, resp)
		}
		if st := s.Stats(); st != (Stats{}) {
			t.Errorf("after reset: %+v, want zeros", st)
		}
	}()
	if got.Requests != 40 || got.ByEndpoint.Embeddings != 40 {
		t.Errorf("requests %d (embeddings %d), want 40", got.Requests, got.ByEndpoint.Embeddings)
	}
	if sum := got.OK + got.Malformed + got.RateLimited + got.ServerErrors; sum != 40 || got.OK == 0 || got.Malformed == 0 || got.RateLimited == 0 || got.ServerErrors == 0 {
		t.Errorf("outcomes %+v, want all four kinds adding up to 40", got)
	}
	if got.Inputs == 0 || got.Inputs >= int64(texts) || got.PromptTokens != got.Inputs*int64(tokens.Count("lorem")) || got.Tokens != got.PromptTokens {
		t.Errorf("inputs %d tokens %d/%d: want only OK answers counted", got.Inputs, got.PromptTokens, got.Tokens)
	}
}

func TestAppendFloat32RoundTrips(t *testing.T) {
	xs := []float32{0, 1, -1, 0.1, -0.1, 0.099999994, 1e-6, -1e-6, 9.999999e-7, 0.99999994, 1e-30, 3.5, -1234.5, math.SmallestNonzeroFloat32, math.MaxFloat32}
	state := uint64(1)
	for i := 0; i < 200000; i++ {
		state = state*6364136223846793005 + 1442695040888963407
		bits := uint32(state >> 32)
		x := math.Float32frombits(bits)
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			continue
		}
		xs = append(xs, x, float32(int32(bits))/float32(math.MaxInt32)) // any float32, and one in (-1, 1)
	}
	for _, x := range xs {
		s := appendFloat32(nil, x)
		var y float32
		if err := json.Unmarshal(s, &y); err != nil || y != x {
			t.Fatalf("appendFloat32(%v) = %s, reads back as %v (%v)", x, s, y, err)
		}
	}
}

func TestStartAddressInUse(t *testing.T) {
	_, base := start(t, Config{})
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/v1")
	if _, _, err := Start(context.Background(), addr, Config{}); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("second Start on %s: %v, want an error naming the address", addr, err)
	}
}
