package hfhub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const fixture = "../bert/testdata/bert-tiny"

// fakeHub serves the bert-tiny fixture as the hub would serve
// test-org/bert-tiny: the file listing with LFS SHA-256 for the weights and
// git blob ids for the rest, and the files with Range support.
type fakeHub struct {
	t       *testing.T
	files   map[string][]byte
	corrupt string // file whose served content has a flipped byte
	token   string // required bearer token, if set

	mu     sync.Mutex
	ranges []string // Range headers received
	served map[string]int64
	failAt map[string]int64 // cut the connection after this many bytes of the file

	noSum   map[string]bool   // listed without any checksum (nor size)
	etag    map[string]string // header to send with the file: "X-Linked-Etag: ..." or "ETag: ..."
	extra   map[string]int    // bytes sent after the file's content, without Content-Length
	stallAt map[string]int64  // send this many bytes, then nothing until the client gives up
}

func newFakeHub(t *testing.T) *fakeHub {
	h := &fakeHub{t: t, files: map[string][]byte{}, served: map[string]int64{}, failAt: map[string]int64{},
		noSum: map[string]bool{}, etag: map[string]string{}, extra: map[string]int{}, stallAt: map[string]int64{}}
	for _, f := range SentenceTransformerFiles {
		b, err := os.ReadFile(filepath.Join(fixture, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		h.files[f] = b
	}
	return h
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.token != "" && r.Header.Get("Authorization") != "Bearer "+h.token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/api/models/test-org/bert-tiny/revision/main" {
		type lfs struct {
			SHA256 string `json:"sha256"`
			Size   int64  `json:"size"`
		}
		type sib struct {
			RFilename string `json:"rfilename"`
			Size      any    `json:"size,omitempty"`
			BlobID    string `json:"blobId,omitempty"`
			LFS       *lfs   `json:"lfs,omitempty"`
		}
		var sibs []sib
		for name, b := range h.files {
			s := sib{RFilename: name, Size: int64(len(b))}
			if h.noSum[name] {
				sibs = append(sibs, sib{RFilename: name})
				continue
			}
			if name == "model.safetensors" || name == "tokenizer.json" {
				sum := sha256.Sum256(b)
				s.LFS = &lfs{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))}
				s.BlobID = "0000000000000000000000000000000000000000" // pointer blob, not the content
			} else {
				hs := sha1.New()
				fmt.Fprintf(hs, "blob %d\x00", len(b))
				hs.Write(b)
				s.BlobID = hex.EncodeToString(hs.Sum(nil))
			}
			sibs = append(sibs, s)
		}
		sibs = append(sibs, sib{RFilename: "README.md", Size: 5, BlobID: "x"})
		json.NewEncoder(w).Encode(map[string]any{"sha": "abc123", "siblings": sibs})
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/test-org/bert-tiny/resolve/main/")
	b, found := h.files[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	if name == h.corrupt {
		b = bytes.Clone(b)
		b[len(b)/2] ^= 0x40
	}
	h.mu.Lock()
	if rg := r.Header.Get("Range"); rg != "" {
		h.ranges = append(h.ranges, name+" "+rg)
	}
	limit, cut := h.failAt[name]
	delete(h.failAt, name)
	h.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w}
	if e := h.etag[name]; e != "" {
		k, v, _ := strings.Cut(e, ": ")
		w.Header().Set(k, v)
	}
	if n, ok := h.extra[name]; ok {
		w.WriteHeader(http.StatusOK) // no Content-Length: chunked
		w.Write(b)
		w.Write(bytes.Repeat([]byte{'x'}, n))
		return
	}
	if at, ok := h.stallAt[name]; ok {
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:at])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	if cut {
		// Send the headers for the whole file, then only part of the body.
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:limit])
		panic(http.ErrAbortHandler)
	}
	http.ServeContent(cw, r, name, time.Time{}, bytes.NewReader(b))
	h.mu.Lock()
	h.served[name] += cw.n
	h.mu.Unlock()
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func start(t *testing.T, h *fakeHub) *Client {
	srv := httptest.NewServer(h) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return &Client{Endpoint: srv.URL, Token: h.token, HTTP: srv.Client()}
}

type countProgress struct {
	total, done int64
	finished    bool
}

func (p *countProgress) Add(n int64) { p.done += n }
func (p *countProgress) Finish()     { p.finished = true }

func checkFiles(t *testing.T, h *fakeHub, dir string) {
	t.Helper()
	for name, want := range h.files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: content differs from the hub's", name)
		}
	}
	if !IsModelDir(dir) {
		t.Errorf("%s is not a model folder: missing %v", dir, MissingFiles(dir))
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "*.part"))
	if len(parts) > 0 {
		t.Errorf("left-over partial files: %v", parts)
	}
}

