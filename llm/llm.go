// Package llm calls an OpenAI-compatible chat completions API for
// structured JSON answers (response_format json_schema): OpenAI itself,
// Azure-style deployments, vLLM, Ollama, LiteLLM or kura mock-api.
//
// A Client bounds the requests in flight (Concurrency), retries rate limits
// (429), server errors (5xx), timeouts, transport failures and unusable
// answers with exponential backoff and jitter, honouring Retry-After and
// retry-after-ms, and counts every request, retry and token. Tokens are
// priced with the Price the caller hands in; nothing here knows a list of
// models.
//
// Nothing is sent unless the caller builds a Client: an API key in the
// environment is not a request to use it. The API key is sent only in the
// Authorization (or api-key) header and never appears in errors or logs.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kura-go/kura/internal/httpapi"
)

// Defaults used for zero Config fields.
const (
	DefaultModel       = "gpt-4o-mini"
	DefaultConcurrency = 50
	DefaultMaxRetries  = httpapi.DefaultMaxRetries
	DefaultTimeout     = 120 * time.Second
	// The retry defaults and the cap on Retry-After are httpapi's, shared
	// by the API clients.
	DefaultMinBackoff          = httpapi.DefaultMinBackoff
	DefaultMaxBackoff          = httpapi.DefaultMaxBackoff
	DefaultMaxMalformedRetries = httpapi.DefaultMaxMalformedRetries
	MaxRetryAfter              = httpapi.MaxRetryAfter
	// maxBody bounds a response body.
	maxBody = 16 << 20
)

// Price is what a chat model costs, in US dollars per million tokens.
type Price struct {
	InputPerMillion  float64 `json:"input_per_million"`
	OutputPerMillion float64 `json:"output_per_million"`
}

// DefaultPrice is gpt-4o-mini's list price (USD per million tokens).
var DefaultPrice = Price{InputPerMillion: 0.15, OutputPerMillion: 0.60}

// Cost prices prompt and completion tokens.
func (p Price) Cost(prompt, completion int64) float64 {
	return (float64(prompt)*p.InputPerMillion + float64(completion)*p.OutputPerMillion) / 1e6
}

// Usage is what calls spent. Tokens are those the server reported (billed),
// including the tokens of answers that had to be retried.
type Usage struct {
	Calls            int64   `json:"calls"`        // successful calls
	Requests         int64   `json:"requests"`     // HTTP requests, retries included
	Retries          int64   `json:"retries"`      // requests that repeated a failed one
	RateLimited      int64   `json:"rate_limited"` // 429 answers
	Errors           int64   `json:"errors"`       // other failed attempts
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
}

// Add adds o to u.
func (u *Usage) Add(o Usage) {
	u.Calls += o.Calls
	u.Requests += o.Requests
	u.Retries += o.Retries
	u.RateLimited += o.RateLimited
	u.Errors += o.Errors
	u.PromptTokens += o.PromptTokens
	u.CompletionTokens += o.CompletionTokens
	u.CostUSD += o.CostUSD
}

// Config configures a Client.
type Config struct {
	// BaseURL is the API root "/chat/completions" is appended to, e.g.
	// "http://127.0.0.1:8089/v1". Required: the client never guesses it.
	BaseURL string
	// APIKey is sent as "Authorization: Bearer KEY" ("api-key: KEY" for
	// Azure hosts); empty sends none, which local servers accept.
	APIKey string
	// Model is sent with every request. Default DefaultModel.
	Model string
	// Temperature is sent with every request (0 is sent as 0).
	Temperature float64
	// Concurrency bounds the requests in flight. Default 50.
	Concurrency int
	// MaxRetries caps the retries of one call; 0 means DefaultMaxRetries,
	// negative none.
	MaxRetries int
	// MaxMalformedRetries caps the retries after unusable answers; 0
	// means DefaultMaxMalformedRetries, negative none.
	MaxMalformedRetries int
	// Timeout bounds each attempt. Default 120 s.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the backoff between retries when the
	// server gives no Retry-After. Defaults 0.5 s and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// Price prices the tokens. The zero Price makes every cost 0.
	Price Price
	// HTTPClient sends the requests. Default: httpapi.NewClient. Either
	// way redirects are followed only to the same scheme, host and port.
	HTTPClient *http.Client
	// Logger receives retry details at debug level. Default slog.Default().
	Logger *slog.Logger
	// OnResponse, when set, is called after each request attempt with the
	// HTTP status (0 when no answer came) and the time from sending to a
	// parsed answer (e.g. for a latency histogram).
	OnResponse func(status int, elapsed time.Duration)
}

// Client is a chat completions client, safe for concurrent use.
type Client struct {
	c      Config
	caller *httpapi.Caller

	counts                    httpapi.Counts
	calls, prompt, completion atomic.Int64
}

