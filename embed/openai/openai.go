// Package openai embeds texts through any server that speaks OpenAI's
// /v1/embeddings protocol: OpenAI itself, Azure OpenAI deployments, vLLM,
// Ollama, Hugging Face TEI, LiteLLM and the like.
//
// The client splits its input into requests that respect the API's limits
// (embed.OpenAILimits: inputs per request, tokens per request, tokens per
// input, truncating over-long inputs by tokens), sends Concurrency requests
// at a time, retries rate limits (429), server errors (5xx), timeouts and
// malformed responses with exponential backoff and jitter (honouring
// Retry-After and retry-after-ms), and checks every response strictly: one
// vector per input, placed by its index, all of one length. Any other 4xx
// fails at once with the server's message.
//
// Every request, retry, rate limit, error and token is counted; Usage prices
// the tokens at Config.PricePerMillion, else the model's list price.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/internal/httpapi"
)

// Defaults used for zero Config fields.
const (
	DefaultBaseURL     = "https://api.openai.com/v1"
	DefaultModel       = "text-embedding-3-small"
	DefaultBatchSize   = 50
	DefaultConcurrency = 5
	DefaultMaxRetries  = httpapi.DefaultMaxRetries
	DefaultTimeout     = 60 * time.Second
	// The retry defaults and the cap on Retry-After are httpapi's, shared
	// by the API clients.
	DefaultMinBackoff          = httpapi.DefaultMinBackoff
	DefaultMaxBackoff          = httpapi.DefaultMaxBackoff
	DefaultMaxMalformedRetries = httpapi.DefaultMaxMalformedRetries
	MaxRetryAfter              = httpapi.MaxRetryAfter
)

// Config configures a Client. Zero fields take the defaults above.
type Config struct {
	// BaseURL is the API root the path "/embeddings" is appended to, e.g.
	// "http://localhost:8000/v1" (vLLM), "http://localhost:11434/v1"
	// (Ollama) or an Azure deployment URL with its query string
	// ("https://R.openai.azure.com/openai/deployments/D?api-version=2024-02-01").
	// Default: $OPENAI_BASE_URL, else DefaultBaseURL.
	BaseURL string
	// APIKey is sent as "Authorization: Bearer KEY" (or as "api-key: KEY"
	// for Azure hosts). Default: $OPENAI_API_KEY; empty sends no key, which
	// is fine for local servers.
	APIKey string
	// Model is the model name sent with each request. Default DefaultModel.
	Model string
	// Dims, when > 0, is sent as the API's optional "dimensions" field and
	// every returned vector must have that length.
	Dims int
	// BatchSize is the number of inputs per request (further limited by
	// Limits). Default 50.
	BatchSize int
	// Concurrency is the number of requests in flight. Default 5.
	Concurrency int
	// MaxMalformedRetries caps, within MaxRetries, the retries of a batch
	// after unusable responses; 0 means DefaultMaxMalformedRetries, negative
	// means none.
	MaxMalformedRetries int
	// MaxRetries caps the retries of one batch; 0 means DefaultMaxRetries,
	// a negative value means no retries.
	MaxRetries int
	// Timeout bounds each attempt (connect, send, wait, read). Default 60 s.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// retries when the server gives no Retry-After. Defaults 0.5 s and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// Limits are the API's per-request limits. Default embed.OpenAILimits.
	Limits embed.Limits
	// PricePerMillion is the price of Model in US dollars per million
	// tokens. nil: its list price (embed.DefaultPrices), 0 when unknown.
	PricePerMillion *float64
	// EncodingFormat is "base64" (default, as OpenAI's own SDKs send: a
	// quarter of the bytes of JSON numbers and far cheaper to decode) or
	// "float". Both are decoded whatever was asked. A server that rejects
	// base64 with a 400 naming encoding_format is asked again with float,
	// and so is every later request of the client.
	EncodingFormat string
	// AuthHeader is "Authorization" (bearer token) or "api-key" (Azure).
	// Default: "api-key" for *.azure.com hosts, else "Authorization".
	AuthHeader string
	// Header holds extra request headers (e.g. OpenAI-Organization).
	Header http.Header
	// HTTPClient sends the requests. Default: httpapi.NewClient, keeping
	// Concurrency connections alive per host. Either way redirects are
	// followed only to the same scheme, host and port (httpapi.CheckRedirect).
	HTTPClient *http.Client
	// MaxResponseBytes caps a response body, on the wire and after gzip
	// decompression. 0: computed per request from the inputs and the vector
	// length (maxResponseBytes), which bounds memory at about this times
	// Concurrency.
	MaxResponseBytes int64
	// Logger receives retry and error details at debug level. Default slog.Default().
	Logger *slog.Logger
	// OnResponse, when set, is called after each request attempt with the
	// HTTP status (0 when no answer came: a timeout or a broken connection)
	// and the time from sending to a parsed answer, e.g. for a latency
	// histogram. It must be safe for concurrent use.
	OnResponse func(status int, elapsed time.Duration)
}

