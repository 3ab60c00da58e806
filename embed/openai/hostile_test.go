package openai

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/mock"
)

// hostileTexts are 8 texts in two chunks of 4; the second chunk's texts say
// "hostile", and the hostile server misbehaves only on requests holding them.
func hostileTexts() []string {
	t := make([]string, 8)
	for i := range t {
		t[i] = fmt.Sprintf("text %d about topic %d", i, i%3)
		if i >= 4 {
			t[i] = "hostile " + t[i]
		}
	}
	return t
}

// b64Vector encodes v as an OpenAI base64 embedding.
func b64Vector(v []float32) string {
	b := make([]byte, 4*len(v))
	for k, x := range v {
		binary.LittleEndian.PutUint32(b[4*k:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// goodItems returns the correct response items for the inputs.
func goodItems(in []string, dims int) []map[string]any {
	items := make([]map[string]any, len(in))
	for i, s := range in {
		items[i] = map[string]any{"object": "embedding", "index": i, "embedding": b64Vector(mock.Vector(s, dims, 0))}
	}
	return items
}

func writeItems(w http.ResponseWriter, items []map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": items, "model": "m"})
}

// TestHostileServer runs embed.Stream against servers that misbehave on the
// second chunk of texts. Each case must end with every vector right, or a
// clear error with the first chunk's vectors delivered and right; never a
// wrong vector.
func TestHostileServer(t *testing.T) {
	const dims = 8
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request reached the other server: %s %s key %q", r.Method, r.URL, r.Header.Get("Authorization"))
	}))
	defer other.Close()
	bomb := func() []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(`{"object":"list","data":[{"index":0,"embedding":"`))
		zw.Write(bytes.Repeat([]byte("A"), 64<<20)) // valid base64: 48 MB of zero floats
		zw.Write([]byte(`"}]}`))
		zw.Close()
		return b.Bytes()
	}()
	var mu sync.Mutex
	calls := map[string]int{} // hostile requests per case
	tests := []struct {
		name    string
		hostile func(n int, w http.ResponseWriter, r *http.Request, in []string)
		cfg     func(*Config)
		wantErr string // "" means every vector right
	}{
		{name: "short vector", wantErr: "mixed dimensions: data[2] has 7 values",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				items := goodItems(in, dims)
				items[2]["embedding"] = b64Vector(mock.Vector(in[2], dims, 0)[:7])
				writeItems(w, items)
			}},
		{name: "extra vector", wantErr: "5 vectors for 4 inputs",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				items := goodItems(in, dims)
				writeItems(w, append(items, map[string]any{"index": 4, "embedding": b64Vector(make([]float32, dims))}))
			}},
		{name: "misordered with indices",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				items := goodItems(in, dims)
				items[0], items[3], items[1], items[2] = items[3], items[0], items[2], items[1]
				writeItems(w, items)
			}},
		{name: "misordered without indices", wantErr: "data[0] has no index",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				items := goodItems(in, dims)
				items[0], items[3] = items[3], items[0]
				for _, it := range items {
					delete(it, "index")
				}
				writeItems(w, items)
			}},
		{name: "NaN in base64", wantErr: "data[1] (index 1): value 5 is NaN; a vector must be finite",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				items := goodItems(in, dims)
				v := mock.Vector(in[1], dims, 0)
				v[5] = float32(math.NaN())
				items[1]["embedding"] = b64Vector(v)
				writeItems(w, items)
			}},
		{name: "+Inf in base64", wantErr: "value 0 is +Inf",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				items := goodItems(in, dims)
				v := mock.Vector(in[3], dims, 0)
				v[0] = float32(math.Inf(1))
				items[3]["embedding"] = b64Vector(v)
				writeItems(w, items)
			}},
		{name: "float out of float32 range", wantErr: "value 2: 1e39 is out of float32 range",
			cfg: func(c *Config) { c.EncodingFormat = "float" },
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				items := goodItems(in, dims)
				items[0]["embedding"] = json.RawMessage(`[0.1,0.2,1e39,0,0,0,0,0]`)
				writeItems(w, items)
			}},
		{name: "gzip bomb", wantErr: "larger than",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(bomb)
			}},
		{name: "slow drip", wantErr: "no response within 300ms",
			cfg: func(c *Config) { c.Timeout = 300 * time.Millisecond },
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				w.WriteHeader(http.StatusOK)
				for range 100 {
					if _, err := w.Write([]byte(" ")); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}},
		{name: "reset mid-body", wantErr: "reading response",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				w.Header().Set("Content-Length", "100000")
				w.WriteHeader(http.StatusOK)
				w.Write([]byte(`{"object":"list","data":[{"index":0,"embedding":"AAAA`))
				w.(http.Flusher).Flush()
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close()
				}
			}},
		{name: "429 with Retry-After, then right",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				if n == 1 {
					w.Header().Set("Retry-After", "0.01")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				writeItems(w, goodItems(in, dims))
			}},
		{name: "429 without Retry-After, then right",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				if n <= 2 {
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				writeItems(w, goodItems(in, dims))
			}},
		{name: "429 for ever", wantErr: "giving up after 3 attempts: HTTP 429",
			cfg: func(c *Config) { c.MaxRetries = 2 },
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				w.WriteHeader(http.StatusTooManyRequests)
			}},
		{name: "HTML 200", wantErr: `not the JSON of an embeddings response`,
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html><body>Please log in</body></html>"))
			}},
		{name: "redirect to another port", wantErr: "redirect from",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				http.Redirect(w, r, other.URL+"/v1/embeddings", http.StatusTemporaryRedirect)
			}},
		{name: "redirect to another host", wantErr: "not followed",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/v1/embeddings", http.StatusPermanentRedirect)
			}},
		{name: "same-origin redirect followed",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				if r.URL.Path == "/v1/embeddings" {
					http.Redirect(w, r, "/v2/embeddings", http.StatusPermanentRedirect)
					return
				}
				writeItems(w, goodItems(in, dims))
			}},
		{name: "key echoed in a 2xx error", wantErr: "error in a 2xx response",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				fmt.Fprintf(w, `{"error":{"message":"bad header %s"}}`, r.Header.Get("Authorization"))
			}},
		{name: "key echoed in a 400", wantErr: "HTTP 400",
			hostile: func(n int, w http.ResponseWriter, r *http.Request, in []string) {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":{"message":"headers were Authorization: %s"}}`, r.Header.Get("Authorization"))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			good := &fakeServer{Dims: dims}
			good.rng = nil
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				var req embRequest
				json.Unmarshal(body, &req)
				if len(req.Input) > 0 && strings.HasPrefix(req.Input[0], "hostile") {
					mu.Lock()
					calls[tc.name]++
					n := calls[tc.name]
					mu.Unlock()
					tc.hostile(n, w, r, req.Input)
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				good.ServeHTTP(w, r)
			}))
			defer srv.Close()
			good.start(t) // initialises the fake; its own listener is unused
			cfg := fastConfig(srv.URL + "/v1")
			cfg.APIKey = "sk-hostile-test-key-123456"
			cfg.BatchSize, cfg.Concurrency, cfg.MaxRetries = 4, 1, 3
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			texts := hostileTexts()
			got := make([][]float32, len(texts))
			_, err = embed.Stream(context.Background(), c, texts, 4, nil, func(lo int, vecs [][]float32) error {
				copy(got[lo:], vecs)
				return nil
			})
			// Whatever was delivered is right.
			for i, v := range got {
				if v != nil && !equalVec(v, mock.Vector(texts[i], dims, 0)) {
					t.Fatalf("vector %d delivered but wrong", i)
				}
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v, want every vector right", err)
				}
				for i, v := range got {
					if v == nil {
						t.Fatalf("vector %d missing", i)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "texts 5-8") {
				t.Errorf("error %q does not say which texts failed", err)
			}
			if strings.Contains(err.Error(), "hostile-test-key") {
				t.Errorf("error %q shows the API key", err)
			}
			for i := range 4 {
				if got[i] == nil {
					t.Fatalf("the first chunk's vector %d was not delivered before the error", i)
				}
			}
		})
	}
}

