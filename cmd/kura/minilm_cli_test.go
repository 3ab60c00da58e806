package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMockAPIMiniLM serves real local embeddings (the bert-tiny fixture)
// through kura mock-api --embedder minilm and compares them with the
// fixture's reference vectors (tolerance 1e-5, from the fixture's README).
func TestMockAPIMiniLM(t *testing.T) {
	type row struct {
		I         int       `json:"i"`
		Text      string    `json:"text"`
		Embedding []float32 `json:"embedding"`
	}
	read := func(name string) []row {
		f, err := os.Open(filepath.Join(modelsFixture, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out []row
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r row
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	// Input 0 is the empty string, which the API rejects as OpenAI does.
	texts, want := read("token_ids.jsonl")[1:13], read("expected.jsonl")[1:13]

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCmd()
	var out, errb syncBuffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs([]string{"mock-api", "--addr", "127.0.0.1:0", "--embedder", "minilm", "--model-dir", modelsFixture})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var base string
	for i := 0; i < 2000 && base == ""; i++ {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			base = line
		} else {
			select {
			case err := <-done:
				t.Fatalf("mock-api stopped: %v\n%s", err, errb.String())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	inputs := make([]string, len(texts))
	for i, r := range texts {
		inputs[i] = r.Text
	}
	req, _ := json.Marshal(map[string]any{"model": "all-MiniLM-L6-v2", "input": inputs})
	resp, err := http.Post(base+"/embeddings", "application/json", strings.NewReader(string(req)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var r struct {
		Data []struct {
			Index     int
			Embedding []float32
		}
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.Data) != len(inputs) {
		t.Fatalf("answer %.300s (%v), want %d vectors", body, err, len(inputs))
	}
	for _, d := range r.Data {
		if len(d.Embedding) != 32 {
			t.Fatalf("vector %d has %d dims, want 32", d.Index, len(d.Embedding))
		}
		for j, v := range d.Embedding {
			if diff := math.Abs(float64(v) - float64(want[d.Index].Embedding[j])); diff > 1e-5 {
				t.Fatalf("input %d component %d: %g, want %g", d.Index, j, v, want[d.Index].Embedding[j])
			}
		}
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
}

// TestMiniLMNotInstalled: without a model, --embedder minilm says how to install one.
func TestMiniLMNotInstalled(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KURA_CACHE_DIR", dir)
	t.Setenv("HF_HUB_CACHE", filepath.Join(dir, "hf"))
	t.Setenv("KURA_MODEL_DIR", "")
	_, err := execCLI(t, "mock-api", "--addr", "127.0.0.1:0", "--embedder", "minilm").outErr()
	if err == nil || !strings.Contains(err.Error(), "kura models pull sentence-transformers/all-MiniLM-L6-v2") {
		t.Errorf("error %v, want installation instructions", err)
	}
}
