package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads how long a server asks the client to wait before
// retrying: OpenAI's retry-after-ms (milliseconds), else the standard
// Retry-After (seconds, or an HTTP date, relative to now). The wait is capped
// at limit; it is 0 when neither header gives a positive wait.
func RetryAfter(h http.Header, now time.Time, limit time.Duration) time.Duration {
	capped := func(secs float64) time.Duration {
		if secs >= limit.Seconds() {
			return limit
		}
		return time.Duration(secs * float64(time.Second))
	}
	if v := strings.TrimSpace(h.Get("retry-after-ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return capped(ms / 1000)
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 {
			return capped(s)
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return capped(t.Sub(now).Seconds())
	}
	return 0
}
