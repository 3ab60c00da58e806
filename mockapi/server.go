// Package mockapi is a fake OpenAI-compatible HTTP server for rehearsing load
// tests at zero cost. It answers POST /v1/embeddings, POST
// /v1/chat/completions (plain text, JSON mode, JSON-schema structured outputs
// and tool calls), GET /v1/models, GET /stats and POST /stats/reset, with
// configurable latency, per-minute request and token limits, and injected
// faults: 429s, 500s, requests that are never answered, and malformed
// responses.
//
// Everything is deterministic for a given Config.Seed: each API request draws
// its fault and jitter from one seeded stream in arrival order, so the number
// of injected faults among the first N requests depends only on the seed, not
// on timing or concurrency. Embedding vectors depend only on the input text
// (or come from Config.Embedder), and chat answers only on the request.
// Without an Embedder the vectors are those of the mock embedder
// (embed/mock.Vector with seed 0), so a rehearsal through this server yields
// exactly the vectors of kura's --embedder mock.
//
// # Order of processing
//
// For POST /v1/embeddings and POST /v1/chat/completions the server:
//
//  0. starts the request's latency clock as the request arrives (its
//     headers read, before its body is), as an API's latency is counted;
//  1. draws the request's fault, jitter and malformation kind from the seeded stream;
//  2. checks the API key when Config.APIKey is set (401);
//  3. parses and validates the request as OpenAI does (400, 413);
//  4. applies the RPM and TPM limits (429, answered at once, with Retry-After);
//     admitted requests consume their budget even when a fault follows;
//  5. applies the drawn fault: an injected 429 is answered at once; a timeout
//     is held unanswered until the client gives up or the server shuts down;
//  6. computes the answer (mangled when the request drew a malformed
//     answer; skipped for an injected error), then waits what is left of
//     Latency ± Jitter since the request arrived, so the time to answer is
//     the latency however long reading, checking and computing took (or
//     that time, if longer);
//  7. answers 500 for an injected error, else sends the answer.
//
// The fault rates are disjoint fractions of all API requests: with
// RateLimitRate 0.3 and ErrorRate 0.05, 30% are answered 429 and another 5%
// are answered 500. Their sum must not exceed 1.
//
// # Malformed answers
//
// A malformed embeddings answer (status 200) is, by the drawn kind, one of:
// the JSON body cut in half (invalid JSON); a valid body with the last vector
// missing (fewer vectors than inputs); or a valid body in which one vector has
// one element too many (mixed dimensions). A malformed chat answer is the body
// cut in half, a body with an empty "choices" array, or a message whose
// content (or tool-call arguments) is cut in half, which breaks structured
// output parsing.
//
// # Tokens
//
// # Chat answers
//
// Chat answers are deterministic functions of the request, made of words of
// the user's messages (so mock summaries of similar conversations stay
// similar). With response_format json_schema, or tools and a tool_choice
// that is forced, "required" or "auto" (the first tool is called), the answer
// (or the call's arguments) is a JSON value that validates against the given
// schema; see the generator's supported keywords below. With json_object, the
// first JSON Schema written in the prompt (as instructor's JSON mode sends it)
// is honoured, else the answer is {"response": "..."}. Otherwise the answer
// is a sentence, cut to max_tokens (finish_reason "length").
//
// Supported schema keywords: type (a name or a list), properties, required,
// items, prefixItems, minItems, maxItems, uniqueItems, enum, const, minimum,
// maximum, exclusiveMinimum, exclusiveMaximum (numbers, or draft 4
// booleans), multipleOf, minLength, maxLength, format (date-time, date, time,
// email, uri, uuid, ipv4, hostname), local $ref ($defs, definitions), anyOf
// and oneOf (the first non-null branch is taken), allOf (merged). Every
// listed property is written, in schema order. Not supported: pattern,
// patternProperties, not, if/then/else, dependentRequired.
//
// # Tokens
//
// Tokens are counted with OpenAI's cl100k_base encoding (package embed/tokens)
// unless Config.CountTokens says otherwise. Chat prompts count as OpenAI
// documents for its chat models: 3 tokens per message plus its content (and 1
// for a name), plus 3 that prime the reply.
package mockapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/tokens"
)

