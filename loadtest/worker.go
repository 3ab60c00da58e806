package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kura-go/kura/loadtest/measure"
)

// The worker protocol: the parent starts `kura loadtest-worker`, writes one
// ScaleJob as JSON on its stdin, reads progress lines (progressPrefix + an
// Event as JSON), API responses (responsePrefix + an apiResponse as JSON)
// and logs from its stderr, and one workerReply as JSON from its stdout.

// progressPrefix starts a progress line on a worker's stderr.
const progressPrefix = "\x1ekura-progress "

// responsePrefix starts the line of one embedding API request attempt on a
// worker's stderr, so that the parent's metrics see the worker's requests
// as they happen (Runner.OnResponse).
const responsePrefix = "\x1ekura-api "

// apiResponse is one API request attempt: its HTTP status (0 when no
// answer came) and its time from sending to a parsed answer.
type apiResponse struct {
	Status  int     `json:"status"`
	Seconds float64 `json:"s"`
}

// workerReply is what a worker writes on stdout.
type workerReply struct {
	Result *measure.Scale `json:"result,omitempty"`
	Error  string         `json:"error,omitempty"`
}

// RunWorker is the body of the hidden worker command: it reads a ScaleJob
// from stdin, runs it, reports progress on stderr and writes a workerReply
// to stdout. It returns the scale's error, if any, after writing the reply.
func RunWorker(ctx context.Context, tk *Toolkit, stdin io.Reader, stdout, stderr io.Writer) error {
	var job ScaleJob
	dec := json.NewDecoder(stdin)
	if err := dec.Decode(&job); err != nil {
		err = fmt.Errorf("loadtest worker: reading the job from stdin: %w", err)
		json.NewEncoder(stdout).Encode(workerReply{Error: err.Error()})
		return err
	}
	var mu sync.Mutex
	progress := func(e Event) {
		b, _ := json.Marshal(e)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "%s%s\n", progressPrefix, b)
	}
	// Every API request attempt goes to the parent (a line each, read only
	// when the parent's metrics want it).
	job.Config.Embedder.OnResponse = func(status int, elapsed time.Duration) {
		b, _ := json.Marshal(apiResponse{Status: status, Seconds: elapsed.Seconds()})
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "%s%s\n", responsePrefix, b)
	}
	res, err := runScaleJob(ctx, tk, &job, progress)
	reply := workerReply{Result: res}
	if err != nil {
		reply = workerReply{Error: err.Error()}
	}
	if werr := json.NewEncoder(stdout).Encode(reply); werr != nil && err == nil {
		err = werr
	}
	return err
}

// relayStderr reads a worker's stderr: progress lines go to progress, other
// lines to log (and the last few are kept for error messages).
type relayStderr struct {
	mu   sync.Mutex
	tail []string
}

// maxLogLine is the longest worker stderr line relayed; longer lines are
// truncated (the rest of the line is read and dropped).
const maxLogLine = 64 << 10

func (r *relayStderr) run(rd io.Reader, progress func(Event), onResponse func(int, time.Duration), log io.Writer) {
	br := bufio.NewReaderSize(rd, maxLogLine)
	for {
		line, err := readLine(br)
		if line != "" || err == nil {
			r.handle(line, progress, onResponse, log)
		}
		if err != nil {
			break
		}
	}
	// Whatever happened, keep draining: a worker blocked on a full stderr
	// pipe would never finish.
	io.Copy(io.Discard, rd)
}

// readLine returns the next line without its newline, truncated to the
// reader's buffer size (the rest of a longer line is discarded, and
// " [truncated]" appended). At the end of the input it returns the last
// partial line, if any, with io.EOF.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	line := string(bytes.TrimRight(b, "\r\n"))
	if err == bufio.ErrBufferFull {
		line += " [truncated]"
		for err == bufio.ErrBufferFull {
			_, err = br.ReadSlice('\n')
		}
	}
	return line, err
}

func (r *relayStderr) handle(line string, progress func(Event), onResponse func(int, time.Duration), log io.Writer) {
	if rest, ok := strings.CutPrefix(line, progressPrefix); ok {
		var e Event
		if json.Unmarshal([]byte(rest), &e) == nil && progress != nil {
			progress(e)
		}
		return
	}
	if rest, ok := strings.CutPrefix(line, responsePrefix); ok {
		var a apiResponse
		if json.Unmarshal([]byte(rest), &a) == nil && onResponse != nil {
			onResponse(a.Status, time.Duration(a.Seconds*float64(time.Second)))
		}
		return
	}
	r.mu.Lock()
	r.tail = append(r.tail, line)
	if len(r.tail) > 20 {
		r.tail = r.tail[len(r.tail)-20:]
	}
	r.mu.Unlock()
	if log != nil {
		fmt.Fprintln(log, line)
	}
}

func (r *relayStderr) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.tail, "\n")
}