// New checks cfg and returns a client. It sends nothing.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.BaseURL) == "" {
		return nil, errors.New("llm: no base URL (set --llm-base-url)")
	}
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	retry, err := httpapi.Retry{MaxRetries: cfg.MaxRetries, MaxMalformedRetries: cfg.MaxMalformedRetries,
		Timeout: cfg.Timeout, MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff}.Defaults(DefaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.Concurrency < 0:
		return nil, fmt.Errorf("llm: concurrency %d must be positive", cfg.Concurrency)
	case cfg.Temperature < 0 || cfg.Temperature > 2 || cfg.Temperature != cfg.Temperature:
		return nil, fmt.Errorf("llm: temperature %v must be in [0, 2]", cfg.Temperature)
	case cfg.Price.InputPerMillion < 0 || cfg.Price.OutputPerMillion < 0:
		return nil, errors.New("llm: prices must not be negative")
	}
	endpoint, azure, err := httpapi.EndpointURL(cfg.BaseURL, "/chat/completions", "http://127.0.0.1:8089/v1")
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	// Redirects are followed only to the same scheme, host and port: one
	// elsewhere would resend the key and the users' texts there.
	hc := httpapi.NewClient(cfg.Concurrency)
	if cfg.HTTPClient != nil {
		hc = httpapi.Secure(cfg.HTTPClient)
	}
	cl := &Client{c: cfg}
	cl.caller = &httpapi.Caller{
		URL: endpoint, Client: hc, Header: http.Header{}, Secrets: []string{cfg.APIKey}, Retry: retry,
		Sem:    make(chan struct{}, cfg.Concurrency),
		Hints:  map[int]string{http.StatusUnauthorized: "check the API key", http.StatusNotFound: "check --llm-base-url and --llm-model"},
		Counts: &cl.counts, Logger: cfg.Logger, OnResponse: cfg.OnResponse,
	}
	if cfg.APIKey != "" {
		if azure {
			cl.caller.Header.Set("api-key", cfg.APIKey)
		} else {
			cl.caller.Header.Set("Authorization", "Bearer "+cfg.APIKey)
		}
	}
	return cl, nil
}

// Model returns the model name sent to the server.
func (c *Client) Model() string { return c.c.Model }

// Temperature returns the sampling temperature sent to the server.
func (c *Client) Temperature() float64 { return c.c.Temperature }

// Endpoint returns the URL requests go to, with any credentials redacted.
func (c *Client) Endpoint() string { return httpapi.RedactURL(c.caller.URL) }

// Price returns the price the client counts cost with.
func (c *Client) Price() Price { return c.c.Price }

// Usage returns what the client has spent so far.
func (c *Client) Usage() Usage {
	u := Usage{
		Calls: c.calls.Load(), Requests: c.counts.Requests.Load(), Retries: c.counts.Retries.Load(),
		RateLimited: c.counts.RateLimited.Load(), Errors: c.counts.Errors.Load(),
		PromptTokens: c.prompt.Load(), CompletionTokens: c.completion.Load(),
	}
	u.CostUSD = c.c.Price.Cost(u.PromptTokens, u.CompletionTokens)
	return u
}

// Request is one structured-output call.
type Request struct {
	System string // system prompt
	User   string // user message
	// SchemaName names the schema (^[a-zA-Z0-9_-]{1,64}$).
	SchemaName string
	// Schema is the JSON Schema of the answer, an object with every
	// property required and additionalProperties false (OpenAI's strict
	// mode).
	Schema json.RawMessage
	// MaxTokens bounds the answer; 0 sends no limit.
	MaxTokens int
}

// Validate checks the request before anything is sent.
func (r Request) Validate() error {
	if r.User == "" {
		return errors.New("llm: empty user message")
	}
	if len(r.SchemaName) == 0 || len(r.SchemaName) > 64 || strings.IndexFunc(r.SchemaName, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')
	}) >= 0 {
		return fmt.Errorf("llm: schema name %q must match ^[a-zA-Z0-9_-]{1,64}$", r.SchemaName)
	}
	if !json.Valid(r.Schema) {
		return fmt.Errorf("llm: schema %s is not valid JSON", r.SchemaName)
	}
	return nil
}

type wireMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type wireRequest struct {
	Model          string        `json:"model"`
	Messages       []wireMessage `json:"messages"`
	Temperature    float64       `json:"temperature"`
	MaxTokens      int           `json:"max_tokens,omitempty"`
	ResponseFormat struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string          `json:"name"`
			Strict bool            `json:"strict"`
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
}

// Body returns the JSON body sent for r: the exact request, which is also
// what a cache keys answers on.
func (c *Client) Body(r Request) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	w := wireRequest{Model: c.c.Model, Temperature: c.c.Temperature, MaxTokens: r.MaxTokens}
	if r.System != "" {
		w.Messages = append(w.Messages, wireMessage{Role: "system", Content: r.System})
	}
	w.Messages = append(w.Messages, wireMessage{Role: "user", Content: r.User})
	w.ResponseFormat.Type = "json_schema"
	w.ResponseFormat.JSONSchema.Name = r.SchemaName
	w.ResponseFormat.JSONSchema.Strict = true
	w.ResponseFormat.JSONSchema.Schema = r.Schema
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("llm: encoding request: %w", err)
	}
	return b, nil
}

