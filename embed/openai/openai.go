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
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
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
	DefaultMaxRetries  = 6
	DefaultTimeout     = 60 * time.Second
	DefaultMinBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	// MaxRetryAfter caps the wait a server may ask for with Retry-After or
	// retry-after-ms; a proxy asking for an hour would stall every batch.
	MaxRetryAfter = 60 * time.Second
	// DefaultMaxMalformedRetries caps the retries of a batch whose response
	// was unusable (wrong vector count, bad indices, invalid JSON): each
	// retry is billed again, and a server that answers badly tends to again.
	DefaultMaxMalformedRetries = 2
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
	c        Config
	endpoint string
	http     *http.Client
	sem      chan struct{}
	log      *slog.Logger

	learned atomic.Int64 // vector length seen in the first response (0 before)
	floats  atomic.Bool  // the server rejected base64: ask for float

	requests, retries, rateLimited, errs, inputs, tokens, truncated atomic.Int64
}

// knownDims are the default output lengths of OpenAI's embedding models.
var knownDims = map[string]int{
	"text-embedding-3-small": 1536,
	"text-embedding-3-large": 3072,
	"text-embedding-ada-002": 1536,
}

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
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.MaxMalformedRetries == 0 {
		c.MaxMalformedRetries = DefaultMaxMalformedRetries
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
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
	case c.Timeout < 0 || c.MinBackoff < 0 || c.MaxBackoff < c.MinBackoff:
		return nil, fmt.Errorf("openai: timeout and backoff must be positive, with max backoff >= min backoff")
	case c.EncodingFormat != "float" && c.EncodingFormat != "base64":
		return nil, fmt.Errorf("openai: encoding format %q: want float or base64", c.EncodingFormat)
	case c.MaxResponseBytes < 0:
		return nil, fmt.Errorf("openai: response size cap %d must be positive", c.MaxResponseBytes)
	case c.PricePerMillion != nil && *c.PricePerMillion < 0:
		return nil, fmt.Errorf("openai: price %v per million tokens is negative", *c.PricePerMillion)
	}
	endpoint, azure, err := embeddingsURL(c.BaseURL)
	if err != nil {
		return nil, err
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
	cl := &Client{c: c, endpoint: endpoint, http: hc, sem: make(chan struct{}, c.Concurrency), log: c.Logger}
	return cl, nil
}

// embeddingsURL appends /embeddings to the base URL's path, keeping any
// query (Azure's api-version), and reports whether the host is Azure's.
func embeddingsURL(base string) (string, bool, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		// url.Error quotes the URL: redact it, secrets and all.
		return "", false, fmt.Errorf("openai: base URL %q: %s", httpapi.RedactURL(base), httpapi.RedactError(errors.Unwrap(err)))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", false, fmt.Errorf("openai: base URL %q: want http(s)://host[:port]/path, e.g. %s", httpapi.RedactURL(base), DefaultBaseURL)
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/embeddings") {
		p += "/embeddings"
	}
	u.Path, u.RawPath = p, ""
	host := u.Hostname()
	azure := strings.HasSuffix(host, ".openai.azure.com") || strings.HasSuffix(host, ".cognitiveservices.azure.com")
	return u.String(), azure, nil
}

// Name returns "openai:" and the model.
func (c *Client) Name() string { return "openai:" + c.c.Model }

// Model returns the model name sent to the server.
func (c *Client) Model() string { return c.c.Model }

