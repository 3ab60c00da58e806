package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/hash"
	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/refdata"
	"github.com/kura-go/kura/mockapi"
	"github.com/kura-go/kura/vecfile"
)

func TestEmbedCommandTextMock(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	dir := t.TempDir()
	in := filepath.Join(dir, "texts.txt")
	lines := []string{"first text", "second text", "a third, longer text about clustering"}
	os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	out := filepath.Join(dir, "v.npy")
	stats := filepath.Join(dir, "stats.json")
	stdout, err := execCLI(t, "embed", "--in", in, "--out", out, "--mock", "--dims", "8", "--batch-size", "2", "--stats-json", stats).outErr()
	if err != nil {
		t.Fatal(err)
	}
	data, rows, cols, err := vecfile.Read(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 3 || cols != 8 {
		t.Fatalf("%dx%d matrix, want 3x8", rows, cols)
	}
	for i, s := range lines {
		if !reflect.DeepEqual(data[i*8:(i+1)*8], mock.Vector(s, 8, 0)) {
			t.Errorf("row %d is not the mock vector of %q", i, s)
		}
	}
	// The closing line is wrapped within the width (80 in a test).
	for _, l := range strings.Split(stdout, "\n") {
		if len(l) > 80 {
			t.Errorf("closing line over 80 columns: %q", l)
		}
	}
	stdout = strings.Join(strings.Fields(stdout), " ")
	if !strings.Contains(stdout, "embedded 3 texts in") || !strings.Contains(stdout, "with mock:text-embedding-3-small, 8 dims: 2 requests, 0 retries") ||
		!strings.Contains(stdout, "cost $0.0000 (with text-embedding-3-small via the API: 11 tokens, $0.0000) -> "+out) {
		t.Errorf("closing line %q", stdout)
	}
	var st embedStats
	b, _ := os.ReadFile(stats)
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Texts != 3 || st.Dims != 8 || st.Kind != "text" || st.Usage.Requests != 2 || st.Usage.Tokens != 11 || st.APICostUSD == nil {
		t.Errorf("stats %+v", st)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*partial*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestEmbedCommandSummariesHash(t *testing.T) {
	in := filepath.Join(refdata.Path(t, "data/kura-mtbench"), "summaries.jsonl")
	out := filepath.Join(t.TempDir(), "v.f32")
	stdout, err := execCLI(t, "embed", "--in", in, "--out", out, "--embedder", "hash", "--dims", "256", "--chunk", "300").outErr()
	if err != nil {
		t.Fatal(err)
	}
	_, rows, cols, err := vecfile.Read(out, 256)
	if err != nil || rows != 1000 || cols != 256 {
		t.Fatalf("%dx%d, %v; want 1000x256", rows, cols, err)
	}
	stdout = strings.Join(strings.Fields(stdout), " ")
	if !strings.Contains(stdout, "embedded 1,000 texts") || !strings.Contains(stdout, "with hash, 256 dims") ||
		!strings.Contains(stdout, "with text-embedding-3-small via the API: 135,797 tokens, $0.0027") {
		t.Errorf("closing line %q", stdout)
	}
}

// TestEmbedCommandParquetConversations embeds conversations stored as
// Parquet, whose kind is told by the file name.
func TestEmbedCommandParquetConversations(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "conversations.parquet")
	ts, _ := conversation.ParseTime("2025-06-12T11:04:56")
	convs := []conversation.Conversation{
		{ChatID: "a", CreatedAt: ts, Messages: []conversation.Message{{CreatedAt: ts, Role: "user", Content: "How do I sort a list?"}, {CreatedAt: ts, Role: "assistant", Content: "Use sort.Slice."}}},
		{ChatID: "b", CreatedAt: ts, Messages: []conversation.Message{{CreatedAt: ts, Role: "user", Content: "Plan a trip to Kyoto."}}},
	}
	if err := conversation.WriteFile(in, convs); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "v.npy")
	if _, err := execCLI(t, "embed", "--in", in, "--out", out, "--mock", "--dims", "4").outErr(); err != nil {
		t.Fatal(err)
	}
	data, rows, _, err := vecfile.Read(out, 0)
	if err != nil || rows != 2 {
		t.Fatalf("%d rows, %v", rows, err)
	}
	want := mock.Vector("user: How do I sort a list?\nassistant: Use sort.Slice.", 4, 0)
	if !reflect.DeepEqual(data[:4], want) {
		t.Errorf("row 0 is not the vector of the rendered conversation")
	}
}

// TestEmbedCommandAgainstMockAPI embeds through the OpenAI client against
// kura's fake API with injected 429s and 500s: every row must be exactly the
// vector of its text, and the client's counts must match the server's.
func TestEmbedCommandAgainstMockAPI(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, url, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Config{Dims: 16, RateLimitRate: 0.3, ErrorRate: 0.05, RetryAfter: 10 * 1e6, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "texts.txt")
	var lines []string
	for i := 0; i < 400; i++ {
		lines = append(lines, "text number "+strings.Repeat("x", i%23)+" "+string(rune('a'+i%26)))
	}
	os.WriteFile(in, []byte(strings.Join(lines, "\n")), 0o644)
	out := filepath.Join(dir, "v.npy")
	stats := filepath.Join(dir, "stats.json")
	t.Setenv("OPENAI_API_KEY", "")
	_, err = execCLI(t, "embed", "--in", in, "--out", out, "--base-url", url, "--batch-size", "10", "--max-retries", "30", "--stats-json", stats).outErr()
	if err != nil {
		t.Fatal(err)
	}
	data, rows, cols, err := vecfile.Read(out, 0)
	if err != nil || rows != 400 || cols != 16 {
		t.Fatalf("%dx%d, %v", rows, cols, err)
	}
	for i, s := range lines {
		if !reflect.DeepEqual(data[i*16:(i+1)*16], mock.Vector(s, 16, 0)) {
			t.Fatalf("row %d is not the vector of its text", i)
		}
	}
	var st embedStats
	b, _ := os.ReadFile(stats)
	json.Unmarshal(b, &st)
	s := srv.Stats()
	u := st.Usage
	if u.Requests != s.Requests || u.RateLimited != s.RateLimited || u.Errors != s.ServerErrors || u.Tokens != s.PromptTokens || u.Inputs != s.Inputs {
		t.Errorf("client usage %+v\nserver stats %+v", u, s)
	}
	if s.RateLimited == 0 || s.ServerErrors == 0 || st.Embedder != "openai:text-embedding-3-small" {
		t.Errorf("faults not exercised or wrong embedder: %+v, %s", s, st.Embedder)
	}
}

// TestEmbedCommandAPIReadsWhileEmbedding checks kura embed through an API
// while the input is still being read: an input that turns out bad part
// way fails naming the file and line (exit status 1, no output) after at
// most one request per request in flight; an empty one fails before any.
func TestEmbedCommandAPIReadsWhileEmbedding(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, url, err := mockapi.Start(ctx, "127.0.0.1:0", mockapi.Config{Dims: 8})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var lines []string
	for i := range 100_000 {
		lines = append(lines, fmt.Sprintf("text %d", i))
	}
	lines[90_000] = "" // line 90,001: blank, read well after the first answers
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644)
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, nil, 0o644)
	out := filepath.Join(dir, "v.npy")
	t.Setenv("OPENAI_API_KEY", "")
	for _, tt := range []struct{ in, want string }{
		{bad, bad + ":90001: blank line"},
		{empty, empty + ": no records to embed"},
	} {
		args := []string{"embed", "--in", tt.in, "--out", out, "--embedder", "openai", "--base-url", url, "--batch-size", "10", "--concurrency", "3"}
		_, err := execCLI(t, args...).outErr()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.want)
		}
		if code := run(context.Background(), args); code != 1 {
			t.Errorf("%s: exit status %d, want 1", tt.in, code)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: output written: %v", tt.in, err)
		}
	}
	// Two runs on the bad input, of one round of 3 requests at most each;
	// none on the empty one. (A request the client gave up on may reach
	// the server late, but never adds to this count.)
	if n := srv.Stats().Requests; n > 2*3 {
		t.Errorf("%d requests sent before the inputs were found bad, want at most 6", n)
	}
}

