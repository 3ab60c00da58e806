package openai

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/embed/tokens"
	"github.com/kura-go/kura/internal/httpapi"
	"github.com/kura-go/kura/internal/jsonscan"
)

var _ embed.Embedder = (*Client)(nil)
var _ embed.UsageReporter = (*Client)(nil)

func testTexts(n int) []string {
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("summary %d: the user asked about topic %d in %s", i, i%17, strings.Repeat("detail ", i%9))
	}
	return texts
}

// fastConfig returns a config for tests: short backoffs so retries are quick.
func fastConfig(url string) Config {
	return Config{BaseURL: url, APIKey: "sk-test", Model: "text-embedding-3-small", Dims: 0,
		MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Timeout: 5 * time.Second}
}

func checkVectors(t *testing.T, texts []string, vs [][]float32, dims int) {
	t.Helper()
	if len(vs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vs), len(texts))
	}
	for i, s := range texts {
		if !reflect.DeepEqual(vs[i], mock.Vector(s, dims, 0)) {
			t.Fatalf("vector %d is not the vector of its text %q", i, s)
		}
	}
}

func TestEmbedClean(t *testing.T) {
	for _, format := range []string{"float", "base64"} {
		t.Run(format, func(t *testing.T) {
			srv := &fakeServer{Dims: 64, Shuffle: true}
			cfg := fastConfig(srv.start(t))
			cfg.Model = "my-model"
			cfg.EncodingFormat = format
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			texts := testTexts(523)
			vs, err := c.Embed(context.Background(), texts)
			if err != nil {
				t.Fatal(err)
			}
			checkVectors(t, texts, vs, 64)
			u := c.Usage()
			want := embed.Usage{Requests: 11, Inputs: 523, Tokens: srv.Tokens}
			if u != want {
				t.Errorf("usage %+v, want %+v", u, want)
			}
			if srv.Requests != 11 || c.Dims() != 64 {
				t.Errorf("server saw %d requests, client dims %d", srv.Requests, c.Dims())
			}
			if h := srv.Headers[0].Get("Authorization"); h != "Bearer sk-test" {
				t.Errorf("Authorization %q", h)
			}
			if b := srv.Bodies[0]; b.Model != "my-model" || b.EncodingFormat != format || b.Dimensions != 0 || len(b.Input) != 50 {
				t.Errorf("request body %+v", b)
			}
		})
	}
}

// TestBase64Fallback: the default asks for base64; a server that rejects it
// is asked again for float, once, and every later request asks for float.
func TestBase64Fallback(t *testing.T) {
	srv := &fakeServer{Dims: 16, RejectBase64: true}
	c, err := New(fastConfig(srv.start(t)))
	if err != nil {
		t.Fatal(err)
	}
	texts := testTexts(200)
	vs, err := c.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, texts, vs, 16)
	for _, b := range srv.Bodies { // the bodies of the successful requests
		if b.EncodingFormat != "float" {
			t.Errorf("a successful request asked for %q", b.EncodingFormat)
		}
	}
	// Concurrent first requests may all go out as base64 before the first
	// rejection arrives; none after.
	base64s := srv.Requests - srv.OK
	if base64s == 0 || base64s > DefaultConcurrency || srv.OK != 4 {
		t.Errorf("%d base64 requests, %d successful; want 1..concurrency base64 and 4 successful", base64s, srv.OK)
	}
	if u := c.Usage(); u.Retries != 0 || u.Inputs != 200 {
		t.Errorf("usage %+v: a format fallback is not a retry", u)
	}
}

func TestRetryAfterCapped(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct {
		header, value string
		want          time.Duration
	}{
		{"Retry-After", "2", 2 * time.Second},
		{"Retry-After", "3600", MaxRetryAfter},
		{"Retry-After", "1e300", MaxRetryAfter},
		{"retry-after-ms", "250", 250 * time.Millisecond},
		{"retry-after-ms", "1e30", MaxRetryAfter},
		{"Retry-After", now.Add(2 * time.Hour).UTC().Format(http.TimeFormat), MaxRetryAfter},
		{"Retry-After", "-5", 0},
	} {
		h := http.Header{}
		h.Set(tt.header, tt.value)
		if got := httpapi.RetryAfter(h, now, MaxRetryAfter); got != tt.want {
			t.Errorf("%s: %s -> %v, want %v", tt.header, tt.value, got, tt.want)
		}
	}
}