// Client is an embed.Embedder for OpenAI-compatible servers. It is safe for
// concurrent use; Concurrency bounds the requests in flight across all calls.
type Client struct {
	c      Config
	caller *httpapi.Caller
	log    *slog.Logger

	learned atomic.Int64 // vector length seen in the first response (0 before)
	floats  atomic.Bool  // the server rejected base64: ask for float

	counts                    httpapi.Counts
	inputs, tokens, truncated atomic.Int64
}

// knownDims are the default output lengths of OpenAI's embedding models.
var knownDims = map[string]int{
	"text-embedding-3-small": 1536,
	"text-embedding-3-large": 3072,
	"text-embedding-ada-002": 1536,
}

// ModelDims returns the default vector length of an OpenAI embedding
// model, 0 when it is not one kura knows.
func ModelDims(model string) int { return knownDims[model] }

// New checks the configuration and returns a client. It sends nothing.
func New(c Config) (*Client, error) {
	if c.BaseURL == "" {
		c.BaseURL = os.Getenv("OPENAI_BASE_URL")
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.APIKey == "" {
		c.APIKey = os.Getenv("OPENAI_API_KEY")
	}
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	retry, err := httpapi.Retry{MaxRetries: c.MaxRetries, MaxMalformedRetries: c.MaxMalformedRetries,
		Timeout: c.Timeout, MinBackoff: c.MinBackoff, MaxBackoff: c.MaxBackoff}.Defaults(DefaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("openai: %w", err)
	}
	if c.Limits == (embed.Limits{}) {
		c.Limits = embed.OpenAILimits
	}
	if c.EncodingFormat == "" {
		c.EncodingFormat = "base64"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.BatchSize < 0:
		return nil, fmt.Errorf("openai: batch size %d must be positive", c.BatchSize)
	case c.Limits.MaxInputs > 0 && c.BatchSize > c.Limits.MaxInputs:
		return nil, fmt.Errorf("openai: batch size %d is over the API's limit of %d inputs per request", c.BatchSize, c.Limits.MaxInputs)
	case c.Concurrency < 0:
		return nil, fmt.Errorf("openai: concurrency %d must be positive", c.Concurrency)
	case c.Dims < 0:
		return nil, fmt.Errorf("openai: dimensions %d must be positive", c.Dims)
	case c.EncodingFormat != "float" && c.EncodingFormat != "base64":
		return nil, fmt.Errorf("openai: encoding format %q: want float or base64", c.EncodingFormat)
	case c.MaxResponseBytes < 0:
		return nil, fmt.Errorf("openai: response size cap %d must be positive", c.MaxResponseBytes)
	case c.PricePerMillion != nil && *c.PricePerMillion < 0:
		return nil, fmt.Errorf("openai: price %v per million tokens is negative", *c.PricePerMillion)
	}
	endpoint, azure, err := httpapi.EndpointURL(c.BaseURL, "/embeddings", DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("openai: %w", err)
	}
	if c.APIKey == "" && needsKey(endpoint) {
		return nil, fmt.Errorf("openai: no API key for %s: set OPENAI_API_KEY (a local server such as vLLM, Ollama or kura mock-api needs none: point --base-url at it)", httpapi.RedactURL(endpoint))
	}
	if c.AuthHeader == "" {
		c.AuthHeader = "Authorization"
		if azure {
			c.AuthHeader = "api-key"
		}
	}
	hc := httpapi.NewClient(2 * c.Concurrency)
	if c.HTTPClient != nil {
		hc = httpapi.Secure(c.HTTPClient)
	}
	cl := &Client{c: c, log: c.Logger}
	header := c.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if c.APIKey != "" {
		if strings.EqualFold(c.AuthHeader, "Authorization") {
			header.Set("Authorization", "Bearer "+c.APIKey)
		} else {
			header.Set(c.AuthHeader, c.APIKey)
		}
	}
	cl.caller = &httpapi.Caller{
		URL: endpoint, Client: hc, Header: header, Secrets: []string{c.APIKey}, Retry: retry,
		Sem:        make(chan struct{}, c.Concurrency),
		Hints:      map[int]string{http.StatusUnauthorized: "check OPENAI_API_KEY", http.StatusNotFound: "check --base-url and --model"},
		Counts:     &cl.counts,
		Logger:     c.Logger,
		OnResponse: c.OnResponse,
	}
	return cl, nil
}

// Name returns "openai:" and the model.
func (c *Client) Name() string { return "openai:" + c.c.Model }

// Model returns the model name sent to the server.
func (c *Client) Model() string { return c.c.Model }

// Endpoint returns the URL requests are sent to, with any secrets in it (user
// info, api-key and similar query parameters) redacted: it is for printing.
func (c *Client) Endpoint() string { return httpapi.RedactURL(c.caller.URL) }

// RequestShape returns the inputs per request and the requests in flight
// (embed.Pooled): embed.Stream keeps that pool full across its calls.
func (c *Client) RequestShape() (batch, concurrency int) {
	return c.c.BatchSize, c.c.Concurrency
}

// Dims returns the vector length: Config.Dims if set, else the length seen
// in the first response, else (before any response) the model's known
// default length, or 0 for a model kura does not know.
func (c *Client) Dims() int {
	if c.c.Dims > 0 {
		return c.c.Dims
	}
	if d := c.learned.Load(); d > 0 {
		return int(d)
	}
	return knownDims[c.c.Model]
}

// Usage returns what the client has spent so far.
func (c *Client) Usage() embed.Usage {
	u := embed.Usage{
		Requests:    c.counts.Requests.Load(),
		Retries:     c.counts.Retries.Load(),
		RateLimited: c.counts.RateLimited.Load(),
		Errors:      c.counts.Errors.Load(),
		Inputs:      c.inputs.Load(),
		Tokens:      c.tokens.Load(),
		Truncated:   c.truncated.Load(),
	}
	price, _ := embed.DefaultPrices().Lookup(c.c.Model)
	if c.c.PricePerMillion != nil {
		price = *c.c.PricePerMillion
	}
	u.CostUSD = embed.Cost(float64(u.Tokens), price)
	return u
}

// Embed returns one vector per text, in order. Texts are split into batches
// and sent Concurrency at a time; the first batch that fails for good
// cancels the others and its error is returned.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	empty := 0
	first := -1
	for i, t := range texts {
		if t == "" {
			if first < 0 {
				first = i
			}
			empty++
		}
	}
	if empty > 0 {
		return nil, fmt.Errorf("openai: input %d is empty (%d empty inputs in all): the embeddings API rejects empty strings", first, empty)
	}
	out := make([][]float32, len(texts))
	nbatches := (len(texts) + c.c.BatchSize - 1) / c.c.BatchSize
	if nbatches <= 1 {
		// One request's worth, as embed.Stream hands it (RequestShape):
		// sent from the caller's goroutine, not handed to a worker. (The
		// API's token limits may still cut it in two, sent one after the
		// other.)
		for b := range embed.Batches(texts, c.c.BatchSize, c.c.Limits) {
			vecs, err := c.embedBatch(ctx, b)
			if err != nil {
				return nil, err
			}
			copy(out[b.Offset:], vecs)
			embed.ReportProgress(ctx, len(vecs))
		}
		return out, nil
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Twice as many workers as requests allowed in flight: the semaphore in
	// embedBatch keeps Concurrency requests on the wire, and the spare
	// workers let a new request go out while an answered one is being
	// parsed. The buffered channel keeps batches tokenized ahead of need.
	work := make(chan embed.Batch, c.c.Concurrency)
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	for w := 0; w < min(2*c.c.Concurrency, nbatches); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if ctx.Err() != nil {
					continue // drain: another batch failed or the caller gave up
				}
				vecs, err := c.embedBatch(ctx, b)
				if err != nil {
					once.Do(func() { firstErr = err; cancel(err) })
					continue
				}
				copy(out[b.Offset:], vecs)
				embed.ReportProgress(ctx, len(vecs))
			}
		}()
	}
	// Batches are counted and cut lazily, so the first requests go out
	// while the rest of the input is still being tokenized.
