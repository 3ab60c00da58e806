package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed/tokens"
	"github.com/kura-go/kura/ingest"
	"github.com/kura-go/kura/llm"
)

// Facets are the fields a summariser generates for one conversation. They
// never include the chat id or metadata, which come from the conversation
// itself: a cached answer can therefore be reused for a duplicate
// conversation without carrying another conversation's identity.
type Facets struct {
	Summary         string   `json:"summary"`
	Request         *string  `json:"request"`
	Task            *string  `json:"task"`
	Languages       []string `json:"languages"`
	ConcerningScore *int     `json:"concerning_score"`
	UserFrustration *int     `json:"user_frustration"`
	AssistantErrors []string `json:"assistant_errors"`
}

// Summarizer writes the facets of one conversation.
type Summarizer interface {
	// ID names the summariser and every setting that changes its answers
	// (it is part of the stage's fingerprint).
	ID() map[string]string
	// Summarize returns the facets of c, what it spent, and whether the
	// answer came from a cache.
	Summarize(ctx context.Context, c *conversation.Conversation) (Facets, llm.Usage, bool, error)
}

// ChatModel is what the LLM stages need of an LLM client (*llm.Client).
type ChatModel interface {
	JSON(ctx context.Context, r llm.Request, out any, check func() error) (llm.Usage, error)
	Body(r llm.Request) ([]byte, error)
	Model() string
	Temperature() float64
}

// summaryOf joins a conversation's identity and metadata with facets.
func summaryOf(c *conversation.Conversation, f Facets) conversation.ConversationSummary {
	s := conversation.ConversationSummary{
		Summary: f.Summary, Request: f.Request, Task: f.Task, Languages: f.Languages,
		ConcerningScore: f.ConcerningScore, UserFrustration: f.UserFrustration,
		AssistantErrors: f.AssistantErrors, ChatID: c.ChatID,
	}
	s.Metadata = map[string]any{}
	for k, v := range c.Metadata {
		s.Metadata[k] = v
	}
	if _, ok := s.Metadata["conversation_turns"]; !ok {
		s.Metadata["conversation_turns"] = len(c.Messages)
	}
	return s
}

// LLMSummarizer summarises conversations with a chat model, Clio-style:
// structured output with Kura's ConversationSummary facets.
type LLMSummarizer struct {
	Model ChatModel
	// MaxConversationTokens truncates the rendered conversation (cl100k
	// tokens); 0 means 8,000.
	MaxConversationTokens int
	// MaxTokens bounds the answer; 0 means 1,000.
	MaxTokens int
	// Cache, when set, keeps answers by request.
	Cache *AnswerCache
}

// summaryPromptVersion changes whenever the prompt or schema changes.
const summaryPromptVersion = "summary-prompt/1"

const summarySystem = `You summarise conversations between a user and an AI assistant so that
they can be grouped by what users ask for. Write in English whatever the
language of the conversation. Leave out anything that identifies a person or
an organisation: names, e-mail addresses, phone numbers, addresses, account
numbers and the like. Answer with JSON only.`

const summaryInstructions = `Read the conversation the user sends and describe it:
- summary: at most two sentences, starting with "The user", saying what the user
  wanted and what the assistant did.
- request: one sentence starting "The user's overall request for the assistant is to".
- task: one sentence starting "The task is to", the kind of work asked for.
- languages: the human languages used (lower case, e.g. "english"), and any
  programming languages.
- concerning_score: 1 (harmless) to 5 (clearly harmful or dangerous request).
- user_frustration: 1 (content) to 5 (very frustrated with the assistant).
- assistant_errors: the assistant's mistakes, one short sentence each; [] if none.`

var summarySchema = json.RawMessage(`{"type":"object","properties":{` +
	`"summary":{"type":"string"},` +
	`"request":{"type":"string"},` +
	`"task":{"type":"string"},` +
	`"languages":{"type":"array","items":{"type":"string"}},` +
	`"concerning_score":{"type":"integer","minimum":1,"maximum":5},` +
	`"user_frustration":{"type":"integer","minimum":1,"maximum":5},` +
	`"assistant_errors":{"type":"array","items":{"type":"string"}}},` +
	`"required":["summary","request","task","languages","concerning_score","user_frustration","assistant_errors"],` +
	`"additionalProperties":false}`)

func (s *LLMSummarizer) maxConvTokens() int {
	if s.MaxConversationTokens > 0 {
		return s.MaxConversationTokens
	}
	return 8000
}

func (s *LLMSummarizer) maxTokens() int {
	if s.MaxTokens > 0 {
		return s.MaxTokens
	}
	return 1000
}

// ID names the model, temperature, prompt and limits.
func (s *LLMSummarizer) ID() map[string]string {
	return map[string]string{
		"summarizer": "llm", "model": s.Model.Model(), "temperature": ftoa(s.Model.Temperature()),
		"prompt":                  summaryPromptVersion + "/" + shortHash(summarySystem+summaryInstructions+string(summarySchema)),
		"max_conversation_tokens": itoa(s.maxConvTokens()), "max_tokens": itoa(s.maxTokens()),
	}
}

// renderConversation writes the messages as "role: text" blocks and cuts
// the result to maxTokens cl100k tokens.
func renderConversation(c *conversation.Conversation, maxTokens int) string {
	var b strings.Builder
	for _, m := range c.Messages {
		if strings.TrimSpace(m.Content) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(m.Role)
		b.WriteString(": ")
		b.WriteString(strings.TrimSpace(m.Content))
	}
	text := b.String()
	if out, _, cut := tokens.Truncate(text, maxTokens); cut {
		return out + "\n[... conversation truncated]"
	}
	return text
}