// JSON makes one call and decodes the answer into out (with
// DisallowUnknownFields off: extra fields are ignored). check, when not
// nil, validates the decoded answer; an answer that does not decode or
// fails check is retried (at most MaxMalformedRetries times), since a
// sampled answer may be fine the next time. The returned Usage is what
// this call spent, retries included.
func (c *Client) JSON(ctx context.Context, r Request, out any, check func() error) (Usage, error) {
	body, err := c.Body(r)
	if err != nil {
		return Usage{}, err
	}
	var u Usage
	var counts httpapi.Counts
	parse := func(data []byte) error {
		pt, ct, err := decodeAnswer(data, out, check)
		u.PromptTokens += pt
		u.CompletionTokens += ct
		c.prompt.Add(pt)
		c.completion.Add(ct)
		return err
	}
	err = c.caller.Do(ctx, httpapi.Call{Body: body, Limit: maxBody, Parse: parse, Counts: &counts,
		Malformed: func(msg string) error { return &AnswerError{Msg: msg} }})
	u.Requests, u.Retries = counts.Requests.Load(), counts.Retries.Load()
	u.RateLimited, u.Errors = counts.RateLimited.Load(), counts.Errors.Load()
	u.CostUSD = c.c.Price.Cost(u.PromptTokens, u.CompletionTokens)
	switch {
	case err == nil:
		u.Calls++
		c.calls.Add(1)
		return u, nil
	case ctx.Err() != nil:
		return u, err
	}
	return u, fmt.Errorf("llm: %w", err)
}

type wireResponse struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
	} `json:"usage"`
}

// decodeAnswer reads a 2xx answer into out (the structured output) and
// runs check on it; it returns the tokens the server billed, also for an
// answer that cannot be used.
func decodeAnswer(data []byte, out any, check func() error) (pt, ct int64, err error) {
	content, pt, ct, err := parseAnswer(data)
	if err != nil {
		return pt, ct, err
	}
	if err := json.Unmarshal([]byte(content), out); err != nil {
		return pt, ct, &AnswerError{Msg: "answer is not the JSON asked for: " + err.Error()}
	}
	if check != nil {
		if err := check(); err != nil {
			return pt, ct, &AnswerError{Msg: "answer does not fit the schema: " + err.Error()}
		}
	}
	return pt, ct, nil
}

// parseAnswer reads a 2xx answer: its content and the tokens the server
// billed (also for an answer that cannot be used).
func parseAnswer(data []byte) (string, int64, int64, error) {
	var wr wireResponse
	if err := json.Unmarshal(data, &wr); err != nil {
		return "", 0, 0, &AnswerError{Msg: "response is not JSON: " + err.Error()}
	}
	var pt, ct int64
	if wr.Usage != nil {
		// A negative count is no count: it would take cost off the total.
		pt, ct = max(wr.Usage.PromptTokens, 0), max(wr.Usage.CompletionTokens, 0)
	}
	if len(wr.Choices) == 0 {
		return "", pt, ct, &AnswerError{Msg: "response has no choices"}
	}
	ch := wr.Choices[0]
	if ch.Message.Refusal != nil && *ch.Message.Refusal != "" {
		return "", pt, ct, &RefusalError{Reason: *ch.Message.Refusal}
	}
	if ch.Message.Content == nil {
		return "", pt, ct, &AnswerError{Msg: "answer has no content"}
	}
	if ch.FinishReason == "length" {
		return "", pt, ct, &AnswerError{Msg: "answer cut at max_tokens"}
	}
	return *ch.Message.Content, pt, ct, nil
}

// APIError is a non-2xx answer.
type APIError = httpapi.APIError

// TimeoutError is an attempt that took longer than Config.Timeout.
type TimeoutError = httpapi.TimeoutError

// TransportError is a failure to reach the server or read its answer.
type TransportError = httpapi.TransportError

// AnswerError is a 2xx answer that could not be used.
type AnswerError struct{ Msg string }

func (e *AnswerError) Error() string { return "unusable answer: " + e.Msg }

// Malformed marks the answer as one to retry (httpapi.Caller).
func (e *AnswerError) Malformed() bool { return true }

// RefusalError is an answer in which the model refused.
type RefusalError struct{ Reason string }

func (e *RefusalError) Error() string { return "the model refused: " + e.Reason }

// knownPrices are list prices of common chat models, USD per million
// tokens (input, output).
var knownPrices = map[string]Price{
	"gpt-4o-mini":  DefaultPrice,
	"gpt-4o":       {InputPerMillion: 2.50, OutputPerMillion: 10.00},
	"gpt-4.1":      {InputPerMillion: 2.00, OutputPerMillion: 8.00},
	"gpt-4.1-mini": {InputPerMillion: 0.40, OutputPerMillion: 1.60},
	"gpt-4.1-nano": {InputPerMillion: 0.10, OutputPerMillion: 0.40},
}

// PriceOf returns the list price of a chat model and whether it is known.
// A provider prefix ("openai/gpt-4o-mini") is ignored.
func PriceOf(model string) (Price, bool) {
	if p, ok := knownPrices[model]; ok {
		return p, true
	}
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		p, ok := knownPrices[model[i+1:]]
		return p, ok
	}
	return Price{}, false
}
