package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/embed/openai"
	"github.com/kura-go/kura/embed/tokens"
	"github.com/kura-go/kura/ingest"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/internal/progress"
	"github.com/kura-go/kura/vecfile"
	"github.com/spf13/cobra"
)

func init() { register(newEmbedCmd) }

type embedCmdFlags struct {
	in, out, kind, statsJSON string
	inputFormat              string
	chunk                    int
	ef                       embedderFlags
	mon                      monitorFlags
}

func newEmbedCmd() *cobra.Command {
	var f embedCmdFlags
	cmd := &cobra.Command{
		Use:   "embed --in FILE --out VECTORS.npy",
		Short: "Embed summaries, conversations or lines of text into a .npy matrix",
		Long: `embed turns texts into vectors, one row per record, in input order, and writes
them as a float32 .npy matrix (or raw .f32).

Input: Kura summaries or conversations as JSONL or Parquet, conversations
exported as a JSON array (Kura's conversations.json, a Claude.ai or a ChatGPT
data export, told by content or by --input-format, read one conversation at a
time), or plain text with one text per line (.txt). A summary is embedded as its own fields (summary,
request, task, topic, languages, assistant errors; never chat_id or metadata);
a conversation as its messages, "role: content" per line.

The closing line (stdout) gives the count, time, throughput, requests,
retries, tokens and cost; --stats-json writes the same as JSON.

--out appears only once every text is embedded. If embedding stops part way
(an API error, Ctrl-C), the exit status is 1 and the vectors of the first
texts, done so far, are kept in a valid file named like --out with ".partial"
before the extension (v.partial.npy), which the error names.`,
		Example: `  # Offline, with the weights-free hash embedder
  kura embed --in checkpoints/summaries.jsonl --out vectors.npy --embedder hash

  # OpenAI (reads OPENAI_API_KEY), 5 requests of 50 texts in flight
  kura embed --in summaries.jsonl --out vectors.npy --embedder openai --model text-embedding-3-small

  # Rehearse against a local fake API with latency and rate limits
  kura mock-api --latency 100ms --rate-limit-rate 0.3 &
  kura embed --in summaries.jsonl --out v.npy --embedder openai --base-url http://127.0.0.1:8089/v1

  # No API calls at all: deterministic vectors, API-equivalent accounting
  kura embed --in texts.txt --out v.npy --mock --stats-json stats.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runEmbed(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.in, "in", "", "input: summaries or conversations (.jsonl, .parquet), or text lines (.txt)")
	fl.StringVar(&f.out, "out", "", "output vectors: .npy (float32) or .f32 (raw little-endian float32)")
	fl.StringVar(&f.kind, "kind", "auto", "input records: auto, summaries, conversations or text (auto: from the file name, else the first record)")
	fl.StringVar(&f.inputFormat, "input-format", "auto", "format of conversations: auto (told by content), kura, kura-json, claude or chatgpt")
	fl.StringVar(&f.statsJSON, "stats-json", "", "also write the run's statistics to this JSON file")
	fl.IntVar(&f.chunk, "chunk", 20000, "texts per embedding call; two calls overlap so requests never pause, and memory stays bounded")
	f.ef.addFlags(fl)
	f.mon.addServe(fl)
	return cmd
}

// embedStats is what --stats-json writes.
type embedStats struct {
	Input          string      `json:"input"`
	Output         string      `json:"output"`
	Kind           string      `json:"kind"`
	Embedder       string      `json:"embedder"`
	Dims           int         `json:"dims"`
	Texts          int         `json:"texts"`
	Seconds        float64     `json:"seconds"`
	TextsPerSecond float64     `json:"texts_per_second"`
	SetupSeconds   float64     `json:"setup_seconds"` // building the embedder: IDF fit, model load (not in Seconds)
	Usage          embed.Usage `json:"usage"`
	// For embedders other than openai: the API model the estimate is for
	// (--model, default text-embedding-3-small), the cl100k_base tokens it
	// would bill for these texts, and what they would cost.
	APIModel   string   `json:"api_model,omitempty"`
	APITokens  int64    `json:"api_tokens,omitempty"`
	APICostUSD *float64 `json:"api_cost_usd,omitempty"`
}

func runEmbed(cmd *cobra.Command, f *embedCmdFlags) error {
	if f.in == "" || f.out == "" {
		return usageErrorf("--in and --out are required")
	}
	if _, err := vecfile.FormatOf(f.out); err != nil {
		return usageErrorf("--out: %v", err)
	}
	if f.chunk < 1 {
		return usageErrorf("--chunk must be at least 1, not %d", f.chunk)
	}
	if err := f.ef.validate(); err != nil {
		return err
	}
	// Find out now, not after embedding (and paying for) every text, that
	// an output cannot be written or would overwrite the input.
	if err := outfile.CheckDistinct([]string{f.in}, []string{f.out, f.statsJSON}); err != nil {
		return &usageError{err}
	}
	ctx := cmd.Context()
	inFormat, err := ingest.ParseFormat(f.inputFormat)
	if err != nil {
		return usageErrorf("--input-format: %v", err)
	}
	kind, texts, err := readEmbedInput(ctx, f.in, f.kind, inFormat)
	if err != nil {
		return err
	}
	if len(texts) == 0 {
		return fmt.Errorf("%s: no records to embed", f.in)
	}
	slog.Debug("input read", "file", f.in, "kind", kind, "texts", len(texts))

	mon, stopMon, err := f.mon.start(ctx, "embed", cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer stopMon()
	if mon != nil {
		f.ef.s.OnResponse = mon.ObserveRequest
	}
	setupStart := time.Now()
	e, err := f.ef.build(ctx, texts) // the hash embedder fits its IDF here; minilm loads its model
	if err != nil {
		return err
	}
	if err := tokens.Init(); err != nil { // load the tokenizer before the clock starts
		return err
	}
	setup := time.Since(setupStart)
	if ur, ok := e.(embed.UsageReporter); ok {
		if err := mon.WatchUsage(ur); err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
	}
	mon.ObserveStage("setup", setup.Seconds(), -1, -1, 0) // CPU and peak memory not measured here
	bar := progress.New(cmd.ErrOrStderr(), "embed", int64(len(texts)), stderrIsTerminal())
	start := time.Now()
	dims, err := embedToFile(ctx, e, texts, f.out, f.chunk, func(n int) { bar.Add(int64(n)); mon.AddConversations(n) })
	bar.Finish()
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	mon.ObserveStage("embed", elapsed.Seconds(), -1, -1, len(texts))

	st := embedStats{
		Input: f.in, Output: f.out, Kind: kind, Embedder: e.Name(), Dims: dims, Texts: len(texts),
		Seconds: elapsed.Seconds(), TextsPerSecond: float64(len(texts)) / elapsed.Seconds(),
		SetupSeconds: setup.Seconds(),
	}
	if ur, ok := e.(embed.UsageReporter); ok {
		st.Usage = ur.Usage()
	}
	if _, isAPI := e.(*openai.Client); !isAPI {
		// What the same texts would cost through the API: the mock has
		// counted them already; for local embedders count them now.
		st.APIModel, st.APITokens = f.ef.spec().APIModel(), st.Usage.Tokens
		if _, isMock := e.(*mock.Embedder); !isMock {
			st.APITokens, _ = embed.CountTokens(texts, embed.OpenAILimits)
		}
		if c, ok := f.ef.spec().APICost(st.APITokens); ok {
			st.APICostUSD = &c
		}
	}
	fmt.Fprintln(cmd.OutOrStdout(), closingLine(&st))
	if f.statsJSON != "" {
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil { // e.g. a cost that overflowed to +Inf: say so, write nothing
			return fmt.Errorf("--stats-json: cannot encode the statistics: %w", err)
		}
		if err := outfile.WriteFile(f.statsJSON, append(b, '\n')); err != nil {
			return fmt.Errorf("--stats-json: %w", err)
		}
	}
	return nil
}

func closingLine(st *embedStats) string {
	u := st.Usage
	var b strings.Builder
	fmt.Fprintf(&b, "embedded %d texts in %.2fs (%.0f texts/s) with %s, %d dims: %d requests, %d retries (%d rate-limited, %d errors), %d tokens",
		st.Texts, st.Seconds, st.TextsPerSecond, st.Embedder, st.Dims, u.Requests, u.Retries, u.RateLimited, u.Errors, u.Tokens)
	if u.Truncated > 0 {
		fmt.Fprintf(&b, " (%d inputs truncated)", u.Truncated)
	}
	fmt.Fprintf(&b, ", cost $%.4f", u.CostUSD)
	if st.APICostUSD != nil {
		fmt.Fprintf(&b, " (with %s via the API: %d tokens, $%.4f)", st.APIModel, st.APITokens, *st.APICostUSD)
	}
	fmt.Fprintf(&b, " -> %s", st.Output)
	return b.String()
}

// embedToFile embeds texts in chunks and streams the vectors to out, via a
// temporary file renamed into place only when everything succeeded. If
// embedding stops part way (an error, Ctrl-C), the vectors of the first
// texts, done so far, are kept as a valid file named like out with
// ".partial" before the extension, which the error names; a later complete
// run removes it. The
// chunking (two chunks in flight, so that an embedder's requests never
// drain at a chunk boundary) is embed.Stream's, shared with kura loadtest.
// progress is told of texts done. It returns the vector length.
func embedToFile(ctx context.Context, e embed.Embedder, texts []string, out string, chunk int, progress func(int)) (int, error) {
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(strings.TrimSuffix(out, filepath.Ext(out)))+fmt.Sprintf(".partial-%d", os.Getpid())+filepath.Ext(out))
	// partial receives the vectors done when a run stops part way.
	partial := strings.TrimSuffix(out, filepath.Ext(out)) + ".partial" + filepath.Ext(out)
	removeStaleTemps(out)
	var w *vecfile.Writer
	var row []float32
	dims, err := embed.Stream(ctx, e, texts, chunk, progress, func(lo int, vecs [][]float32) error {
		if w == nil {
			var err error
			if w, err = vecfile.Create(tmp, len(vecs[0])); err != nil {
				return err
			}
			row = make([]float32, 0, len(vecs[0])*min(chunk, 1024))
		}
		for i, v := range vecs {
			row = append(row, v...)
			if len(row) == cap(row) || i == len(vecs)-1 {
				if err := w.Write(row); err != nil {
					return err
				}
				row = row[:0]
			}
		}
		return nil
	})
	if err == nil && w == nil {
		err = fmt.Errorf("no texts to embed")
	}
	if err != nil {
		if w == nil {
			return 0, err
		}
		// The rows written are the first ones, in order: keep them (the
		// API calls that made them may have cost money) under a name that
		// does not claim to be the complete output.
		rows := w.Rows()
		if cerr := w.Close(); cerr == nil && rows > 0 && outfile.Move(tmp, partial) == nil {
			return 0, fmt.Errorf("%w; the first %d of %d vectors (texts 1-%d) are kept in %s", err, rows, len(texts), rows, partial)
		}
		os.Remove(tmp)
		return 0, err
	}
	if err := w.Close(); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if err := outfile.Move(tmp, out); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("--out: %w", err)
	}
	os.Remove(partial) // an earlier, interrupted run's
	return dims, nil
}

// removeStaleTemps removes the hidden temporary outputs (.NAME.partial-PID.EXT)
// that runs killed before they could clean up left beside out: those whose
// process no longer exists. A running embed's file is left alone.
func removeStaleTemps(out string) {
	ext := filepath.Ext(out)
	prefix := "." + filepath.Base(strings.TrimSuffix(out, ext)) + ".partial-"
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(out), globEscape(prefix)+"*"+globEscape(ext)))
	for _, m := range matches {
		pid, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), prefix), ext))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) && os.Remove(m) == nil {
			slog.Info("removed the temporary output of an embed run that was killed", "file", m, "pid", pid)
		}
	}
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}

// openCtx opens path for reading so that cancelling ctx (Ctrl-C) ends a
// read in progress: the file is closed, which also wakes a read blocked on
// a pipe. close must be called when done.
func openCtx(ctx context.Context, path string) (f *os.File, close func(), err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	return f, func() { stop(); f.Close() }, nil
}

// readLine reads a line of at most limit bytes (without its newline
// removed); a longer line is an error rather than read whole into memory.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > limit {
			return nil, fmt.Errorf("line longer than %d MiB; one record (or text) per line expected", limit>>20)
		}
		if len(line)+len(chunk) > cap(line) { // double: append's 1.25x growth allocates ~5x a long line
			line = append(make([]byte, 0, max(2*cap(line), len(line)+len(chunk))), line...)
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}

// readEmbedInput reads the texts to embed and says what they were.
func readEmbedInput(ctx context.Context, path, kindFlag string, inFormat ingest.Format) (string, []string, error) {
	kind := strings.ToLower(strings.TrimSpace(kindFlag))
	if kind == "auto" && inFormat != ingest.Auto {
		kind = "conversations" // --input-format names a format of conversations
	}
	if kind == "auto" {
		var err error
		if kind, err = detectEmbedKind(ctx, path); err != nil {
			return "", nil, err
		}
	}
	switch kind {
	case "text", "txt":
		texts, err := readTextLines(ctx, path)
		return "text", texts, err
	case "summaries", "summary":
		texts, err := readTexts(ctx, path, "summary has no text to embed", func(s *conversation.ConversationSummary) (string, string) {
			return s.Text(), s.ChatID
		})
		return "summaries", texts, err
	case "conversations", "conversation":
		// Through package ingest: Kura's checkpoint files and the JSON
		// arrays of conversations exports, streamed.
		var texts []string
		_, err := ingest.Read(ctx, path, ingest.Options{Format: inFormat}, func(c *conversation.Conversation) error {
			text := c.Text()
			if text == "" {
				return fmt.Errorf("%s: conversation %d (chat_id %q): conversation has no message text to embed", path, len(texts)+1, c.ChatID)
			}
			texts = append(texts, text)
			return nil
		})
		return "conversations", texts, err
	}
	return "", nil, usageErrorf("--kind must be auto, summaries, conversations or text, not %q", kindFlag)
}

// readTexts streams the records of path and keeps only the text of each
// (render returns it and the record's chat id), so that the records
// themselves are never all in memory. A record with no text is an error.
func readTexts[T conversation.Record](ctx context.Context, path, empty string, render func(*T) (text, chatID string)) ([]string, error) {
	r, err := conversation.Open[T](path, conversation.ReadOptions{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var texts []string
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := r.Next()
		if err == io.EOF {
			return texts, nil
		}
		if err != nil {
			return nil, err
		}
		text, id := render(&rec)
		if text == "" {
			return nil, fmt.Errorf("%s: record %d (chat_id %q): %s", path, len(texts)+1, id, empty)
		}
		texts = append(texts, text)
	}
}

// detectEmbedKind infers the input kind from the file name (.txt,
// summaries.jsonl, conversations.parquet, ...), else from the first JSONL
// record's fields.
func detectEmbedKind(ctx context.Context, path string) (string, error) {
	if strings.EqualFold(filepath.Ext(path), ".txt") {
		return "text", nil
	}
	if k, ok := conversation.KindOf(path); ok {
		switch k {
		case conversation.Summaries:
			return "summaries", nil
		case conversation.Conversations:
			return "conversations", nil
		default:
			return "", usageErrorf("%s holds %s; embed takes summaries, conversations or text", path, k.Label())
		}
	}
	if conversation.FormatOf(path) == conversation.Parquet {
		return "", usageErrorf("%s: cannot tell summaries from conversations by the name; give --kind", path)
	}
	f, done, err := openCtx(ctx, path)
	if err != nil {
		return "", err
	}
	defer done()
	br := bufio.NewReaderSize(f, 1<<20)
	// A JSON array: conversations exported by Kura, Claude.ai or ChatGPT
	// (package ingest tells which). Looked at before reading a line, which
	// may be the whole file.
	if b, _ := br.Peek(1 << 10); bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n"), []byte("[")) {
		return "conversations", nil
	}
	for line := 1; ; line++ {
		b, err := readLine(br, conversation.DefaultMaxLineBytes)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			var probe map[string]json.RawMessage
			if json.Unmarshal([]byte(t), &probe) != nil {
				return "", fmt.Errorf("%s:%d: not a JSON object; for plain text lines name the file .txt or give --kind text", path, line)
			}
			if _, ok := probe["messages"]; ok {
				return "conversations", nil
			}
			if _, ok := probe["summary"]; ok {
				return "summaries", nil
			}
			return "", fmt.Errorf("%s:%d: record has neither \"summary\" nor \"messages\"; give --kind", path, line)
		}
		if err == io.EOF {
			return "", fmt.Errorf("%s: empty file", path)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
	}
}

// invalidUTF8At returns the byte offset of the first invalid UTF-8 sequence
// in s, or -1.
func invalidUTF8At(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// readTextLines reads one text per line. Blank lines are an error: every
// line becomes a row of the output, and an empty text has no embedding (the
// OpenAI API rejects it). Invalid UTF-8 is an error too, naming line and
// byte, as in JSONL input: it would otherwise be replaced silently.
func readTextLines(ctx context.Context, path string) ([]string, error) {
	f, done, err := openCtx(ctx, path)
	if err != nil {
		return nil, err
	}
	defer done()
	var texts []string
	br := bufio.NewReaderSize(f, 1<<20)
	for line := 1; ; line++ {
		b, err := readLine(br, conversation.DefaultMaxLineBytes)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s := string(b)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if errors.Is(err, io.EOF) && s == "" {
			return texts, nil
		}
		s = strings.TrimRight(s, "\r\n")
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("%s:%d: invalid UTF-8 at byte %d (expected UTF-8 text; convert the file, e.g. iconv -f latin1 -t utf-8)", path, line, invalidUTF8At(s)+1)
		}
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("%s:%d: blank line: every line is one text to embed; remove blank lines", path, line)
		}
		texts = append(texts, s)
		if errors.Is(err, io.EOF) {
			return texts, nil
		}
	}
}
