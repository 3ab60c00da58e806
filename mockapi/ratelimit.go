package mockapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// bucket is a token bucket holding up to capacity units, refilled
// continuously at capacity per minute.
type bucket struct {
	capacity float64
	level    float64
}

func (b *bucket) perSecond() float64 { return b.capacity / 60 }

// waitFor is how long until the bucket holds n units.
func (b *bucket) waitFor(n float64) time.Duration {
	if b.level >= n {
		return 0
	}
	return time.Duration((n - b.level) / b.perSecond() * float64(time.Second))
}

// limiter applies per-minute request and token limits.
type limiter struct {
	mu       sync.Mutex
	last     time.Time
	requests *bucket // nil = unlimited
	tokens   *bucket // nil = unlimited
}

func newLimiter(rpm, tpm int, now time.Time) *limiter {
	if rpm <= 0 && tpm <= 0 {
		return nil
	}
	l := &limiter{last: now}
	if rpm > 0 {
		l.requests = &bucket{capacity: float64(rpm), level: float64(rpm)}
	}
	if tpm > 0 {
		l.tokens = &bucket{capacity: float64(tpm), level: float64(tpm)}
	}
	return l
}

// decision is the limiter's verdict on one request, with what the
// x-ratelimit-* headers report.
type decision struct {
	ok       bool
	tokens   bool          // refused for tokens (else for requests)
	tooLarge bool          // the request alone exceeds the token limit
	wait     time.Duration // until the request would be admitted; 0 if never
	cost     int

	req, tok *bucket // snapshots after the decision
}

func (l *limiter) admit(now time.Time, cost int) decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el := now.Sub(l.last); el > 0 {
		for _, b := range []*bucket{l.requests, l.tokens} {
			if b != nil {
				b.level = math.Min(b.capacity, b.level+el.Seconds()*b.perSecond())
			}
		}
		l.last = now
	}
	d := decision{ok: true, cost: cost}
	if b := l.requests; b != nil && b.level < 1 {
		d.ok, d.wait = false, b.waitFor(1)
	}
	if b := l.tokens; b != nil {
		switch {
		case float64(cost) > b.capacity:
			d.ok, d.tokens, d.tooLarge, d.wait = false, true, true, 0
		case b.level < float64(cost):
			if w := b.waitFor(float64(cost)); d.ok || w > d.wait {
				d.tokens, d.wait = true, w
			}
			d.ok = false
		}
	}
	if d.ok {
		if l.requests != nil {
			l.requests.level--
		}
		if l.tokens != nil {
			l.tokens.level -= float64(cost)
		}
	}
	if l.requests != nil {
		c := *l.requests
		d.req = &c
	}
	if l.tokens != nil {
		c := *l.tokens
		d.tok = &c
	}
	return d
}

func (d decision) errType() string {
	if d.tokens {
		return "tokens"
	}
	return "requests"
}

func (d decision) message() string {
	switch {
	case d.tooLarge:
		return fmt.Sprintf("Request too large: Limit %d tokens per minute, Requested %d. The input or output tokens must be reduced in order to run successfully.",
			int(d.tok.capacity), d.cost)
	case d.tokens:
		return fmt.Sprintf("Rate limit reached on tokens per min (TPM): Limit %d, Used %d, Requested %d. Please try again in %s.",
			int(d.tok.capacity), int(math.Ceil(d.tok.capacity-d.tok.level)), d.cost, formatReset(d.wait))
	default:
		return fmt.Sprintf("Rate limit reached on requests per min (RPM): Limit %d, Used %d, Requested 1. Please try again in %s.",
			int(d.req.capacity), int(math.Ceil(d.req.capacity-d.req.level)), formatReset(d.wait))
	}
}

// setHeaders sets OpenAI's x-ratelimit-* headers.
func (d decision) setHeaders(h http.Header) {
	if b := d.req; b != nil {
		h.Set("x-ratelimit-limit-requests", strconv.Itoa(int(b.capacity)))
		h.Set("x-ratelimit-remaining-requests", strconv.Itoa(int(math.Floor(math.Max(b.level, 0)))))
		h.Set("x-ratelimit-reset-requests", formatReset(b.waitFor(b.capacity)))
	}
	if b := d.tok; b != nil {
		h.Set("x-ratelimit-limit-tokens", strconv.Itoa(int(b.capacity)))
		h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(int(math.Floor(math.Max(b.level, 0)))))
		h.Set("x-ratelimit-reset-tokens", formatReset(b.waitFor(b.capacity)))
	}
}

// formatReset writes a duration as OpenAI's reset headers do ("1s", "6m0s",
// "120ms"), rounded up to the millisecond.
func formatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	d = (d + time.Millisecond - 1).Truncate(time.Millisecond)
	return d.String()
}