// DefaultDims is the vector length when neither the request nor Config sets one:
// that of text-embedding-3-small.
const DefaultDims = 1536

// MaxBodyBytes bounds a request body; larger requests are answered 413.
const MaxBodyBytes = 64 << 20

// Config sets the server's behaviour. The zero value is a fast, fault-free
// server of 1536-dimensional hash vectors.
type Config struct {
	// Latency is the time to answer every request except 429s and other
	// errors found in the request, which are sent at once. It is counted
	// from the request's arrival (its headers read), so it includes reading
	// and checking the request and computing the answer.
	Latency time.Duration
	// Jitter spreads the latency uniformly over [Latency-Jitter, Latency+Jitter]
	// (clamped at zero), so the mean stays Latency.
	Jitter time.Duration
	// RPM and TPM limit requests and tokens per minute with token buckets that
	// refill continuously (RPM/60 requests per second) and start full, as
	// OpenAI's limits do. Zero means unlimited. An embeddings request costs
	// its input tokens; a chat request its prompt tokens plus max_tokens.
	RPM, TPM int
	// RateLimitRate, ErrorRate, TimeoutRate and MalformedRate are the
	// fractions of API requests answered 429, answered 500, never answered,
	// and answered with a malformed body. Each in [0,1]; the sum at most 1.
	RateLimitRate, ErrorRate, TimeoutRate, MalformedRate float64
	// RetryAfter is sent in Retry-After (whole seconds, rounded up) and
	// retry-after-ms with injected 429s. Zero means one second; a negative
	// value sends no retry headers. 429s from RPM/TPM carry the real wait.
	RetryAfter time.Duration
	// Dims is the vector length when a request has no "dimensions" field;
	// zero means the model's: 3072 for text-embedding-3-large, else
	// DefaultDims. Ignored when Embedder is set.
	Dims int
	// Seed seeds the fault and jitter stream.
	Seed int64
	// Embedder, when set, computes the vectors; nil gives the mock
	// embedder's deterministic unit vectors from a hash of each input
	// (embed/mock.Vector(text, dims, 0)). A request's "dimensions" smaller
	// than Embedder.Dims() folds the vectors (component i is added into
	// i mod dimensions) and renormalises them, which keeps the similarities
	// of hashed and local-model vectors, where truncation would not.
	Embedder embed.Embedder

	// APIKey, when set, must be sent as "Authorization: Bearer APIKey";
	// other requests are answered 401.
	APIKey string
	// Model is reported by GET /v1/models in addition to OpenAI's usual
	// models, and used when Embedder is set and a request names no model.
	Model string
	// CountTokens counts the tokens of a text; nil means cl100k_base.
	CountTokens func(string) int
	// Now is the server's clock: the rate limiter's, and the one each
	// answer's latency is counted on; nil means time.Now. Tests inject one.
	Now func() time.Time
}

