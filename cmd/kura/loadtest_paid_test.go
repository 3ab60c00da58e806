package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/mockapi"
)

// countingAPI is an embeddings API on 127.0.0.1 (kura's mock API) that
// counts the requests it is sent.
func countingAPI(t *testing.T) (url string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	srv := mockapi.New(mockapi.Config{Seed: 1})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/v1", requests
}

// An API key (and base URL) in the environment alone must not make the
// default load test call the paid API (issue 13: it did, silently).
func TestLoadtestEnvironmentKeyMakesNoCall(t *testing.T) {
	url, requests := countingAPI(t)
	t.Setenv("OPENAI_API_KEY", "sk-test-not-a-key")
	t.Setenv("OPENAI_BASE_URL", url)
	t.Setenv("KURA_MODEL_DIR", "")
	home := t.TempDir() // no local model: auto falls to hash
	for _, v := range []string{"KURA_CACHE_DIR", "HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME", "HOME"} {
		t.Setenv(v, home)
	}
	dir := t.TempDir()
	r := execCLI(t, "loadtest", "--in-process", "--scales", "30,60", "--sample-size", "60", "--sample-topics", "3",
		"--clusterer", "kmeans", "--k", "3", "--out", dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("the default load test sent %d requests to the API named by the environment", n)
	}
	if !strings.Contains(r.stderr, "embedder hash") || !strings.Contains(r.stderr, "OPENAI_API_KEY is set but the API is used only with --embedder openai") {
		t.Errorf("stderr does not say why the key was not used:\n%s", r.stderr)
	}
	jsons, _ := filepath.Glob(filepath.Join(dir, "load_test_results_*.json"))
	if len(jsons) != 1 {
		t.Fatalf("results: %v", jsons)
	}
	res, err := loadtest.LoadResults(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	if res.Scales[0].Embedder != "hash" {
		t.Errorf("scale embedded with %q, want hash", res.Scales[0].Embedder)
	}
}

// Asked for with --embedder openai, the run says what it will spend before
// it spends it.
func TestLoadtestPaidRunEstimatesFirst(t *testing.T) {
	url, requests := countingAPI(t)
	t.Setenv("OPENAI_API_KEY", "sk-test-not-a-key")
	r := execCLI(t, "loadtest", "--in-process", "--quiet", "--embedder", "openai", "--base-url", url, "--dims", "16",
		"--scales", "30", "--sample-size", "60", "--sample-topics", "3", "--clusterer", "kmeans", "--k", "3", "--out", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	if requests.Load() == 0 {
		t.Fatal("no request reached the API")
	}
	if !strings.Contains(r.stderr, "the paid API (text-embedding-3-small) will embed 30 conversations, about ") || !strings.Contains(r.stderr, "tokens: about $") {
		t.Errorf("no cost estimate on stderr:\n%s", r.stderr)
	}
}