func TestEmbedCommandErrors(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "t.txt")
	os.WriteFile(txt, []byte("a\n\nb\n"), 0o644)
	ok := filepath.Join(dir, "ok.txt")
	os.WriteFile(ok, []byte("a\nb\n"), 0o644)
	odd := filepath.Join(dir, "records.jsonl")
	os.WriteFile(odd, []byte(`{"id": 1}`+"\n"), 0o644)
	badUTF8 := filepath.Join(dir, "latin1.txt")
	os.WriteFile(badUTF8, []byte("caf\xc3\xa9 ok\ncaf\xe9 latin-1\n"), 0o644)
	out := filepath.Join(dir, "v.npy")
	usage := [][]string{
		// Absurd vector lengths are refused before anything is allocated
		// (they used to get the process killed for lack of memory).
		{"--in", ok, "--out", out, "--embedder", "hash", "--dims", "100000000"},
		{"--in", ok, "--out", out, "--mock", "--dims", "2000000000"},
		{"--out", out},
		{"--in", ok},
		{"--in", ok, "--out", filepath.Join(dir, "v.csv")},
		{"--in", ok, "--out", out, "--embedder", "bert"},
		{"--in", ok, "--out", out, "--mock", "--embedder", "hash"},
		{"--in", ok, "--out", out, "--mock", "--batch-size", "0"},
		{"--in", ok, "--out", out, "--mock", "--concurrency", "0"},
		{"--in", ok, "--out", out, "--mock", "--max-retries", "-1"},
		{"--in", ok, "--out", out, "--mock", "--price-per-million", "-2"},
		{"--in", ok, "--out", out, "--mock", "--kind", "clusters"},
		{"--in", ok, "--out", out, "--embedder", "openai", "--base-url", "localhost:1234"},
		{"--in", ok, "--out", out, "--mock", "--vector-dtype", "float64"},
		{"--in", ok, "--out", filepath.Join(dir, "v.f32"), "--mock", "--vector-dtype", "float16"},
	}
	for _, args := range usage {
		if code := run(context.Background(), append([]string{"embed"}, args...)); code != 2 {
			t.Errorf("%v: exit code %d, want 2", args, code)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--in", txt, "--out", out, "--mock"}, txt + ":2: blank line"},
		// Invalid UTF-8 is an error, as in JSONL, not silently replaced.
		{[]string{"--in", badUTF8, "--out", out, "--embedder", "hash"}, badUTF8 + ":2: invalid UTF-8 at byte 4"},
		{[]string{"--in", odd, "--out", out, "--mock"}, odd + `:1: record has neither "summary" nor "messages"`},
		{[]string{"--in", filepath.Join(dir, "missing.txt"), "--out", out, "--mock"}, "no such file"},
		{[]string{"--in", ok, "--out", filepath.Join(dir, "nodir", "v.npy"), "--mock"}, "does not exist"},
		// --stats-json is checked before embedding, not after.
		{[]string{"--in", ok, "--out", out, "--mock", "--stats-json", filepath.Join(dir, "nodir", "s.json")}, "does not exist"},
		{[]string{"--in", ok, "--out", out, "--mock", "--stats-json", ok}, "refusing to overwrite the input"},
		{[]string{"--in", ok, "--out", out, "--embedder", "openai", "--base-url", "http://127.0.0.1:1/v1", "--max-retries", "0"}, "inputs 1-2: "},
	} {
		_, err := execCLI(t, append([]string{"embed"}, tt.args...)...).outErr()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output written despite errors: %v", err)
	}
}

