package loadtest

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestRelayStderrDrainsLongLines checks that lines far over the relay's
// limit neither stop the relay nor leave the worker's stderr undrained:
// every byte is read, later lines still arrive, long ones are truncated.
func TestRelayStderrDrainsLongLines(t *testing.T) {
	long := strings.Repeat("x", 3<<20)
	progress := progressPrefix + `{"scale":7,"stage":"embed","done":5,"total":9}`
	tests := []struct {
		name      string
		input     string
		wantLog   []string // prefixes of the relayed log lines, in order
		wantEvent int      // progress events expected
	}{
		{"plain", "a\nb\n", []string{"a", "b"}, 0},
		{"long line then progress and log", long + "\n" + progress + "\nafter\n", []string{"xxxx", "after"}, 1},
		{"long line at the end without newline", "first\n" + long, []string{"first", "xxxx"}, 0},
		{"crlf and no final newline", "one\r\ntwo", []string{"one", "two"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := &countingReader{r: strings.NewReader(tt.input)}
			var log bytes.Buffer
			events := 0
			r := &relayStderr{}
			r.run(cr, func(e Event) {
				if e.Scale == 7 && e.Done == 5 {
					events++
				}
			}, nil, &log)
			if cr.n != len(tt.input) {
				t.Errorf("read %d of %d bytes: stderr not drained", cr.n, len(tt.input))
			}
			lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
			if len(lines) != len(tt.wantLog) {
				t.Fatalf("log lines %d, want %d", len(lines), len(tt.wantLog))
			}
			for i, l := range lines {
				if !strings.HasPrefix(l, tt.wantLog[i]) || len(l) > maxLogLine+len(" [truncated]") {
					t.Errorf("line %d: %.40q (len %d)", i, l, len(l))
				}
			}
			if events != tt.wantEvent {
				t.Errorf("%d progress events, want %d", events, tt.wantEvent)
			}
		})
	}
}

// A worker's API response lines reach the parent's OnResponse, not its log.
func TestRelayStderrResponses(t *testing.T) {
	in := responsePrefix + `{"status":200,"s":0.25}` + "\n" + "log line\n" + responsePrefix + `{"status":429,"s":0.001}` + "\n" +
		responsePrefix + "not json\n"
	type obs struct {
		status int
		d      time.Duration
	}
	var got []obs
	var log bytes.Buffer
	(&relayStderr{}).run(strings.NewReader(in), nil, func(status int, d time.Duration) { got = append(got, obs{status, d}) }, &log)
	want := []obs{{200, 250 * time.Millisecond}, {429, time.Millisecond}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("responses %v, want %v", got, want)
	}
	if log.String() != "log line\n" {
		t.Errorf("log %q", log.String())
	}
}