// Endpoint returns the URL requests are sent to, with any secrets in it (user
// info, api-key and similar query parameters) redacted: it is for printing.
func (c *Client) Endpoint() string { return httpapi.RedactURL(c.endpoint) }

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
		Requests:    c.requests.Load(),
		Retries:     c.retries.Load(),
		RateLimited: c.rateLimited.Load(),
		Errors:      c.errs.Load(),
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
	malformed := 0
	for attempt := 0; ; attempt++ {
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		c.requests.Add(1)
		if attempt > 0 {
			c.retries.Add(1)
		}
		sent := time.Now()
		vecs, tokens, err := c.send(ctx, body, len(b.Texts), func() { <-c.sem })
		if c.c.OnResponse != nil {
			c.c.OnResponse(statusOf(err), time.Since(sent))
		}
		if err == nil {
			if tokens <= 0 { // the server reported no usage: count locally
				tokens = int64(b.Tokens)
			}
			c.inputs.Add(int64(len(b.Texts)))
			c.tokens.Add(tokens)
			c.truncated.Add(int64(b.Truncated))
			return vecs, nil
		}
		if ctx.Err() != nil { // cancelled by the caller or by another batch
			return nil, context.Cause(ctx)
		}
		var ae *APIError
		isAPI := errors.As(err, &ae)
		if isAPI && ae.StatusCode == http.StatusTooManyRequests {
			c.rateLimited.Add(1)
		} else {
			c.errs.Add(1)
		}
		where := fmt.Sprintf("inputs %d-%d", b.Offset+1, b.Offset+len(b.Texts)) // 1-based, as lines are
		if isAPI && rejectsBase64(ae) && !c.floats.Load() && c.c.EncodingFormat == "base64" {
			c.floats.Store(true)
			c.log.Info("the server does not take encoding_format base64; asking for float from now on", "err", err)
		}
		if isAPI && rejectsBase64(ae) && c.floats.Load() && !bytes.Contains(body, []byte(`"encoding_format":"float"`)) {
			if body, err = c.requestBody(b.Texts); err != nil {
				return nil, err
			}
			attempt-- // the same request in the other format: not a retry of a failure
			continue
		}
		if !retryable(err) {
			return nil, fmt.Errorf("openai: %s: %w", where, err)
		}
		var re *ResponseError
		if errors.As(err, &re) {
			if malformed++; malformed > max(c.c.MaxMalformedRetries, 0) {
				return nil, fmt.Errorf("openai: %s: giving up after %d unusable responses (each is billed): %w", where, malformed, err)
			}
		}
		if attempt >= c.c.MaxRetries {
			return nil, fmt.Errorf("openai: %s: giving up after %d attempts: %w", where, attempt+1, err)
		}
		wait := c.backoff(attempt)
		if isAPI && ae.RetryAfter > 0 {
			// Honour the server's wait, plus up to 10% so that the
			// requests it throttled together do not return together.
			wait = ae.RetryAfter + time.Duration(rand.Int64N(int64(ae.RetryAfter)/10+1))
		}
		c.log.Debug("embedding request failed; retrying", "inputs", where, "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		}
	}
}

// statusOf returns the HTTP status of an attempt's outcome: 200 for a
// success, the API's status for an APIError, 200 for an answer that could
// not be used, and 0 when no answer came.
func statusOf(err error) int {
	var ae *APIError
	var re *ResponseError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &ae):
		return ae.StatusCode
	case errors.As(err, &re):
		return http.StatusOK
	}
	return 0
}

// backoff returns the wait before retry attempt+1 when the server said
// nothing: MinBackoff doubled per attempt, capped at MaxBackoff, with
// "equal jitter" (a uniformly random wait between half and all of it).
func (c *Client) backoff(attempt int) time.Duration {
	d := c.c.MinBackoff
	for i := 0; i < attempt && d < c.c.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.c.MaxBackoff)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
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
	maxErrorBody  = 1 << 20
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

// send makes one attempt. It returns the vectors in input order and the
// prompt tokens the server reported (0 if none). It calls release exactly
// once, as soon as the exchange with the server is over (before parsing).
func (c *Client) send(ctx context.Context, body []byte, n int, release func()) ([][]float32, int64, error) {
	released := false
	done := func() {
		if !released {
			released = true
			release()
		}
	}
	defer done()
	actx, cancel := context.WithTimeout(ctx, c.c.Timeout)
	defer cancel()
	req, err := httpapi.NewRequest(actx, c.endpoint, body)
	if err != nil {
		return nil, 0, err
	}
	for k, vs := range c.c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.c.APIKey != "" {
		if strings.EqualFold(c.c.AuthHeader, "Authorization") {
			req.Header.Set("Authorization", "Bearer "+c.c.APIKey)
		} else {
			req.Header.Set(c.c.AuthHeader, c.c.APIKey)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return nil, 0, &TimeoutError{Timeout: c.c.Timeout}
		}
		return nil, 0, &TransportError{Err: err, secrets: []string{c.c.APIKey}}
	}
	defer resp.Body.Close()
	limit := c.maxResponseBytes(n)
	if resp.StatusCode/100 != 2 {
		limit = maxErrorBody
	}
	data, err := httpapi.ReadBody(resp, limit)
	if err != nil {
		var tl *httpapi.TooLargeError
		switch {
		case errors.As(err, &tl) && resp.StatusCode/100 == 2:
			return nil, 0, &ResponseError{Msg: fmt.Sprintf("%v (the cap for %d inputs; Config.MaxResponseBytes sets it)", err, n)}
		case errors.As(err, &tl):
			data = nil // an error status with a huge body: the status says enough
		case actx.Err() != nil && ctx.Err() == nil:
			return nil, 0, &TimeoutError{Timeout: c.c.Timeout}
		default:
			return nil, 0, &TransportError{Err: fmt.Errorf("reading response: %w", err), secrets: []string{c.c.APIKey}}
		}
	}
	done()
	if resp.StatusCode/100 != 2 {
		return nil, 0, newAPIError(resp, data, c.c.APIKey)
	}
	vecs, tokens, err := c.parse(data, n)
	if err != nil {
		return nil, 0, err
	}
	return vecs, tokens, nil
}

