package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kura-go/kura/mockapi"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestMockAPICommand(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCmd()
	var out, errb syncBuffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs([]string{"mock-api", "--addr", "127.0.0.1:0", "--dims", "8", "--rpm", "1000", "--stats-json", statsFile})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var base string
	for i := 0; i < 2000 && base == ""; i++ {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			base = line
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/v1") {
		t.Fatalf("first stdout line %q, want the base URL", base)
	}
	resp, err := http.Post(base+"/embeddings", "application/json", strings.NewReader(`{"model":"text-embedding-3-small","input":["a","b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var r struct {
		Data []struct{ Embedding []float32 }
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.Data) != 2 || len(r.Data[0].Embedding) != 8 {
		t.Fatalf("answer %s (%v), want 2 vectors of 8 dims", body, err)
	}
	if resp.Header.Get("x-ratelimit-limit-requests") != "1000" {
		t.Errorf("x-ratelimit-limit-requests %q, want 1000", resp.Header.Get("x-ratelimit-limit-requests"))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("command: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("command did not stop after cancel")
	}
	_, counts, _ := strings.Cut(errb.String(), "kura mock-api: ")
	if !strings.HasPrefix(counts, "1 request: 1 ok") || !strings.Contains(strings.Join(strings.Fields(counts), " "), "; 2 inputs, ") {
		t.Errorf("stderr %q, want the final counts", errb.String())
	}
	// What it logs as it starts: short lines, the settings given.
	for _, want := range []string{`msg="mock API listening" url=http://127.0.0.1:`, `msg="its counts" url=http://127.0.0.1:`, `msg="it simulates" rpm=1000 seed=`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	for _, l := range strings.Split(errb.String(), "\n") {
		if strings.HasPrefix(l, "level=INFO") && len(l) > 80 {
			t.Errorf("%d columns: %q", len(l), l)
		}
	}
	for _, l := range strings.Split("kura mock-api: "+counts, "\n") {
		if len(l) > 80 {
			t.Errorf("final counts: %d columns: %q", len(l), l)
		}
	}
	b, err := os.ReadFile(statsFile)
	if err != nil {
		t.Fatal(err)
	}
	var st mockapi.Stats
	if err := json.Unmarshal(b, &st); err != nil || st.Requests != 1 || st.Inputs != 2 {
		t.Errorf("--stats-json %s (%v), want 1 request and 2 inputs", b, err)
	}
}

func TestMockAPICommandUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--addr", "0.0.0.0:0"},
		{"--addr", ":8089"},
		{"--error-rate", "2"},
		{"--rate-limit-rate", "0.6", "--error-rate", "0.6"},
		{"--embedder", "word2vec"},
		{"--retry-after", "soon"},
		{"--latency", "-1s"},
		{"extra-arg"},
		// An unwritable --stats-json is found before serving, not at shutdown.
		{"--stats-json", filepath.Join(t.TempDir(), "missing", "stats.json")},
	} {
		root := newRootCmd()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs(append([]string{"mock-api", "--addr", "127.0.0.1:0"}, args...))
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // a command that wrongly starts stops at once
		err := root.ExecuteContext(ctx)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("mock-api %v: error %v, want a usage error", args, err)
		}
	}
}