// TestMalformedRetriedOnce: with MaxMalformedRetries 1, an unusable response
// is retried once, not MaxRetries times, because every retry is billed.
func TestMalformedRetriedOnce(t *testing.T) {
	srv := &fakeServer{Dims: 8, Mutate: func(r *fakeResponse) { r.Data = r.Data[:len(r.Data)-1] }}
	cfg := fastConfig(srv.start(t))
	cfg.MaxRetries = 10
	cfg.MaxMalformedRetries = 1
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Embed(context.Background(), testTexts(10))
	if err == nil || !strings.Contains(err.Error(), "giving up after 2 unusable responses") {
		t.Fatalf("error %v, want giving up after 2 unusable responses", err)
	}
	if srv.Requests != 2 {
		t.Errorf("server saw %d requests, want 2", srv.Requests)
	}
}

func TestUnknownHostNotRetried(t *testing.T) {
	// The dialer answers as a resolver would for an unknown host, so that
	// no DNS query leaves the machine.
	cfg := fastConfig("http://no-such-host.invalid/v1")
	cfg.MaxRetries = 5
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "no-such-host.invalid", IsNotFound: true}}
		},
	}}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Embed(context.Background(), testTexts(3))
	if err == nil {
		t.Fatal("no error for an unknown host")
	}
	if u := c.Usage(); u.Requests != 1 {
		t.Errorf("%d requests to an unknown host, want 1 (no retries)", u.Requests)
	}
}

// TestEmbedUnderFaults: with 30% of requests rate-limited and 5% failing,
// every text still gets exactly its vector, identical to a clean run, and
// the client's counters match what the server saw.
func TestEmbedUnderFaults(t *testing.T) {
	texts := testTexts(3000)
	clean := &fakeServer{Dims: 32, Shuffle: true}
	cc, _ := New(fastConfig(clean.start(t)))
	want, err := cc.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}

	srv := &fakeServer{Dims: 32, Shuffle: true, Rate429: 0.30, Rate500: 0.05, RetryAfter: "1", RetryMs: "5"}
	cfg := fastConfig(srv.start(t))
	cfg.MaxRetries = 30 // a batch fails for good with probability 0.35^31: never
	cfg.BatchSize = 10  // 300 batches: enough requests for the rates to show
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("vectors differ from the clean run")
	}
	u := c.Usage()
	batches := int64(len(texts) / 10)
	t.Logf("server: %d requests, %d 429s, %d 500s; client usage %+v", srv.Requests, srv.N429, srv.N500, u)
	if u.Requests != int64(srv.Requests) || u.RateLimited != int64(srv.N429) || u.Errors != int64(srv.N500) {
		t.Errorf("client counted %d requests, %d 429s, %d errors; server %d, %d, %d",
			u.Requests, u.RateLimited, u.Errors, srv.Requests, srv.N429, srv.N500)
	}
	if u.Retries != u.Requests-batches || int64(srv.OK) != batches {
		t.Errorf("retries %d, want requests-batches = %d; server OK %d", u.Retries, u.Requests-batches, srv.OK)
	}
	if u.Tokens != srv.Tokens || u.Inputs != int64(srv.Inputs) || u.Inputs != int64(len(texts)) {
		t.Errorf("tokens %d inputs %d; server %d %d", u.Tokens, u.Inputs, srv.Tokens, srv.Inputs)
	}
	if srv.N429 < 60 || srv.N500 < 5 { // expected about 140 and 23
		t.Errorf("fault injection too weak to test anything: %d 429s, %d 500s", srv.N429, srv.N500)
	}
	if wantCost := float64(u.Tokens) * 0.02 / 1e6; u.CostUSD != wantCost {
		t.Errorf("cost %v, want %v", u.CostUSD, wantCost)
	}
}