feed:
	for b := range embed.Batches(texts, c.c.BatchSize, c.c.Limits) {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("openai: %w", context.Cause(ctx))
	}
	return out, nil
}

// embedBatch sends one batch, retrying what can be retried.
func (c *Client) embedBatch(ctx context.Context, b embed.Batch) ([][]float32, error) {
	body, err := c.requestBody(b.Texts)
	if err != nil {
		return nil, err
	}
	n := len(b.Texts)
	var vecs [][]float32
	var tokens int64
	call := httpapi.Call{
		Body:  body,
		Limit: c.maxResponseBytes(n),
		Parse: func(data []byte) (err error) {
			vecs, tokens, err = c.parse(data, n)
			return err
		},
		Transient: true, // parse copies what it keeps (vectors, messages)
		Malformed: func(msg string) error {
			return &ResponseError{Msg: fmt.Sprintf("%s (the cap for %d inputs; Config.MaxResponseBytes sets it)", msg, n)}
		},
		Resend: func(ae *APIError) ([]byte, bool) {
			if !rejectsBase64(ae) {
				return nil, false
			}
			if !c.floats.Load() && c.c.EncodingFormat == "base64" {
				c.floats.Store(true)
				c.log.Info("the server does not take encoding_format base64; asking for float from now on", "err", ae)
			}
			if !c.floats.Load() || bytes.Contains(body, []byte(`"encoding_format":"float"`)) {
				return nil, false
			}
			if body, err = c.requestBody(b.Texts); err != nil {
				return nil, false
			}
			return body, true
		},
		Where: fmt.Sprintf("inputs %d-%d", b.Offset+1, b.Offset+n), // 1-based, as lines are
	}
	if err := c.caller.Do(ctx, call); err != nil {
		if ctx.Err() != nil { // cancelled by the caller or by another batch
			return nil, err
		}
		return nil, fmt.Errorf("openai: %s: %w", call.Where, err)
	}
	if tokens <= 0 { // the server reported no usage: count locally
		tokens = int64(b.TokenCount())
	}
	c.inputs.Add(int64(n))
	c.tokens.Add(tokens)
	c.truncated.Add(int64(b.Truncated))
	return vecs, nil
}