// failingEmbedder embeds "tN" as the 2-vector (N, -N) and fails for any
// N >= failFrom.
type failingEmbedder struct{ failFrom int }

func (failingEmbedder) Name() string { return "failing" }
func (failingEmbedder) Dims() int    { return 2 }
func (e failingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, s := range texts {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "t"))
		if err != nil {
			return nil, err
		}
		if n >= e.failFrom {
			return nil, fmt.Errorf("text %d: %w", n, context.Canceled)
		}
		out[i] = []float32{float32(n), -float32(n)}
	}
	return out, nil
}

// TestEmbedToFilePartial checks what embedToFile leaves when embedding stops
// part way (an API failure, Ctrl-C): the vectors already done are kept, in
// order, in a valid .partial file named in the error, never under the final
// name; a later complete run removes that partial file.
func TestEmbedToFilePartial(t *testing.T) {
	var texts []string
	for i := 0; i < 8; i++ {
		texts = append(texts, "t"+strconv.Itoa(i))
	}
	for _, tt := range []struct {
		name     string
		failFrom int
		wantRows int // rows in the partial file (0: none), or in out on success
	}{
		{"fails in the third chunk", 4, 4},
		{"fails in the last chunk", 7, 6},
		{"fails in the first chunk", 1, 0},
		{"succeeds", 100, 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "v.npy")
			partial := filepath.Join(dir, "v.partial.npy")
			if tt.failFrom > len(texts) {
				// A stale partial file of an earlier run goes once a run completes.
				os.WriteFile(partial, []byte("stale"), 0o644)
			}
			_, err := embedToFile(context.Background(), failingEmbedder{tt.failFrom}, embed.FeedOf(texts), out, vecfile.Float32, 2, func(int) {})
			want := []string{"v.npy"}
			switch {
			case tt.failFrom > len(texts):
				if err != nil {
					t.Fatal(err)
				}
				checkRows(t, out, tt.wantRows)
			case tt.wantRows > 0:
				if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d of 8 vectors", tt.wantRows)) || !strings.Contains(err.Error(), partial) {
					t.Fatalf("error %v, want one naming %s and %d of 8 vectors", err, partial, tt.wantRows)
				}
				checkRows(t, partial, tt.wantRows)
				want = []string{"v.partial.npy"}
			default:
				if err == nil || strings.Contains(err.Error(), "partial") {
					t.Fatalf("error %v, want one without a partial file", err)
				}
				want = nil
			}
			var got []string
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				got = append(got, e.Name())
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("directory holds %v, want %v", got, want)
			}
		})
	}
}

