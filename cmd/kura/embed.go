package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/embed/mock"
	"github.com/kura-go/kura/embed/openai"
	"github.com/kura-go/kura/embed/tokens"
	"github.com/kura-go/kura/ingest"
	"github.com/kura-go/kura/internal/gcfloor"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/internal/pidtemp"
	"github.com/kura-go/kura/internal/progress"
	"github.com/kura-go/kura/vecfile"
	"github.com/spf13/cobra"
)

func init() { register(newEmbedCmd) }

type embedCmdFlags struct {
	in, out, kind, statsJSON string
	inputFormat              string
	vectorDType              string
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
them as a float32 .npy matrix (or raw .f32). --vector-dtype float16 stores the
.npy as float16 ('<f2') instead: half the bytes, 11 significant bits (values
rounded to the nearest half, ties to even; a value beyond ±65504 stops the run
with an error naming the text and dimension). Every kura command that reads
vectors reads both.

Input: Kura summaries or conversations as JSONL or Parquet, conversations
exported as a JSON array (Kura's conversations.json, a Claude.ai or a ChatGPT
data export, told by content or by --input-format, read one conversation at a
time), or plain text with one text per line (.txt). A summary is embedded as
its own fields (summary, request, task, topic, languages, assistant errors;
never chat_id or metadata); a conversation as its messages, "role: content"
per line.

Progress goes to stderr: one line redrawn in place on a terminal, else a
line every 5 s. The closing line (stdout) gives the count, time,
throughput, requests, retries, tokens and cost; --stats-json writes the
same as JSON.

Through an API (--embedder openai) the first requests go out while the rest
of the input is read; an input found bad part way (a record that cannot be
read) stops the run after at most one request per --concurrency, with the
file and line. Other embedders read the whole input first.

--out appears only once every text is embedded. If embedding stops part way
(an API error, Ctrl-C), the exit status is 1 (130 after Ctrl-C) and the
vectors of the first texts, done so far, are kept in a valid file named like
--out with ".partial" before the extension (v.partial.npy), which the error
names: every text from the first up to the first one not yet embedded, with
any embedder, also within a --chunk. (minilm runs a chunk's texts shortest
first, so that run from the first text can be shorter than the count done.)`,
		Example: `  # Offline, with the weights-free hash embedder
  kura embed --in checkpoints/summaries.jsonl --out vectors.npy --embedder hash

  # OpenAI (reads OPENAI_API_KEY), 5 requests of 50 texts in flight
  kura embed --in summaries.jsonl --out vectors.npy \
      --embedder openai --model text-embedding-3-small

  # Rehearse against a local fake API with latency and rate limits
  kura mock-api --latency 100ms --rate-limit-rate 0.3 &
  kura embed --in summaries.jsonl --out v.npy \
      --embedder openai --base-url http://127.0.0.1:8089/v1

  # No API calls at all: deterministic vectors, API-equivalent accounting
  kura embed --in texts.txt --out v.npy --mock --stats-json stats.json

  # Half the storage
  kura embed --in summaries.jsonl --out vectors.npy \
      --embedder hash --vector-dtype float16`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runEmbed(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.in, "in", "", "input: summaries or conversations (.jsonl, .parquet), or text lines (.txt)")
	fl.StringVar(&f.out, "out", "", "output vectors: .npy (float32, or float16 with --vector-dtype) or .f32 (raw little-endian float32)")
	fl.StringVar(&f.vectorDType, "vector-dtype", "float32", "element type stored in --out: float32, or float16 (.npy only; half the size)")
	fl.StringVar(&f.kind, "kind", "auto", "input records: auto, summaries, conversations or text (auto: from the file name, else the first record)")
	fl.StringVar(&f.inputFormat, "input-format", "auto", "format of conversations: auto (told by content), kura, kura-json, claude or chatgpt")
	fl.StringVar(&f.statsJSON, "stats-json", "", "also write the run's statistics to this JSON file")
	fl.IntVar(&f.chunk, "chunk", 20000, "most texts whose vectors are held at once (API embedders keep their requests in flight across it; local ones embed this many per call)")
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
	VectorDType    string      `json:"vector_dtype"` // float32 or float16, as stored in Output
	VectorBytes    int64       `json:"vector_bytes"` // Output's size on disk
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

// embedGCFloor is the memory below which kura embed does not collect
// garbage (internal/gcfloor). An API run reaches its working set (texts
// read, requests and answers in flight) in its first tenth of a second;
// growing the heap there from the runtime's 4 MB start took four or more
// collections while the first requests were being prepared and sent. It
// is about the memory such a run holds at its steady state anyway.
const embedGCFloor = 24 << 20

func runEmbed(cmd *cobra.Command, f *embedCmdFlags) error {
	gcfloor.Set(embedGCFloor)
	if f.in == "" || f.out == "" {
		return usageErrorf("--in and --out are required")
	}
	outFormat, err := vecfile.FormatOf(f.out)
	if err != nil {
		return usageErrorf("--out: %v", err)
	}
	dtype, err := vecfile.ParseDType(f.vectorDType)
	if err != nil {
		return usageErrorf("--vector-dtype: %v", err)
	}
	if dtype != vecfile.Float32 && outFormat != vecfile.NPY {
		return usageErrorf("--vector-dtype %v needs a .npy --out: raw .f32 files hold float32 only", dtype)
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
	// An API embedder starts on the first texts while the rest of the input
	// is read (embed.StreamFeed: at most one request per request in flight
	// before the whole input has been read and found good). Other embedders
	// read it all first: hash fits on it, and local models take chunks.
	var (
		kind     string
		feed     *embed.Feed
		corpus   []string // all the texts, for the hash embedder to fit its IDF on
		readDone = make(chan struct{})
	)
	tokenizer := make(chan error, 1)
	if apiEmbedder(f.ef.spec()) {
		// The API client counts tokens only for the texts that need it
		// (embed.Batches), and loads the tokenizer then.
		tokenizer <- nil
		rctx, stopReading := context.WithCancel(ctx)
		defer stopReading()
		var r *conversation.TextReader
		if kind, r, err = openEmbedInput(rctx, f.in, f.kind, inFormat); err != nil {
			return err
		}
		feed = embed.NewFeed()
		go func() {
			defer close(readDone)
			feedTexts(r, f.in, kind, feed)
		}()
	} else {
		// The tokenizer (tens of milliseconds to build) loads on another
		// core while the input is read.
		go func() { tokenizer <- tokens.Init() }()
		if kind, corpus, err = readEmbedInput(ctx, f.in, f.kind, inFormat); err != nil {
			return err
		}
		if len(corpus) == 0 {
			return fmt.Errorf("%s: no records to embed", f.in)
		}
		slog.Debug("input read", "file", f.in, "kind", kind, "texts", len(corpus))
		feed = embed.FeedOf(corpus)
		close(readDone)
	}

	mon, stopMon, err := f.mon.start(ctx, "embed", cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer stopMon()
	if mon != nil {
		f.ef.s.OnResponse = mon.ObserveRequest
	}
	setupStart := time.Now()
	e, err := f.ef.build(ctx, corpus) // the hash embedder fits its IDF here; minilm loads its model
	if err != nil {
		return err
	}
	if err := <-tokenizer; err != nil { // loaded before the clock starts
		return err
	}
	setup := time.Since(setupStart)
	if ur, ok := e.(embed.UsageReporter); ok {
		if err := mon.WatchUsage(ur); err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
	}
	mon.ObserveStage("setup", setup.Seconds(), -1, -1, 0) // CPU and peak memory not measured here
	bar := progress.NewDisplay(cmd.ErrOrStderr(), stderrIsTerminal(), func() int { return terminalWidth(os.Stderr) })
	total, complete, _ := feed.Texts()
	if complete {
		bar.Begin("embed", "", int64(len(total)))
	} else {
		bar.Begin("embed", "", 0) // the count is shown once the input is read
		go func() {
			<-readDone
			if all, _, err := feed.Texts(); err == nil {
				bar.SetTotal(int64(len(all)))
			}
		}()
	}
	start := time.Now()
	dims, err := embedToFile(ctx, e, feed, f.out, dtype, f.chunk, func(n int) { bar.Add(int64(n)); mon.AddConversations(n) })
	bar.Finish()
	if err != nil {
		return err
	}
	texts, _, _ := feed.Texts()
	elapsed := time.Since(start)
	mon.ObserveStage("embed", elapsed.Seconds(), -1, -1, len(texts))

	st := embedStats{
		Input: f.in, Output: f.out, Kind: kind, Embedder: e.Name(), Dims: dims, VectorDType: dtype.String(), Texts: len(texts),
		Seconds: elapsed.Seconds(), TextsPerSecond: float64(len(texts)) / elapsed.Seconds(),
		SetupSeconds: setup.Seconds(),
	}
	if fi, err := os.Stat(f.out); err == nil {
		st.VectorBytes = fi.Size()
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
	fmt.Fprintln(cmd.OutOrStdout(), human.Wrap(closingLine(&st), terminalWidth(os.Stdout)))
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
	k := func(n int64) string { return human.Thousands(int(n)) }
	c := human.Count
	fmt.Fprintf(&b, "embedded %s in %.2fs (%s texts/s) with %s, %d dims: %s, %s (%s rate-limited, %s), %s",
		c(int64(st.Texts), "text", "texts"), st.Seconds, human.Thousands(int(st.TextsPerSecond+0.5)), st.Embedder, st.Dims,
		c(u.Requests, "request", "requests"), c(u.Retries, "retry", "retries"), k(u.RateLimited), c(u.Errors, "error", "errors"), c(u.Tokens, "token", "tokens"))
	if u.Truncated > 0 {
		fmt.Fprintf(&b, " (%s truncated)", c(u.Truncated, "input", "inputs"))
	}
	fmt.Fprintf(&b, ", cost $%.4f", u.CostUSD)
	if st.APICostUSD != nil {
		fmt.Fprintf(&b, " (with %s via the API: %s, $%.4f)", st.APIModel, c(st.APITokens, "token", "tokens"), *st.APICostUSD)
	}
	fmt.Fprintf(&b, " -> %s", st.Output)
	if st.VectorDType != "" && st.VectorDType != vecfile.Float32.String() {
		fmt.Fprintf(&b, " (%s, %s)", st.VectorDType, human.Bytes(float64(st.VectorBytes)))
	}
	return b.String()
}

// embedToFile embeds texts and streams the vectors to out as they come, in
// order, via a temporary file renamed into place only when everything
// succeeded. If embedding stops part way (an error, Ctrl-C), the vectors of
// the first texts, done so far, are kept as a valid file named like out
// with ".partial" before the extension, which the error names; a later
// complete run removes it. The pipelining (an API embedder's requests kept
// in flight while the vectors already answered are written, at most about
// chunk texts' vectors held) is embed.Stream's, shared with kura loadtest.
// progress is told of texts done. The values are stored as dtype (float32,
// or float16 for a .npy). It returns the vector length.
func embedToFile(ctx context.Context, e embed.Embedder, feed *embed.Feed, out string, dtype vecfile.DType, chunk int, progress func(int)) (int, error) {
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(strings.TrimSuffix(out, filepath.Ext(out)))+fmt.Sprintf(".partial-%d", os.Getpid())+filepath.Ext(out))
	// partial receives the vectors done when a run stops part way.
	partial := strings.TrimSuffix(out, filepath.Ext(out)) + ".partial" + filepath.Ext(out)
	removeStaleTemps(out)
	var (
		w       *vecfile.Writer
		sy      *backgroundSync
		written int
	)
	dims, err := embed.StreamFeed(ctx, e, feed, chunk, progress, func(lo int, vecs [][]float32) error {
		if w == nil {
			var err error
			if w, sy, err = createVectors(tmp, len(vecs[0]), dtype); err != nil {
				return err
			}
		}
		for i, v := range vecs {
			if err := w.WriteRow(v); err != nil {
				return fmt.Errorf("text %d: %w", lo+i+1, err)
			}
		}
		if written += dtype.Size() * len(vecs) * len(vecs[0]); written >= syncEvery {
			written = 0
			sy.request()
		}
		return nil
	})
	if sy != nil {
		sy.stop()
	}
	// closeVectors ends the .npy (its header's row count) and closes the file.
	closeVectors := func() error {
		err := w.Close()
		if cerr := sy.f.Close(); err == nil {
			err = cerr
		}
		return err
	}
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
		if cerr := closeVectors(); cerr == nil && rows > 0 && outfile.Move(tmp, partial) == nil {
			of := "" // the count of texts, when the input was read to its end
			if texts, complete, ferr := feed.Texts(); complete && ferr == nil {
				of = " of " + human.Thousands(len(texts))
			}
			return 0, fmt.Errorf("%w; the first %s%s vectors (texts 1-%s) are kept in %s", err, human.Thousands(rows), of, human.Thousands(rows), partial)
		}
		os.Remove(tmp)
		return 0, err
	}
	if err := closeVectors(); err != nil {
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

// syncEvery is how many bytes of vectors kura embed writes between two
// background flushes of the output to disk: the flush at the end (before
// the rename that publishes --out) is then of the last MiB or so only, not
// of the whole matrix after the last answer. (At 8 MiB the end of a 5,000 ×
// 1,536 run waited ~20 ms for flushes, at 1 MiB ~15 ms, most of it the
// rename replacing an earlier output; docs/PERFORMANCE.md.)
const syncEvery = 1 << 20

// createVectors creates the vector file at path for rows of cols values
// stored as dtype, with a background flusher of it.
func createVectors(path string, cols int, dtype vecfile.DType) (*vecfile.Writer, *backgroundSync, error) {
	format, err := vecfile.FormatOf(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	var w *vecfile.Writer
	if format == vecfile.NPY {
		w, err = vecfile.NewNPYWriterAs(f, cols, dtype)
	} else {
		w, err = vecfile.NewF32Writer(f, cols)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, newBackgroundSync(f), nil
}

// backgroundSync flushes a file being written to disk in its own goroutine
// when asked, so that writing goes on meanwhile; requests made while a
// flush runs are merged into the next one.
type backgroundSync struct {
	f    *os.File
	req  chan struct{}
	done chan struct{}
}

func newBackgroundSync(f *os.File) *backgroundSync {
	b := &backgroundSync{f: f, req: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for range b.req {
			b.f.Sync() // an error shows again in the final flush, which is checked
		}
	}()
	return b
}

func (b *backgroundSync) request() {
	select {
	case b.req <- struct{}{}:
	default:
	}
}

// stop waits for a flush in progress; the file stays open.
func (b *backgroundSync) stop() {
	close(b.req)
	<-b.done
}

// removeStaleTemps removes the hidden temporary outputs (.NAME.partial-PID.EXT)
// that runs killed before they could clean up left beside out, and
// internal/outfile's temporary files there: those whose process no longer
// exists. A running process's files are left alone.
func removeStaleTemps(out string) {
	ext := filepath.Ext(out)
	prefix := "." + filepath.Base(strings.TrimSuffix(out, ext)) + ".partial-"
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(out), globEscape(prefix)+"*"+globEscape(ext)))
	for _, m := range matches {
		pid, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), prefix), ext))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if pidtemp.Dead(pid) && os.Remove(m) == nil {
			slog.Info("removed a killed run's temporary output", "pid", pid, "file", m)
		}
	}
	// --stats-json's, when it was killed while writing it.
	if removed, _ := outfile.RemoveStaleTemps(filepath.Dir(out)); len(removed) > 0 {
		slog.Info("removed a killed run's temporary files", "files", removed)
	}
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}

// apiEmbedder reports whether the embedder spec chooses is the API client
// (false when the spec is wrong: building the embedder says how).
func apiEmbedder(s backend.Spec) bool {
	kind, _, err := backend.Choose(s)
	return err == nil && kind == "openai"
}

// feedTexts reads the texts of r into feed as they come, a few at a time,
// and closes it: with r's error, or when r held no text an error saying so.
func feedTexts(r *conversation.TextReader, path, kind string, feed *embed.Feed) {
	defer r.Close()
	const group = 32 // texts handed over at once
	buf := make([]string, 0, group)
	n := 0
	for {
		t, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			feed.Add(buf...)
			feed.Close(err)
			return
		}
		n++
		if buf = append(buf, t.Text); len(buf) == group {
			feed.Add(buf...)
			buf = buf[:0]
		}
	}
	feed.Add(buf...)
	if n == 0 {
		feed.Close(fmt.Errorf("%s: no records to embed", path))
		return
	}
	slog.Debug("input read", "file", path, "kind", kind, "texts", n)
	feed.Close(nil)
}

// readEmbedInput reads the texts to embed and says what they were.
// Summaries and text lines, and conversations in Kura's files, are read by
// conversation.TextReader; conversations in other formats (the JSON arrays
// of exports) through package ingest, into the same reader.
func readEmbedInput(ctx context.Context, path, kindFlag string, inFormat ingest.Format) (string, []string, error) {
	kind, r, err := openEmbedInput(ctx, path, kindFlag, inFormat)
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	texts, err := r.All()
	return kind, texts, err
}

// openEmbedInput opens the input and says what it holds (see
// readEmbedInput).
func openEmbedInput(ctx context.Context, path, kindFlag string, inFormat ingest.Format) (string, *conversation.TextReader, error) {
	var kind conversation.TextKind
	switch k := strings.ToLower(strings.TrimSpace(kindFlag)); {
	case k == "auto" && inFormat != ingest.Auto:
		kind = conversation.ConversationTexts // --input-format names a format of conversations
	case k == "auto":
		var err error
		if kind, err = detectEmbedKind(ctx, path); err != nil {
			return "", nil, err
		}
	default:
		var err error
		if kind, err = conversation.ParseTextKind(k); err != nil {
			return "", nil, usageErrorf("--kind must be auto, summaries, conversations or text, not %q", kindFlag)
		}
	}
	var r *conversation.TextReader
	if kind == conversation.ConversationTexts {
		ir, err := ingest.Open(path, ingest.Options{Format: inFormat})
		if err != nil {
			return "", nil, err
		}
		r = conversation.NewTextReader(ctx, ir.Path(), func() (conversation.Conversation, error) { return ir.Next(ctx) }, ir.Close)
	} else {
		var err error
		if r, err = conversation.OpenTexts(ctx, path, kind, conversation.ReadOptions{}); err != nil {
			return "", nil, err
		}
	}
	return kind.String(), r, nil
}

// detectEmbedKind infers the input kind from the file name (.txt,
// summaries.jsonl, conversations.parquet, ...), else from the first JSONL
// record's fields.
func detectEmbedKind(ctx context.Context, path string) (conversation.TextKind, error) {
	if strings.EqualFold(filepath.Ext(path), ".txt") {
		return conversation.PlainTexts, nil
	}
	if k, ok := conversation.KindOf(path); ok {
		switch k {
		case conversation.Summaries:
			return conversation.SummaryTexts, nil
		case conversation.Conversations:
			return conversation.ConversationTexts, nil
		default:
			return 0, usageErrorf("%s holds %s; embed takes summaries, conversations or text", path, k.Label())
		}
	}
	if conversation.FormatOf(path) == conversation.Parquet {
		return 0, usageErrorf("%s: cannot tell summaries from conversations by the name; give --kind", path)
	}
	k, err := conversation.DetectTextKind(ctx, path)
	if err != nil && ctx.Err() == nil && !errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%w; give --kind (for plain text lines, --kind text or name the file .txt)", err)
	}
	return k, err
}
