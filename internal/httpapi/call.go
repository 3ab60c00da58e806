package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Retry defaults shared by the API clients.
const (
	DefaultMaxRetries = 6
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	// MaxRetryAfter caps the wait a server may ask for with Retry-After or
	// retry-after-ms; a proxy asking for an hour would stall every request.
	MaxRetryAfter = 60 * time.Second
	// DefaultMaxMalformedRetries caps, within MaxRetries, the retries after
	// unusable answers: each is billed again, and a server that answers
	// badly tends to again.
	DefaultMaxMalformedRetries = 2
	// maxErrorBody bounds the body of an error answer, read only for its
	// message.
	maxErrorBody = 1 << 20
)

// Retry is how a Caller retries. Zero fields take the defaults above (see
// Defaults).
type Retry struct {
	// MaxRetries caps the retries of one call; 0 means DefaultMaxRetries,
	// negative none.
	MaxRetries int
	// MaxMalformedRetries caps, within MaxRetries, the retries after
	// unusable answers; 0 means DefaultMaxMalformedRetries, negative none.
	MaxMalformedRetries int
	// Timeout bounds each attempt (connect, send, wait, read); it has no
	// default here: each client has its own.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the backoff between retries when the
	// server gives no Retry-After.
	MinBackoff, MaxBackoff time.Duration
}

// Defaults returns r with its zero fields set (timeout to the one given)
// and negative retry counts made 0, or an error for values that make no sense.
func (r Retry) Defaults(timeout time.Duration) (Retry, error) {
	switch {
	case r.MaxRetries == 0:
		r.MaxRetries = DefaultMaxRetries
	case r.MaxRetries < 0:
		r.MaxRetries = 0
	}
	switch {
	case r.MaxMalformedRetries == 0:
		r.MaxMalformedRetries = DefaultMaxMalformedRetries
	case r.MaxMalformedRetries < 0:
		r.MaxMalformedRetries = 0
	}
	if r.Timeout == 0 {
		r.Timeout = timeout
	}
	if r.MinBackoff == 0 {
		r.MinBackoff = DefaultMinBackoff
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = DefaultMaxBackoff
	}
	if r.Timeout < 0 || r.MinBackoff < 0 || r.MaxBackoff < r.MinBackoff {
		return r, errors.New("timeout and backoff must be positive, with max backoff >= min backoff")
	}
	return r, nil
}

// backoff is the wait before retry attempt+1 when the server said nothing:
// MinBackoff doubled per attempt, capped at MaxBackoff, with "equal jitter"
// (uniformly random between half and all of it).
func (r Retry) backoff(attempt int) time.Duration {
	d := r.MinBackoff
	for i := 0; i < attempt && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// EndpointURL appends path (e.g. "/embeddings") to the base URL's path,
// unless it already ends so, keeping its query (Azure's api-version), and
// reports whether the host is Azure OpenAI's. Errors quote base redacted;
// example is a base URL to suggest.
func EndpointURL(base, path, example string) (string, bool, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		// url.Error quotes the URL: redact it, secrets and all.
		return "", false, fmt.Errorf("base URL %q: %s", RedactURL(base), RedactError(errors.Unwrap(err)))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", false, fmt.Errorf("base URL %q: want http(s)://host[:port]/path, e.g. %s", RedactURL(base), example)
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, path) {
		p += path
	}
	u.Path, u.RawPath = p, ""
	h := u.Hostname()
	azure := strings.HasSuffix(h, ".openai.azure.com") || strings.HasSuffix(h, ".cognitiveservices.azure.com")
	return u.String(), azure, nil
}

// Counts are a Caller's attempts, updated as they happen.
type Counts struct {
	Requests    atomic.Int64 // HTTP requests, retries included
	Retries     atomic.Int64 // requests that repeated a failed one
	RateLimited atomic.Int64 // 429 answers
	Errors      atomic.Int64 // other failed attempts
}

// Caller posts JSON requests to one endpoint with retries. It is safe for
// concurrent use; set its fields before the first Call.
type Caller struct {
	URL    string
	Client *http.Client
	// Header is sent with every request; it holds the credentials.
	Header http.Header
	// Secrets are redacted from every error (the API key).
	Secrets []string
	Retry   Retry
	// Sem, when not nil, bounds the requests in flight: a slot is held from
	// sending a request to the end of reading its answer.
	Sem chan struct{}
	// Hints add advice to an APIError's text by status (e.g. 401: "check
	// OPENAI_API_KEY").
	Hints map[int]string
	// Counts, when not nil, counts every attempt of every call.
	Counts *Counts
	Logger *slog.Logger
	// OnResponse, when set, is called after each attempt with the HTTP status
	// (200 for an answer that could not be used, 0 when none came) and the
	// time from sending to a parsed answer.
	OnResponse func(status int, elapsed time.Duration)
}

