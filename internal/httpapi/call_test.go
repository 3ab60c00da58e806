package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reply is one scripted answer of the test server.
type reply struct {
	status int
	body   string
	header map[string]string
	hang   bool // answer only when the request is cancelled
}

type badAnswer struct{}

func (badAnswer) Error() string   { return "not the answer asked for" }
func (badAnswer) Malformed() bool { return true }

// TestCallerDo checks the one request-with-retries both API clients use:
// which answers are retried, how often, what is counted, what the error
// says (and never: the key), Retry-After, re-sending in another form,
// the size cap and the per-attempt timeout.
func TestCallerDo(t *testing.T) {
	const key = "sk-test-secret-key-0123456789"
	ok := reply{status: 200, body: `{"ok":true}`}
	tests := []struct {
		name    string
		replies []reply // the last one repeats
		retry   Retry
		limit   int64
		resend  bool
		wantErr string // "" for success
		notErr  string // must not appear in the error
		want    [4]int64
		errType any
	}{
		{name: "ok", replies: []reply{ok}, want: [4]int64{1, 0, 0, 0}},
		{name: "429 then ok, retry-after-ms honoured", replies: []reply{{status: 429, body: `{"error":{"message":"slow down"}}`, header: map[string]string{"retry-after-ms": "5"}}, ok},
			want: [4]int64{2, 1, 1, 0}},
		{name: "5xx twice then ok", replies: []reply{{status: 500}, {status: 503}, ok}, want: [4]int64{3, 2, 0, 2}},
		{name: "408 is retried", replies: []reply{{status: 408}, ok}, want: [4]int64{2, 1, 0, 1}},
		{name: "400 is final", replies: []reply{{status: 400, body: `{"error":{"message":"bad field","type":"invalid_request_error","param":"input"}}`}},
			wantErr: `HTTP 400 Bad Request: bad field (type "invalid_request_error", code "")`, want: [4]int64{1, 0, 0, 1}, errType: new(*APIError)},
		{name: "401 echoing the key is redacted, with the hint", replies: []reply{{status: 401, body: `{"error":{"message":"Incorrect API key provided: ` + key + `"}}`, header: map[string]string{"x-request-id": "req-1"}}},
			wantErr: "Incorrect API key provided: REDACTED [request req-1]; check the key", notErr: key, want: [4]int64{1, 0, 0, 1}},
		{name: "TEI-style error string", replies: []reply{{status: 413, body: `{"error":"input too long"}`}},
			wantErr: "HTTP 413 Request Entity Too Large: input too long", want: [4]int64{1, 0, 0, 1}},
		{name: "gives up after MaxRetries", replies: []reply{{status: 503, body: "down"}}, retry: Retry{MaxRetries: 2},
			wantErr: "giving up after 3 attempts: HTTP 503 Service Unavailable: down", want: [4]int64{3, 2, 0, 3}},
		{name: "no retries", replies: []reply{{status: 429}}, retry: Retry{MaxRetries: -1},
			wantErr: "giving up after 1 attempts: HTTP 429", want: [4]int64{1, 0, 1, 0}},
		{name: "unusable answers capped", replies: []reply{{status: 200, body: "bad"}}, retry: Retry{MaxMalformedRetries: 1},
			wantErr: "giving up after 2 unusable responses (each is billed): not the answer asked for", want: [4]int64{2, 1, 0, 2}},
		{name: "unusable then ok", replies: []reply{{status: 200, body: "bad"}, ok}, want: [4]int64{2, 1, 0, 1}},
		{name: "body over the cap is unusable", replies: []reply{{status: 200, body: strings.Repeat("x", 100)}}, limit: 50, retry: Retry{MaxMalformedRetries: -1},
			wantErr: "giving up after 1 unusable responses (each is billed): invalid response: response body larger than 50 bytes", want: [4]int64{1, 0, 0, 1}, errType: new(*MalformedError)},
		{name: "huge error body: the status says enough", replies: []reply{{status: 404, body: strings.Repeat("y", 2<<20)}},
			wantErr: "HTTP 404 Not Found; check the URL", want: [4]int64{1, 0, 0, 1}},
		{name: "resend in another form is not a retry", replies: []reply{{status: 400, body: `{"error":{"message":"encoding_format not supported"}}`}, ok}, resend: true,
			want: [4]int64{2, 0, 0, 1}},
		{name: "timeout per attempt", replies: []reply{{hang: true}}, retry: Retry{MaxRetries: 1, Timeout: 30 * time.Millisecond},
			wantErr: "giving up after 2 attempts: no response within 30ms", want: [4]int64{2, 1, 0, 2}, errType: new(*TimeoutError)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				if got := r.Header.Get("Authorization"); got != "Bearer "+key {
					t.Errorf("Authorization %q", got)
				}
				b, _ := io.ReadAll(r.Body) // read to the end: the server then notices a client that gives up
				bodies = append(bodies, string(b))
				rep := tc.replies[min(i, len(tc.replies)-1)]
				if rep.hang {
					select {
					case <-r.Context().Done():
					case <-time.After(10 * time.Second):
					}
					return
				}
				for k, v := range rep.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(rep.status)
				w.Write([]byte(rep.body))
			}))
			defer srv.Close()
			retry := tc.retry
			if retry.MinBackoff == 0 {
				retry.MinBackoff, retry.MaxBackoff = time.Millisecond, 2*time.Millisecond
			}
			retry, err := retry.Defaults(time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var counts, total Counts
			c := &Caller{URL: srv.URL + "/v1/x", Client: NewClient(2), Header: http.Header{"Authorization": {"Bearer " + key}},
				Secrets: []string{key}, Retry: retry, Sem: make(chan struct{}, 1), Counts: &total,
				Hints: map[int]string{401: "check the key", 404: "check the URL"}}
			call := Call{Body: []byte(`{"a":1}`), Limit: 1 << 20, Counts: &counts, Parse: func(b []byte) error {
				if string(b) != `{"ok":true}` {
					return badAnswer{}
				}
				return nil
			}}
			if tc.limit > 0 {
				call.Limit = tc.limit
			}
			if tc.resend {
				call.Resend = func(ae *APIError) ([]byte, bool) {
					return []byte(`{"a":2}`), strings.Contains(ae.Message, "encoding_format")
				}
			}
			err = c.Do(context.Background(), call)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			case tc.notErr != "" && err != nil && strings.Contains(err.Error(), tc.notErr):
				t.Fatalf("error %v contains %q", err, tc.notErr)
			}
			if tc.errType != nil {
				var ae *APIError
				var me *MalformedError
				var te *TimeoutError
				found := false
				switch tc.errType.(type) {
				case **APIError:
					found = errors.As(err, &ae)
				case **MalformedError:
					found = errors.As(err, &me)
				case **TimeoutError:
					found = errors.As(err, &te)
				}
				if !found {
					t.Errorf("error %T %v is not a %T", err, err, tc.errType)
				}
			}
			got := [4]int64{counts.Requests.Load(), counts.Retries.Load(), counts.RateLimited.Load(), counts.Errors.Load()}
			if got != tc.want {
				t.Errorf("requests, retries, rate limited, errors = %v, want %v", got, tc.want)
			}
			if tot := [4]int64{total.Requests.Load(), total.Retries.Load(), total.RateLimited.Load(), total.Errors.Load()}; tot != got {
				t.Errorf("the Caller counted %v, the call %v", tot, got)
			}
			if tc.resend && (len(bodies) != 2 || bodies[1] != `{"a":2}`) {
				t.Errorf("bodies sent %q, want the second in the other form", bodies)
			}
			if len(c.Sem) != 0 {
				t.Errorf("%d semaphore slots still held", len(c.Sem))
			}
		})
	}
}