func checkRows(t *testing.T, path string, rows int) {
	t.Helper()
	data, n, d, err := vecfile.Read(path, 0)
	if err != nil || n != rows || d != 2 {
		t.Fatalf("%s: %d x %d, %v; want %d x 2", path, n, d, err, rows)
	}
	for i := 0; i < n; i++ {
		if data[2*i] != float32(i) || data[2*i+1] != -float32(i) {
			t.Fatalf("%s: row %d = %v, want the vector of t%d", path, i, data[2*i:2*i+2], i)
		}
	}
}

// TestEmbedCommandExports embeds the conversations of a ChatGPT export and
// of Kura's conversations.json, told by content (names that say nothing),
// one row per conversation, each the vector of its rendered messages.
func TestEmbedCommandExports(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		fixture string
		args    []string
		rows    int
		first   string
	}{
		{"chatgpt-export.json", nil, 2, "user: My starter smells like nail polish remover. Is it dead?\nassistant: Not dead, just hungry. Feed it twice a day.\nuser: Which flour should I feed it? Rye or wheat — ça dépend?\nassistant: Rye: it ferments faster."},
		{"chatgpt-export.json", []string{"--input-format", "chatgpt"}, 2, ""},
		{"kura-conversations.json", []string{"--kind", "conversations"}, 3, ""},
	} {
		b, err := os.ReadFile(filepath.Join("..", "..", "ingest", "testdata", tc.fixture))
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(dir, "export.dat")
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "v.npy")
		args := append([]string{"embed", "--in", in, "--out", out, "--mock", "--dims", "4"}, tc.args...)
		if _, err := execCLI(t, args...).outErr(); err != nil {
			t.Fatalf("%s %v: %v", tc.fixture, tc.args, err)
		}
		data, rows, _, err := vecfile.Read(out, 0)
		if err != nil || rows != tc.rows {
			t.Fatalf("%s: %d rows, %v; want %d", tc.fixture, rows, err, tc.rows)
		}
		if tc.first != "" && !reflect.DeepEqual(data[:4], mock.Vector(tc.first, 4, 0)) {
			t.Errorf("%s: row 0 is not the vector of the rendered conversation", tc.fixture)
		}
	}
	// A wrong --input-format names the conversation and field.
	in := filepath.Join(dir, "export.dat")
	_, err := execCLI(t, "embed", "--in", in, "--out", filepath.Join(dir, "w.npy"), "--mock", "--input-format", "claude").outErr()
	if err == nil || !strings.Contains(err.Error(), in+": conversation 1 (byte 2): field uuid: expected a non-empty string (the conversation's id)") {
		t.Errorf("got %v", err)
	}
}

// wideEmbedder returns 4,096-dimensional vectors [i, i, ...] for text "ti",
// so that a few thousand texts make enough megabytes for embedToFile's
// background flushes (every syncEvery bytes) to run; it fails from text
// failFrom on.
type wideEmbedder struct{ failFrom int }

func (wideEmbedder) Name() string { return "wide" }
func (wideEmbedder) Dims() int    { return 4096 }
func (e wideEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, s := range texts {
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "t"))
		if n >= e.failFrom {
			return nil, fmt.Errorf("text %d: %w", n, context.Canceled)
		}
		v := make([]float32, 4096)
		for j := range v {
			v[j] = float32(n)
		}
		out[i] = v
	}
	return out, nil
}

