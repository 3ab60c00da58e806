package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/ingest"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/internal/procstat"
	"github.com/kura-go/kura/internal/progress"
	"github.com/kura-go/kura/llm"
	"github.com/kura-go/kura/vecfile"
)

// The stages, in order.
const (
	StageSummarise = "summarise"
	StageEmbed     = "embed"
	StageCluster   = "cluster"
	StageName      = "name"
	StageHierarchy = "hierarchy"
	StageMap       = "map"
)

// Stages lists the stages in the order they run.
var Stages = []string{StageSummarise, StageEmbed, StageCluster, StageName, StageHierarchy, StageMap}

// Files written in the output directory besides Kura's checkpoint files.
const (
	EmbeddingsName = "embeddings.npy"     // one row per summary, in summaries order
	LabelsName     = "cluster_labels.txt" // one base-cluster label per summary, -1 noise
)

// EmbedderFactory builds the embedder of the embed stage.
type EmbedderFactory struct {
	// ID names the embedder and every setting that changes its vectors
	// (part of the stage's fingerprint).
	ID map[string]string
	// Build makes the embedder; corpus is the text about to be embedded
	// (the hash embedder fits its weights on it).
	Build func(ctx context.Context, corpus []string) (embed.Embedder, error)
}

// Options configure a run.
type Options struct {
	// Data is a Kura checkpoint directory (conversations and/or summaries),
	// a conversations or summaries file, or a conversations.json (Kura's, a
	// Claude.ai or a ChatGPT export; see package ingest).
	Data string
	// InputFormat forces the conversations' format (package ingest); ""
	// tells it by content.
	InputFormat ingest.Format
	// SkipInvalid skips invalid conversations (logged) instead of stopping.
	SkipInvalid bool
	// Out is the output directory (created if needed). It must not be the
	// Data directory.
	Out string
	// Format is "jsonl" (default) or "parquet" for the checkpoint files.
	Format string
	// Summarizer is "auto" (existing summaries if Data has them, else llm
	// when LLM is set, else extractive), "existing", "extractive" or "llm".
	Summarizer string
	// LLM is the chat model of the LLM stages; nil keeps everything offline.
	LLM ChatModel
	// MaxConversationTokens truncates conversations sent to the LLM.
	MaxConversationTokens int
	// CacheDir holds the LLM answer cache; "" means Out/cache.
	CacheDir string
	// NoCache turns the LLM answer cache off.
	NoCache bool
	// Embedder builds the embedder.
	Embedder EmbedderFactory
	// VectorDType is how embeddings.npy stores the vectors: 0 or
	// vecfile.Float32, or vecfile.Float16 (half the bytes; the stages that
	// read the vectors widen them to float32 in memory). A change of it
	// reruns the embed stage, and the stages after it.
	VectorDType vecfile.DType
	// Cluster, Name, Hierarchy and Map configure those stages. Name.Method
	// and Hierarchy.Method "" mean llm when LLM is set, else offline.
	Cluster   cluster.Spec
	Name      NameOptions
	Hierarchy HierarchyOptions
	Map       MapOptions
	// Until, when set, is the last stage to run (a load test measures the
	// stages one prefix at a time); "" runs them all.
	Until string
	// Workers is the number of goroutines of the offline summariser; 0
	// means GOMAXPROCS.
	Workers int
	// Progress receives progress bars when ProgressBars is true.
	Progress     io.Writer
	ProgressBars bool
	// Logger receives what each stage did; nil means slog.Default().
	Logger *slog.Logger
	// OnStage, when set, receives each stage's accounting as the stage
	// ends (ran, skipped or failed), e.g. for monitoring.
	OnStage func(StageStats)
}

