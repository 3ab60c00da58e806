package pipeline

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// cacheVersion changes when the cache's layout or key changes.
const cacheVersion = "kura-summary-cache/1"

// cacheKey keys an answer by the exact request body sent to the model:
// messages, prompt, model, temperature, schema and token limit. The chat id
// is not in the body, so two conversations with the same messages share
// an answer, and the answer holds only generated fields.
func cacheKey(body []byte) string {
	h := sha256.New()
	h.Write([]byte(cacheVersion))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// SummaryCache keeps LLM summaries on disk, one JSON line per answer
// ({"key": ..., "facets": ...}), appended and flushed as each answer
// arrives, so that an interrupted run loses none. It stores only the
// generated facets: never a chat id or metadata.
type SummaryCache struct {
	mu   sync.Mutex
	path string
	f    *os.File
	m    map[string]Facets
}

type cacheLine struct {
	Key    string `json:"key"`
	Facets Facets `json:"facets"`
}

// OpenSummaryCache opens (creating) the cache in dir. Lines that do not
// parse (a crash mid-line) are ignored.
func OpenSummaryCache(dir string) (*SummaryCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("summary cache: %w", err)
	}
	path := filepath.Join(dir, "summaries.jsonl")
	c := &SummaryCache{path: path, m: map[string]Facets{}}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("summary cache: %w", err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 != len(data) {
		// A crash cut the last line: drop it, so that appends start clean.
		data = data[:i+1]
		if err := os.Truncate(path, int64(i+1)); err != nil {
			return nil, fmt.Errorf("summary cache: %w", err)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var l cacheLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && len(l.Key) == 64 && l.Facets.Summary != "" {
			c.m[l.Key] = l.Facets
		}
	}
	c.f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("summary cache: %w", err)
	}
	return c, nil
}

// Len returns the number of answers cached.
func (c *SummaryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Get returns the facets cached under key.
func (c *SummaryCache) Get(key string) (Facets, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[key]
	return f, ok
}

// Put stores facets under key and appends them to the file.
func (c *SummaryCache) Put(key string, f Facets) error {
	b, err := json.Marshal(cacheLine{Key: key, Facets: f})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return nil
	}
	c.m[key] = f
	if _, err := c.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("summary cache %s: %w", c.path, err)
	}
	return nil
}

// Close closes the file.
func (c *SummaryCache) Close() error { return c.f.Close() }

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}

func itoa(i int) string { return strconv.Itoa(i) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
