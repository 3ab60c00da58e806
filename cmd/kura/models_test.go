package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const modelsFixture = "../../bert/testdata/bert-tiny"

// TestModelsPullList pulls the bert-tiny fixture from a fake hub on
// 127.0.0.1 (through HF_ENDPOINT) and lists it.
func TestModelsPullList(t *testing.T) {
	files := []string{"config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json", "modules.json", "1_Pooling/config.json"}
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		if r.URL.Path == "/api/models/test-org/tiny/revision/main" {
			var sibs []map[string]any
			for _, f := range files {
				sibs = append(sibs, map[string]any{"rfilename": f})
			}
			json.NewEncoder(w).Encode(map[string]any{"sha": "f00d", "siblings": sibs})
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/test-org/tiny/resolve/main/")
		b, err := os.ReadFile(filepath.Join(modelsFixture, filepath.FromSlash(name)))
		if !ok || err != nil {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	}))
	defer srv.Close()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_TOKEN", "tok")
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	cache := t.TempDir()
	out, err := execCLI(t, "models", "pull", "test-org/tiny", "--cache-dir", cache).outErr()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "test-org", "tiny")
	if !strings.Contains(out, dir) || gotAuth != "Bearer tok" {
		t.Errorf("output %q, Authorization %q", out, gotAuth)
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			t.Error(err)
		}
	}
	out, err = execCLI(t, "models", "list", "--cache-dir", cache).outErr()
	if err != nil || !strings.Contains(out, "test-org/tiny") || !strings.Contains(out, "kura") {
		t.Errorf("list: %q, %v", out, err)
	}
	out, err = execCLI(t, "models", "list", "--cache-dir", t.TempDir()).outErr()
	if err != nil || !strings.Contains(out, "kura models pull sentence-transformers/all-MiniLM-L6-v2") {
		t.Errorf("empty list: %q, %v", out, err)
	}
	_, err = execCLI(t, "models", "pull", "not-a-repo", "--cache-dir", cache).outErr()
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Errorf("bad repo name: error %v, want a usage error", err)
	}
}