// StageStats is what one stage did and spent.
type StageStats struct {
	Stage   string  `json:"stage"`
	Status  string  `json:"status"` // "ran", "resumed", "skipped", "failed" or "stopped" (interrupted)
	Reason  string  `json:"reason"` // why it ran, or why it was skipped
	Items   int     `json:"items"`  // conversations, summaries or clusters handled
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the process's CPU time during the stage; PeakRSSBytes
	// the process's peak resident memory during it (since the kernel's
	// peak mark was reset at the stage's start, where /proc allows).
	CPUSeconds   float64 `json:"cpu_seconds"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	// Calls are LLM calls (or embedding requests); Requests count retries too.
	Calls        int64   `json:"calls"`
	Requests     int64   `json:"requests"`
	Retries      int64   `json:"retries"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	CacheHits    int     `json:"cache_hits,omitempty"`
	Resumed      int     `json:"resumed,omitempty"` // items kept from an interrupted run
}

func (s *StageStats) addLLM(u llm.Usage) {
	s.Calls += u.Calls
	s.Requests += u.Requests
	s.Retries += u.Retries
	s.InputTokens += u.PromptTokens
	s.OutputTokens += u.CompletionTokens
	s.CostUSD += u.CostUSD
}

// Result is the outcome of a run.
type Result struct {
	Dir    string
	Stages []StageStats
}

// Total sums the stages.
func (r *Result) Total() StageStats {
	t := StageStats{Stage: "total"}
	for _, s := range r.Stages {
		t.Items = max(t.Items, s.Items)
		t.Seconds += s.Seconds
		t.CPUSeconds += s.CPUSeconds
		t.PeakRSSBytes = max(t.PeakRSSBytes, s.PeakRSSBytes)
		t.Calls += s.Calls
		t.Requests += s.Requests
		t.Retries += s.Retries
		t.InputTokens += s.InputTokens
		t.OutputTokens += s.OutputTokens
		t.CostUSD += s.CostUSD
		t.CacheHits += s.CacheHits
	}
	return t
}

type runner struct {
	o      Options
	ext    string
	conv   string // conversations file ("" if none)
	sums   string // existing summaries file ("" if none)
	source string // summariser chosen
	man    *Manifest
	cache  *AnswerCache // LLM answers; nil without an LLM or with NoCache
	hits   atomic.Int64 // answers the cache gave names and hierarchy
	log    *slog.Logger
	res    *Result
}

func (r *runner) path(name string) string { return filepath.Join(r.o.Out, name) }

// Run runs every stage whose inputs or parameters changed since the last
// run in Out, and returns what each stage did. Stages that fail leave the
// files of earlier stages in place; a rerun resumes.
func Run(ctx context.Context, o Options) (*Result, error) {
	r := &runner{o: o, log: o.Logger, res: &Result{Dir: o.Out}}
	if r.log == nil {
		r.log = slog.Default()
	}
	if err := r.setup(); err != nil {
		return r.res, err
	}
	if o.LLM != nil && !o.NoCache {
		dir := o.CacheDir
		if dir == "" {
			dir = r.path("cache")
		}
		c, err := OpenAnswerCache(dir)
		if err != nil {
			return r.res, err
		}
		defer c.Close()
		r.cache = c
	}
	for _, s := range r.stages() {
		if err := r.runStage(ctx, s); err != nil {
			return r.res, fmt.Errorf("%s: %w", s.name, err)
		}
		if s.name == r.o.Until {
			break
		}
	}
	return r.res, nil
}

// ErrUsage marks errors in the options (the caller's to fix).
var ErrUsage = errors.New("invalid run options")

type usageError struct{ error }

func (e usageError) Unwrap() error        { return e.error }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