// Validate reports a configuration that cannot be served.
func (c Config) Validate() error {
	rates := []struct {
		name string
		v    float64
	}{
		{"rate-limit rate", c.RateLimitRate},
		{"error rate", c.ErrorRate},
		{"timeout rate", c.TimeoutRate},
		{"malformed rate", c.MalformedRate},
	}
	sum := 0.0
	for _, r := range rates {
		if math.IsNaN(r.v) || r.v < 0 || r.v > 1 {
			return fmt.Errorf("mockapi: %s must be in [0,1], not %v", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("mockapi: rate-limit, error, timeout and malformed rates add up to %.4g, more than 1", sum)
	}
	switch {
	case c.Latency < 0:
		return fmt.Errorf("mockapi: latency must not be negative, not %v", c.Latency)
	case c.Jitter < 0:
		return fmt.Errorf("mockapi: jitter must not be negative, not %v", c.Jitter)
	case c.RPM < 0:
		return fmt.Errorf("mockapi: rpm must not be negative, not %d", c.RPM)
	case c.TPM < 0:
		return fmt.Errorf("mockapi: tpm must not be negative, not %d", c.TPM)
	case c.Dims < 0 || c.Dims > maxDims:
		return fmt.Errorf("mockapi: dims must be in [1,%d] (0 for the default %d), not %d", maxDims, DefaultDims, c.Dims)
	}
	return nil
}

// Stats counts what the server did. Every API request (embeddings, chat,
// models and unknown paths; not /stats or /healthz) ends in exactly one of
// OK, Malformed, RateLimited, ServerErrors, Timeouts, BadRequests or
// Canceled, so once no request is in flight they add up to Requests.
type Stats struct {
	Requests   int64         `json:"requests"`    // API requests received
	ByEndpoint EndpointStats `json:"by_endpoint"` // the same, by endpoint
	InFlight   int64         `json:"in_flight"`   // requests not yet answered (held timeouts included)

	OK                  int64 `json:"ok"`                    // well-formed 200 answers
	Malformed           int64 `json:"malformed"`             // 200 answers deliberately malformed
	RateLimited         int64 `json:"rate_limited"`          // 429 answers, all causes
	RateLimitedInjected int64 `json:"rate_limited_injected"` // 429s drawn by RateLimitRate
	RateLimitedRPM      int64 `json:"rate_limited_rpm"`      // 429s from the request limit
	RateLimitedTPM      int64 `json:"rate_limited_tpm"`      // 429s from the token limit
	ServerErrors        int64 `json:"server_errors"`         // 500 answers
	Timeouts            int64 `json:"timeouts"`              // requests held unanswered on purpose
	BadRequests         int64 `json:"bad_requests"`          // other 4xx: invalid request, bad key, unknown path
	Canceled            int64 `json:"canceled"`              // clients that gave up during the latency wait

	// Inputs, tokens and vectors count only well-formed 200 answers: what a
	// client could use, and what OpenAI would bill.
	Inputs           int64 `json:"inputs"`            // embedding inputs answered
	PromptTokens     int64 `json:"prompt_tokens"`     // prompt tokens answered (embeddings and chat)
	CompletionTokens int64 `json:"completion_tokens"` // chat completion tokens generated
	Tokens           int64 `json:"tokens"`            // prompt + completion tokens
}

// EndpointStats counts API requests by endpoint.
type EndpointStats struct {
	Embeddings      int64 `json:"embeddings"`
	ChatCompletions int64 `json:"chat_completions"`
	Models          int64 `json:"models"`
	Other           int64 `json:"other"` // unknown paths and wrong methods
}

type counters struct {
	requests, embeddings, chat, models, other, inFlight                            atomic.Int64
	ok, malformed, rlInjected, rlRPM, rlTPM, serverErrors, timeouts, bad, canceled atomic.Int64
	inputs, promptTokens, completionTokens                                         atomic.Int64
}

// Server is the fake API. It implements http.Handler; use Start to serve it
// on a listener, or mount it anywhere (httptest, a mux).
type Server struct {
	cfg    Config
	count  func(string) int
	now    func() time.Time
	dims   int
	models []string

	mu  sync.Mutex // guards rng
	rng *rand.Rand

	limiter *limiter
	c       counters

	closeOnce sync.Once
	closing   chan struct{} // closed by Close: held requests are aborted

	done     chan struct{} // closed when a server started by Start has stopped
	serveErr error
}

// New returns a server for c. It does not validate c (call c.Validate):
// out-of-range rates are clamped to [0,1] and applied in the order rate
// limit, error, timeout, malformed.
func New(c Config) *Server {
	s := &Server{
		cfg:     c,
		count:   c.CountTokens,
		now:     c.Now,
		dims:    c.Dims,
		rng:     rand.New(rand.NewPCG(uint64(c.Seed), 0x6b757261)),
		closing: make(chan struct{}),
	}
	if s.count == nil {
		s.count = tokens.Count
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.dims <= 0 || s.dims > maxDims {
		s.dims = DefaultDims
	}
	if c.Embedder != nil {
		s.dims = c.Embedder.Dims()
	}
	s.limiter = newLimiter(c.RPM, c.TPM, s.now())
	s.models = []string{"text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
		"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano"}
	if c.Model != "" && !contains(s.models, c.Model) {
		s.models = append(s.models, c.Model)
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.c
	st := Stats{
		Requests: c.requests.Load(),
		ByEndpoint: EndpointStats{
			Embeddings:      c.embeddings.Load(),
			ChatCompletions: c.chat.Load(),
			Models:          c.models.Load(),
			Other:           c.other.Load(),
		},
		InFlight:            c.inFlight.Load(),
		OK:                  c.ok.Load(),
		Malformed:           c.malformed.Load(),
		RateLimitedInjected: c.rlInjected.Load(),
		RateLimitedRPM:      c.rlRPM.Load(),
		RateLimitedTPM:      c.rlTPM.Load(),
		ServerErrors:        c.serverErrors.Load(),
		Timeouts:            c.timeouts.Load(),
		BadRequests:         c.bad.Load(),
		Canceled:            c.canceled.Load(),
		Inputs:              c.inputs.Load(),
		PromptTokens:        c.promptTokens.Load(),
		CompletionTokens:    c.completionTokens.Load(),
	}
	st.RateLimited = st.RateLimitedInjected + st.RateLimitedRPM + st.RateLimitedTPM
	st.Tokens = st.PromptTokens + st.CompletionTokens
	return st
}

// ResetStats sets the counters to zero (InFlight excepted), as POST
// /stats/reset does, so that one server can serve several rehearsals. The
// fault stream and rate limits carry on. Requests in flight at the reset are
// counted in the new totals when they end, so reset when idle.
func (s *Server) ResetStats() {
	c := &s.c
	for _, a := range []*atomic.Int64{&c.requests, &c.embeddings, &c.chat, &c.models, &c.other,
		&c.ok, &c.malformed, &c.rlInjected, &c.rlRPM, &c.rlTPM, &c.serverErrors, &c.timeouts, &c.bad, &c.canceled,
		&c.inputs, &c.promptTokens, &c.completionTokens} {
		a.Store(0)
	}
}

// Close aborts the requests held by the timeout fault (their connections are
// closed without an answer) and makes later ones fail at once. Start calls it
// on shutdown; call it yourself before closing an httptest.Server. A held
// request aborts by panicking with http.ErrAbortHandler, which net/http
// handles; a caller of ServeHTTP outside net/http must recover it.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// Wait blocks until a server started by Start has shut down, and returns the
// error that stopped it, if it was not the context. For a server made by New
// it returns nil at once.
func (s *Server) Wait() error {
	if s.done == nil {
		return nil
	}
	<-s.done
	return s.serveErr
}

// Start serves a new server for c on addr (host:port; port 0 picks a free
// one) until ctx is done, then shuts down gracefully: held requests are
// aborted, requests in their latency wait are answered. It returns the base
// URL of the API, e.g. "http://127.0.0.1:43123/v1". Start does not restrict
// the address; see CheckLoopback.
func Start(ctx context.Context, addr string, c Config) (*Server, string, error) {
	if err := c.Validate(); err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("mockapi: %w", err)
	}
	s := New(c)
	s.done = make(chan struct{})
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	go func() {
		defer close(s.done)
		select {
		case err := <-served:
			s.Close()
			s.serveErr = fmt.Errorf("mockapi: serving %s: %w", ln.Addr(), err)
			return
		case <-ctx.Done():
		}
		s.Close()
		grace := c.Latency + c.Jitter + 5*time.Second
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			hs.Close()
		}
		<-served
	}()
	return s, "http://" + ln.Addr().String() + "/v1", nil
}

// CheckLoopback returns an error unless addr's host is a loopback address or
// "localhost". An empty host (":8089") listens on every interface and is
// refused.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if host == "" {
		host = "every interface"
	}
	return fmt.Errorf("address %q listens on %s, not loopback", addr, host)
}