// TestCallerDoTransient checks that calls whose Parse keeps nothing
// (Call.Transient), whose answer buffers are used again, each see exactly
// their own body: answers longer and shorter than the one before, with and
// without Content-Length, gzip-encoded, an unusable one retried, and
// several calls at once.
func TestCallerDoTransient(t *testing.T) {
	answer := func(i int) string { // answer i, of lengths from 1 byte to 200 kB
		return fmt.Sprintf("%d:%s.", i, strings.Repeat(string(rune('a'+i%26)), (i*7919)%200_000))
	}
	var spoilt sync.Map // answers sent unusable once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, _ := io.ReadAll(r.Body)
		i, _ := strconv.Atoi(string(q))
		body := answer(i)
		if _, done := spoilt.LoadOrStore(i, true); !done && i%5 == 0 {
			body = "unusable " + body // retried
		}
		switch i % 3 {
		case 0: // Content-Length
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			io.WriteString(w, body)
		case 1: // chunked
			w.(http.Flusher).Flush()
			io.WriteString(w, body)
		case 2:
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			io.WriteString(zw, body)
			zw.Close()
		}
	}))
	defer srv.Close()
	retry, err := Retry{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}.Defaults(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &Caller{URL: srv.URL, Client: NewClient(4), Retry: retry, Sem: make(chan struct{}, 4)}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 60; i += 4 {
				var got string
				err := c.Do(context.Background(), Call{Body: []byte(strconv.Itoa(i)), Limit: 1 << 20, Transient: true, Parse: func(b []byte) error {
					if bytes.HasPrefix(b, []byte("unusable ")) {
						return badAnswer{}
					}
					got = string(b)
					return nil
				}})
				if err != nil {
					t.Errorf("call %d: %v", i, err)
				} else if want := answer(i); got != want {
					t.Errorf("call %d parsed %d bytes starting %.20q, want %d starting %.20q", i, len(got), got, len(want), want)
				}
			}
		})
	}
	wg.Wait()
}

