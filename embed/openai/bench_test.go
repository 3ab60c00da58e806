package openai

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkThroughput embeds 5,000 texts against an in-process server on
// 127.0.0.1 that answers every request after 100 ms, with batch size 50 and
// 5 requests in flight: the ceiling is 5 × 50 / 0.1 s = 2,500 texts/s. It
// reports texts/s and the share of that ceiling reached. Vectors have 1,536
// dimensions as text-embedding-3-small's, sent as JSON floats.
func BenchmarkThroughput(b *testing.B) {
	for _, format := range []string{"float", "base64"} {
		b.Run(format, func(b *testing.B) {
			srv := &fakeServer{Dims: 1536, Latency: 100 * time.Millisecond}
			cfg := Config{BaseURL: srv.start(b), Model: "text-embedding-3-small", BatchSize: 50, Concurrency: 5, EncodingFormat: format}
			c, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			texts := testTexts(5000)
			if _, err := c.Embed(context.Background(), texts); err != nil { // warm up connections, the tokenizer and the server's cache
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Embed(context.Background(), texts); err != nil {
					b.Fatal(err)
				}
			}
			rate := float64(b.N*len(texts)) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "texts/s")
			b.ReportMetric(100*rate/2500, "%ceiling")
		})
	}
}

// BenchmarkThroughputFloor is the reference for BenchmarkThroughput: the
// same server, batches and concurrency, but a bare loop of 5 goroutines
// posting prepared request bodies and discarding the answers (no
// tokenizing, batching, parsing or checking). The gap between the two is the
// client's own overhead; the gap between this and 2,500 texts/s is the
// machine's (scheduling, loopback HTTP, the server).
func BenchmarkThroughputFloor(b *testing.B) {
	srv := &fakeServer{Dims: 1536, Latency: 100 * time.Millisecond}
	url := srv.start(b) + "/embeddings"
	texts := testTexts(5000)
	bodies := make([][]byte, 0, 100)
	c, _ := New(Config{BaseURL: "http://127.0.0.1:1/v1"})
	for i := 0; i < len(texts); i += 50 {
		body, _ := c.requestBody(texts[i : i+50])
		bodies = append(bodies, body)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 10
	hc := &http.Client{Transport: tr}
	post := func(body []byte) {
		resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	run := func() {
		work := make(chan []byte)
		var wg sync.WaitGroup
		for w := 0; w < 5; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for body := range work {
					post(body)
				}
			}()
		}
		for _, body := range bodies {
			work <- body
		}
		close(work)
		wg.Wait()
	}
	run() // warm up connections and the server's cache
	b.ResetTimer()
	for b.Loop() {
		run()
	}
	rate := float64(b.N*len(texts)) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "texts/s")
	b.ReportMetric(100*rate/2500, "%ceiling")
}