// fault is what a request drew from the seeded stream.
type fault int

const (
	faultNone fault = iota
	faultRateLimit
	faultError
	faultTimeout
	faultMalformed
)

// draw is one request's share of the seeded stream.
type draw struct {
	fault  fault
	jitter time.Duration // signed offset added to Latency
	kind   int           // malformation kind, 0..2
}

func (s *Server) draw() draw {
	s.mu.Lock()
	u, j, k := s.rng.Float64(), s.rng.Float64(), s.rng.IntN(3)
	s.mu.Unlock()
	d := draw{kind: k}
	if s.cfg.Jitter > 0 {
		d.jitter = time.Duration((2*j - 1) * float64(s.cfg.Jitter))
	}
	c := &s.cfg
	edge := 0.0
	for _, f := range []struct {
		rate float64
		f    fault
	}{{c.RateLimitRate, faultRateLimit}, {c.ErrorRate, faultError}, {c.TimeoutRate, faultTimeout}, {c.MalformedRate, faultMalformed}} {
		edge += min(max(f.rate, 0), 1)
		if u < edge {
			d.fault = f.f
			break
		}
	}
	return d
}

// ServeHTTP answers one request. Paths work with or without the /v1 prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	p = strings.TrimPrefix(p, "/v1")
	switch p {
	case "/stats":
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "", "Use GET "+r.URL.Path)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		b, _ := json.MarshalIndent(s.Stats(), "", "  ")
		w.Write(append(b, '\n'))
		return
	case "/stats/reset":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "", "Use POST "+r.URL.Path)
			return
		}
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
		return
	case "/healthz", "/health":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
		return
	}
	s.c.requests.Add(1)
	s.c.inFlight.Add(1)
	defer s.c.inFlight.Add(-1)
	switch {
	case p == "/embeddings" && r.Method == http.MethodPost:
		s.c.embeddings.Add(1)
		s.serveAPI(w, r, s.embeddings)
	case p == "/chat/completions" && r.Method == http.MethodPost:
		s.c.chat.Add(1)
		s.serveAPI(w, r, s.chatCompletions)
	case (p == "/models" || strings.HasPrefix(p, "/models/")) && r.Method == http.MethodGet:
		s.c.models.Add(1)
		if !s.authorized(w, r) {
			return
		}
		s.serveModels(w, strings.TrimPrefix(strings.TrimPrefix(p, "/models"), "/"))
	default:
		s.c.other.Add(1)
		s.c.bad.Add(1)
		writeError(w, http.StatusNotFound, "invalid_request_error", "", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
	}
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.APIKey == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(h, "Bearer ")
	switch {
	case h == "":
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "", "You didn't provide an API key. Send it in the Authorization header as \"Bearer YOUR_KEY\".")
	case !ok || key != s.cfg.APIKey:
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: "+redact(key)+".")
	default:
		return true
	}
	s.c.bad.Add(1)
	return false
}

