package conversation

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	sumLine1 = `{"summary":"First.","request":null,"topic":"maths","languages":null,"task":null,"concerning_score":null,"user_frustration":null,"assistant_errors":null,"chat_id":"a","metadata":{}}`
	sumLine2 = `{"summary":"Second.","request":null,"topic":null,"languages":null,"task":null,"concerning_score":null,"user_frustration":null,"assistant_errors":null,"chat_id":"b","metadata":{}}`
	sumEmpty = `{"summary":"","request":null,"topic":null,"languages":null,"task":null,"concerning_score":null,"user_frustration":null,"assistant_errors":null,"chat_id":"e","metadata":{}}`
	convLine = `{"chat_id":"c1","created_at":"2025-01-01T00:00:00","messages":[{"created_at":"2025-01-01T00:00:00","role":"user","content":"Hi   there"}],"metadata":{}}`
	convNone = `{"chat_id":"c2","created_at":"2025-01-01T00:00:00","messages":[],"metadata":{}}`
)

func TestTextReader(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sums, err := ReadFile[ConversationSummary](write("s.jsonl", sumLine1+"\n"+sumLine2+"\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(dir, "s.parquet")
	if err := WriteFile(pq, sums); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		kind TextKind
		opts ReadOptions
		want []Text
		err  string // the error after the texts in want; "" for none
	}{
		{"summaries jsonl, blank line skipped", write("a.jsonl", sumLine1+"\n\n"+sumLine2), SummaryTexts, ReadOptions{},
			[]Text{{"First.\nTopic: maths", "a", 1}, {"Second.", "b", 3}}, ""},
		{"summaries parquet", pq, SummaryTexts, ReadOptions{},
			[]Text{{"First.\nTopic: maths", "a", 1}, {"Second.", "b", 2}}, ""},
		{"conversations", write("c.jsonl", convLine+"\n"), ConversationTexts, ReadOptions{},
			[]Text{{"user: Hi there", "c1", 1}}, ""},
		{"plain text, CRLF and no final newline", write("t.txt", "one\r\ntwo  \nthree"), PlainTexts, ReadOptions{},
			[]Text{{"one", "", 1}, {"two  ", "", 2}, {"three", "", 3}}, ""},
		{"empty text file", write("empty.txt", ""), PlainTexts, ReadOptions{}, nil, ""},
		{"blank line", write("b.txt", "one\n \nthree\n"), PlainTexts, ReadOptions{},
			[]Text{{"one", "", 1}}, ":2: blank line"},
		{"invalid UTF-8", write("l.txt", "caf\xc3\xa9\ncaf\xe9\n"), PlainTexts, ReadOptions{},
			[]Text{{"café", "", 1}}, ":2: invalid UTF-8 at byte 4"},
		{"text line too long", write("long.txt", "ok\n"+strings.Repeat("x", 3<<20)+"\n"), PlainTexts, ReadOptions{MaxLineBytes: 1 << 20},
			[]Text{{"ok", "", 1}}, ":2: line longer than 1 MiB"},
		{"summary without text", write("e.jsonl", sumLine1+"\n"+sumEmpty+"\n"), SummaryTexts, ReadOptions{},
			[]Text{{"First.\nTopic: maths", "a", 1}}, `:2: field summary: no text to embed (chat_id "e")`},
		{"conversation without messages", write("n.jsonl", convNone+"\n"), ConversationTexts, ReadOptions{},
			nil, `:1: field messages: no message text to embed (chat_id "c2")`},
		{"invalid record", write("bad.jsonl", sumLine1+"\n{\"summary\": 3}\n"), SummaryTexts, ReadOptions{},
			[]Text{{"First.\nTopic: maths", "a", 1}}, ":2: field summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OpenTexts(context.Background(), tt.path, tt.kind, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []Text
			for {
				txt, err := r.Next()
				if err == io.EOF {
					if tt.err != "" {
						t.Errorf("no error, want %q", tt.err)
					}
					break
				}
				if err != nil {
					if tt.err == "" || !strings.Contains(err.Error(), tt.path+tt.err) {
						t.Errorf("error %v, want %q", err, tt.path+tt.err)
					}
					break
				}
				got = append(got, txt)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d texts %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("text %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestNewTextReader(t *testing.T) {
	convs := []Conversation{
		{ChatID: "x", Messages: []Message{{Role: "user", Content: "hello"}}},
		{ChatID: "y"},
	}
	i := 0
	r := NewTextReader(context.Background(), "export.json", func() (Conversation, error) {
		if i == len(convs) {
			return Conversation{}, io.EOF
		}
		i++
		return convs[i-1], nil
	}, nil)
	got, err := r.All()
	if len(got) != 1 || got[0] != "user: hello" {
		t.Errorf("texts %q, want the first conversation's", got)
	}
	if err == nil || err.Error() != `export.json: conversation 2 (chat_id "y"): conversation has no message text to embed` {
		t.Errorf("error %v", err)
	}
}

func TestDetectTextKind(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		content string
		want    TextKind
		err     string
	}{
		{"\n" + sumLine1 + "\n", SummaryTexts, ""},
		{"\xef\xbb\xbf" + convLine + "\n", ConversationTexts, ""},
		{" \n[{\"uuid\": \"x\"}]", ConversationTexts, ""},
		{`{"summary": "s", "messages": []}`, ConversationTexts, ""},
		{`{"text": "s"}`, 0, `:2: record has neither "summary" nor "messages"`},
		{"plain words\n", 0, ":2: not a JSON object"},
		{"", 0, ": empty file"},
	} {
		p := filepath.Join(dir, "in.jsonl")
		if tt.err != "" {
			tt.content = "\n" + tt.content // errors name the line
			if tt.err == ": empty file" {
				tt.content = ""
			}
		}
		os.WriteFile(p, []byte(tt.content), 0o644)
		got, err := DetectTextKind(context.Background(), p)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), p+tt.err)) {
			t.Errorf("%q: %v, %v; want %v, %q", tt.content, got, err, tt.want, tt.err)
		}
	}
}

// TestDetectTextKindLongLine checks that a line over the limit is refused
// after reading about the limit, not the whole line.
func TestDetectTextKindLongLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "records.jsonl")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"summary":"`)
	chunk := []byte(strings.Repeat("x", 1<<20))
	for range 100 {
		f.Write(chunk)
	}
	f.WriteString("\"}\n")
	f.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = DetectTextKind(context.Background(), p)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), p+":1: line longer than 64 MiB") {
		t.Fatalf("err = %v, want the line limit", err)
	}
	// Up to the limit is read (the buffer doubling to it), not the 100 MiB
	// line plus its string and decoding copies.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 160<<20 {
		t.Errorf("allocated %d MiB to refuse the line", alloc>>20)
	}
}

