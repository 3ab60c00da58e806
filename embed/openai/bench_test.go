package openai

import (
	"context"
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