func redact(k string) string {
	if len(k) <= 8 {
		return strings.Repeat("*", len(k))
	}
	return k[:3] + strings.Repeat("*", len(k)-7) + k[len(k)-4:]
}

// apiRequest is a parsed, validated request ready to be answered.
type apiRequest interface {
	// cost is what the request takes from the token budget.
	cost() int
	// answer computes the response body (malformed per kind when bad is set)
	// and the usage to account when the answer is well formed.
	answer(ctx context.Context, bad bool, kind int) (body []byte, u usage, err error)
}

type usage struct{ inputs, prompt, completion int }

// requestError is a client error with OpenAI's fields.
type requestError struct {
	status      int
	param, code string
	msg         string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(param, format string, a ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, param: param, msg: fmt.Sprintf(format, a...)}
}

// serveAPI runs the processing order documented in the package comment.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, parse func(body []byte) (apiRequest, *requestError)) {
	// The latency is the time to answer, from the request's arrival: reading
	// the body, checking it and computing the answer happen within it, as
	// they do at a real API, so none of them adds to the configured latency.
	start := s.now()
	d := s.draw()
	if !s.authorized(w, r) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.c.bad.Add(1)
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", fmt.Sprintf("Request body larger than %d bytes.", MaxBodyBytes))
			return
		}
		s.c.canceled.Add(1)
		return
	}
	req, rerr := parse(body)
	if rerr != nil {
		s.c.bad.Add(1)
		writeErrorParam(w, rerr.status, "invalid_request_error", rerr.param, rerr.code, rerr.msg)
		return
	}
	if s.limiter != nil {
		dec := s.limiter.admit(s.now(), req.cost())
		dec.setHeaders(w.Header())
		if !dec.ok {
			if dec.tokens {
				s.c.rlTPM.Add(1)
			} else {
				s.c.rlRPM.Add(1)
			}
			if dec.wait > 0 {
				setRetryHeaders(w.Header(), dec.wait)
			}
			writeError(w, http.StatusTooManyRequests, dec.errType(), "rate_limit_exceeded", dec.message())
			return
		}
	}
	switch d.fault {
	case faultRateLimit:
		s.c.rlInjected.Add(1)
		ra := s.cfg.RetryAfter
		if ra == 0 {
			ra = time.Second
		}
		if ra > 0 {
			setRetryHeaders(w.Header(), ra)
		}
		writeError(w, http.StatusTooManyRequests, "requests", "rate_limit_exceeded",
			"Rate limit reached (injected by kura mock-api --rate-limit-rate). Please try again later.")
		return
	case faultTimeout:
		s.c.timeouts.Add(1)
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			// Close the connection without an answer, as a dead upstream would.
			panic(http.ErrAbortHandler)
		}
	}
	var (
		out  []byte
		u    usage
		aerr error
	)
	bad := d.fault == faultMalformed
	if d.fault != faultError {
		out, u, aerr = req.answer(r.Context(), bad, d.kind)
	}
	if wait := s.cfg.Latency + d.jitter - s.now().Sub(start); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.c.canceled.Add(1)
			return
		}
	}
	if d.fault == faultError {
		s.c.serverErrors.Add(1)
		writeError(w, http.StatusInternalServerError, "server_error", "",
			"The server had an error while processing your request (injected by kura mock-api --error-rate).")
		return
	}
	if aerr != nil {
		if r.Context().Err() != nil {
			s.c.canceled.Add(1)
			return
		}
		var rerr *requestError
		if errors.As(aerr, &rerr) { // found while answering: an output cap
			s.c.bad.Add(1)
			writeErrorParam(w, rerr.status, "invalid_request_error", rerr.param, rerr.code, rerr.msg)
			return
		}
		s.c.serverErrors.Add(1)
		writeError(w, http.StatusInternalServerError, "server_error", "", "kura mock-api: "+aerr.Error())
		return
	}
	if bad {
		s.c.malformed.Add(1)
	} else {
		s.c.ok.Add(1)
		s.c.inputs.Add(int64(u.inputs))
		s.c.promptTokens.Add(int64(u.prompt))
		s.c.completionTokens.Add(int64(u.completion))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
}

