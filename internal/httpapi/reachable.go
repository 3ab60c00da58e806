package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// ReachTimeout is how long CheckReachable waits for a connection.
const ReachTimeout = 5 * time.Second

// CheckReachable opens, and closes, one TCP connection to the host of
// baseURL (or to the proxy the environment names for it), so that a long
// run finds out at once, not after retries at its first request, that the
// server is down (connection refused), the name does not resolve, or
// nothing answers within timeout. It sends nothing. The error names the
// redacted URL and what failed.
func CheckReachable(ctx context.Context, baseURL string, timeout time.Duration) error {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%s: not an http(s) URL", RedactURL(baseURL))
	}
	target := u
	if p, err := http.ProxyFromEnvironment(&http.Request{URL: u}); err == nil && p != nil {
		target = p // through a proxy: the proxy is what must answer
	}
	addr := target.Host
	if target.Port() == "" {
		port := "80"
		if target.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(target.Hostname(), port)
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		var why string
		var dns *net.DNSError
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &dns):
			why = fmt.Sprintf("the name %s does not resolve", dns.Name)
		case isTimeout(err):
			why = fmt.Sprintf("no answer from %s within %v", addr, timeout)
		default:
			why = fmt.Sprintf("cannot connect to %s: %v", addr, unwrapOp(err))
		}
		if target != u {
			why += " (the proxy " + RedactURL(target.String()) + ")"
		}
		return fmt.Errorf("%s is unreachable: %s", RedactURL(baseURL), why)
	}
	return conn.Close()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// unwrapOp drops net.OpError's "dial tcp ADDR:" prefix, which the message
// already gives.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