// rejectsBase64 reports whether a 400 answer objects to encoding_format.
func rejectsBase64(ae *APIError) bool {
	return ae.StatusCode == http.StatusBadRequest &&
		(strings.Contains(ae.Message, "encoding_format") || strings.Contains(ae.Message, "base64") || ae.Param == "encoding_format")
}

// retryable reports whether a failed attempt may succeed if repeated.
func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode == http.StatusRequestTimeout || ae.StatusCode >= 500
	}
	var de *DimsError
	if errors.As(err, &de) {
		return false // a configuration mismatch: repeating costs money and changes nothing
	}
	var rd *httpapi.RedirectError
	if errors.As(err, &rd) {
		return false // the policy will refuse it again
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false // a misspelt host does not come into existence by waiting
	}
	var re *ResponseError
	var te *TimeoutError
	var tr *TransportError
	return errors.As(err, &re) || errors.As(err, &te) || errors.As(err, &tr)
}

// APIError is a non-2xx answer from the server.
type APIError struct {
	StatusCode int
	Status     string        // e.g. "401 Unauthorized"
	Message    string        // the server's error message, or the start of its body
	Type, Code string        // OpenAI's error type and code, when given
	Param      string        // the request field the error is about, when given
	RequestID  string        // x-request-id, when given
	RetryAfter time.Duration // from retry-after-ms or Retry-After, when given
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %s", e.Status)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Type != "" || e.Code != "" {
		fmt.Fprintf(&b, " (type %q, code %q)", e.Type, e.Code)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		b.WriteString("; check OPENAI_API_KEY")
	case http.StatusNotFound:
		b.WriteString("; check --base-url and --model")
	}
	return b.String()
}

// newAPIError reads an error answer. The message is redacted: servers and
// proxies have been seen to echo the request's headers, key included.
func newAPIError(resp *http.Response, body []byte, key string) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, Status: resp.Status, RequestID: resp.Header.Get("x-request-id")}
	if e.Status == "" {
		e.Status = strconv.Itoa(resp.StatusCode)
	}
	var eb struct {
		Error json.RawMessage `json:"error"`
	}
	var obj struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Param   any    `json:"param"`
		Code    any    `json:"code"`
	}
	if json.Unmarshal(body, &eb) == nil && len(eb.Error) > 0 {
		var s string
		if json.Unmarshal(eb.Error, &obj) == nil {
			e.Message, e.Type = obj.Message, obj.Type
			if p, ok := obj.Param.(string); ok {
				e.Param = p
			}
			if obj.Code != nil {
				e.Code = fmt.Sprint(obj.Code)
			}
		} else if json.Unmarshal(eb.Error, &s) == nil { // TEI and others: {"error": "..."}
			e.Message = s
		}
	}
	if e.Message == "" {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		e.Message = msg
	}
	e.Message = httpapi.Redact(e.Message, key)
	e.Type, e.Code, e.Param = httpapi.Redact(e.Type, key), httpapi.Redact(e.Code, key), httpapi.Redact(e.Param, key)
	e.RetryAfter = httpapi.RetryAfter(resp.Header, time.Now(), MaxRetryAfter)
	return e
}

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
type TimeoutError struct{ Timeout time.Duration }

func (e *TimeoutError) Error() string { return fmt.Sprintf("no response within %v", e.Timeout) }

// TransportError is a failure to reach the server or read its answer. Its
// text is redacted (Go's url.Error quotes the request URL).
type TransportError struct {
	Err     error
	secrets []string
}

func (e *TransportError) Error() string { return httpapi.RedactError(e.Err, e.secrets...) }
func (e *TransportError) Unwrap() error { return e.Err }

// Timeout reports whether the transport error was a network timeout.
func (e *TransportError) Timeout() bool {
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// ResponseError is a 2xx answer that does not hold exactly one valid vector
// per input.
type ResponseError struct{ Msg string }

func (e *ResponseError) Error() string { return "invalid response: " + e.Msg }

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
