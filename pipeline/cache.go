package pipeline

import (
	"bufio"
	"bytes"
	"context"
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
	"sync/atomic"

	"github.com/kura-go/kura/llm"
)

// cacheVersion changes when the cache's layout or key changes.
const cacheVersion = "kura-llm-cache/1"

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

// AnswerCache keeps LLM answers on disk, one JSON line per answer
// ({"key": ..., "answer": ...}), appended and flushed as each answer
// arrives, so that an interrupted run loses none. An answer is what the
// model generated (for a summary: its facets), never a chat id or metadata,
// which callers take from their own input.
type AnswerCache struct {
	mu   sync.Mutex
	path string
	f    *os.File
	m    map[string]json.RawMessage
}

type cacheLine struct {
	Key    string          `json:"key"`
	Answer json.RawMessage `json:"answer"`
}

// CacheFileName is the cache's file in its directory.
const CacheFileName = "llm_answers.jsonl"

// OpenAnswerCache opens (creating) the cache in dir. Lines that do not
// parse (a crash mid-line) are ignored.
func OpenAnswerCache(dir string) (*AnswerCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("LLM cache: %w", err)
	}
	path := filepath.Join(dir, CacheFileName)
	c := &AnswerCache{path: path, m: map[string]json.RawMessage{}}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("LLM cache: %w", err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 != len(data) {
		// A crash cut the last line: drop it, so that appends start clean.
		data = data[:i+1]
		if err := os.Truncate(path, int64(i+1)); err != nil {
			return nil, fmt.Errorf("LLM cache: %w", err)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var l cacheLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && len(l.Key) == 64 && len(l.Answer) > 0 {
			c.m[l.Key] = l.Answer
		}
	}
	c.f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("LLM cache: %w", err)
	}
	return c, nil
}

// Len returns the number of answers cached.
func (c *AnswerCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Get returns the answer cached under key.
func (c *AnswerCache) Get(key string) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.m[key]
	return a, ok
}

// Put stores an answer (marshalled to JSON) under key and appends it to
// the file.
func (c *AnswerCache) Put(key string, answer any) error {
	raw, err := json.Marshal(answer)
	if err != nil {
		return err
	}
	b, err := json.Marshal(cacheLine{Key: key, Answer: raw})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return nil
	}
	c.m[key] = raw
	if _, err := c.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("LLM cache %s: %w", c.path, err)
	}
	return nil
}

// Close closes the file.
func (c *AnswerCache) Close() error { return c.f.Close() }

// cachedModel answers from the cache when it can and caches every answer.
type cachedModel struct {
	ChatModel
	cache *AnswerCache
	hits  *atomic.Int64
}

// JSON returns the cached answer to the same request, if it decodes and
// passes check; else it asks the model and caches the answer.
func (m cachedModel) JSON(ctx context.Context, r llm.Request, out any, check func() error) (llm.Usage, error) {
	body, err := m.Body(r)
	if err != nil {
		return llm.Usage{}, err
	}
	key := cacheKey(body)
	if raw, ok := m.cache.Get(key); ok && json.Unmarshal(raw, out) == nil && (check == nil || check() == nil) {
		m.hits.Add(1)
		return llm.Usage{}, nil
	}
	u, err := m.ChatModel.JSON(ctx, r, out, check)
	if err != nil {
		return u, err
	}
	return u, m.cache.Put(key, out)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}

func itoa(i int) string { return strconv.Itoa(i) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