func (r *runner) setup() error {
	o := &r.o
	switch o.Format {
	case "", "jsonl":
		r.ext = ".jsonl"
	case "parquet":
		r.ext = ".parquet"
	default:
		return usagef("format must be jsonl or parquet, not %q", o.Format)
	}
	switch o.VectorDType {
	case 0, vecfile.Float32, vecfile.Float16:
	default:
		return usagef("vectors are stored as float32 or float16, not %v", o.VectorDType)
	}
	if o.Data == "" || o.Out == "" {
		return usagef("both the data and the output directory are needed")
	}
	if o.Embedder.Build == nil {
		return usagef("no embedder")
	}
	if o.Until != "" && !slices.Contains(Stages, o.Until) {
		return usagef("unknown stage %q to stop after (want one of %s)", o.Until, strings.Join(Stages, ", "))
	}
	if o.Until == StageMap && o.Map.Skip {
		return usagef("the map stage is skipped, so the run cannot stop after it")
	}
	if o.Cluster.Algorithm == "" {
		o.Cluster = cluster.DefaultSpec()
	}
	if err := o.Cluster.Validate(); err != nil {
		return usageError{err}
	}
	fi, err := os.Stat(o.Data)
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return fmt.Errorf("data %s: %w", o.Data, pe.Err) // not "data: stat PATH: ..."
	} else if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if fi.IsDir() {
		cp, err := conversation.FindCheckpoint(o.Data)
		if err == nil {
			r.conv, r.sums = cp.Conversations, cp.Summaries
		}
		if r.conv == "" {
			// An unpacked export: Kura's, Claude.ai's or ChatGPT's conversations.json.
			if p := filepath.Join(o.Data, "conversations.json"); fileExists(p) {
				r.conv = p
			} else if err != nil {
				return err
			}
		}
		if same, _ := sameDir(o.Data, o.Out); same {
			return usagef("the output directory %s is the data directory: choose another, so that Kura's files there are not overwritten", o.Out)
		}
	} else {
		k, ok := conversation.KindOf(o.Data)
		switch {
		case ok && k == conversation.Summaries:
			r.sums = o.Data
		case ok && k == conversation.Conversations, !ok:
			r.conv = o.Data
		default:
			return usagef("%s holds %s: give conversations or summaries", o.Data, k.Label())
		}
	}
	switch o.Summarizer {
	case "", "auto":
		switch {
		case r.sums != "":
			r.source = "existing"
		case o.LLM != nil:
			r.source = "llm"
		default:
			r.source = "extractive"
		}
	case "existing":
		if r.sums == "" {
			return usagef("--summarizer existing: %s has no summaries file", o.Data)
		}
		r.source = "existing"
	case "llm":
		if o.LLM == nil {
			return usagef("--summarizer llm needs an LLM (--llm-base-url)")
		}
		r.source = "llm"
	case "extractive":
		r.source = "extractive"
	default:
		return usagef("summarizer must be auto, existing, extractive or llm, not %q", o.Summarizer)
	}
	if r.source != "existing" && r.conv == "" {
		return usagef("%s has no conversations file to summarise", o.Data)
	}
	for _, m := range []*string{&o.Name.Method, &o.Hierarchy.Method} {
		if *m == "" || *m == "auto" {
			*m = ""
			if o.LLM != nil {
				*m = "llm"
			}
		}
	}
	if o.Name.Method == "" {
		o.Name.Method = "keywords"
	}
	if o.Hierarchy.Method == "" {
		o.Hierarchy.Method = "agglomerative"
	}
	if o.Name.Method != "keywords" && o.Name.Method != "llm" {
		return usagef("naming must be keywords or llm, not %q", o.Name.Method)
	}
	if o.Hierarchy.Method != "agglomerative" && o.Hierarchy.Method != "llm" {
		return usagef("hierarchy must be agglomerative or llm, not %q", o.Hierarchy.Method)
	}
	if (o.Name.Method == "llm" || o.Hierarchy.Method == "llm") && o.LLM == nil {
		return usagef("LLM naming needs an LLM (--llm-base-url)")
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	man, why := readManifest(o.Out)
	if why != "" {
		r.log.Warn(why)
	}
	r.man = man
	return nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func sameDir(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, nil
	}
	return os.SameFile(fa, fb), nil
}

// stage is one step: its parameters, input files, output files, and work.
type stage struct {
	name    string
	params  map[string]string
	inputs  []string // paths whose content the stage depends on
	outputs []string // names in Out
	run     func(ctx context.Context, sc *stageCtx) error
}

