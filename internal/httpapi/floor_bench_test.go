package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkLoopbackFloor is the floor under issue 10's kura embed ceiling on
// the machine it runs on: a bare net/http client and server on 127.0.0.1,
// 100 requests of 30 KB through 5 connections, each answered 100 ms after
// its handler starts with 316 KB (a 50 × 1,536 base64 embeddings answer).
// Nothing is parsed or written. 20 rounds of 100 ms are 2.0 s; what the
// benchmark takes above that is the machine's loopback HTTP and scheduling,
// which no client can go below.
//
//	go test ./internal/httpapi -run '^$' -bench LoopbackFloor -benchtime 5x
func BenchmarkLoopbackFloor(b *testing.B) {
	answer := bytes.Repeat([]byte("A"), 316_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		io.Copy(io.Discard, r.Body)
		time.Sleep(100*time.Millisecond - time.Since(start))
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.Write(answer)
	}))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 5}}
	body := bytes.Repeat([]byte("q"), 30_000)
	for b.Loop() {
		jobs := make(chan struct{}, 100)
		for range 100 {
			jobs <- struct{}{}
		}
		close(jobs)
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				for range jobs {
					resp, err := c.Post(srv.URL, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/100-requests")
}