func equalVec(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestBaseURLSecretsRedacted checks that credentials in the base URL (user
// info, api-key and key parameters) appear in no error and not in Endpoint.
func TestBaseURLSecretsRedacted(t *testing.T) {
	for _, base := range []string{
		"http://user:pa55word@127.0.0.1:1/v1",
		"http://127.0.0.1:1/v1?api-key=pa55word",
		"http://127.0.0.1:1/v1?api-version=1&key=pa55word",
	} {
		cfg := fastConfig(base)
		cfg.MaxRetries = -1
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(c.Endpoint(), "pa55word") {
			t.Errorf("Endpoint() = %q shows the secret", c.Endpoint())
		}
		_, err = c.Embed(context.Background(), []string{"x"})
		if err == nil || !strings.Contains(err.Error(), "REDACTED") || strings.Contains(err.Error(), "pa55word") {
			t.Errorf("base %s: err = %v, want a connection error with the secret redacted", base, err)
		}
	}
	// A base URL that does not parse is not echoed either.
	_, err := New(Config{BaseURL: "http://u:pa55word@host:port/v1", APIKey: "k"})
	if err == nil || strings.Contains(err.Error(), "pa55word") {
		t.Errorf("err = %v, want a parse error without the secret", err)
	}
}

// TestGzipBombMemory checks that gzip bombs answered to every request in
// flight cost memory of the order of the per-request cap times the requests,
// not of what they expand to (48 MB each here; this used to be read up to
// 1 GiB after decompression and held about 2.3 times).
func TestGzipBombMemory(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"object":"list","data":[{"index":0,"embedding":"`))
	zw.Write(bytes.Repeat([]byte("A"), 64<<20))
	zw.Write([]byte(`"}]}`))
	zw.Close()
	bomb := b.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	}))
	defer srv.Close()
	cfg := fastConfig(srv.URL + "/v1")
	cfg.BatchSize, cfg.Concurrency, cfg.MaxRetries = 4, 5, -1
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = c.Embed(context.Background(), testTexts(20))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a too-large response", err)
	}
	perRequest := c.maxResponseBytes(4)
	if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(5*3*perRequest+8<<20); alloc > limit {
		t.Errorf("5 bombs allocated %d bytes, want <= %d (cap %d per request)", alloc, limit, perRequest)
	}
}
