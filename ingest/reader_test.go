package ingest

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

	"github.com/kura-go/kura/conversation"
)

// readAll reads every conversation of path, failing the test on an error.
func readAll(t *testing.T, path string, opts Options) ([]conversation.Conversation, *Reader) {
	t.Helper()
	r, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer r.Close()
	var out []conversation.Conversation
	for {
		c, err := r.Next(context.Background())
		if err == io.EOF {
			return out, r
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, c)
	}
}

func encode(t *testing.T, convs []conversation.Conversation) string {
	t.Helper()
	var b bytes.Buffer
	w := conversation.NewWriter[conversation.Conversation](&b)
	for _, c := range convs {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// sameConversations compares conversations by value: times by the instant
// they name (Python writes a UTC time as "Z" where the export had
// "+00:00", or the reverse), everything else exactly.
func sameConversations(t *testing.T, got, want []conversation.Conversation) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d conversations, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ChatID != w.ChatID || !g.CreatedAt.Equal(w.CreatedAt.Time) || len(g.Messages) != len(w.Messages) {
			t.Fatalf("conversation %d: got %s %s with %d messages, want %s %s with %d", i+1,
				g.ChatID, g.CreatedAt, len(g.Messages), w.ChatID, w.CreatedAt, len(w.Messages))
		}
		for j := range g.Messages {
			gm, wm := g.Messages[j], w.Messages[j]
			if gm.Role != wm.Role || gm.Content != wm.Content || !gm.CreatedAt.Equal(wm.CreatedAt.Time) {
				t.Errorf("conversation %d message %d: got %s %s %q, want %s %s %q", i+1, j,
					gm.Role, gm.CreatedAt, gm.Content, wm.Role, wm.CreatedAt, wm.Content)
			}
		}
		if !reflect.DeepEqual(g.Metadata, w.Metadata) {
			t.Errorf("conversation %d metadata: got %v, want %v", i+1, g.Metadata, w.Metadata)
		}
	}
}

// copyAs copies a fixture to a temporary file whose name says nothing of
// its format, so that only content can tell it.
func copyAs(t *testing.T, src, name string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAgainstPythonKura reads the fixtures and compares the conversations
// with what Python Kura's loaders make of the same files
// (testdata/kura_reference.py wrote the .kura.jsonl references).
func TestAgainstPythonKura(t *testing.T) {
	for _, tc := range []struct {
		fixture, ref string
		format       Format
		messages     int
	}{
		{"testdata/claude-export.json", "testdata/claude-export.kura.jsonl", Claude, 6},
		{"testdata/kura-conversations.json", "testdata/kura-conversations.kura.jsonl", KuraJSON, 12},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			want, err := conversation.ReadFile[conversation.Conversation](tc.ref, conversation.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range []Format{Auto, tc.format} {
				got, r := readAll(t, copyAs(t, tc.fixture, "export.dat"), Options{Format: format})
				if r.Format() != tc.format {
					t.Errorf("format %s: read as %s, want %s", format, r.Format(), tc.format)
				}
				sameConversations(t, got, want)
				if st := r.Stats(); st.Conversations != len(want) || st.Messages != tc.messages || st.Skipped != 0 || st.Dropped != 0 {
					t.Errorf("stats %+v, want %d conversations, %d messages", st, len(want), tc.messages)
				}
			}
		})
	}
}

// TestChatGPT checks the current-branch walk against an expected output
// written by hand from the fixture: the system message, the hidden custom
// instructions, the thoughts, the search call, the tool's result and an
// empty message are left out (6 dropped); the regenerated answer and the
// edited question on other branches are not read; the image part is left
// out of the text; a message without create_time takes the time of the one
// before; without current_node the newest child is followed.
func TestChatGPT(t *testing.T) {
	want, err := os.ReadFile("testdata/chatgpt-export.want.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []Format{Auto, ChatGPT} {
		got, r := readAll(t, copyAs(t, "testdata/chatgpt-export.json", "x.json"), Options{Format: format})
		if r.Format() != ChatGPT {
			t.Errorf("read as %s", r.Format())
		}
		if enc := encode(t, got); enc != string(want) {
			t.Errorf("got\n%s\nwant\n%s", enc, want)
		}
		if st := r.Stats(); st != (Stats{Conversations: 2, Messages: 6, Dropped: 6}) {
			t.Errorf("stats %+v", st)
		}
	}
}

