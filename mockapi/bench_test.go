package mockapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// summaryText is about the size of a Kura summary (~40 tokens).
const summaryText = "The user asked how to reverse a singly linked list in Rust without cloning nodes; the assistant explained Option::take and showed an iterative solution %d."

func embeddingsBody(batch, dims, n int) []byte {
	texts := make([]string, batch)
	for i := range texts {
		texts[i] = fmt.Sprintf(summaryText, n*batch+i)
	}
	b, _ := json.Marshal(map[string]any{"model": "text-embedding-3-small", "input": texts, "dimensions": dims})
	return b
}

// BenchmarkServerHTTP measures the server's throughput over loopback HTTP with
// zero latency: requests/s and inputs/s, client and server on one machine.
func BenchmarkServerHTTP(b *testing.B) {
	for _, bc := range []struct{ batch, dims int }{{50, 1536}, {1, 1536}, {1, 8}} {
		b.Run(fmt.Sprintf("embeddings/batch=%d/dims=%d", bc.batch, bc.dims), func(b *testing.B) {
			_, base := start(b, Config{})
			bodies := make([][]byte, 64)
			for i := range bodies {
				bodies[i] = embeddingsBody(bc.batch, bc.dims, i)
			}
			runHTTP(b, base+"/embeddings", bodies, bc.batch)
		})
	}
	b.Run("chat/kura-summary-schema", func(b *testing.B) {
		raw, err := os.ReadFile("testdata/kura_summary_schema.json")
		if err != nil {
			b.Fatal(err)
		}
		_, base := start(b, Config{})
		bodies := make([][]byte, 64)
		for i := range bodies {
			bodies[i] = []byte(fmt.Sprintf(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Summarise."},{"role":"user","content":%q}],"response_format":{"type":"json_schema","json_schema":{"name":"GeneratedSummary","schema":%s}}}`,
				fmt.Sprintf(conversationPrompt+" %d", i), raw))
		}
		runHTTP(b, base+"/chat/completions", bodies, 1)
	})
}

func runHTTP(b *testing.B, url string, bodies [][]byte, inputs int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[int(i)%len(bodies)]))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	secs := time.Since(t0).Seconds()
	b.ReportMetric(float64(b.N)/secs, "req/s")
	b.ReportMetric(float64(b.N*inputs)/secs, "inputs/s")
}

// BenchmarkHandler measures the handler alone (no network), batch of 50
// inputs at 1536 dims: parsing, token counting, vectors and encoding.
func BenchmarkHandler(b *testing.B) {
	s := New(Config{})
	body := embeddingsBody(50, 1536, 0)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("POST", "/v1/embeddings", bytes.NewReader(body)))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkEmbeddingsParse measures what an embeddings request costs
// before its latency starts (reading the JSON, checking the limits): a
// batch of 50 summary-sized texts, as kura embed sends.
func BenchmarkEmbeddingsParse(b *testing.B) {
	s := New(Config{})
	body := embeddingsBody(50, 1536, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, rerr := s.embeddings(body); rerr != nil {
			b.Fatal(rerr.msg)
		}
	}
}