type stageCtx struct {
	onEnd  []func()
	st     *StageStats
	prev   *StageManifest
	fp     string
	bar    *progress.Bar
	runner *runner
}

func (sc *stageCtx) newBar(label string, total int) {
	sc.bar = progress.New(sc.runner.o.Progress, fmt.Sprintf("%-9s", label), int64(total), sc.runner.o.ProgressBars && sc.runner.o.Progress != nil)
}

func (sc *stageCtx) item() { sc.bar.Add(1) }

func (r *runner) runStage(ctx context.Context, s stage) error {
	st := StageStats{Stage: s.name}
	inputs := map[string]string{}
	for _, p := range s.inputs {
		h, err := hashFile(p)
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		inputs[filepath.Base(p)] = h
	}
	fp := fingerprint(s.name, s.params, inputs)
	prev := r.man.Stages[s.name]
	why := whyRun(prev, fp, s.params, inputs, r.o.Out)
	if why == "" {
		st.Status, st.Reason = "skipped", "inputs and parameters unchanged"
		if prev.Stats != nil {
			st.Items = prev.Stats.Items
		}
		r.log.Info("skipped", "stage", s.name, "why", st.Reason)
		r.res.Stages = append(r.res.Stages, st)
		if r.o.OnStage != nil {
			r.o.OnStage(st)
		}
		return nil
	}
	st.Status, st.Reason = "ran", why
	r.log.Info("running", "stage", s.name, "why", why)
	r.man.Stages[s.name] = &StageManifest{Fingerprint: fp, Params: s.params, Inputs: inputs}
	if err := r.man.write(r.o.Out); err != nil {
		return err
	}
	sc := &stageCtx{st: &st, prev: prev, fp: fp, runner: r}
	_ = procstat.ResetPeak() // without /proc the peak is the process's
	before, _ := procstat.Read()
	start := time.Now()
	err := s.run(ctx, sc)
	for _, f := range sc.onEnd {
		f()
	}
	sc.bar.Finish()
	st.Seconds = time.Since(start).Seconds()
	if after, perr := procstat.Read(); perr == nil {
		st.CPUSeconds = (after.CPU - before.CPU).Seconds()
		st.PeakRSSBytes = after.PeakRSS
	}
	switch {
	case err != nil && ctx.Err() != nil:
		st.Status = "stopped" // the closing table said "ran" of a stage cut short
	case err != nil:
		st.Status = "failed"
	}
	r.res.Stages = append(r.res.Stages, st)
	if r.o.OnStage != nil {
		r.o.OnStage(st)
	}
	if err != nil {
		r.man.Stages[s.name].Stats = &st
		_ = r.man.write(r.o.Out)
		return err
	}
	outs := map[string]string{}
	for _, name := range s.outputs {
		h, err := hashFile(r.path(name))
		if err != nil {
			return fmt.Errorf("output: %w", err)
		}
		outs[name] = h
	}
	m := r.man.Stages[s.name]
	m.Outputs, m.Complete, m.Finished, m.Stats = outs, true, time.Now().UTC(), &st
	return r.man.write(r.o.Out)
}

