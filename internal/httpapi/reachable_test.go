package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCheckReachable(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("HTTPS_PROXY", "")
	t.Setenv("NO_PROXY", "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("CheckReachable sent a request: %s %s", r.Method, r.URL)
	}))
	defer srv.Close()
	// A port that was open and is closed now: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, tt := range []struct {
		url  string
		want []string // "" = reachable
	}{
		{srv.URL + "/v1", nil},
		{"http://" + closed + "/v1", []string{"http://" + closed + "/v1 is unreachable", "cannot connect to " + closed, "connection refused"}},
		{"http://user:secret@" + closed + "/v1", []string{"unreachable"}},
		{"localhost:1234", []string{"not an http(s) URL"}},
	} {
		err := CheckReachable(context.Background(), tt.url, 2*time.Second)
		if (err == nil) != (tt.want == nil) {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tt.url, err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the password is in the error: %v", tt.url, err)
		}
	}
}