// TestCallerDoCancel: cancelling the context ends a call waiting for an
// answer, for a slot or in a backoff, with the context's cause as it is.
func TestCallerDoCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if r.URL.Path == "/hang" {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(429)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name, path string
		semFull    bool
	}{
		{"waiting for the answer", "/hang", false},
		{"waiting for a slot", "/hang", true},
		{"in a Retry-After wait", "/busy", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			retry, _ := Retry{}.Defaults(time.Minute)
			c := &Caller{URL: srv.URL + tc.path, Client: NewClient(2), Retry: retry, Sem: make(chan struct{}, 1)}
			if tc.semFull {
				c.Sem <- struct{}{}
			}
			cause := errors.New("stopped by the user")
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(50*time.Millisecond, func() { cancel(cause) })
			err := c.Do(ctx, Call{Body: []byte(`{}`), Limit: 1 << 10, Parse: func([]byte) error { return nil }})
			if err != cause {
				t.Fatalf("error %v, want the context's cause as it is", err)
			}
		})
	}
}

// TestCallerDoTransportRedacted: a connection failure to a URL with
// credentials in it is retried and its error names neither password nor key.
func TestCallerDoTransportRedacted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	retry, _ := Retry{MaxRetries: 1, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}.Defaults(time.Second)
	var counts Counts
	c := &Caller{URL: "http://user:hunter2@" + addr + "/v1/x?api-key=k3y-in-url", Client: NewClient(2), Retry: retry, Secrets: []string{"k3y-in-url"}}
	err = c.Do(context.Background(), Call{Body: []byte(`{}`), Limit: 1 << 10, Counts: &counts, Parse: func([]byte) error { return nil }})
	var tr *TransportError
	if !errors.As(err, &tr) || !strings.Contains(err.Error(), "giving up after 2 attempts") {
		t.Fatalf("error %v, want a TransportError after 2 attempts", err)
	}
	for _, secret := range []string{"hunter2", "k3y-in-url"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
	if counts.Requests.Load() != 2 || counts.Errors.Load() != 2 {
		t.Errorf("requests %d errors %d, want 2 and 2", counts.Requests.Load(), counts.Errors.Load())
	}
}

func TestEndpointURL(t *testing.T) {
	for _, tc := range []struct {
		base, want string
		azure      bool
		wantErr    string
	}{
		{"http://127.0.0.1:8089/v1", "http://127.0.0.1:8089/v1/embeddings", false, ""},
		{"http://127.0.0.1:8089/v1/", "http://127.0.0.1:8089/v1/embeddings", false, ""},
		{"http://h/v1/embeddings", "http://h/v1/embeddings", false, ""},
		{"https://r.openai.azure.com/openai/deployments/d?api-version=2024-02-01", "https://r.openai.azure.com/openai/deployments/d/embeddings?api-version=2024-02-01", true, ""},
		{"ftp://h/v1", "", false, `base URL "ftp://h/v1": want http(s)://host[:port]/path, e.g. http://example/v1`},
		{"http://u:pw@h:port/v1", "", false, "REDACTED"},
	} {
		got, azure, err := EndpointURL(tc.base, "/embeddings", "http://example/v1")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "pw") {
				t.Errorf("EndpointURL(%q) error %v, want one containing %q and no password", tc.base, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want || azure != tc.azure {
			t.Errorf("EndpointURL(%q) = %q, %v, %v; want %q, %v", tc.base, got, azure, err, tc.want, tc.azure)
		}
	}
}

func TestRetryDefaults(t *testing.T) {
	for _, tc := range []struct {
		in      Retry
		want    Retry
		wantErr bool
	}{
		{Retry{}, Retry{MaxRetries: 6, MaxMalformedRetries: 2, Timeout: time.Minute, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}, false},
		{Retry{MaxRetries: -1, MaxMalformedRetries: -1, Timeout: time.Second}, Retry{Timeout: time.Second, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}, false},
		{Retry{MinBackoff: time.Second, MaxBackoff: time.Millisecond}, Retry{}, true},
		{Retry{Timeout: -1}, Retry{}, true},
	} {
		got, err := tc.in.Defaults(time.Minute)
		if (err != nil) != tc.wantErr || !tc.wantErr && got != tc.want {
			t.Errorf("%+v.Defaults() = %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	r := Retry{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for attempt, max := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		max *= time.Millisecond
		for range 20 {
			if d := r.backoff(attempt); d < max/2 || d > max {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, max/2, max)
			}
		}
	}
}
