package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
)

// fuzzKey is the caller's key in FuzzAPIError; no error may show it.
const fuzzKey = "Zq7fuzz-secret-Key-0042"

// FuzzAPIError feeds arbitrary error bodies (with a status and a
// Retry-After header) to the reader of non-2xx answers used by the chat and
// embeddings clients: an error naming the status, never a panic, never the
// caller's key, a Retry-After within its cap, memory bounded by the body.
func FuzzAPIError(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}`), uint16(429), "2")
	f.Add([]byte(`{"error":{"message":"Incorrect API key provided: `+fuzzKey+`","type":"invalid_request_error","code":"invalid_api_key"}}`), uint16(401), "")
	f.Add([]byte(`{"error":"Input validation error: inputs cannot be empty"}`), uint16(422), "")
	f.Add([]byte(`{"error":{"message":"echo: Authorization: Bearer `+fuzzKey+`","param":"Bearer `+fuzzKey+`","code":{"k":"`+fuzzKey+`"}}}`), uint16(400), "")
	f.Add([]byte(`{"error":{"message":"\u0042earer `+fuzzKey+`"}}`), uint16(500), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add([]byte("<html><head><title>502 Bad Gateway</title></head><body>"+strings.Repeat("nginx ", 20000)+"</body></html>"), uint16(502), "99999999999999999999")
	f.Add([]byte(`{"error":`+strings.Repeat(`{"error":`, 20000)+`1`+strings.Repeat("}", 20001)), uint16(503), "-5")
	f.Add([]byte(`{"error":{"message":"`+strings.Repeat("é", 100000)+`"}}`), uint16(400), "1e308")
	f.Add([]byte{}, uint16(0), "")
	f.Add([]byte(strings.Repeat("x", 285)+" "+fuzzKey), uint16(500), "") // the key across the 300-byte cut
	f.Fuzz(func(t *testing.T, body []byte, status uint16, retryAfter string) {
		code := 400 + int(status)%200 // 4xx and 5xx
		resp := &http.Response{StatusCode: code, Status: http.StatusText(code), Header: http.Header{}}
		resp.Header.Set("Retry-After", retryAfter)
		resp.Header.Set("x-request-id", "req_"+fuzzKey)
		var e *APIError
		allocbound.Check(t, allocbound.PerByte(len(body), 24, 1<<20), "error body", func() {
			e = newAPIError(resp, body, map[int]string{401: "check the key"}, []string{fuzzKey})
		})
		msg := e.Error()
		if strings.Contains(msg, fuzzKey) {
			t.Fatalf("the error shows the key: %q", msg)
		}
		// Nor its start, when every start of it in the body belongs to the
		// whole key (a body cut after the key's first bytes).
		start, b := fuzzKey[:10], string(body)
		if strings.Count(b, start) == strings.Count(b, fuzzKey) && !strings.Contains(b, `\`) && strings.Contains(msg, start) {
			t.Fatalf("the error shows the start of the key: %q", msg)
		}
		if e.StatusCode != code || !strings.HasPrefix(msg, "HTTP ") {
			t.Fatalf("status %d, message %q for a %d", e.StatusCode, msg, code)
		}
		if e.RetryAfter < 0 || e.RetryAfter > MaxRetryAfter {
			t.Fatalf("Retry-After %q read as %v (cap %v)", retryAfter, e.RetryAfter, MaxRetryAfter)
		}
	})
}