// TestTextReadersObserveCancel checks that cancelling (Ctrl-C) ends a read
// blocked inside an endless line from a pipe.
func TestTextReadersObserveCancel(t *testing.T) {
	dir := t.TempDir()
	for name, read := range map[string]func(context.Context, string) error{
		"in.txt": func(ctx context.Context, p string) error {
			_, err := readTexts(ctx, p, PlainTexts, ReadOptions{})
			return err
		},
		"in.jsonl": func(ctx context.Context, p string) error {
			_, err := readTexts(ctx, p, SummaryTexts, ReadOptions{})
			return err
		},
		"detect.jsonl": func(ctx context.Context, p string) error { _, err := DetectTextKind(ctx, p); return err },
	} {
		fifo := filepath.Join(dir, name)
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		stop := make(chan struct{})
		go func() {
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			defer w.Close()
			w.Write([]byte(`{"summary": "a line that never ends`))
			<-stop // hold the pipe open, sending nothing
		}()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- read(ctx, fifo) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("%s: err = %v, want context.Canceled", name, err)
			}
		case <-time.After(10 * time.Second): // a hang detector, not a speed bound
			t.Errorf("%s: the read did not end after cancel", name)
		}
		close(stop)
	}
}

// readTexts reads every text of path (see OpenTexts), stopping at the first
// error, with the texts read before it.
func readTexts(ctx context.Context, path string, kind TextKind, opts ReadOptions) ([]string, error) {
	r, err := OpenTexts(ctx, path, kind, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.All()
}