func TestPull(t *testing.T) {
	h := newFakeHub(t)
	h.token = "secret-token"
	c := start(t, h)
	dest := filepath.Join(t.TempDir(), "test-org", "bert-tiny")
	var p countProgress
	info, err := c.Pull(context.Background(), "test-org/bert-tiny", dest, PullOptions{
		NewProgress: func(total int64) Progress { p.total = total; return &p },
	})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, h, dest)
	if info.SHA != "abc123" {
		t.Errorf("SHA %q", info.SHA)
	}
	var total int64
	for _, b := range h.files {
		total += int64(len(b))
	}
	if p.total != total || p.done != total || !p.finished {
		t.Errorf("progress: total %d done %d finished %v, want %d", p.total, p.done, p.finished, total)
	}
	if _, err := os.Stat(filepath.Join(dest, "README.md")); err == nil {
		t.Error("README.md was downloaded, but it is not a model file")
	}
	// A second pull downloads nothing.
	before := h.served["model.safetensors"]
	if _, err := c.Pull(context.Background(), "test-org/bert-tiny", dest, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if h.served["model.safetensors"] != before {
		t.Error("second pull downloaded model.safetensors again")
	}
	// Listing finds it, with its revision.
	list, err := List(filepath.Dir(filepath.Dir(dest)))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range list {
		if m.Repo == "test-org/bert-tiny" && m.Source == "kura" && m.SHA == "abc123" && m.Bytes >= total {
			found = true
		}
	}
	if !found {
		t.Errorf("List = %+v, want test-org/bert-tiny", list)
	}
}

func TestPullResume(t *testing.T) {
	h := newFakeHub(t)
	c := start(t, h)
	dest := t.TempDir()
	size := int64(len(h.files["model.safetensors"]))
	h.failAt["model.safetensors"] = size / 3
	_, err := c.Pull(context.Background(), "test-org/bert-tiny", dest, PullOptions{})
	if err == nil {
		t.Fatal("interrupted download: want an error")
	}
	part := filepath.Join(dest, "model.safetensors.part")
	st, serr := os.Stat(part)
	if serr != nil || st.Size() != size/3 {
		t.Fatalf("after the interruption: %v, part %v (want %d bytes kept); pull error: %v", serr, st, size/3, err)
	}
	if _, err := c.Pull(context.Background(), "test-org/bert-tiny", dest, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, h, dest)
	want := fmt.Sprintf("model.safetensors bytes=%d-", size/3)
	if len(h.ranges) != 1 || h.ranges[0] != want {
		t.Errorf("Range requests %q, want [%q]", h.ranges, want)
	}
	if got := h.served["model.safetensors"]; got != size-size/3 {
		t.Errorf("resumed pull fetched %d bytes of model.safetensors, want the remaining %d", got, size-size/3)
	}
}

func TestPullCorrupted(t *testing.T) {
	for _, file := range []string{"model.safetensors", "config.json"} {
		h := newFakeHub(t)
		h.corrupt = file
		c := start(t, h)
		dest := t.TempDir()
		_, err := c.Pull(context.Background(), "test-org/bert-tiny", dest, PullOptions{})
		if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), file) {
			t.Fatalf("%s corrupted: error %v, want a checksum mismatch naming the file", file, err)
		}
		for _, p := range []string{file, file + ".part"} {
			if _, err := os.Stat(filepath.Join(dest, p)); err == nil {
				t.Errorf("%s corrupted: %s exists after the failed pull", file, p)
			}
		}
	}
}

func TestPullErrors(t *testing.T) {
	h := newFakeHub(t)
	h.token = "right"
	c := start(t, h)
	c.Token = "wrong"
	if _, err := c.Pull(context.Background(), "test-org/bert-tiny", t.TempDir(), PullOptions{}); err == nil || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Errorf("bad token: error %v", err)
	}
	c.Token = "right"
	if _, err := c.Pull(context.Background(), "test-org/nothing", t.TempDir(), PullOptions{}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown repo: error %v", err)
	}
	for _, bad := range []string{"noslash", "a/b/c", "../x", "/x", "a/"} {
		if err := ValidateRepo(bad); err == nil {
			t.Errorf("ValidateRepo(%q): want an error", bad)
		}
	}
	delete(h.files, "model.safetensors")
	if _, err := c.Pull(context.Background(), "test-org/bert-tiny", t.TempDir(), PullOptions{}); err == nil || !strings.Contains(err.Error(), "model.safetensors or model.onnx") {
		t.Errorf("no weights: error %v", err)
	}
	if _, err := safeJoin("/tmp/x", "../../etc/passwd"); err == nil {
		t.Error("safeJoin with ..: want an error")
	}
}

func TestFindCaches(t *testing.T) {
	hf := t.TempDir()
	t.Setenv("HF_HUB_CACHE", hf)
	snap := filepath.Join(hf, "models--sentence-transformers--all-MiniLM-L6-v2", "snapshots", "deadbeef")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok := HFSnapshot(hf, "sentence-transformers/all-MiniLM-L6-v2"); ok {
		t.Error("empty snapshot counted as a model")
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json"} {
		if err := os.WriteFile(filepath.Join(snap, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(filepath.Dir(filepath.Dir(snap)), "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(filepath.Dir(filepath.Dir(snap)), "refs", "main"), []byte("deadbeef\n"), 0o644)
	if d, ok := HFSnapshot(hf, "sentence-transformers/all-MiniLM-L6-v2"); !ok || d != snap {
		t.Errorf("HFSnapshot = %q, %v; want %q", d, ok, snap)
	}
	list, err := List(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Source != "huggingface" || list[0].Repo != "sentence-transformers/all-MiniLM-L6-v2" {
		t.Errorf("List = %+v", list)
	}
	t.Setenv("KURA_CACHE_DIR", "/x/y")
	if d, _ := CacheDir(); d != "/x/y/models" {
		t.Errorf("CacheDir = %q", d)
	}
}