// TestRetryAfterSeconds: a 429 with only "Retry-After: 1" makes the client
// wait at least a second (as the server observes) before the retry.
func TestRetryAfterSeconds(t *testing.T) {
	srv := &fakeServer{Dims: 8, Respond: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":{"message":"slow down"}}`))
			return true
		}
		return false
	}}
	c, _ := New(fastConfig(srv.start(t)))
	vs, err := c.Embed(context.Background(), []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, []string{"a", "b"}, vs, 8)
	if len(srv.Times) != 2 {
		t.Fatalf("%d requests, want 2", len(srv.Times))
	}
	if gap := srv.Times[1].Sub(srv.Times[0]); gap < time.Second {
		t.Errorf("retried after %v, before the server's Retry-After of 1s", gap)
	}
	if u := c.Usage(); u.RateLimited != 1 || u.Retries != 1 || u.Requests != 2 {
		t.Errorf("usage %+v", u)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		h    map[string]string
		want time.Duration
	}{
		{"none", nil, 0},
		{"seconds", map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{"fractional seconds", map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{"milliseconds win", map[string]string{"Retry-After": "2", "retry-after-ms": "150"}, 150 * time.Millisecond},
		{"http date", map[string]string{"Retry-After": now.Add(3 * time.Second).Format(http.TimeFormat)}, 3 * time.Second},
		{"date in the past", map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{"garbage", map[string]string{"Retry-After": "soon", "retry-after-ms": "x"}, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.h {
			h.Set(k, v)
		}
		if got := httpapi.RetryAfter(h, now, MaxRetryAfter); got != tt.want {
			t.Errorf("%s: retryAfter = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestBadResponses: every way a server can answer wrongly gives a clear
// error, never silently misplaced vectors.
func TestBadResponses(t *testing.T) {
	texts := []string{"one", "two", "three", "four"}
	tests := []struct {
		name      string
		mutate    func(r *fakeResponse)
		respond   func(n int, w http.ResponseWriter, r *http.Request) bool
		cfg       func(*Config)
		wantErr   string // "" means success expected
		wantTries int    // requests the server should see
	}{
		{
			name: "shuffled indices are put back in order",
			mutate: func(r *fakeResponse) {
				r.Data[0], r.Data[3] = r.Data[3], r.Data[0]
				r.Data[1], r.Data[2] = r.Data[2], r.Data[1]
			},
			wantTries: 1,
		},
		{
			name:    "fewer vectors than inputs",
			mutate:  func(r *fakeResponse) { r.Data = r.Data[:3] },
			wantErr: "invalid response: 3 vectors for 4 inputs", wantTries: 2,
		},
		{
			name:    "mixed dimensions",
			mutate:  func(r *fakeResponse) { r.Data[2].Embedding = []float32{1, 0} },
			wantErr: "mixed dimensions: data[2] has 2 values, data[0] has 8", wantTries: 2,
		},
		{
			name: "invalid JSON",
			respond: func(n int, w http.ResponseWriter, r *http.Request) bool {
				w.Write([]byte(`{"object":"list","data":[{"index":0,"embedding":[0.1,`))
				return true
			},
			wantErr: "not the JSON of an embeddings response", wantTries: 2,
		},
		{
			name: "401 fails at once with the server's message",
			respond: func(n int, w http.ResponseWriter, r *http.Request) bool {
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":{"message":"Incorrect API key provided: sk-test.","type":"invalid_request_error","code":"invalid_api_key"}}`))
				return true
			},
			wantErr: `HTTP 401 Unauthorized: Incorrect API key provided: REDACTED. (type "invalid_request_error", code "invalid_api_key"); check OPENAI_API_KEY`, wantTries: 1, // the echoed key is redacted
		},
		{
			name: "400 with a plain-text body",
			respond: func(n int, w http.ResponseWriter, r *http.Request) bool {
				http.Error(w, "model not loaded", http.StatusBadRequest)
				return true
			},
			wantErr: "HTTP 400 Bad Request: model not loaded", wantTries: 1,
		},
		{
			name:    "duplicate index",
			mutate:  func(r *fakeResponse) { r.Data[1].Index = 0 },
			wantErr: "index 0 appears twice", wantTries: 2,
		},
		{
			name:    "missing index",
			mutate:  func(r *fakeResponse) { r.Data[1].Index = nil },
			wantErr: "data[1] has no index", wantTries: 2,
		},
		{
			name:    "index out of range",
			mutate:  func(r *fakeResponse) { r.Data[3].Index = 4 },
			wantErr: "data[3] has index 4, outside 0..3", wantTries: 2,
		},
		{
			name:    "not a number",
			mutate:  func(r *fakeResponse) { r.Data[0].Embedding = []any{0.5, "x"} },
			wantErr: "data[0].embedding: value 1: invalid JSON at byte", wantTries: 2,
		},
		{
			name: "requested dimensions ignored by the server",
			mutate: func(r *fakeResponse) {
				for i := range r.Data {
					r.Data[i].Embedding = make([]float32, 16)
				}
			},
			cfg:     func(c *Config) { c.Dims = 8 },
			wantErr: "server returned 16-dimensional vectors, want 8", wantTries: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &fakeServer{Dims: 8, Mutate: tt.mutate, Respond: tt.respond}
			cfg := fastConfig(srv.start(t))
			cfg.MaxRetries = 1
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			vs, err := c.Embed(context.Background(), texts)
			if srv.Requests != tt.wantTries {
				t.Errorf("server saw %d requests, want %d", srv.Requests, tt.wantTries)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				checkVectors(t, texts, vs, 8)
				return
			}
			if err == nil {
				t.Fatalf("no error; want %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "inputs 1-4") {
				t.Errorf("error %q\nwant it to contain %q and the inputs concerned", err, tt.wantErr)
			}
			if vs != nil {
				t.Error("vectors returned along with an error")
			}
			if u := c.Usage(); u.Errors != int64(tt.wantTries) || u.Inputs != 0 || u.Tokens != 0 {
				t.Errorf("usage %+v: want %d errors and nothing embedded", u, tt.wantTries)
			}
		})
	}
}

func TestDimsChangeBetweenResponses(t *testing.T) {
	srv := &fakeServer{Dims: 8, Respond: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 2 {
			w.Write([]byte(`{"data":[{"index":0,"embedding":[1,0,0]}]}`))
			return true
		}
		return false
	}}
	cfg := fastConfig(srv.start(t))
	cfg.BatchSize, cfg.Concurrency = 1, 1
	c, _ := New(cfg)
	if c.Dims() != 1536 {
		t.Errorf("Dims before any response = %d, want text-embedding-3-small's 1536", c.Dims())
	}
	_, err := c.Embed(context.Background(), []string{"a", "b", "c"})
	// One answer has 3 dimensions, the others 8, and the run fails on the
	// mismatch. Which answer counts as the earlier one is the one parsed
	// first: a spare worker sends the next request while an answer is
	// parsed, so the short second answer can be parsed before the first
	// (seen once, in a go test -race -count=1 ./... run). Which input the failing batch
	// carried depends on which worker took which batch.
	want := regexp.MustCompile(`inputs ([1-3])-([1-3]): server returned (3|8)-dimensional vectors, want (8|3) \(the length of earlier responses\)`)
	m := want.FindStringSubmatch(fmt.Sprint(err))
	if err == nil || m == nil || m[3] == m[4] {
		t.Errorf("error %v", err)
	}
	// The third batch may already be on its way when the second fails (its
	// handler may still be running: read the count under the lock).
	srv.mu.Lock()
	requests := srv.Requests
	srv.mu.Unlock()
	if m != nil && strconv.Itoa(c.Dims()) != m[4] || requests < 2 || requests > 3 {
		t.Errorf("Dims %d after the first answer parsed, %d requests; want %v and 2 or 3", c.Dims(), requests, m)
	}
}

func TestTimeoutRetried(t *testing.T) {
	srv := &fakeServer{Dims: 8, Respond: func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			<-r.Context().Done() // never answer the first request
			return true
		}
		return false
	}}
	cfg := fastConfig(srv.start(t))
	cfg.Timeout = 500 * time.Millisecond // long enough for the second, normal answer on a loaded machine
	c, _ := New(cfg)
	vs, err := c.Embed(context.Background(), []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, []string{"x"}, vs, 8)
	if u := c.Usage(); u.Errors != 1 || u.Retries != 1 || u.Requests != 2 {
		t.Errorf("usage %+v, want 1 error (the timeout) and 1 retry", u)
	}

	// A server that never answers exhausts the retries with a clear error.
	dead := &fakeServer{Respond: func(n int, w http.ResponseWriter, r *http.Request) bool { <-r.Context().Done(); return true }}
	cfg = fastConfig(dead.start(t))
	cfg.Timeout, cfg.MaxRetries = 20*time.Millisecond, 2
	c, _ = New(cfg)
	_, err = c.Embed(context.Background(), []string{"x"})
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts: no response within 20ms") {
		t.Errorf("error %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	cfg := fastConfig("http://127.0.0.1:1/v1")
	cfg.MaxRetries = -1
	c, _ := New(cfg)
	_, err := c.Embed(context.Background(), []string{"x"})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %v, want a TransportError", err)
	}
}

func TestCancel(t *testing.T) {
	srv := &fakeServer{Dims: 8, Latency: time.Hour}
	c, _ := New(fastConfig(srv.start(t)))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Embed(ctx, testTexts(500))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if u := c.Usage(); u.Errors != 0 {
		t.Errorf("cancellation counted as %d errors", u.Errors)
	}
}

func TestTruncationAndLocalTokens(t *testing.T) {
	srv := &fakeServer{Dims: 8, NoUsage: true}
	c, _ := New(fastConfig(srv.start(t)))
	long := strings.Repeat("lorem ipsum dolor ", 4000) // ~12,000 tokens
	texts := []string{"short text", long}
	if _, err := c.Embed(context.Background(), texts); err != nil {
		t.Fatal(err)
	}
	sent := srv.Bodies[0].Input
	if n := tokens.Count(sent[1]); n != 8192 || !strings.HasPrefix(long, sent[1]) {
		t.Errorf("long input sent with %d tokens, want its first 8192", n)
	}
	u := c.Usage()
	if want := int64(tokens.Count("short text") + 8192); u.Tokens != want || u.Truncated != 1 {
		t.Errorf("tokens %d truncated %d, want %d (counted locally) and 1", u.Tokens, u.Truncated, want)
	}
}

func TestEmptyInput(t *testing.T) {
	c, _ := New(fastConfig("http://127.0.0.1:1/v1"))
	_, err := c.Embed(context.Background(), []string{"a", "", "b", ""})
	if err == nil || !strings.Contains(err.Error(), "input 1 is empty (2 empty inputs") {
		t.Errorf("error %v", err)
	}
	vs, err := c.Embed(context.Background(), nil)
	if err != nil || len(vs) != 0 {
		t.Errorf("no texts: %v, %v", vs, err)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		base, wantURL, wantAuth string
	}{
		{"https://api.openai.com/v1", "https://api.openai.com/v1/embeddings", "Authorization"},
		{"http://localhost:11434/v1/", "http://localhost:11434/v1/embeddings", "Authorization"},
		{"http://127.0.0.1:8080/v1/embeddings", "http://127.0.0.1:8080/v1/embeddings", "Authorization"},
		{"https://res.openai.azure.com/openai/deployments/emb?api-version=2024-02-01",
			"https://res.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-02-01", "api-key"},
	}
	for _, tt := range tests {
		c, err := New(Config{BaseURL: tt.base, APIKey: "sk-test"})
		if err != nil {
			t.Fatalf("%s: %v", tt.base, err)
		}
		if c.Endpoint() != tt.wantURL || c.c.AuthHeader != tt.wantAuth {
			t.Errorf("%s: endpoint %s auth %s; want %s %s", tt.base, c.Endpoint(), c.c.AuthHeader, tt.wantURL, tt.wantAuth)
		}
	}
	for _, bad := range []Config{
		{BaseURL: "localhost:8000"},
		{BaseURL: "ftp://x/v1"},
		{BaseURL: "http://x/v1", BatchSize: 5000},
		{BaseURL: "http://x/v1", Concurrency: -1},
		{BaseURL: "http://x/v1", EncodingFormat: "int8"},
		{BaseURL: "https://api.openai.com/v1", APIKey: ""},
		{BaseURL: "https://r.openai.azure.com/openai/deployments/d?api-version=1", APIKey: ""},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v): no error", bad)
		}
	}
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
	t.Setenv("OPENAI_API_KEY", "sk-env")
	c, err := New(Config{})
	if err != nil || c.Endpoint() != "http://127.0.0.1:9/v1/embeddings" || c.c.APIKey != "sk-env" || c.Dims() != 1536 || c.Name() != "openai:text-embedding-3-small" {
		t.Errorf("environment defaults not applied: %v %+v", err, c.c)
	}
}

func TestAzureKeyHeader(t *testing.T) {
	srv := &fakeServer{Dims: 8}
	cfg := fastConfig(srv.start(t))
	cfg.AuthHeader = "api-key"
	cfg.Header = http.Header{"Openai-Organization": {"org-1"}}
	c, _ := New(cfg)
	if _, err := c.Embed(context.Background(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	h := srv.Headers[0]
	if h.Get("api-key") != "sk-test" || h.Get("Authorization") != "" || h.Get("OpenAI-Organization") != "org-1" {
		t.Errorf("headers %v", h)
	}
}

func TestPriceOverride(t *testing.T) {
	srv := &fakeServer{Dims: 8}
	cfg := fastConfig(srv.start(t))
	price := 1.0
	cfg.PricePerMillion = &price
	c, _ := New(cfg)
	if _, err := c.Embed(context.Background(), testTexts(10)); err != nil {
		t.Fatal(err)
	}
	if u := c.Usage(); u.CostUSD != float64(srv.Tokens)/1e6 {
		t.Errorf("cost %v for %d tokens at $1/M", u.CostUSD, srv.Tokens)
	}
}

func TestProgress(t *testing.T) {
	srv := &fakeServer{Dims: 8}
	c, _ := New(fastConfig(srv.start(t)))
	var done int
	var mu = make(chan struct{}, 1)
	ctx := embed.WithProgress(context.Background(), func(n int) { mu <- struct{}{}; done += n; <-mu })
	if _, err := c.Embed(ctx, testTexts(333)); err != nil {
		t.Fatal(err)
	}
	if done != 333 {
		t.Errorf("progress reported %d of 333", done)
	}
}

func TestReaderVector(t *testing.T) {
	tests := []struct {
		in   string
		want []float32
		err  bool
	}{
		{"[]", []float32{}, false},
		{"[1]", []float32{1}, false},
		{" [ -0.5 , 1e-3,2E2, 0, -0.0e+1 ] ", []float32{-0.5, 0.001, 200, 0, 0}, false},
		{`"AACAPwAAAMA="`, []float32{1, -2}, false},
		{`"AACAPw"`, nil, true},
		{`"AACAPwA="`, nil, true},
		{"[1,]", nil, true},
		{"[1 2]", nil, true},
		{"[null]", nil, true},
		{"[1e99]", nil, true},
		{"[+1]", nil, true},
		{"[.5]", nil, true},
		{"[01]", nil, true},
		{"[1.]", nil, true},
		{"[1e]", nil, true},
		{"[1", nil, true},
		{"{}", nil, true},
		{"", nil, true},
	}
	for _, tt := range tests {
		s := jsonscan.NewScanner([]byte(tt.in))
		got, err := parseVector(s)
		if err == nil {
			err = s.End()
		}
		if (err != nil) != tt.err || (!tt.err && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("vector(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// TestSkipValid: values of no interest are skipped but must be valid JSON.
func TestSkipValid(t *testing.T) {
	valid := []string{`{"a":[1,true,false,null,{"b":"x\"y\u00e9"}],"c":-1.5e3}`, `"s"`, `[]`, `{}`, `0`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100)} // deep nesting is checked without recursion
	invalid := []string{`{"a":1,}`, `{"a" 1}`, `[1,,2]`, `tru`, `"abc`, "\"a\x01b\"", `{"a":01}`, `[1}`}
	for _, s := range valid {
		sc := jsonscan.NewScanner([]byte(s))
		if _, err := skipValid(sc); err != nil || sc.End() != nil {
			t.Errorf("skipValid(%q): %v", s, err)
		}
	}
	for _, s := range invalid {
		sc := jsonscan.NewScanner([]byte(s))
		if _, err := skipValid(sc); err == nil && sc.End() == nil {
			t.Errorf("skipValid(%q): no error", s)
		}
	}
}

// TestParseBase64 checks base64 embeddings decoded into the vector's
// memory against encoding/base64 and binary.LittleEndian, with "/" escaped
// as "\/" (as some JSON encoders write it) and not.
func TestParseBase64(t *testing.T) {
	c, _ := New(Config{BaseURL: "http://127.0.0.1:1/v1"})
	vecs := [][]float32{{1, 0.99999994, -2.5e-7, 3}, {float32(math.SmallestNonzeroFloat32), -0, 1e38, -1}}
	for _, escape := range []bool{false, true} {
		var items []string
		for i, v := range vecs {
			b64 := b64Vector(v)
			if escape {
				b64 = strings.ReplaceAll(b64, "/", `\/`)
			}
			items = append(items, fmt.Sprintf(`{"index":%d,"embedding":"%s"}`, i, b64))
		}
		body := `{"data":[` + strings.Join(items, ",") + `]}`
		if escape && !strings.Contains(body, `\/`) {
			t.Fatalf("no escaped slash in %s", body)
		}
		got, _, err := c.parse([]byte(body), 2)
		if err != nil {
			t.Fatalf("escape %v: %v", escape, err)
		}
		if !reflect.DeepEqual(got, vecs) {
			t.Errorf("escape %v: got %v, want %v", escape, got, vecs)
		}
	}
}

func TestParseResponseShapes(t *testing.T) {
	c, _ := New(Config{BaseURL: "http://127.0.0.1:1/v1"})
	tests := []struct {
		body    string
		wantErr string
		tokens  int64
	}{
		{`{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0,1]},{"index":0,"embedding":[1,0],"extra":{"x":[1]}}],"model":"m","usage":{"prompt_tokens":7,"total_tokens":7}}`, "", 7},
		{`{"data":[{"index":0,"embedding":[1,0]},{"index":1,"embedding":[0,1]}],"usage":{"total_tokens":5}}`, "", 5},
		{`{"data":[{"index":0,"embedding":[1,0]},{"index":1,"embedding":[0,1]}],"usage":null}`, "", 0},
		{`{"error":{"message":"overloaded"}}`, `error in a 2xx response: {"message":"overloaded"}`, 0},
		{`{"data":null}`, `no "data" array`, 0},
		{`{"data":[{"index":0,"embedding":[1,0]},{"index":1,"embedding":[0,1]}]} x`, "after the end of the value", 0},
		{`{"data":[{"index":0.5,"embedding":[1,0]},{"index":1,"embedding":[0,1]}]}`, "data[0].index: 0.5 is not an integer", 0},
		{`{"data":[{"index":0},{"index":1,"embedding":[0,1]}]}`, "data[0] (index 0): no embedding", 0},
		{`<html>502 Bad Gateway</html>`, "not the JSON of an embeddings response", 0},
		// base64 (little-endian float32s), "/" escaped or not.
		{`{"data":[{"index":0,"embedding":"AACAPwAAAAA="},{"index":1,"embedding":"AAAAAAAAgD8="}]}`, "", 0},
		{`{"data":[{"index":0,"embedding":"AACAPwAAAAA"},{"index":1,"embedding":"AAAAAAAAgD8="}]}`, "base64 embedding: illegal base64 data", 0},
		{`{"data":[{"index":0,"embedding":"AACAPwAAAA=="},{"index":1,"embedding":"AAAAAAAAgD8="}]}`, "7 bytes is not a whole number of float32 values", 0},
		{`{"data":[{"index":0,"embedding":"AACAPwAA\u0041AA="},{"index":1,"embedding":"AAAAAAAAgD8="}]}`, "", 0},
	}
	for _, tt := range tests {
		vs, tok, err := c.parse([]byte(tt.body), 2)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parse(%s): error %v, want %q", tt.body, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parse(%s): %v", tt.body, err)
			continue
		}
		if !reflect.DeepEqual(vs, [][]float32{{1, 0}, {0, 1}}) || tok != tt.tokens {
			t.Errorf("parse(%s) = %v, %d tokens", tt.body, vs, tok)
		}
	}
}
