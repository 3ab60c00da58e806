package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kura-go/kura/conversation"
)

// writeSynthetic writes an export of about size bytes in the given format:
// conversations of 10 messages of about 2 kB each.
func writeSynthetic(tb testing.TB, path string, format Format, size int64) int {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 45) // ~2 kB
	w.WriteString("[")
	n := 0
	var written int64
	for ; written < size; n++ {
		var b strings.Builder
		if n > 0 {
			b.WriteString(",\n")
		}
		switch format {
		case KuraJSON:
			fmt.Fprintf(&b, `{"chat_id": "c%d", "created_at": "2025-06-12T11:04:56.965428", "messages": [`, n)
			for m := 0; m < 10; m++ {
				if m > 0 {
					b.WriteString(", ")
				}
				role := [2]string{"user", "assistant"}[m%2]
				fmt.Fprintf(&b, `{"created_at": "2025-06-12T11:04:%02d.000001", "role": %q, "content": "%d %s"}`, m, role, m, text)
			}
			fmt.Fprintf(&b, `], "metadata": {"n": %d, "tags": ["a", "b"]}}`, n)
		case Claude:
			fmt.Fprintf(&b, `{"uuid": "u%d", "name": "chat %d", "created_at": "2024-06-02T09:14:03.194727Z", "chat_messages": [`, n, n)
			for m := 0; m < 10; m++ {
				if m > 0 {
					b.WriteString(", ")
				}
				sender := [2]string{"human", "assistant"}[m%2]
				fmt.Fprintf(&b, `{"uuid": "m%d", "text": "", "content": [{"type": "text", "text": "%d %s", "citations": []}], "sender": %q, "created_at": "2024-06-02T09:14:%02d.000000Z", "attachments": [], "files": []}`, m, m, text, sender, m)
			}
			b.WriteString(`]}`)
		case ChatGPT:
			fmt.Fprintf(&b, `{"title": "chat %d", "create_time": 1714564800.5, "current_node": "n10", "conversation_id": "g%d", "mapping": {"n0": {"id": "n0", "message": null, "parent": null, "children": ["n1"]}`, n, n)
			for m := 1; m <= 10; m++ {
				role := [2]string{"user", "assistant"}[(m-1)%2]
				fmt.Fprintf(&b, `, "n%d": {"id": "n%d", "message": {"id": "n%d", "author": {"role": %q, "name": null, "metadata": {}}, "create_time": %d.25, "content": {"content_type": "text", "parts": ["%d %s"]}, "status": "finished_successfully", "metadata": {}, "recipient": "all"}, "parent": "n%d", "children": ["n%d"]}`,
					m, m, m, role, 1714564800+m, m, text, m-1, m+1)
			}
			b.WriteString(`}}`)
		}
		k, err := w.WriteString(b.String())
		if err != nil {
			tb.Fatal(err)
		}
		written += int64(k)
	}
	w.WriteString("]\n")
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkStreamLarge reads a synthetic export of 200 MB (KURA_BENCH_MB
// overrides) in each format and reports the peak live heap, sampled every
// 10 ms with runtime.ReadMemStats, next to the file size: streaming keeps it
// at a few MiB whatever the file's size.
//
//	go test ./ingest -run XXX -bench StreamLarge -benchtime 1x
func BenchmarkStreamLarge(b *testing.B) {
	size := int64(200)
	if s := os.Getenv("KURA_BENCH_MB"); s != "" {
		fmt.Sscan(s, &size)
	}
	size <<= 20
	for _, format := range []Format{KuraJSON, Claude, ChatGPT} {
		b.Run(string(format), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "conversations.json")
			n := writeSynthetic(b, path, format, size)
			fi, _ := os.Stat(path)
			b.SetBytes(fi.Size())
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ms runtime.MemStats
				t := time.NewTicker(10 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						runtime.ReadMemStats(&ms)
						if ms.HeapAlloc > peak.Load() {
							peak.Store(ms.HeapAlloc)
						}
					}
				}
			}()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st, err := Read(context.Background(), path, Options{}, func(*conversation.Conversation) error { return nil })
				if err != nil || st.Conversations != n {
					b.Fatalf("read %d of %d: %v", st.Conversations, n, err)
				}
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
			b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapAlloc))/(1<<20), "peak-heap-MiB")
		})
	}
}