func (s *Server) serveModels(w http.ResponseWriter, id string) {
	created := int64(1_700_000_000)
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	w.Header().Set("Content-Type", "application/json")
	if id != "" {
		// Any model is served, so any id exists.
		s.c.ok.Add(1)
		json.NewEncoder(w).Encode(model{id, "model", created, "kura-mock"})
		return
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list"}
	for _, m := range s.models {
		list.Data = append(list.Data, model{m, "model", created, "kura-mock"})
	}
	s.c.ok.Add(1)
	json.NewEncoder(w).Encode(list)
}

// setRetryHeaders sets Retry-After (whole seconds, rounded up, at least 1)
// and retry-after-ms, as OpenAI does.
func setRetryHeaders(h http.Header, d time.Duration) {
	secs := int64(math.Ceil(d.Seconds()))
	h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	h.Set("retry-after-ms", strconv.FormatInt(max(int64(math.Ceil(float64(d)/float64(time.Millisecond))), 1), 10))
}

// writeError writes OpenAI's error object.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	writeErrorParam(w, status, typ, "", code, msg)
}

func writeErrorParam(w http.ResponseWriter, status int, typ, param, code, msg string) {
	type body struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	b := body{Message: msg, Type: typ}
	if param != "" {
		b.Param = &param
	}
	if code != "" {
		b.Code = &code
	}
	out, _ := json.Marshal(struct {
		Error body `json:"error"`
	}{b})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(out, '\n'))
}
