package openai_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/embed/openai"
	"github.com/kura-go/kura/mockapi"
)

func texts(n int) []string {
	t := make([]string, n)
	for i := range t {
		t[i] = fmt.Sprintf("conversation %d: the user asked for help with task %d %s", i, i%31, strings.Repeat("and more ", i%7))
	}
	return t
}

func startMockAPI(tb testing.TB, c mockapi.Config) (*mockapi.Server, string) {
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	srv, url, err := mockapi.Start(ctx, "127.0.0.1:0", c)
	if err != nil {
		tb.Fatal(err)
	}
	return srv, url
}

// TestAgainstMockAPI runs the client against kura's own fake API (kura
// mock-api) with 30% injected 429s and 5% 500s, plus held requests
// (timeouts) and malformed bodies: every text gets exactly its vector and
// the client's counters agree with what the server says it did.
func TestAgainstMockAPI(t *testing.T) {
	srv, url := startMockAPI(t, mockapi.Config{
		Dims: 24, RateLimitRate: 0.30, ErrorRate: 0.05, TimeoutRate: 0.01, MalformedRate: 0.02,
		RetryAfter: 10 * time.Millisecond, Seed: 7,
	})
	c, err := openai.New(openai.Config{
		BaseURL: url, APIKey: "sk-anything", BatchSize: 20, Concurrency: 5, MaxRetries: 30, MaxMalformedRetries: 10,
		Timeout: time.Second, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := texts(2000)
	vs, err := c.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range in {
		if !reflect.DeepEqual(vs[i], mock.Vector(s, 24, 0)) {
			t.Fatalf("vector %d is not the vector of its text", i)
		}
	}
	u, s := c.Usage(), srv.Stats()
	t.Logf("client %+v", u)
	t.Logf("server %+v", s)
	if u.Requests != s.Requests || u.RateLimited != s.RateLimited ||
		u.Errors != s.ServerErrors+s.Timeouts+s.Malformed || u.Inputs != s.Inputs || u.Tokens != s.PromptTokens {
		t.Errorf("client and server disagree")
	}
	if u.Retries != u.Requests-100 || s.OK != 100 {
		t.Errorf("retries %d, want requests - 100 batches; server OK %d", u.Retries, s.OK)
	}
	if s.RateLimited == 0 || s.ServerErrors == 0 || s.Timeouts == 0 || s.Malformed == 0 {
		t.Errorf("some fault was never injected: %+v", s)
	}
}

// BenchmarkMockAPI100ms is the throughput check: 5,000 texts
// against kura mock-api answering after 100 ms, batch 50, concurrency 5.
// The ceiling is 5 × 50 / 0.1 s = 2,500 texts/s.
func BenchmarkMockAPI100ms(b *testing.B) {
	_, url := startMockAPI(b, mockapi.Config{Latency: 100 * time.Millisecond})
	c, err := openai.New(openai.Config{BaseURL: url, BatchSize: 50, Concurrency: 5})
	if err != nil {
		b.Fatal(err)
	}
	in := texts(5000)
	if _, err := c.Embed(context.Background(), in[:500]); err != nil { // open the connections
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Embed(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N*len(in)) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "texts/s")
	b.ReportMetric(100*rate/2500, "%ceiling")
}
