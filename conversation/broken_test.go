package conversation

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	goodConv    = `{"chat_id":"c1","created_at":"2025-06-12T11:04:56.965428","messages":[{"created_at":"2025-06-12T11:04:56.965433","role":"user","content":"hi"}],"metadata":{"model":"m"}}`
	goodSummary = `{"summary":"s","request":null,"topic":null,"languages":["english"],"task":null,"concerning_score":1,"user_frustration":2,"assistant_errors":[],"chat_id":"c1","metadata":{},"embedding":null}`
)

// bigConversation returns a valid conversation line with a message of n
// bytes of content.
func bigConversation(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"chat_id":"big","created_at":"2025-06-12T11:04:56","messages":[{"created_at":"2025-06-12T11:04:56","role":"user","content":"`)
	chunk := []byte("0123456789 abcdefghij é ")
	for b.Len() < n {
		b.Write(chunk)
	}
	b.WriteString(`"}],"metadata":{}}`)
	return b.Bytes()
}

// TestBrokenInputs feeds a corpus of broken (and merely unusual) files to the
// reader and checks that each gives exactly one clear error naming file, line
// and field, or reads correctly with the expected warning.
func TestBrokenInputs(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		data    func() []byte
		maxLine int
		wantErr string // full expected error, with FILE for the path
		wantN   int    // records read when wantErr is ""
		warning string // expected warning (substring), if any
	}{
		{name: "truncated last line", kind: Conversations,
			data:    func() []byte { return []byte(goodConv + "\n" + goodConv[:70]) },
			wantErr: "FILE:2: truncated JSON: input ends inside a value (expected a complete JSON object); the last line has no newline, so the file was probably cut short"},
		{name: "truncated line in the middle", kind: Summaries,
			data:    func() []byte { return []byte(goodSummary[:40] + "\n" + goodSummary + "\n") },
			wantErr: "FILE:1: truncated JSON: input ends inside a value (expected a complete JSON object)"},
		{name: "wrong type", kind: Conversations,
			data:    func() []byte { return []byte(strings.Replace(goodConv, `"chat_id":"c1"`, `"chat_id":42`, 1) + "\n") },
			wantErr: "FILE:1: field chat_id: expected string, got number 42"},
		{name: "wrong type in nested message", kind: Conversations,
			data: func() []byte {
				return []byte(goodConv + "\n" + strings.Replace(goodConv, `"content":"hi"`, `"content":["hi"]`, 1) + "\n")
			},
			wantErr: "FILE:2: field messages[0].content: expected string, got list"},
		{name: "wrong score type", kind: Summaries,
			data: func() []byte {
				return []byte(strings.Replace(goodSummary, `"concerning_score":1`, `"concerning_score":"high"`, 1))
			},
			wantErr: "FILE:1: field concerning_score: expected integer or null, got string"},
		{name: "missing chat_id", kind: Summaries,
			data:    func() []byte { return []byte(strings.Replace(goodSummary, `,"chat_id":"c1"`, ``, 1) + "\n") },
			wantErr: "FILE:1: field chat_id: required field missing"},
		{name: "empty chat_id", kind: Conversations,
			data:    func() []byte { return []byte(strings.Replace(goodConv, `"chat_id":"c1"`, `"chat_id":""`, 1) + "\n") },
			wantErr: "FILE:1: field chat_id: expected non-empty string"},
		{name: "invalid UTF-8", kind: Conversations,
			data: func() []byte {
				return []byte(goodConv + "\n" + strings.Replace(goodConv, `"hi"`, "\"h\xffi\"", 1) + "\n")
			},
			wantErr: "FILE:2: invalid UTF-8 at byte 140 (expected UTF-8 text)"},
		{name: "bad role", kind: Conversations,
			data:    func() []byte { return []byte(strings.Replace(goodConv, `"role":"user"`, `"role":"human"`, 1)) },
			wantErr: `FILE:1: field messages[0].role: expected one of user, assistant, system, tool, got "human"`},
		{name: "score out of range", kind: Summaries,
			data: func() []byte {
				return []byte(strings.Replace(goodSummary, `"user_frustration":2`, `"user_frustration":9`, 1))
			},
			wantErr: "FILE:1: field user_frustration: expected integer 1..5 or null, got 9"},
		{name: "null metadata value", kind: Conversations,
			data:    func() []byte { return []byte(strings.Replace(goodConv, `{"model":"m"}`, `{"model":null}`, 1)) },
			wantErr: "FILE:1: field metadata.model: expected string, number, boolean, list or object, got null"},
		{name: "bad time", kind: Conversations,
			data: func() []byte {
				return []byte(strings.Replace(goodConv, `"2025-06-12T11:04:56.965428"`, `"last tuesday"`, 1))
			},
			wantErr: `FILE:1: field created_at: not an ISO-8601 time: "last tuesday" (expected e.g. 2025-06-12T11:04:56.965428 or with +00:00)`},
		{name: "not an object", kind: Clusters,
			data:    func() []byte { return []byte("[1,2]\n") },
			wantErr: "FILE:1: invalid JSON at byte 1: expected '{' to start an object, found '['"},
		{name: "two records on a line", kind: Conversations,
			data:    func() []byte { return []byte(goodConv + goodConv + "\n") },
			wantErr: "FILE:1: invalid JSON at byte 170: unexpected '{' after the end of the object (one record per line)"},
		{name: "duplicate field", kind: Conversations,
			data: func() []byte {
				return []byte(strings.Replace(goodConv, `"chat_id":"c1"`, `"chat_id":"c1","chat_id":"c2"`, 1))
			},
			wantErr: "FILE:1: field chat_id: duplicate field"},
		{name: "10 MB line over a 1 MiB limit", kind: Conversations, maxLine: 1 << 20,
			data:    func() []byte { return append(bigConversation(10<<20), '\n') },
			wantErr: "FILE:1: line longer than the limit of 1 MiB (ReadOptions.MaxLineBytes); one JSON record per line expected"},
		{name: "10 MB line", kind: Conversations,
			data:  func() []byte { return append(append(bigConversation(10<<20), '\n'), goodConv...) },
			wantN: 2},
		{name: "empty file", kind: Summaries, data: func() []byte { return nil }, wantN: 0, warning: "no records: the file is empty"},
		{name: "BOM", kind: Summaries,
			data:    func() []byte { return []byte("\xef\xbb\xbf" + goodSummary + "\n" + goodSummary + "\n") },
			wantN:   2,
			warning: "FILE:1: UTF-8 byte-order mark at the start of the file ignored"},
		{name: "CRLF", kind: Summaries,
			data:  func() []byte { return []byte(goodSummary + "\r\n" + goodSummary + "\r\n") },
			wantN: 2},
		{name: "blank lines", kind: Summaries,
			data:    func() []byte { return []byte("\n" + goodSummary + "\n  \t\n" + goodSummary + "\n\n") },
			wantN:   2,
			warning: "FILE:1: blank line skipped"},
		{name: "no newline at end", kind: Summaries,
			data:  func() []byte { return []byte(goodSummary + "\n" + goodSummary) },
			wantN: 2},
		{name: "unknown field", kind: Summaries,
			data: func() []byte {
				return []byte(strings.Replace(goodSummary, `"summary":"s"`, `"summary":"s","extra":{"a":[1]}`, 1))
			},
			wantN:   1,
			warning: "FILE:1: field extra: unknown field ignored (reported once per file)"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".jsonl")
			if err := os.WriteFile(path, tc.data(), 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := CheckFile(context.Background(), path, tc.kind, CheckOptions{MaxLineBytes: tc.maxLine})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				want := strings.ReplaceAll(tc.wantErr, "FILE", path)
				if rep.NumProblems != 1 || rep.Problems[0].Error() != want {
					t.Fatalf("problems = %v, want exactly\n%s", rep.Problems, want)
				}
				var re *RecordError
				if !errors.As(rep.Problems[0], &re) || re.File != path || re.Line < 1 {
					t.Errorf("problem %#v does not name file and line", rep.Problems[0])
				}
			} else {
				if rep.NumProblems != 0 || rep.Records != tc.wantN {
					t.Fatalf("%d records, problems %v; want %d records and none", rep.Records, rep.Problems, tc.wantN)
				}
			}
			if tc.warning != "" {
				want := strings.ReplaceAll(tc.warning, "FILE", path)
				found := false
				for _, w := range rep.Warnings {
					found = found || strings.Contains(w.Error(), want)
				}
				if !found {
					t.Errorf("warnings %v, want one containing %q", rep.Warnings, want)
				}
			}
		})
	}
}