func mergeParams(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func (r *runner) stages() []stage {
	o := r.o
	sumName := conversation.Summaries.String() + r.ext
	clName := conversation.Clusters.String() + r.ext
	metaName := conversation.MetaClusters.String() + r.ext
	dimName := conversation.Dimensionality.String() + r.ext

	// Summarise.
	var sum Summarizer
	var sumParams map[string]string
	var sumInputs []string
	switch r.source {
	case "existing":
		sumParams = map[string]string{"summarizer": "existing"}
		sumInputs = []string{r.sums}
	case "llm":
		s := &LLMSummarizer{Model: o.LLM, MaxConversationTokens: o.MaxConversationTokens}
		sum = s
		sumParams = s.ID()
		sumInputs = []string{r.conv}
	default:
		sum = Extractive{}
		sumParams = sum.ID()
		sumInputs = []string{r.conv}
	}
	sumParams["format"] = r.ext
	if r.source != "existing" {
		sumParams["input_format"] = string(o.InputFormat)
		sumParams["skip_invalid"] = strconv.FormatBool(o.SkipInvalid)
	}
	stages := []stage{{
		name: StageSummarise, params: sumParams, inputs: sumInputs, outputs: []string{sumName},
		run: func(ctx context.Context, sc *stageCtx) error { return r.summarise(ctx, sc, sum, sumName) },
	}}

	// Embed.
	embedParams := map[string]string{"text": "embed.SummaryText/1"}
	if o.VectorDType != 0 && o.VectorDType != vecfile.Float32 {
		// Only when not float32, so that the fingerprints of runs made
		// before the option still match.
		embedParams["vector_dtype"] = o.VectorDType.String()
	}
	stages = append(stages, stage{
		name: StageEmbed, params: mergeParams(o.Embedder.ID, embedParams),
		inputs: []string{r.path(sumName)}, outputs: []string{EmbeddingsName},
		run: func(ctx context.Context, sc *stageCtx) error { return r.embed(ctx, sc, sumName) },
	})

	// Cluster.
	stages = append(stages, stage{
		name: StageCluster, params: clusterParams(o.Cluster),
		inputs: []string{r.path(EmbeddingsName)}, outputs: []string{LabelsName},
		run: func(ctx context.Context, sc *stageCtx) error { return r.cluster(ctx, sc) },
	})

	// Name.
	stages = append(stages, stage{
		name: StageName, params: mergeParams(o.Name.params(o.LLM), map[string]string{"format": r.ext}),
		inputs:  []string{r.path(sumName), r.path(EmbeddingsName), r.path(LabelsName)},
		outputs: []string{clName},
		run:     func(ctx context.Context, sc *stageCtx) error { return r.name(ctx, sc, sumName, clName) },
	})

	// Hierarchy.
	stages = append(stages, stage{
		name: StageHierarchy, params: mergeParams(o.Hierarchy.params(o.LLM), map[string]string{"format": r.ext}),
		inputs:  []string{r.path(sumName), r.path(EmbeddingsName), r.path(clName)},
		outputs: []string{metaName},
		run:     func(ctx context.Context, sc *stageCtx) error { return r.hierarchy(ctx, sc, sumName, clName, metaName) },
	})

	// Map.
	if !o.Map.Skip {
		stages = append(stages, stage{
			name: StageMap, params: mergeParams(o.Map.id(), map[string]string{"format": r.ext}),
			inputs:  []string{r.path(sumName), r.path(EmbeddingsName), r.path(metaName)},
			outputs: []string{dimName, ConversationMapName},
			run:     func(ctx context.Context, sc *stageCtx) error { return r.mapStage(ctx, sc, sumName, metaName, dimName) },
		})
	}
	return stages
}

// chat is the LLM of the name and hierarchy stages: through the answer
// cache when there is one (the stage's CacheHits count its answers).
func (r *runner) chat(sc *stageCtx) ChatModel {
	if r.o.LLM == nil || r.cache == nil {
		return r.o.LLM
	}
	start := r.hits.Load()
	sc.onEnd = append(sc.onEnd, func() { sc.st.CacheHits += int(r.hits.Load() - start) })
	return cachedModel{ChatModel: r.o.LLM, cache: r.cache, hits: &r.hits}
}

func (r *runner) readSummaries(name string) ([]conversation.ConversationSummary, error) {
	return conversation.ReadFile[conversation.ConversationSummary](r.path(name), conversation.ReadOptions{})
}

func (r *runner) summarise(ctx context.Context, sc *stageCtx, sum Summarizer, outName string) error {
	if r.source == "existing" {
		sums, err := conversation.ReadFile[conversation.ConversationSummary](r.sums, conversation.ReadOptions{})
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(sums))
		for i := range sums {
			if seen[sums[i].ChatID] {
				return fmt.Errorf("%s: record %d: chat_id %q appears twice", r.sums, i+1, sums[i].ChatID)
			}
			seen[sums[i].ChatID] = true
		}
		sc.st.Items = len(sums)
		sc.st.Reason += " (existing summaries from " + r.sums + ")"
		return conversation.WriteFile(r.path(outName), sums)
	}
	partial := partialPath(r.o.Out)
	done := map[string]conversation.ConversationSummary{}
	if sc.prev != nil && !sc.prev.Complete && sc.prev.Fingerprint == sc.fp {
		var err error
		if done, err = readPartial(partial); err != nil {
			return err
		}
		if len(done) > 0 {
			sc.st.Status = "resumed"
			sc.st.Reason = fmt.Sprintf("resuming an interrupted run: %d summaries already done", len(done))
		}
	} else if err := os.Remove(partial); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if s, ok := sum.(*LLMSummarizer); ok && r.cache != nil {
		s.Cache = r.cache
		defer func() { s.Cache = nil }()
	}
	app, err := openAppender(partial)
	if err != nil {
		return err
	}
	defer app.close()
	workers := r.o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if _, ok := sum.(*LLMSummarizer); ok {
		workers = 512 // the client bounds the requests in flight (--llm-concurrency)
	}
	total, err := countRecords(r.conv)
	if err != nil {
		return err
	}
	sc.newBar("summarise", total)
	in := ingest.Options{Format: r.o.InputFormat, SkipInvalid: r.o.SkipInvalid, OnSkip: func(err error) {
		r.log.Warn("skipped an invalid conversation", "err", err)
	}}
	sums, err := summariseConversations(ctx, r.conv, in, sum, workers, done, app, sc.st, sc.item)
	if err != nil {
		return err
	}
	sc.st.Items = len(sums)
	if err := conversation.WriteFile(r.path(outName), sums); err != nil {
		return err
	}
	app.close()
	return os.Remove(partial)
}