// TestEmbedToFileFlushesAsItGoes writes six times the background flush
// interval of vectors, completely and with a failure after three flushes:
// every row is the right one, in order, in --out or the partial file.
func TestEmbedToFileFlushesAsItGoes(t *testing.T) {
	const n = 6 * syncEvery / (4 * 4096)
	texts := make([]string, n)
	for i := range texts {
		texts[i] = "t" + strconv.Itoa(i)
	}
	for _, tt := range []struct {
		name     string
		failFrom int
		file     string
		rows     int
	}{
		{"complete", n, "v.npy", n},
		{"stops after three flushes", 5*n/6 + 10, "v.partial.npy", (5*n/6 + 10) / 50 * 50},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := embedToFile(context.Background(), wideEmbedder{tt.failFrom}, embed.FeedOf(texts), filepath.Join(dir, "v.npy"), vecfile.Float32, 50, func(int) {})
			if (err != nil) != (tt.failFrom < n) {
				t.Fatalf("error %v", err)
			}
			data, rows, d, err := vecfile.Read(filepath.Join(dir, tt.file), 0)
			if err != nil || rows != tt.rows || d != 4096 {
				t.Fatalf("%s: %d x %d, %v; want %d x 4096", tt.file, rows, d, err, tt.rows)
			}
			for i := 0; i < rows; i++ {
				if data[i*4096] != float32(i) || data[i*4096+4095] != float32(i) {
					t.Fatalf("row %d is text %v's", i, data[i*4096])
				}
			}
		})
	}
}

// TestEmbedCommandFloat16: --vector-dtype float16 writes numpy's '<f2' with
// the float32 run's values rounded to halves (the same bytes as vecfile's
// float16 writer makes of them), half the data bytes, and says so in the
// closing line and --stats-json.
func TestEmbedCommandFloat16(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "texts.txt")
	var lines []string
	for i := range 40 {
		lines = append(lines, fmt.Sprintf("text number %d about topic %d", i, i%3))
	}
	os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	type run struct {
		out, stats, stdout string
		st                 embedStats
		size               int64
	}
	runs := map[string]*run{}
	for _, dt := range []string{"float32", "float16"} {
		r := &run{out: filepath.Join(dir, "v"+dt[len(dt)-2:]+".npy"), stats: filepath.Join(dir, dt+".json")}
		var err error
		r.stdout, err = execCLI(t, "embed", "--in", in, "--out", r.out, "--mock", "--dims", "64", "--vector-dtype", dt, "--stats-json", r.stats).outErr()
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		b, _ := os.ReadFile(r.stats)
		if err := json.Unmarshal(b, &r.st); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(r.out)
		r.size = fi.Size()
		runs[dt] = r
	}
	f32, f16 := runs["float32"], runs["float16"]
	for _, c := range []struct {
		name      string
		r         *run
		dtype     string
		dataBytes int64
	}{{"float32", f32, "float32", 40 * 64 * 4}, {"float16", f16, "float16", 40 * 64 * 2}} {
		if c.r.size != 128+c.dataBytes || c.r.st.VectorBytes != c.r.size || c.r.st.VectorDType != c.dtype {
			t.Errorf("%s: file %d bytes (want %d), stats say %d bytes of %q", c.name, c.r.size, 128+c.dataBytes, c.r.st.VectorBytes, c.r.st.VectorDType)
		}
		m, err := vecfile.Open(c.r.out, 64)
		if err != nil {
			t.Fatal(err)
		}
		if m.DType.String() != c.dtype || m.Rows != 40 {
			t.Errorf("%s: file holds %d rows of %v", c.name, m.Rows, m.DType)
		}
		m.Close()
	}
	if strings.Contains(f32.stdout, "(float") || !strings.Contains(strings.Join(strings.Fields(f16.stdout), " "), "-> "+f16.out+" (float16, ") {
		t.Errorf("closing lines:\n%s\n%s", f32.stdout, f16.stdout)
	}
	x, _, _, err := vecfile.Read(f32.out, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "want.npy")
	if err := vecfile.WriteAs(want, x, 40, 64, vecfile.Float16); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(want)
	b, _ := os.ReadFile(f16.out)
	if !reflect.DeepEqual(a, b) {
		t.Error("the float16 file is not the float32 run's vectors rounded to halves")
	}
}