// TestReaderContinuesAfterError checks that an invalid record does not stop
// the reader, and SkipInvalid counts and reports skipped records.
func TestReaderContinuesAfterError(t *testing.T) {
	bad := strings.Replace(goodSummary, `"chat_id":"c1"`, `"chat_id":7`, 1)
	data := goodSummary + "\n" + bad + "\n" + goodSummary[:30] + "\n" + goodSummary + "\n"

	r := NewReader[ConversationSummary](strings.NewReader(data), "s.jsonl", ReadOptions{})
	var got []string
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			got = append(got, err.Error())
		} else {
			got = append(got, "ok")
		}
	}
	want := []string{"ok", "s.jsonl:2: field chat_id: expected string, got number 7",
		"s.jsonl:3: truncated JSON: input ends inside a value (expected a complete JSON object)", "ok"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", got, want)
	}

	var skipped []string
	r = NewReader[ConversationSummary](strings.NewReader(data), "s.jsonl", ReadOptions{SkipInvalid: true,
		OnSkip: func(e *RecordError) { skipped = append(skipped, e.Error()) }})
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 || r.Skipped() != 2 || strings.Join(skipped, "|") != strings.Join(want[1:3], "|") {
		t.Errorf("read %d, skipped %d %q; want 2 read and 2 skipped %q", n, r.Skipped(), skipped, want[1:3])
	}
}