type request struct {
	Input          []string `json:"input"`
	Model          string   `json:"model"`
	EncodingFormat string   `json:"encoding_format,omitempty"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

func (c *Client) requestBody(texts []string) ([]byte, error) {
	format := c.c.EncodingFormat
	if c.floats.Load() {
		format = "float"
	}
	b, err := json.Marshal(request{Input: texts, Model: c.c.Model, EncodingFormat: format, Dimensions: c.c.Dims})
	if err != nil {
		return nil, fmt.Errorf("openai: encoding request: %w", err)
	}
	return b, nil
}

// Response size caps. A vector value is at most maxValueBytes of JSON text
// (e.g. "-1.2345678e-05, " with indentation), an input's object around it
// at most perInputBytes; unknownDims is assumed before the vector length is
// known. 50 inputs of 1,536 values: 4 MB; of unknown length: 40 MB. Error
// bodies are only read for their message.
const (
	maxValueBytes = 48
	perInputBytes = 4 << 10
	unknownDims   = 16384
	responseSlack = 1 << 20
)

// maxResponseBytes is the cap on the body of a response to n inputs.
func (c *Client) maxResponseBytes(n int) int64 {
	if c.c.MaxResponseBytes > 0 {
		return c.c.MaxResponseBytes
	}
	dims := c.Dims()
	if dims <= 0 {
		dims = unknownDims
	}
	return int64(n)*(int64(dims)*maxValueBytes+perInputBytes) + responseSlack
}

// rejectsBase64 reports whether a 400 answer objects to encoding_format.
func rejectsBase64(ae *APIError) bool {
	return ae.StatusCode == http.StatusBadRequest &&
		(strings.Contains(ae.Message, "encoding_format") || strings.Contains(ae.Message, "base64") || ae.Param == "encoding_format")
}

// APIError is a non-2xx answer from the server.
type APIError = httpapi.APIError

// needsKey reports whether the endpoint is OpenAI's or Azure OpenAI's own
// service, which always need a key (local servers usually take none).
func needsKey(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h == "api.openai.com" || strings.HasSuffix(h, ".openai.azure.com")
}

// TimeoutError is an attempt that took longer than Config.Timeout.
type TimeoutError = httpapi.TimeoutError

// TransportError is a failure to reach the server or read its answer. Its
// text is redacted (Go's url.Error quotes the request URL).
type TransportError = httpapi.TransportError

// ResponseError is a 2xx answer that does not hold exactly one valid vector
// per input.
type ResponseError struct{ Msg string }

func (e *ResponseError) Error() string { return "invalid response: " + e.Msg }

// Malformed marks the response as one to retry (httpapi.Caller).
func (e *ResponseError) Malformed() bool { return true }

// DimsError is a response whose vectors do not have the expected length:
// the requested dimensions, the model's known length, or the length of
// earlier responses. Retrying it would not help.
type DimsError struct {
	Got, Want int
	Why       string // where Want comes from
}

func (e *DimsError) Error() string {
	return fmt.Sprintf("server returned %d-dimensional vectors, want %d (%s)", e.Got, e.Want, e.Why)
}