// countRecords counts the records of a file cheaply: lines of a JSONL
// file (for the progress bar only), rows of Parquet.
func countRecords(path string) (int, error) {
	if conversation.FormatOf(path) != conversation.JSONL {
		return 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := f.Read(buf)
		for _, b := range buf[:k] {
			if b == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func (r *runner) embed(ctx context.Context, sc *stageCtx, sumName string) error {
	sums, err := r.readSummaries(sumName)
	if err != nil {
		return err
	}
	texts := make([]string, len(sums))
	for i := range sums {
		texts[i] = sums[i].Text()
	}
	e, err := r.o.Embedder.Build(ctx, texts)
	if err != nil {
		return err
	}
	sc.newBar("embed", len(texts))
	ctx = embed.WithProgress(ctx, func(n int) { sc.bar.Add(int64(n)) })
	var before embed.Usage
	rep, hasUsage := e.(embed.UsageReporter)
	if hasUsage {
		before = rep.Usage()
	}
	vecs, err := e.Embed(ctx, texts)
	if err != nil {
		return err
	}
	if hasUsage {
		u := rep.Usage()
		sc.st.Requests = u.Requests - before.Requests
		sc.st.Calls = sc.st.Requests - (u.Retries - before.Retries)
		sc.st.Retries = u.Retries - before.Retries
		sc.st.InputTokens = u.Tokens - before.Tokens
		sc.st.CostUSD = u.CostUSD - before.CostUSD
	}
	d := e.Dims()
	flat := make([]float32, 0, len(vecs)*d)
	for i, v := range vecs {
		if len(v) != d {
			return fmt.Errorf("embedder %s returned %d values for summary %d, want %d", e.Name(), len(v), i+1, d)
		}
		flat = append(flat, v...)
	}
	sc.st.Items = len(vecs)
	dt := r.o.VectorDType
	if dt == 0 {
		dt = vecfile.Float32
	}
	return vecfile.WriteAs(r.path(EmbeddingsName), flat, len(vecs), d, dt)
}

func (r *runner) readVectors() ([]float32, int, int, error) {
	return vecfile.Read(r.path(EmbeddingsName), 0)
}

// readSummaryVectors reads the summaries in sumName and their embeddings,
// one vector per summary (x is n×d).
func (r *runner) readSummaryVectors(sumName string) (sums []conversation.ConversationSummary, x []float32, d int, err error) {
	if sums, err = r.readSummaries(sumName); err != nil {
		return nil, nil, 0, err
	}
	x, n, d, err := vecfile.Read(r.path(EmbeddingsName), 0)
	if err != nil {
		return nil, nil, 0, err
	}
	if n != len(sums) {
		return nil, nil, 0, fmt.Errorf("%d summaries and %d vectors: rerun with the files of one run", len(sums), n)
	}
	return sums, x, d, nil
}

func (r *runner) cluster(ctx context.Context, sc *stageCtx) error {
	x, n, d, err := r.readVectors()
	if err != nil {
		return err
	}
	labels, err := clusterVectors(ctx, x, n, d, r.o.Cluster)
	if err != nil {
		return err
	}
	sc.st.Items = n
	return writeLabels(r.path(LabelsName), labels)
}

func writeLabels(path string, labels []int) error {
	f, err := outfile.Create(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, l := range labels {
		b.WriteString(strconv.Itoa(l))
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(f, b.String()); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// ReadLabels reads a labels file (one integer per line).
func ReadLabels(path string) ([]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var labels []int
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if line == "" && len(data) == 0 {
			break
		}
		l, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || l < -1 {
			return nil, fmt.Errorf("%s: line %d: %q is not a cluster label (an integer >= -1)", path, i+1, line)
		}
		labels = append(labels, l)
	}
	return labels, nil
}

func (r *runner) name(ctx context.Context, sc *stageCtx, sumName, clName string) error {
	sums, x, d, err := r.readSummaryVectors(sumName)
	if err != nil {
		return err
	}
	labels, err := ReadLabels(r.path(LabelsName))
	if err != nil {
		return err
	}
	if len(labels) != len(sums) {
		return fmt.Errorf("%d summaries and vectors, %d labels: rerun with the files of one run", len(sums), len(labels))
	}
	gs := groupsOf(labels, x, d)
	sc.newBar("name", len(gs))
	var names []named
	if r.o.Name.Method == "llm" {
		names, err = llmNames(ctx, r.chat(sc), r.o.Name, sums, gs, sc.st, sc.item)
		if err != nil {
			return err
		}
	} else {
		names = keywordNames(sums, x, d, gs)
		sc.bar.Add(int64(len(gs)))
	}
	clusters := make([]conversation.Cluster, len(gs))
	for i, g := range gs {
		ids := chatIDsOf(sums, g.members)
		kind := "base"
		if g.noise {
			kind = "noise"
		}
		clusters[i] = conversation.Cluster{ID: clusterID(kind, ids), Name: names[i].name, Description: names[i].description,
			Slug: names[i].slug, ChatIDs: ids}
	}
	sc.st.Items = len(clusters)
	return conversation.WriteFile(r.path(clName), clusters)
}

func (r *runner) hierarchy(ctx context.Context, sc *stageCtx, sumName, clName, metaName string) error {
	sums, x, d, err := r.readSummaryVectors(sumName)
	if err != nil {
		return err
	}
	base, err := conversation.ReadFile[conversation.Cluster](r.path(clName), conversation.ReadOptions{})
	if err != nil {
		return err
	}
	sc.newBar("hierarchy", 0)
	all, err := buildHierarchy(ctx, r.o.Hierarchy, r.chat(sc), sums, x, d, base, sc.st, sc.item)
	if err != nil {
		return err
	}
	sc.st.Items = len(all)
	return conversation.WriteFile(r.path(metaName), all)
}