// TestLongLineSkipped checks that a line over the limit is skipped whole
// under SkipInvalid and reading goes on with the next line.
func TestLongLineSkipped(t *testing.T) {
	data := string(bigConversation(3<<20)) + "\n" + goodConv + "\n"
	recs, err := ReadFile[Conversation](writeTemp(t, "conversations.jsonl", data), ReadOptions{SkipInvalid: true, MaxLineBytes: 1 << 20})
	if err != nil || len(recs) != 1 || recs[0].ChatID != "c1" {
		t.Fatalf("got %d records, %v; want only c1", len(recs), err)
	}
}

func writeTemp(t testing.TB, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	base := func() ConversationSummary { return sampleSummaries(t)[0] }
	tests := []struct {
		name string
		rec  interface{ Validate() error }
		want string // "" for valid
	}{
		{"summary ok", ptr(base()), ""},
		{"summary no chat id", func() *ConversationSummary { s := base(); s.ChatID = ""; return &s }(), "field chat_id: expected non-empty string"},
		{"summary score 0", func() *ConversationSummary { s := base(); s.ConcerningScore = ptr(0); return &s }(), "field concerning_score: expected integer 1..5 or null, got 0"},
		{"summary bad metadata", func() *ConversationSummary { s := base(); s.Metadata = map[string]any{"f": func() {}}; return &s }(),
			"field metadata.f: expected string, number, boolean, list or object, got Go type func()"},
		{"summary nested null", func() *ConversationSummary {
			s := base()
			s.Metadata = map[string]any{"l": []any{"a", nil}}
			return &s
		}(), "field metadata.l[1]: expected string, number, boolean, list or object, got null"},
		{"conversation ok", ptr(sampleConversations(t)[0]), ""},
		{"conversation zero time", &Conversation{ChatID: "x"}, "field created_at: expected a time, got none"},
		{"conversation bad role", &Conversation{ChatID: "x", CreatedAt: mustTime(t, "2025-01-01"),
			Messages: []Message{{CreatedAt: mustTime(t, "2025-01-01"), Role: "bot"}}}, `field messages[0].role: expected one of user, assistant, system, tool, got "bot"`},
		{"cluster ok", ptr(sampleClusters()[0]), ""},
		{"cluster no id", &Cluster{Name: "n"}, "field id: expected non-empty string"},
		{"cluster empty chat id", &Cluster{ID: "i", ChatIDs: []string{"a", ""}}, "field chat_ids[1]: expected non-empty chat id"},
		{"projected ok", ptr(sampleProjected()[0]), ""},
		{"projected negative level", &ProjectedCluster{Cluster: Cluster{ID: "i"}, Level: -1}, "field level: expected integer >= 0, got -1"},
	}
	for _, tc := range tests {
		err := tc.rec.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tc.name, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestWriterRejectsInvalid checks that writers never write an invalid record.
func TestWriterRejectsInvalid(t *testing.T) {
	recs := []Cluster{sampleClusters()[0], {Name: "no id"}}
	for _, name := range []string{"clusters.jsonl", "clusters.parquet"} {
		path := filepath.Join(t.TempDir(), name)
		err := WriteFile(path, recs)
		want := path + ":2: field id: expected non-empty string"
		if err == nil || err.Error() != want {
			t.Errorf("WriteFile = %v, want %q", err, want)
		}
		if _, serr := os.Stat(path); !os.IsNotExist(serr) {
			t.Errorf("%s exists after a failed write", path)
		}
	}
}

func TestFindCheckpoint(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"conversations.jsonl", "summaries", "clusters.parquet", "meta_clusters.jsonl", "meta_clusters.parquet", "other.jsonl"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := FindCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Checkpoint{Dir: dir, Conversations: filepath.Join(dir, "conversations.jsonl"), Summaries: filepath.Join(dir, "summaries"),
		Clusters: filepath.Join(dir, "clusters.parquet"), MetaClusters: filepath.Join(dir, "meta_clusters.jsonl"),
		Ignored: []string{filepath.Join(dir, "meta_clusters.parquet")}}
	if !reflectEqual(*cp, want) {
		t.Errorf("FindCheckpoint = %+v\nwant %+v", *cp, want)
	}
	if _, err := FindCheckpoint(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not a Kura checkpoint directory") {
		t.Errorf("empty dir: err = %v", err)
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		path string
		want Kind
		ok   bool
	}{
		{"a/conversations.jsonl", Conversations, true},
		{"summaries", Summaries, true},
		{"x/meta_clusters.parquet", MetaClusters, true},
		{"dimensionality.jsonl", Dimensionality, true},
		{"clusters.json", 0, false},
		{"my_summaries.jsonl", 0, false},
		{"summaries.jsonl.parquet", Summaries, true},
		{"x/.parquet", 0, false},
	}
	for _, tc := range tests {
		if k, ok := KindOf(tc.path); k != tc.want || ok != tc.ok {
			t.Errorf("KindOf(%q) = %v, %v; want %v, %v", tc.path, k, ok, tc.want, tc.ok)
		}
	}
	if k, err := ParseKind("projected-clusters"); k != Dimensionality || err != nil {
		t.Errorf("ParseKind(projected-clusters) = %v, %v", k, err)
	}
	if _, err := ParseKind("bogus"); err == nil {
		t.Error("ParseKind(bogus) succeeded")
	}
}

func reflectEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

// TestDefaultLineLimit checks the default limit: a line just under 64 MiB is
// read, one just over is reported with its line number and skipped.
func TestDefaultLineLimit(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocates and scans several 64 MiB buffers; skipped with -short and -race")
	}
	under := bigConversation(DefaultMaxLineBytes - 1024)
	over := bigConversation(DefaultMaxLineBytes + 1024)
	var data []byte
	data = append(append(data, under...), '\n')
	data = append(append(data, over...), '\n')
	data = append(data, goodConv...)
	r := NewReader[Conversation](bytes.NewReader(data), "big.jsonl", ReadOptions{})
	c, err := r.Next()
	if err != nil || len(c.Messages[0].Content) < DefaultMaxLineBytes-2048 {
		t.Fatalf("line 1 (just under 64 MiB): %v", err)
	}
	_, err = r.Next()
	want := "big.jsonl:2: line longer than the limit of 64 MiB (ReadOptions.MaxLineBytes); one JSON record per line expected"
	if err == nil || err.Error() != want {
		t.Fatalf("line 2: err = %v, want %q", err, want)
	}
	if c, err = r.Next(); err != nil || c.ChatID != "c1" {
		t.Fatalf("line 3: %+v, %v", c, err)
	}
}
