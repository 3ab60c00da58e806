package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kura-go/kura/mockapi"
)

var testSchema = json.RawMessage(`{"type":"object","properties":{"name":{"type":"string","maxLength":80},"score":{"type":"integer","minimum":1,"maximum":5},"tags":{"type":"array","items":{"type":"string"},"maxItems":3}},"required":["name","score","tags"],"additionalProperties":false}`)

type answer struct {
	Name  string   `json:"name"`
	Score int      `json:"score"`
	Tags  []string `json:"tags"`
}

func newMock(t *testing.T, c mockapi.Config) (*mockapi.Server, string) {
	t.Helper()
	s := mockapi.New(c)
	ts := httptest.NewServer(s) // 127.0.0.1
	t.Cleanup(ts.Close)
	return s, ts.URL + "/v1"
}

func TestJSONAgainstMockAPI(t *testing.T) {
	srv, url := newMock(t, mockapi.Config{Seed: 1})
	c, err := New(Config{BaseURL: url, Price: DefaultPrice, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	var got answer
	u, err := c.JSON(context.Background(), Request{System: "Answer in JSON.", User: "Describe the weather in Paris today.", SchemaName: "answer", Schema: testSchema}, &got, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name == "" || got.Score < 1 || got.Score > 5 || len(got.Tags) > 3 {
		t.Errorf("answer %+v does not fit the schema", got)
	}
	st := srv.Stats()
	if u.Calls != 1 || u.Requests != 1 || u.PromptTokens != st.PromptTokens || u.CompletionTokens != st.CompletionTokens {
		t.Errorf("usage %+v, server stats %+v", u, st)
	}
	want := (float64(st.PromptTokens)*0.15 + float64(st.CompletionTokens)*0.60) / 1e6
	if d := u.CostUSD - want; d > 1e-12 || d < -1e-12 {
		t.Errorf("cost %v, want %v", u.CostUSD, want)
	}
	if cu := c.Usage(); cu != u {
		t.Errorf("client usage %+v, call usage %+v", cu, u)
	}
}

// Retries: 429s with Retry-After are waited out and counted; the call
// succeeds; every billed token is counted once.
func TestRetriesRateLimitsAndErrors(t *testing.T) {
	srv, url := newMock(t, mockapi.Config{Seed: 7, RateLimitRate: 0.3, ErrorRate: 0.2, RetryAfter: 10 * time.Millisecond})
	c, err := New(Config{BaseURL: url, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetries: 20, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	var total Usage
	for i := 0; i < 30; i++ {
		var a answer
		u, err := c.JSON(context.Background(), Request{User: fmt.Sprintf("question %d about rivers", i), SchemaName: "answer", Schema: testSchema}, &a, nil)
		if err != nil {
			t.Fatal(err)
		}
		total.Add(u)
	}
	st := srv.Stats()
	if total.Calls != 30 || total.Requests != st.Requests || total.RateLimited != st.RateLimited || total.Errors != st.ServerErrors {
		t.Errorf("usage %+v, server %+v", total, st)
	}
	if total.Retries == 0 || total.PromptTokens != st.PromptTokens || total.CompletionTokens != st.CompletionTokens {
		t.Errorf("usage %+v, server %+v", total, st)
	}
}

// An answer that fails the caller's check is retried a bounded number of
// times, then the call fails and names why.
func TestCheckRetriesAndGivesUp(t *testing.T) {
	_, url := newMock(t, mockapi.Config{})
	c, _ := New(Config{BaseURL: url, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxMalformedRetries: 2})
	var a answer
	n := 0
	u, err := c.JSON(context.Background(), Request{User: "x y z", SchemaName: "answer", Schema: testSchema}, &a, func() error { n++; return errors.New("never good") })
	if err == nil || !strings.Contains(err.Error(), "never good") || n != 3 || u.Requests != 3 {
		t.Fatalf("err %v, checks %d, usage %+v", err, n, u)
	}
}

func TestClientErrorsAreFinalAndKeepSecretsOut(t *testing.T) {
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "Bearer sk-secret-123" {
			t.Errorf("authorization header %q", r.Header.Get("Authorization"))
		}
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"message":"Incorrect API key provided: sk-secret-123","type":"invalid_request_error"}}`))
	}))
	defer ts.Close()
	c, err := New(Config{BaseURL: ts.URL + "/v1?token=hidden-token", APIKey: "sk-secret-123"})
	if err != nil {
		t.Fatal(err)
	}
	var a answer
	_, err = c.JSON(context.Background(), Request{User: "hi", SchemaName: "answer", Schema: testSchema}, &a, nil)
	if err == nil || !strings.Contains(err.Error(), "401") || hits.Load() != 1 {
		t.Fatalf("err %v after %d requests, want one 401", err, hits.Load())
	}
	for _, s := range []string{err.Error(), c.Endpoint()} {
		if strings.Contains(s, "sk-secret") || strings.Contains(s, "hidden-token") {
			t.Errorf("secret in %q", s)
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/v1/chat/completions", http.StatusTemporaryRedirect)
	}))
	defer ts.Close()
	c, _ := New(Config{BaseURL: ts.URL, APIKey: "k", MaxRetries: -1})
	var a answer
	if _, err := c.JSON(context.Background(), Request{User: "hi", SchemaName: "answer", Schema: testSchema}, &a, nil); err == nil {
		t.Fatal("a redirect was accepted as an answer")
	}
	if elsewhere.Load() != 0 {
		t.Error("the redirect was followed (the key went to another server)")
	}
}

func TestConfigAndRequestChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no base URL", Config{}},
		{"bad scheme", Config{BaseURL: "ftp://x"}},
		{"temperature", Config{BaseURL: "http://127.0.0.1:1/v1", Temperature: 3}},
		{"negative price", Config{BaseURL: "http://127.0.0.1:1/v1", Price: Price{InputPerMillion: -1}}},
	} {
		if _, err := New(tc.cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	c, _ := New(Config{BaseURL: "http://127.0.0.1:1/v1"})
	for _, r := range []Request{{User: "", SchemaName: "a", Schema: testSchema}, {User: "x", SchemaName: "bad name", Schema: testSchema}, {User: "x", SchemaName: "a", Schema: json.RawMessage(`{`)}} {
		if _, err := c.Body(r); err == nil {
			t.Errorf("request %+v accepted", r)
		}
	}
}

func TestPriceOf(t *testing.T) {
	if p, ok := PriceOf("openai/gpt-4o-mini"); !ok || p != DefaultPrice {
		t.Errorf("PriceOf(openai/gpt-4o-mini) = %v, %v", p, ok)
	}
	if _, ok := PriceOf("my-local-model"); ok {
		t.Error("unknown model has a price")
	}
	if got := DefaultPrice.Cost(1_000_000, 1_000_000); got != 0.75 {
		t.Errorf("cost of 1M+1M gpt-4o-mini tokens = %v, want 0.75", got)
	}
}
