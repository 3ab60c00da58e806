// Package httpapi is the transport kura uses for third-party HTTP APIs
// (embeddings, chat completions): what every such client needs and gets
// wrong when written ad hoc.
//
//   - NewClient and Secure give an *http.Client that follows a redirect only
//     to the same scheme, host and port (CheckRedirect): a 307/308 to another
//     host or port would re-send the request body (users' texts) and the API
//     key there. Other redirects fail with a *RedirectError.
//   - NewRequest builds a JSON POST that asks for gzip and can be re-sent.
//   - ReadBody reads a response body with a cap on the bytes on the wire and,
//     for gzip, on the bytes after decompression, counted while streaming:
//     a 400 kB gzip bomb stops at the cap instead of expanding to 400 MB,
//     and a body is held once (no io.ReadAll growth garbage), so memory is
//     bounded by the cap times the requests in flight.
//   - Caller.Do is the one request-with-retries of the clients: backoff
//     with jitter, Retry-After, 429/408/5xx, timeouts and transport failures
//     retried, other 4xx final, unusable answers retried a capped number of
//     times, bodies capped, errors redacted, context cancellation honoured;
//     Retry holds its settings and their defaults, EndpointURL builds the
//     endpoint from a base URL.
//   - RedactURL and Redact remove secrets (URL user info, key-like query
//     parameters, bearer tokens, the caller's own keys) from anything that
//     is printed, logged or saved.
//
// Callers set their own timeouts through the request's context.
package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxRedirects bounds the same-origin redirects followed for one request.
const MaxRedirects = 5

// NewClient returns a client for one API host: its own transport (a clone of
// http.DefaultTransport keeping idlePerHost connections alive, with Go's
// transparent decompression off, since ReadBody decompresses under a cap)
// and the same-origin redirect policy.
func NewClient(idlePerHost int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(idlePerHost, 2)
	tr.MaxIdleConns = 0
	tr.DisableCompression = true
	return &http.Client{Transport: tr, CheckRedirect: CheckRedirect}
}

// Secure returns a copy of c (nil: http.DefaultClient) that applies
// CheckRedirect, for callers that bring their own client.
func Secure(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cp := *c
	cp.CheckRedirect = CheckRedirect
	return &cp
}

// RedirectError is a redirect that was not followed.
type RedirectError struct {
	Status   int    // the redirect's HTTP status
	From, To string // redacted URLs
	Reason   string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("HTTP %d redirect from %s to %s not followed: %s", e.Status, e.From, e.To, e.Reason)
}

// CheckRedirect is an http.Client.CheckRedirect that follows a redirect only
// to the same scheme, host and port as the original request, at most
// MaxRedirects times. Anywhere else the request (its body and credentials)
// is not re-sent; the error tells the user to point the client at the final
// URL if that is where the API lives.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	rerr := &RedirectError{Status: status, From: RedactURL(first.URL.String()), To: RedactURL(req.URL.String())}
	switch {
	case !sameOrigin(first, req):
		rerr.Reason = "it leads to another scheme, host or port, and the request carries the API key and the texts; if the API lives there, use that URL as the base URL"
		return rerr
	case len(via) > MaxRedirects:
		rerr.Reason = fmt.Sprintf("more than %d redirects", MaxRedirects)
		return rerr
	}
	return nil
}

func sameOrigin(a, b *http.Request) bool {
	return strings.EqualFold(a.URL.Scheme, b.URL.Scheme) && strings.EqualFold(a.URL.Hostname(), b.URL.Hostname()) &&
		port(a) == port(b)
}

func port(r *http.Request) string {
	if p := r.URL.Port(); p != "" {
		return p
	}
	if strings.EqualFold(r.URL.Scheme, "https") {
		return "443"
	}
	return "80"
}

// NewRequest returns a POST of the JSON body to url that asks for a gzip
// answer (ReadBody decompresses it) and can be re-sent on a same-origin
// 307/308 redirect. The caller adds its credentials.
func NewRequest(ctx context.Context, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building request to %s: %s", RedactURL(url), redactURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	return req, nil
}

// TooLargeError is a body over the cap given to ReadBody.
type TooLargeError struct {
	Limit      int64
	Compressed bool // the cap was hit by the compressed bytes on the wire
}

func (e *TooLargeError) Error() string {
	if e.Compressed {
		return fmt.Sprintf("response body larger than %d bytes on the wire; not read further", e.Limit)
	}
	return fmt.Sprintf("response body larger than %d bytes (after decompression); not read further", e.Limit)
}

// ReadBody reads resp.Body, at most limit bytes on the wire and, when the
// body is gzip-encoded, at most limit bytes after decompression; past either
// it stops reading and returns a *TooLargeError. Other content encodings are
// refused. The body is read into one buffer, sized from Content-Length when
// that is known and under the cap, else grown by doubling. The caller closes
// resp.Body.
func ReadBody(resp *http.Response, limit int64) ([]byte, error) {
	return readBody(resp, limit, nil)
}

// readBody is ReadBody into buf when it is large enough (its contents are
// overwritten), else into a new buffer.
func readBody(resp *http.Response, limit int64, buf []byte) ([]byte, error) {
	wire := &capReader{r: resp.Body, left: limit}
	var r io.Reader = wire
	gz := false
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(wire)
		if err != nil {
			if wire.over {
				return nil, &TooLargeError{Limit: limit, Compressed: true}
			}
			return nil, fmt.Errorf("gzip response: %w", err)
		}
		defer zr.Close()
		r, gz = zr, true
	default:
		return nil, fmt.Errorf("response in Content-Encoding %q, which was not asked for (only gzip is accepted)", enc)
	}
	size := int64(64 << 10)
	if n := resp.ContentLength; n > 0 && !gz {
		size = min(n, limit) + 1 // +1: reading EOF needs no second buffer
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if wire.over {
			return nil, &TooLargeError{Limit: limit, Compressed: gz}
		}
		if int64(len(buf)) > limit {
			return nil, &TooLargeError{Limit: limit}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// capReader reads at most left bytes from r, then reports over.
type capReader struct {
	r    io.Reader
	left int64
	over bool
}

var errOverCap = errors.New("over the size cap")

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 || c.over {
		c.over = true
		return 0, errOverCap
	}
	// Read one byte past the cap to tell "exactly the cap" from "more".
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		c.over = true
		return n, errOverCap
	}
	return n, err
}
