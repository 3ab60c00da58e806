package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.openai.com/v1", "https://api.openai.com/v1"},
		{"https://user:pw@host:8443/v1", "https://REDACTED@host:8443/v1"},
		{"https://user@host/v1", "https://REDACTED@host/v1"},
		{"https://r.openai.azure.com/openai/deployments/d?api-version=2024-02-01&api-key=s3cret",
			"https://r.openai.azure.com/openai/deployments/d?api-version=2024-02-01&api-key=REDACTED"},
		{"http://h/v1?key=abc&x=1", "http://h/v1?key=REDACTED&x=1"},
		{"http://h/v1?access_token=abc&Sig=zz&X-Amz-Signature=q", "http://h/v1?access_token=REDACTED&Sig=REDACTED&X-Amz-Signature=REDACTED"},
		{"http://h/v1?api%2Dkey=abc", "http://h/v1?api%2Dkey=REDACTED"},
		{"http://h/v1#token=abc", "http://h/v1#token=REDACTED"},
		// Does not parse (bad escape, bad port): cleaned by pattern.
		{"http://u:p@h:99999/v1?key=abc%zz", "http://REDACTED@h:99999/v1?key=REDACTED"},
		{"ht!tp://u:p@h/?api_key=1234", "ht!tp://REDACTED@h/?api_key=REDACTED"},
	}
	for _, tc := range tests {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	key := "my-very-secret-key-1234"
	tests := []struct{ in, want string }{
		{`{"error":{"message":"Incorrect API key provided: ` + key + `"}}`, `{"error":{"message":"Incorrect API key provided: REDACTED"}}`},
		{`got headers: Authorization: Bearer abcdefgh12345`, `got headers: Authorization: Bearer REDACTED`},
		{`{"headers":{"api-key":"zzzzzzzz"}}`, `{"headers":{"api-key":"REDACTED"}}`},
		{`bad key sk-proj-ABCDEFGHIJKLMNOP and hf_abcdefghijkl`, `bad key REDACTED and REDACTED`},
		{`upstream http://u:pw@10.0.0.1/x?token=t0k3n failed`, `upstream http://REDACTED@10.0.0.1/x?token=REDACTED failed`},
		{`plain message, nothing secret`, `plain message, nothing secret`},
	}
	for _, tc := range tests {
		if got := Redact(tc.in, key, "", "ab"); got != tc.want {
			t.Errorf("Redact(%q) =\n%q, want\n%q", tc.in, got, tc.want)
		}
	}
}

// TestRedirects checks that a redirect is followed (body and key re-sent)
// only to the same scheme, host and port, and that a redirect elsewhere,
// including to another port of the same host, sends nothing there.
func TestRedirects(t *testing.T) {
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		elsewhere = append(elsewhere, r.Header.Get("Authorization")+"|"+r.Header.Get("api-key")+"|"+string(b))
		w.Write([]byte(`{"ok":true}`))
	}))
	defer other.Close()
	var final string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusPermanentRedirect)
		case "/other-port":
			http.Redirect(w, r, other.URL+"/x", http.StatusTemporaryRedirect)
		case "/other-host":
			// localhost and 127.0.0.1 are different hosts to the policy.
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/x", http.StatusPermanentRedirect)
		case "/final":
			b, _ := io.ReadAll(r.Body)
			final = r.Header.Get("Authorization") + "|" + string(b)
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	c := NewClient(2)
	do := func(path string) (*http.Response, error) {
		req, err := NewRequest(context.Background(), srv.URL+path, []byte(`{"input":["secret text"]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer k3y-k3y-k3y")
		req.Header.Set("api-key", "k3y-k3y-k3y")
		return c.Do(req)
	}
	resp, err := do("/same")
	if err != nil {
		t.Fatalf("same-origin redirect: %v", err)
	}
	resp.Body.Close()
	if final != `Bearer k3y-k3y-k3y|{"input":["secret text"]}` {
		t.Errorf("after a same-origin 307 the final handler got %q, want the key and the body", final)
	}
	for _, path := range []string{"/other-port", "/other-host", "/loop"} {
		resp, err := do(path)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: redirect followed", path)
		}
		var re *RedirectError
		if !errors.As(err, &re) {
			t.Fatalf("%s: error %v is not a *RedirectError", path, err)
		}
		if strings.Contains(err.Error(), "k3y") {
			t.Errorf("%s: error %q shows the key", path, err)
		}
	}
	if len(elsewhere) > 0 {
		t.Errorf("the other server received %q", elsewhere)
	}
	// A caller's own client gets the same policy through Secure.
	sc := Secure(&http.Client{})
	req, _ := NewRequest(context.Background(), srv.URL+"/other-port", []byte(`{}`))
	if resp, err := sc.Do(req); err == nil {
		resp.Body.Close()
		t.Error("Secure client followed a redirect to another port")
	}
}

func gzipped(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// TestReadBody checks the caps on wire and decompressed bytes, and that a
// gzip bomb costs memory of the order of the cap, not of what it expands to.
func TestReadBody(t *testing.T) {
	// 400 MB of zeros in about 400 kB: 400 gzip members of 1 MB each
	// (a gzip reader reads concatenated members as one stream).
	bomb := bytes.Repeat(gzipped(t, make([]byte, 1<<20)), 400)
	plain := bytes.Repeat([]byte("0.123456,"), 1000)
	noise := make([]byte, 9000)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	tests := []struct {
		name      string
		body      []byte
		encoding  string
		limit     int64
		want      []byte
		tooLarge  bool
		compr     bool
		maxAlloc  uint64
		badFormat bool
	}{
		{name: "plain under the cap", body: plain, limit: 9000, want: plain},
		{name: "plain at the cap", body: plain, limit: int64(len(plain)), want: plain},
		{name: "plain over the cap", body: plain, limit: int64(len(plain)) - 1, tooLarge: true},
		{name: "gzip", body: gzipped(t, plain), encoding: "gzip", limit: 9000, want: plain},
		{name: "gzip bomb", body: bomb, encoding: "gzip", limit: 8 << 20, tooLarge: true, maxAlloc: 24 << 20},
		{name: "gzip over the wire cap", body: gzipped(t, noise), encoding: "gzip", limit: 1000, tooLarge: true, compr: true},
		{name: "gzip, broken", body: []byte("not gzip at all"), encoding: "gzip", limit: 100, badFormat: true},
		{name: "unasked encoding", body: plain, encoding: "br", limit: 1 << 20, badFormat: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.encoding != "" {
					w.Header().Set("Content-Encoding", tc.encoding)
				}
				w.Write(tc.body)
			}))
			defer srv.Close()
			req, _ := NewRequest(context.Background(), srv.URL, []byte(`{}`))
			resp, err := NewClient(1).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got []byte
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			got, err = ReadBody(resp, tc.limit)
			runtime.ReadMemStats(&after)
			if tc.maxAlloc > 0 {
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > tc.maxAlloc {
					t.Errorf("allocated %d bytes, want <= %d", alloc, tc.maxAlloc)
				}
			}
			var tl *TooLargeError
			switch {
			case tc.tooLarge:
				if !errors.As(err, &tl) || tl.Compressed != tc.compr || tl.Limit != tc.limit {
					t.Fatalf("err = %v, want a TooLargeError (compressed %v)", err, tc.compr)
				}
			case tc.badFormat:
				if err == nil || errors.As(err, &tl) {
					t.Fatalf("err = %v, want a format error", err)
				}
			case err != nil:
				t.Fatal(err)
			case !bytes.Equal(got, tc.want):
				t.Fatalf("got %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
}