// TestKuraCheckpointFiles reads Kura JSONL and Parquet checkpoint files
// through the conversation package, told by content (names without an
// extension), and checkpoint directories through their conversations file.
func TestKuraCheckpointFiles(t *testing.T) {
	want, err := conversation.ReadFile[conversation.Conversation]("testdata/kura-conversations.kura.jsonl", conversation.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "a.jsonl")
	pq := filepath.Join(dir, "b.parquet")
	for _, p := range []string{jsonl, pq} {
		if err := conversation.WriteFile(p, want); err != nil {
			t.Fatal(err)
		}
	}
	ckJSONL, ckParquet, ckJSON := filepath.Join(dir, "ck1"), filepath.Join(dir, "ck2"), filepath.Join(dir, "ck3")
	for _, d := range []string{ckJSONL, ckParquet, ckJSON} {
		os.Mkdir(d, 0o755)
	}
	for _, cp := range [][2]string{
		{jsonl, filepath.Join(dir, "plain")},
		{pq, filepath.Join(dir, "data.json")},
		{"testdata/kura-conversations.kura.jsonl", filepath.Join(ckJSONL, "conversations.jsonl")},
		{pq, filepath.Join(ckParquet, "conversations.parquet")},
		{"testdata/kura-conversations.json", filepath.Join(ckJSON, "conversations.json")},
	} {
		b, _ := os.ReadFile(cp[0])
		if err := os.WriteFile(cp[1], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path string
		want Format
	}{
		{filepath.Join(dir, "plain"), Kura},
		{filepath.Join(dir, "data.json"), Kura}, // Parquet, despite the name
		{ckJSONL, Kura},
		{ckParquet, Kura},
		{ckJSON, KuraJSON},
	} {
		f, err := Detect(tc.path)
		if err != nil || f != tc.want {
			t.Errorf("Detect(%s) = %s, %v; want %s", tc.path, f, err, tc.want)
		}
		got, r := readAll(t, tc.path, Options{})
		sameConversations(t, got, want)
		if st := r.Stats(); st.Conversations != 3 || st.Messages != 12 {
			t.Errorf("%s: stats %+v", tc.path, st)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
		err  string
	}{
		{"", Auto, ""}, {"AUTO", Auto, ""}, {"kura", Kura, ""}, {"kura_json", KuraJSON, ""},
		{" Claude ", Claude, ""}, {"chatgpt", ChatGPT, ""},
		{"openai", "", `unknown input format "openai" (expected auto, kura, kura-json, claude, chatgpt)`},
	} {
		got, err := ParseFormat(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, %s", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// writeTemp writes data to a temporary file named "in".
func writeTemp(t testing.TB, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	kuraConv   = `{"chat_id":"c%d","created_at":"2025-06-12T11:04:56","messages":[{"created_at":"2025-06-12T11:04:57","role":"user","content":"hi"}],"metadata":{}}`
	claudeConv = `{"uuid":"u1","name":"n","created_at":"2024-01-01T00:00:00Z","chat_messages":[{"sender":"human","created_at":"2024-01-01T00:00:01Z","content":[{"type":"text","text":"hi"}]}]}`
	gptConv    = `{"id":"g1","create_time":1700000000,"current_node":"b","mapping":{"a":{"message":null,"parent":null,"children":["b"]},"b":{"message":{"author":{"role":"user"},"create_time":1700000001,"content":{"content_type":"text","parts":["hi"]}},"parent":"a","children":[]}}}`
)

func kc(i int) string { return strings.Replace(kuraConv, "%d", string(rune('0'+i)), 1) }

// TestBrokenInput checks the exact error for each kind of broken input, and
// which conversations are read before and after it.
func TestBrokenInput(t *testing.T) {
	deep := `[` + kc(1) + `,{"chat_id":"d","metadata":` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `},` + kc(3) + `]`
	huge := `[` + kc(1) + `,{"chat_id":"` + strings.Repeat("x", 5000) + `"},` + kc(3) + `]`
	for _, tc := range []struct {
		name   string
		data   string
		opts   Options
		ids    []string // conversations read
		errs   []string // errors returned by Next (or Open), in order
		format Format
	}{
		{name: "truncated inside a conversation", data: `[` + kc(1) + `,` + kc(2)[:40],
			ids: []string{"c1"}, errs: []string{"in: conversation 2 (byte 147): truncated: the input ends inside conversation 2; the file was probably cut short"}},
		{name: "truncated after a conversation", data: "[" + kc(1) + "\n",
			ids: []string{"c1"}, errs: []string{"in: byte 147: truncated: the input ends after conversation 1 without closing the array (expected ',' or ']'); the file was probably cut short"}},
		{name: "truncated after a comma", data: "[" + kc(1) + ",",
			ids: []string{"c1"}, errs: []string{"in: byte 147: truncated: the input ends inside the array, before conversation 2; the file was probably cut short"}},
		{name: "missing comma", data: "[" + kc(1) + " " + kc(2) + "]",
			ids: []string{"c1"}, errs: []string{"in: conversation 1 (byte 147): expected ',' or ']' after conversation 1, found '{'"}},
		{name: "trailing comma", data: "[" + kc(1) + ",]",
			ids: []string{"c1"}, errs: []string{"in: conversation 1 (byte 147): trailing comma before ']' after conversation 1"}},
		{name: "data after the array", data: "[" + kc(1) + "] x",
			ids: []string{"c1"}, errs: []string{"in: byte 148: unexpected 'x' after the end of the array"}},
		{name: "mismatched brackets", data: `[` + kc(1) + `,{"chat_id":"x","messages":[}]`,
			ids: []string{"c1"}, errs: []string{"in: conversation 2 (byte 174): mismatched '}' closing '[' in conversation 2"}},
		{name: "wrong field type", data: `[` + kc(1) + `,{"chat_id":7,"created_at":"2025-06-12T11:04:56","messages":[]},` + kc(3) + `]`,
			ids: []string{"c1", "c3"}, errs: []string{"in: conversation 2 (byte 147): field chat_id: expected string, got number 7"}},
		{name: "bad role", data: `[` + strings.Replace(kc(1), `"user"`, `"robot"`, 1) + `]`,
			errs: []string{`in: conversation 1 (byte 2): field messages[0].role: expected one of user, assistant, system, tool, got "robot"`}},
		{name: "not an object", data: `[` + kc(1) + `,42,"s",` + kc(4) + `]`,
			ids: []string{"c1", "c4"}, errs: []string{
				"in: conversation 2 (byte 147): expected a conversation object, got a number",
				"in: conversation 3 (byte 150): expected a conversation object, got a string"}},
		{name: "deep nesting", data: deep, opts: Options{MaxDepth: 100},
			ids: []string{"c1", "c3"}, errs: []string{"in: conversation 2 (byte 147): nested more than 100 levels deep at byte 272 (Options.MaxDepth); skipped"}},
		{name: "huge string", data: huge, opts: Options{MaxElementBytes: 4096},
			ids: []string{"c1", "c3"}, errs: []string{"in: conversation 2 (byte 147): larger than the limit of 4096 bytes (Options.MaxElementBytes): 5014 bytes; skipped"}},
		{name: "skip invalid", data: `[` + kc(1) + `,{"chat_id":7},` + kc(3) + `]`, opts: Options{SkipInvalid: true},
			ids: []string{"c1", "c3"}},
		{name: "claude: wrong type", format: Claude,
			data: `[` + strings.Replace(claudeConv, `"sender":"human"`, `"sender":1`, 1) + `]`,
			errs: []string{"in: conversation 1 (byte 2): field chat_messages.sender: expected string, got number"}},
		{name: "claude: bad time", format: Claude,
			data: `[` + strings.Replace(claudeConv, `"2024-01-01T00:00:01Z"`, `"yesterday"`, 1) + `]`,
			errs: []string{`in: conversation 1 (byte 2): field chat_messages[0].created_at: not an ISO-8601 time: "yesterday"`}},
		{name: "claude: no uuid", format: Claude,
			data: `[` + strings.Replace(claudeConv, `"uuid":"u1"`, `"uuid":""`, 1) + `]`,
			errs: []string{"in: conversation 1 (byte 2): field uuid: expected a non-empty string (the conversation's id)"}},
		{name: "chatgpt: current node missing", format: ChatGPT,
			data: `[` + strings.Replace(gptConv, `"current_node":"b"`, `"current_node":"zz"`, 1) + `]`,
			errs: []string{`in: conversation 1 (byte 2): field current_node: "zz" names no node of mapping`}},
		{name: "chatgpt: parent loop", format: ChatGPT,
			data: `[` + strings.Replace(gptConv, `"parent":null`, `"parent":"b"`, 1) + `]`,
			errs: []string{"in: conversation 1 (byte 2): field mapping.b.parent: the chain of parents from current_node loops"}},
		{name: "chatgpt: mapping not an object", format: ChatGPT,
			data: `[{"id":"g","mapping":[1]}]`,
			errs: []string{"in: conversation 1 (byte 2): field mapping: expected object, got array"}},
		{name: "chatgpt: time out of range", format: ChatGPT,
			data: `[` + strings.Replace(gptConv, `"create_time":1700000000`, `"create_time":1e300`, 1) + `]`,
			errs: []string{"in: conversation 1 (byte 2): field create_time: Unix time 1e+300 out of range"}},
		{name: "mixed formats", data: `[` + claudeConv + `,` + gptConv + `]`,
			ids:  []string{"u1"},
			errs: []string{"in: conversation 2 (byte 176): field uuid: expected a non-empty string (the conversation's id)"}},
		{name: "open: unknown first element", data: `[{"a":1,"b":2}]`,
			errs: []string{"in: conversation 1 (byte 2): not a conversation of a known export: its fields are a, b (expected chat_id and messages for Kura, chat_messages for Claude.ai, mapping for ChatGPT); give the format"}},
		{name: "open: not JSON", data: "hello",
			errs: []string{"in: not conversations of a known format: starts with 'h' (expected a JSON array of conversations from Kura, Claude.ai or ChatGPT, Kura JSONL records, or Parquet)"}},
		{name: "open: empty file", data: "  \n",
			errs: []string{"in: not conversations of a known format: an empty file (expected a JSON array of conversations from Kura, Claude.ai or ChatGPT, Kura JSONL records, or Parquet)"}},
		{name: "open: forced format, not an array", data: "{}", opts: Options{Format: Claude},
			errs: []string{"in: byte 1: expected a JSON array ('[') of conversations, found '{'"}},
		{name: "empty array", data: " [ ] "},
		{name: "kura JSONL error names the line", data: kc(1) + "\n{\"chat_id\":1}\n" + kc(3) + "\n",
			ids: []string{"c1", "c3"}, errs: []string{"in:2: field chat_id: expected string, got number 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, tc.data)
			opts := tc.opts
			if opts.Format == "" {
				opts.Format = tc.format
			}
			var skipped []string
			opts.OnSkip = func(err error) { skipped = append(skipped, err.Error()) }
			var ids, errs []string
			r, err := Open(path, opts)
			if err != nil {
				errs = append(errs, err.Error())
			} else {
				defer r.Close()
				for {
					c, err := r.Next(context.Background())
					if err == io.EOF {
						break
					}
					if err != nil {
						errs = append(errs, err.Error())
						if IsFatal(err) {
							// A fatal error is sticky.
							if _, err2 := r.Next(context.Background()); err2 != err {
								t.Errorf("after a fatal error, Next returned %v", err2)
							}
							break
						}
						continue
					}
					ids = append(ids, c.ChatID)
				}
			}
			errs = strings.Split(strings.ReplaceAll(strings.Join(errs, "\n"), path, "in"), "\n")
			if errs[0] == "" {
				errs = nil
			}
			if !reflect.DeepEqual(ids, tc.ids) {
				t.Errorf("read %q, want %q", ids, tc.ids)
			}
			if !reflect.DeepEqual(errs, tc.errs) {
				t.Errorf("errors\n%q\nwant\n%q", errs, tc.errs)
			}
			if opts.SkipInvalid && (len(skipped) != 1 || r.Stats().Skipped != 1) {
				t.Errorf("skipped %q, stats %+v", skipped, r.Stats())
			}
		})
	}
}

// TestErrorsAreTyped checks that an element error is an *Error with its
// parts, and a fatal one is marked.
func TestErrorsAreTyped(t *testing.T) {
	path := writeTemp(t, `[{"chat_id":7},`)
	r, err := Open(path, Options{Format: KuraJSON})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Next(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Index != 1 || e.Offset != 2 || e.Field != "chat_id" || e.Fatal {
		t.Fatalf("first error %#v", err)
	}
	_, err = r.Next(context.Background())
	if !errors.As(err, &e) || !e.Fatal {
		t.Fatalf("second error %#v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Read(ctx, "testdata/claude-export.json", Options{}, func(*conversation.Conversation) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestReadCallbackError(t *testing.T) {
	stop := errors.New("enough")
	n := 0
	st, err := Read(context.Background(), "testdata/kura-conversations.json", Options{}, func(*conversation.Conversation) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || st.Conversations != 2 {
		t.Fatalf("got %v, %+v", err, st)
	}
}

func TestByteOrderMark(t *testing.T) {
	path := writeTemp(t, "\xef\xbb\xbf["+kc(1)+"]")
	var warnings []string
	got, _ := readAll(t, path, Options{OnWarning: func(err error) { warnings = append(warnings, err.Error()) }})
	if len(got) != 1 || len(warnings) != 1 || !strings.HasSuffix(warnings[0], "UTF-8 byte-order mark at the start of the file ignored") {
		t.Fatalf("got %d conversations, warnings %q", len(got), warnings)
	}
}

// TestHFLayout checks that a checkpoint of Python Kura's
// HFDatasetCheckpointManager is recognised and refused with the command
// that converts it, and that "hf" is not taken as a format.
func TestHFLayout(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "summaries")
	os.Mkdir(ds, 0o755)
	for _, name := range []string{"state.json", "dataset_info.json", "data-00000-of-00001.arrow"} {
		if err := os.WriteFile(filepath.Join(ds, name), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := ds + ": a Hugging Face datasets checkpoint (Python Kura's HFDatasetCheckpointManager), which kura does not read; " +
		"convert it to JSONL with Python Kura (pip install kura datasets), for example:\n" +
		`  python3 -c "from kura.checkpoints import HFDatasetCheckpointManager as H, JSONLCheckpointManager as J; from kura.types import ConversationSummary as T; ` +
		`J('OUT').save_checkpoint('summaries', H('` + dir + `').load_checkpoint('summaries', T))"` + "\nand give kura OUT/summaries.jsonl"
	for _, p := range []string{dir, ds} {
		_, err := Open(p, Options{})
		if !errors.Is(err, ErrHFDatasets) || err.Error() != want {
			t.Errorf("Open(%s): %v\nwant %s", p, err, want)
		}
	}
	if _, err := ParseFormat("hf"); !errors.Is(err, ErrHFDatasets) {
		t.Errorf("ParseFormat(hf): %v", err)
	}
	// A conversations file beside it is read.
	os.WriteFile(filepath.Join(dir, "conversations.jsonl"), []byte(kc(1)+"\n"), 0o644)
	if got, _ := readAll(t, dir, Options{}); len(got) != 1 {
		t.Errorf("read %d conversations", len(got))
	}
}

// TestCheck checks the report of a broken export, with and without
// SkipInvalid, and that ConvertFile refuses to overwrite its input.
func TestCheck(t *testing.T) {
	path := writeTemp(t, `[`+kc(1)+`,{"chat_id":7},`+kc(3)+`,`)
	rep, f, err := Check(context.Background(), path, Auto, conversation.CheckOptions{CollectRefs: true})
	if err != nil || f != KuraJSON || rep.Records != 2 || rep.NumProblems != 2 || rep.Skipped != 0 {
		t.Fatalf("report %+v, format %s, %v", rep, f, err)
	}
	if got := rep.Problems[1].Error(); !strings.HasSuffix(got, "truncated: the input ends inside the array, before conversation 4; the file was probably cut short") {
		t.Errorf("second problem %q", got)
	}
	rep, _, _ = Check(context.Background(), path, Auto, conversation.CheckOptions{SkipInvalid: true})
	if rep.Records != 2 || rep.Skipped != 1 || len(rep.Skips) != 1 || rep.NumProblems != 1 {
		t.Errorf("skip report %+v", rep)
	}
	if _, _, err := ConvertFile(context.Background(), path, path, Options{}); err == nil || !strings.Contains(err.Error(), "same file") {
		t.Errorf("ConvertFile onto its input: %v", err)
	}
}