// Summarize asks the model, or the cache, for c's facets.
func (s *LLMSummarizer) Summarize(ctx context.Context, c *conversation.Conversation) (Facets, llm.Usage, bool, error) {
	req := llm.Request{
		System:     summarySystem + "\n\n" + summaryInstructions,
		User:       "<conversation>\n" + renderConversation(c, s.maxConvTokens()) + "\n</conversation>",
		SchemaName: "conversation_summary", Schema: summarySchema, MaxTokens: s.maxTokens(),
	}
	var key string
	if s.Cache != nil {
		body, err := s.Model.Body(req)
		if err != nil {
			return Facets{}, llm.Usage{}, false, err
		}
		key = cacheKey(body)
		if raw, ok := s.Cache.Get(key); ok {
			var f Facets
			if json.Unmarshal(raw, &f) == nil && f.Summary != "" {
				return f, llm.Usage{}, true, nil
			}
		}
	}
	var f Facets
	check := func() error {
		switch {
		case strings.TrimSpace(f.Summary) == "":
			return errors.New("empty summary")
		case f.ConcerningScore == nil || *f.ConcerningScore < 1 || *f.ConcerningScore > 5:
			return errors.New("concerning_score not in 1..5")
		case f.UserFrustration == nil || *f.UserFrustration < 1 || *f.UserFrustration > 5:
			return errors.New("user_frustration not in 1..5")
		}
		return nil
	}
	u, err := s.Model.JSON(ctx, req, &f, func() error { return check() })
	if err != nil {
		return Facets{}, u, false, fmt.Errorf("summary of %s: %w", c.ChatID, err)
	}
	if f.Languages == nil {
		f.Languages = []string{}
	}
	if f.AssistantErrors == nil {
		f.AssistantErrors = []string{}
	}
	if s.Cache != nil {
		if err := s.Cache.Put(key, f); err != nil {
			return f, u, false, err
		}
	}
	return f, u, false, nil
}

// partialName is the file summaries are appended to while the stage runs.
const partialName = "summaries.partial.jsonl"

// readPartial reads the summaries an interrupted run appended, cutting off
// a last line the crash left unfinished. Lines that do not parse are
// dropped (and summarised again).
func readPartial(path string) (map[string]conversation.ConversationSummary, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]conversation.ConversationSummary{}, nil
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 != len(data) {
		data = data[:i+1]
		if err := os.Truncate(path, int64(i+1)); err != nil {
			return nil, fmt.Errorf("cutting the unfinished last line of %s: %w", path, err)
		}
	}
	done := map[string]conversation.ConversationSummary{}
	r := conversation.NewReader[conversation.ConversationSummary](bytes.NewReader(data), path, conversation.ReadOptions{SkipInvalid: true})
	for {
		s, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		done[s.ChatID] = s
	}
	return done, nil
}

// appender appends summaries to the partial file, one flushed line each.
type appender struct {
	mu sync.Mutex
	f  *os.File
	w  *bufio.Writer
	jw *conversation.Writer[conversation.ConversationSummary]
}

func openAppender(path string) (*appender, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	a := &appender{f: f}
	a.jw = conversation.NewWriter[conversation.ConversationSummary](f)
	return a, nil
}

func (a *appender) add(s conversation.ConversationSummary) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.jw.Write(s); err != nil {
		return err
	}
	return a.jw.Flush()
}

func (a *appender) close() error { return a.f.Close() }

// summariseConversations runs sum over the conversations of path, keeping
// the summaries already in done, appending every new one to app as it
// finishes. It returns the summaries in input order.
func summariseConversations(ctx context.Context, path string, in ingest.Options, sum Summarizer, workers int, done map[string]conversation.ConversationSummary,
	app *appender, st *StageStats, onItem func()) ([]conversation.ConversationSummary, error) {
	r, err := ingest.Open(path, in)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	type job struct {
		i int
		c conversation.Conversation
	}
	var out []conversation.ConversationSummary
	seen := map[string]int{}
	jobs := make(chan job, 2*workers)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				f, u, cached, err := sum.Summarize(ctx, &j.c)
				mu.Lock()
				st.addLLM(u)
				if cached {
					st.CacheHits++
				}
				mu.Unlock()
				if err != nil {
					cancel(err)
					continue
				}
				s := summaryOf(&j.c, f)
				if err := s.Validate(); err != nil {
					cancel(fmt.Errorf("summary of %s: %w", j.c.ChatID, err))
					continue
				}
				if err := app.add(s); err != nil {
					cancel(fmt.Errorf("appending to %s: %w", partialName, err))
					continue
				}
				mu.Lock()
				out[j.i] = s
				mu.Unlock()
				onItem()
			}
		}()
	}
	var readErr error
	for i := 0; ; i++ {
		c, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if prev, dup := seen[c.ChatID]; dup {
			readErr = fmt.Errorf("%s: conversation %d: chat_id %q repeats conversation %d: every conversation needs its own chat_id", path, i+1, c.ChatID, prev+1)
			break
		}
		seen[c.ChatID] = i
		mu.Lock()
		out = append(out, conversation.ConversationSummary{})
		if s, ok := done[c.ChatID]; ok {
			out[i] = s
			st.Resumed++
			mu.Unlock()
			onItem()
			continue
		}
		mu.Unlock()
		select {
		case jobs <- job{i, c}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// partialPath is where the summarise stage appends.
func partialPath(dir string) string { return filepath.Join(dir, partialName) }