// Call is one request.
type Call struct {
	Body []byte
	// Limit caps a 2xx answer's body, on the wire and after gzip.
	Limit int64
	// Malformed, when set, makes the client's own error for an answer that
	// could not be used (a body over Limit); default *MalformedError.
	Malformed func(msg string) error
	// Parse reads a 2xx body. An error that has a Malformed() bool method
	// returning true (an answer that could not be used) is retried, at most
	// Retry.MaxMalformedRetries times; any other error ends the call.
	Parse func(body []byte) error
	// Resend, when set, is asked about each APIError: given a new body it
	// is sent at once, not counted as a retry (e.g. a server that refuses
	// an optional field).
	Resend func(*APIError) ([]byte, bool)
	// Counts, when not nil, counts this call's attempts (beside the
	// Caller's).
	Counts *Counts
	// Transient says that Parse keeps no part of the body once it has
	// returned (it copies what it keeps): the body's buffer is then used
	// again for later answers, which saves allocating and clearing a
	// buffer of the answer's size while the request's slot is held.
	Transient bool
	// Where names the request in log lines ("inputs 1-50").
	Where string
}

// Do sends call, retrying rate limits (429), 408, server errors (5xx),
// timeouts, transport failures and unusable answers with exponential backoff
// and jitter, honouring Retry-After (plus up to a tenth, so that requests
// throttled together do not return together). Other 4xx end the call at
// once with an *APIError. Errors carry no secrets. When ctx ends, Do returns
// context.Cause(ctx) as it is.
func (c *Caller) Do(ctx context.Context, call Call) error {
	body := call.Body
	malformed := 0
	count := func(f func(*Counts) *atomic.Int64) {
		for _, cs := range []*Counts{c.Counts, call.Counts} {
			if cs != nil {
				f(cs).Add(1)
			}
		}
	}
	for attempt := 0; ; attempt++ {
		if c.Sem != nil {
			select {
			case c.Sem <- struct{}{}:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		count(func(c *Counts) *atomic.Int64 { return &c.Requests })
		if attempt > 0 {
			count(func(c *Counts) *atomic.Int64 { return &c.Retries })
		}
		sent := time.Now()
		err := c.attempt(ctx, body, call)
		if c.OnResponse != nil {
			c.OnResponse(statusOf(err), time.Since(sent))
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		var ae *APIError
		isAPI := errors.As(err, &ae)
		if isAPI && ae.StatusCode == http.StatusTooManyRequests {
			count(func(c *Counts) *atomic.Int64 { return &c.RateLimited })
		} else {
			count(func(c *Counts) *atomic.Int64 { return &c.Errors })
		}
		if isAPI && call.Resend != nil {
			if b, ok := call.Resend(ae); ok {
				body = b
				attempt-- // the same request in another form: not a retry of a failure
				continue
			}
		}
		if !Retryable(err) {
			return err
		}
		if isMalformed(err) {
			if malformed++; malformed > c.Retry.MaxMalformedRetries {
				return fmt.Errorf("giving up after %d unusable responses (each is billed): %w", malformed, err)
			}
		}
		if attempt >= c.Retry.MaxRetries {
			return fmt.Errorf("giving up after %d attempts: %w", attempt+1, err)
		}
		wait := c.Retry.backoff(attempt)
		if isAPI && ae.RetryAfter > 0 {
			wait = ae.RetryAfter + time.Duration(rand.Int64N(int64(ae.RetryAfter)/10+1))
		}
		if c.Logger != nil {
			c.Logger.Debug("API request failed; retrying", "url", RedactURL(c.URL), "request", call.Where, "attempt", attempt+1, "wait", wait, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		}
	}
}

// attempt sends body once and parses the answer. It releases the Caller's
// semaphore slot as soon as the exchange with the server is over.
func (c *Caller) attempt(ctx context.Context, body []byte, call Call) error {
	released := c.Sem == nil
	release := func() {
		if !released {
			released = true
			<-c.Sem
		}
	}
	defer release()
	actx, cancel := context.WithTimeout(ctx, c.Retry.Timeout)
	defer cancel()
	req, err := NewRequest(actx, c.URL, body)
	if err != nil {
		return err
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return &TimeoutError{Timeout: c.Retry.Timeout}
		}
		return &TransportError{Err: err, secrets: c.Secrets}
	}
	defer resp.Body.Close()
	ok := resp.StatusCode/100 == 2
	limit := call.Limit
	if !ok {
		limit = maxErrorBody
	}
	var data []byte
	if ok && call.Transient {
		bp := getBody()
		defer func() { putBody(bp, data) }() // after Parse
		data, err = readBody(resp, limit, *bp)
	} else {
		data, err = ReadBody(resp, limit)
	}
	if err != nil {
		var tl *TooLargeError
		switch {
		case errors.As(err, &tl) && ok:
			if call.Malformed != nil {
				return call.Malformed(err.Error())
			}
			return &MalformedError{Msg: err.Error()}
		case errors.As(err, &tl):
			data = nil // an error status with a huge body: the status says enough
		case actx.Err() != nil && ctx.Err() == nil:
			return &TimeoutError{Timeout: c.Retry.Timeout}
		default:
			return &TransportError{Err: fmt.Errorf("reading response: %w", err), secrets: c.Secrets}
		}
	}
	release()
	if c.Sem != nil {
		// A request waiting for the slot just freed was made ready to run
		// on this thread: let it go out now rather than after this answer
		// is parsed (about a millisecond), which would add to every
		// request's round trip when all of them are busy.
		runtime.Gosched()
	}
	if !ok {
		return newAPIError(resp, data, c.Hints, c.Secrets)
	}
	return call.Parse(data)
}

// bodies holds answer buffers for calls whose Parse keeps nothing of the
// body (Call.Transient), for the next answer to be read into.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody is the largest buffer kept for reuse.
const maxPooledBody = 16 << 20

func getBody() *[]byte { return bodies.Get().(*[]byte) }

// putBody returns the buffer to the pool, keeping the larger of the one it
// held and the one the answer was read into.
func putBody(bp *[]byte, data []byte) {
	if cap(data) > cap(*bp) {
		*bp = data
	}
	if cap(*bp) <= maxPooledBody {
		*bp = (*bp)[:0]
		bodies.Put(bp)
	}
}

// statusOf is the HTTP status of an attempt's outcome: 200 for a success
// or an answer that could not be used, the API's status for an APIError,
// 0 when no answer came.
func statusOf(err error) int {
	var ae *APIError
	switch {
	case err == nil || isMalformed(err):
		return http.StatusOK
	case errors.As(err, &ae):
		return ae.StatusCode
	}
	return 0
}

// isMalformed reports whether err is an answer that could not be used.
func isMalformed(err error) bool {
	var m interface{ Malformed() bool }
	return errors.As(err, &m) && m.Malformed()
}

// Retryable reports whether a failed attempt may succeed if repeated: 429,
// 408 and 5xx answers, timeouts, transport failures (but not an unknown
// host or a refused redirect) and unusable answers.
func Retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode == http.StatusRequestTimeout || ae.StatusCode >= 500
	}
	var rd *RedirectError
	if errors.As(err, &rd) {
		return false // the policy will refuse it again
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false // a misspelt host does not come into existence by waiting
	}
	var te *TimeoutError
	var tr *TransportError
	return isMalformed(err) || errors.As(err, &te) || errors.As(err, &tr)
}

// APIError is a non-2xx answer.
type APIError struct {
	StatusCode int
	Status     string        // e.g. "401 Unauthorized"
	Message    string        // the server's error message, or the start of its body
	Type, Code string        // OpenAI's error type and code, when given
	Param      string        // the request field the error is about, when given
	RequestID  string        // x-request-id, when given
	RetryAfter time.Duration // from retry-after-ms or Retry-After, when given
	Hint       string        // advice for the user, from Caller.Hints
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
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

// newAPIError reads an error answer: OpenAI's {"error": {...}}, TEI's
// {"error": "..."}, else the start of the body. Everything is redacted:
// servers and proxies have been seen to echo the request's headers, key
// included.
func newAPIError(resp *http.Response, body []byte, hints map[int]string, secrets []string) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, Status: resp.Status, RequestID: resp.Header.Get("x-request-id"), Hint: hints[resp.StatusCode]}
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
		} else if json.Unmarshal(eb.Error, &s) == nil {
			e.Message = s
		}
	}
	if e.Message == "" {
		// Redacted before it is cut: a key cut in two would not be found.
		msg := strings.TrimSpace(Redact(string(body), secrets...))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		e.Message = msg
	}
	e.Message = Redact(e.Message, secrets...)
	e.Type, e.Code, e.Param = Redact(e.Type, secrets...), Redact(e.Code, secrets...), Redact(e.Param, secrets...)
	e.RequestID = Redact(e.RequestID, secrets...)
	e.RetryAfter = RetryAfter(resp.Header, time.Now(), MaxRetryAfter)
	return e
}

// TimeoutError is an attempt that took longer than Retry.Timeout.
type TimeoutError struct{ Timeout time.Duration }

func (e *TimeoutError) Error() string { return fmt.Sprintf("no response within %v", e.Timeout) }

// TransportError is a failure to reach the server or read its answer. Its
// text is redacted (Go's url.Error quotes the request URL).
type TransportError struct {
	Err     error
	secrets []string
}

func (e *TransportError) Error() string { return RedactError(e.Err, e.secrets...) }
func (e *TransportError) Unwrap() error { return e.Err }

// Timeout reports whether the transport error was a network timeout.
func (e *TransportError) Timeout() bool {
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// MalformedError is a 2xx answer that could not be read (over its size
// cap); clients return their own malformed-answer errors from Parse.
type MalformedError struct{ Msg string }

func (e *MalformedError) Error() string { return "invalid response: " + e.Msg }

// Malformed marks the error as an unusable answer (retried).
func (e *MalformedError) Malformed() bool { return true }