// hugeEmbedder embeds "tN" as (N, -N), and as (N, 1e5), beyond float16's
// range, for N >= from.
type hugeEmbedder struct{ from int }

func (hugeEmbedder) Name() string { return "huge" }
func (hugeEmbedder) Dims() int    { return 2 }
func (e hugeEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, s := range texts {
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "t"))
		out[i] = []float32{float32(n), -float32(n)}
		if n >= e.from {
			out[i][1] = 1e5
		}
	}
	return out, nil
}

// TestEmbedToFileFloat16Range: a vector that float16 cannot hold stops the
// run with an error naming the text and the dimension; the vectors before
// it are kept in the .partial file, as for any other failure.
func TestEmbedToFileFloat16Range(t *testing.T) {
	var texts []string
	for i := range 8 {
		texts = append(texts, "t"+strconv.Itoa(i))
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "v.npy")
	partial := filepath.Join(dir, "v.partial.npy")
	_, err := embedToFile(context.Background(), hugeEmbedder{5}, embed.FeedOf(texts), out, vecfile.Float16, 2, func(int) {})
	for _, want := range []string{"text 6: ", "value 100000 in row 6, dimension 2, is beyond float16's range", "the first 5 of 8 vectors", partial} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want it to say %q", err, want)
		}
	}
	checkRows(t, partial, 5)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out written despite the error: %v", err)
	}
	// float32 holds the same vectors.
	if _, err := embedToFile(context.Background(), hugeEmbedder{5}, embed.FeedOf(texts), out, vecfile.Float32, 2, func(int) {}); err != nil {
		t.Fatal(err)
	}
}

// TestEmbedToFileInterruptedLocal: a local embedder (hash) interrupted part
// way keeps the texts it finished, from the first up to the first one not
// done, in the .partial file: exactly the rows of a complete run, and the
// error names them. The interrupt comes from the progress callback once at
// least stopAfter texts are reported done (no timing involved).
func TestEmbedToFileInterruptedLocal(t *testing.T) {
	const n = 5000
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("text %d about topic %d and word %d", i, i%17, i%101)
	}
	e := hash.New(hash.Options{Dims: 32})
	e.Fit(texts)
	dir := t.TempDir()
	full := filepath.Join(dir, "full.npy")
	if _, err := embedToFile(context.Background(), e, embed.FeedOf(texts), full, vecfile.Float32, 20000, func(int) {}); err != nil {
		t.Fatal(err)
	}
	want, _, _, err := vecfile.Read(full, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name             string
		chunk, stopAfter int
		minRows          int // -1: every text reported done (one call: what it finished is a run from the first)
	}{
		// The defect: with all texts in one call, Ctrl-C kept nothing.
		{"all in one call", 20000, 2000, -1},
		// Two calls of 1,500 run at once; past 3,000 texts reported the
		// third has started, so the first was complete.
		{"in the third call", 1500, 4000, 1500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var done, reported atomic.Int64
			out := filepath.Join(dir, fmt.Sprintf("v%d.npy", tt.chunk))
			partial := filepath.Join(dir, fmt.Sprintf("v%d.partial.npy", tt.chunk))
			_, err := embedToFile(ctx, e, embed.FeedOf(texts), out, vecfile.Float32, tt.chunk, func(k int) {
				if d := done.Add(int64(k)); d >= int64(tt.stopAfter) && reported.CompareAndSwap(0, d) {
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			got, rows, d, rerr := vecfile.Read(partial, 0)
			if rerr != nil || d != 32 {
				t.Fatalf("%s: %v, %d dims", partial, rerr, d)
			}
			minRows := tt.minRows
			if minRows < 0 {
				minRows = int(reported.Load())
			}
			if rows < minRows || rows >= n {
				t.Fatalf("%d rows kept; want at least %d, fewer than %d", rows, minRows, n)
			}
			msg := fmt.Sprintf("the first %s of 5,000 vectors (texts 1-%s) are kept in %s", human.Thousands(rows), human.Thousands(rows), partial)
			if !strings.Contains(err.Error(), msg) {
				t.Errorf("error %q, want it to say %q", err, msg)
			}
			if !slices.Equal(got, want[:rows*32]) {
				t.Errorf("the %d rows kept differ from a complete run's first ones", rows)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s exists after an interrupted run", out)
			}
			t.Logf("interrupted at %d texts reported: %d rows kept; %v", reported.Load(), rows, err)
		})
	}
}
