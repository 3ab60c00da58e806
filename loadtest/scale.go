package loadtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"sync/atomic"
	"time"

	"github.com/kura-go/kura/cluster/quality"
	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/internal/procstat"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/loadtest/scaledata"
	"github.com/kura-go/kura/reduce"
	"github.com/kura-go/kura/vecfile"
)

// ScaleJob is one scale's work order: the configuration (whose baseline the
// worker loads and scales itself, so that building a large scale's data
// costs the worker's memory, not the parent's), where to write the scale's
// dataset, and where to write the results.
type ScaleJob struct {
	Config      Config `json:"config"`
	Scale       int    `json:"scale"`
	InputDir    string `json:"input_dir"`    // the dataset goes here: summaries.jsonl or conversations.jsonl, plus clusters.jsonl (ground truth)
	ArtifactDir string `json:"artifact_dir"` // results are written here
	Isolation   string `json:"isolation"`
}

// prepareInput makes the scale's dataset from the baseline and writes it to
// job.InputDir as a Kura checkpoint, record by record as it is made (see
// scaledata.Write), for the load stage to read. It is not measured: it
// runs before the process's baseline memory is taken, and every stage's
// peak is reset after it (where the kernel allows; see RunScale).
func prepareInput(ctx context.Context, tk *Toolkit, job *ScaleJob) (*scaledata.Written, error) {
	base, err := loadBaseline(ctx, tk, &job.Config)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	w, err := scaledata.Write(ctx, base, job.Scale, job.Config.Seed, job.InputDir)
	if err != nil {
		return nil, fmt.Errorf("preparing data: %w", err)
	}
	return w, nil
}

// Event is a progress report of a running scale.
type Event struct {
	Scale int    `json:"scale"`
	Stage string `json:"stage"` // load, embed, reduce, cluster, write
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// runScaleJob runs one scale in this process: load the dataset, embed it,
// reduce the vectors (when the cluster spec says so), cluster them, write the results, and score the clusters against
// the ground truth. progress, if not nil, receives stage events.
func runScaleJob(ctx context.Context, tk *Toolkit, job *ScaleJob, progress func(Event)) (*measure.Scale, error) {
	if progress == nil {
		progress = func(Event) {}
	}
	cfg := &job.Config
	gogc := debug.SetGCPercent(100) // read the setting in force (GOGC)...
	debug.SetGCPercent(gogc)        // ...and put it back
	if cfg.GOGC != 0 {
		gogc = debug.SetGCPercent(cfg.GOGC)
		defer debug.SetGCPercent(gogc)
		gogc = cfg.GOGC
	}
	if tk.Warmup != nil {
		if err := tk.Warmup(); err != nil {
			return nil, err
		}
	}
	progress(Event{Scale: job.Scale, Stage: "prepare"})
	prepared, err := prepareInput(ctx, tk, job)
	if err != nil {
		return nil, err
	}
	generated, fallbacks, rewritten := prepared.Generated, prepared.Fallbacks, prepared.Rewritten
	runtime.GC()
	debug.FreeOSMemory()
	before, err := procstat.Read()
	if err != nil {
		return nil, err
	}
	res := &measure.Scale{Scale: job.Scale, Generated: generated, DuplicateFallbacks: fallbacks, RewrittenDuplicates: rewritten,
		Clusterer: cfg.Cluster.Name(), Isolation: job.Isolation, BaselineRSSBytes: before.RSS, GOGC: gogc}
	if cfg.Pipeline == PipelineFull {
		return runFullScale(ctx, tk, job, res, progress)
	}

	sr := &scaleRun{ctx: ctx, tk: tk, job: job, progress: progress, res: res}
	// The stages, in order, each measured (see measure.Pipeline).
	stages := []struct {
		name  string
		run   func() error
		after func() // untimed bookkeeping before the next stage
	}{
		{measure.Load, sr.load, nil},
		{measure.Embed, sr.embed, sr.countTokens},
		{measure.Reduce, sr.reduce, nil}, // only with a reduction (below)
		{measure.Cluster, sr.cluster, nil},
		{measure.Write, sr.write, nil},
	}
	var m *measure.Meter
	for _, st := range stages {
		if st.name == measure.Reduce && !cfg.Cluster.Reduces() {
			continue
		}
		total := 0
		if st.name == measure.Embed {
			total = sr.n
		}
		progress(Event{Scale: job.Scale, Stage: st.name, Total: total})
		m = measure.Start(st.name)
		if err := st.run(); err != nil {
			return nil, err
		}
		res.Stages = append(res.Stages, m.Stop())
		if st.after != nil {
			st.after()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := sr.account(); err != nil {
		return nil, err
	}
	if m.ResetErr != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("per-stage peak memory is the process's lifetime peak: %v", m.ResetErr))
	}
	return res, nil
}

// scaleRun is one scale's work in progress: what each stage hands to the
// next.
type scaleRun struct {
	ctx      context.Context
	tk       *Toolkit
	job      *ScaleJob
	progress func(Event)
	res      *measure.Scale

	in          *input         // load: the records
	n           int            // load: how many
	texts       []string       // load: what is embedded (dropped after embed)
	emb         embed.Embedder // embed
	x           []float32      // embed: n × dims vectors (dropped once written)
	dims        int            // embed
	xr          []float32      // reduce: n × dr reduced vectors (dropped once clustered)
	dr          int            // reduce
	localTokens int64          // embed: counted here when the embedder reports none
	labels      []int          // cluster
	found       []conversation.Cluster
}

// load reads the records as a pipeline would, and renders their texts.
func (r *scaleRun) load() error {
	in, err := readInput(r.job.InputDir)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	r.in, r.n = in, in.len()
	r.texts = make([]string, r.n)
	for i := range r.texts {
		r.texts[i] = in.text(i)
	}
	r.res.Conversations = r.n
	r.res.Storage.MetadataBytes = in.bytes
	return nil
}

// embed embeds the texts in chunks (two in flight, as kura embed does) so
// that the vectors go straight into one flat matrix. The vector length
// comes from the first vectors returned: an API model the embedder does
// not know reports no dimensions before it has answered.
func (r *scaleRun) embed() error {
	cfg, n := &r.job.Config, r.n
	emb, err := r.tk.NewEmbedder(r.ctx, cfg.Embedder, r.texts)
	if err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	r.emb = emb
	// Batch-level progress, throttled.
	var doneTexts atomic.Int64
	var lastReport atomic.Int64
	report := func(k int) {
		d := doneTexts.Add(int64(k))
		now := time.Now().UnixNano()
		if last := lastReport.Load(); now-last > int64(200*time.Millisecond) && lastReport.CompareAndSwap(last, now) {
			r.progress(Event{Scale: r.job.Scale, Stage: "embed", Done: int(d), Total: n})
		}
	}
	dims, err := embed.Stream(r.ctx, emb, r.texts, cfg.EmbedChunk, report, func(lo int, vecs [][]float32) error {
		if r.x == nil {
			r.x = make([]float32, n*len(vecs[0]))
		}
		d := len(vecs[0])
		for i, v := range vecs {
			copy(r.x[(lo+i)*d:], v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	r.dims = dims
	r.res.Embedder, r.res.Dims = emb.Name(), dims
	r.progress(Event{Scale: r.job.Scale, Stage: "embed", Done: n, Total: n})
	return nil
}

// countTokens counts the tokens locally when the embedder reports none,
// for the estimated cost (what the API would bill, over-long inputs at its
// per-input limit), and drops the texts.
func (r *scaleRun) countTokens() {
	if ur, ok := r.emb.(embed.UsageReporter); !ok || ur.Usage().Tokens == 0 {
		r.localTokens, _ = embed.CountTokens(r.texts, embed.OpenAILimits)
	}
	r.texts = nil
}

// reduce runs the cluster spec's reduction, as its own stage so that its
// time and memory are measured and planned apart from the clusterer's. The
// full vectors are kept for the write stage. It runs only when the spec
// has a reduction.
func (r *scaleRun) reduce() error {
	rs := r.job.Config.Cluster.ReduceSpec()
	rs.Progress = func(done, total int) {
		r.progress(Event{Scale: r.job.Scale, Stage: measure.Reduce, Done: done, Total: total})
	}
	if r.tk.Reduce == nil {
		return fmt.Errorf("reduce: this toolkit cannot reduce (%s)", rs)
	}
	xr, dr, err := r.tk.Reduce(r.ctx, rs, r.x, r.n, r.dims)
	if err != nil {
		return fmt.Errorf("reduce (%s): %w", rs, err)
	}
	r.xr, r.dr = xr, dr
	return nil
}

// cluster labels the vectors: the reduced ones when the reduce stage ran
// (the spec then goes without its reduction, already done).
func (r *scaleRun) cluster() error {
	x, d, cs := r.x, r.dims, r.job.Config.Cluster
	if r.xr != nil {
		x, d, cs.Reduce = r.xr, r.dr, reduce.Spec{}
	}
	labels, err := r.tk.Cluster(r.ctx, cs, x, r.n, d)
	r.xr = nil
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if len(labels) != r.n {
		return fmt.Errorf("cluster: %d labels for %d points", len(labels), r.n)
	}
	r.labels = labels
	return nil
}

// write writes the results: records and clusters as JSONL and Parquet,
// vectors as .npy.
func (r *scaleRun) write() error {
	dir, st := r.job.ArtifactDir, &r.res.Storage
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	npy := filepath.Join(dir, "embeddings.npy")
	if err := vecfile.Write(npy, r.x, r.n, r.dims); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	r.x = nil // the vectors are on disk; the rest of the stage does not need them
	var err error
	if st.VectorsNPYBytes, err = fileSize(npy); err != nil {
		return err
	}
	r.found = clustersOf(r.labels, r.in.chatIDs())
	if st.ResultsJSONLBytes, err = writeResults(dir, ".jsonl", r.in, r.found); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if st.ResultsParquetBytes, err = writeResults(dir, ".parquet", r.in, r.found); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// account fills in what is not timed: totals, storage, clusters, API usage
// and the estimated cost, and the quality against the ground truth.
func (r *scaleRun) account() error {
	res, cfg := r.res, &r.job.Config
	res.Storage.EmbeddingBytes = int64(r.n) * int64(r.dims) * 4
	res.Storage.TotalBytes = res.Storage.ResultsJSONLBytes + res.Storage.VectorsNPYBytes
	res.SumStages()
	for _, l := range r.labels {
		if l < 0 {
			res.Noise++
		}
	}
	res.Clusters = len(r.found)
	if ur, ok := r.emb.(embed.UsageReporter); ok {
		u := ur.Usage()
		res.API = measure.APIUsage{Requests: u.Requests, Retries: u.Retries, RateLimited: u.RateLimited,
			Errors: u.Errors, Tokens: u.Tokens, CostUSD: u.CostUSD}
	}
	if res.API.Tokens == 0 {
		res.API.Tokens, res.API.TokensLocal = r.localTokens, true
	}
	prices, err := cfg.Embedder.Prices()
	if err != nil {
		return err
	}
	res.API.PriceModel = prices.ModelFor(cfg.PriceModel, res.Embedder)
	if p, ok := prices.Lookup(res.API.PriceModel); ok {
		res.API.PricePerMillion = p
		res.API.EstimatedCostUSD = embed.Cost(float64(res.API.Tokens), p)
	}
	q, err := score(r.in.truth, r.labels)
	if err != nil {
		return err
	}
	res.Quality = q
	return nil
}

func fileSize(p string) (int64, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// input is a scale's dataset as read back by the worker.
type input struct {
	kind          string
	summaries     []conversation.ConversationSummary
	conversations []conversation.Conversation
	truth         []int // ground-truth cluster per record, -1 none
	bytes         int64 // size of the records file
}

func (in *input) len() int {
	if in.kind == scaledata.KindConversations {
		return len(in.conversations)
	}
	return len(in.summaries)
}

func (in *input) text(i int) string {
	if in.kind == scaledata.KindConversations {
		return in.conversations[i].Text()
	}
	return in.summaries[i].Text()
}

func (in *input) chatIDs() []string {
	ids := make([]string, in.len())
	for i := range ids {
		if in.kind == scaledata.KindConversations {
			ids[i] = in.conversations[i].ChatID
		} else {
			ids[i] = in.summaries[i].ChatID
		}
	}
	return ids
}

func readInput(dir string) (*input, error) {
	in := &input{kind: scaledata.KindSummaries}
	p := filepath.Join(dir, scaledata.SummariesFile)
	var err error
	if _, serr := os.Stat(p); serr == nil {
		in.summaries, err = conversation.ReadFile[conversation.ConversationSummary](p, conversation.ReadOptions{})
	} else {
		in.kind = scaledata.KindConversations
		p = filepath.Join(dir, scaledata.ConversationsFile)
		in.conversations, err = conversation.ReadFile[conversation.Conversation](p, conversation.ReadOptions{})
	}
	if err != nil {
		return nil, err
	}
	if in.bytes, err = fileSize(p); err != nil {
		return nil, err
	}
	in.truth = make([]int, in.len())
	for i := range in.truth {
		in.truth[i] = -1
	}
	cp := filepath.Join(dir, scaledata.ClustersFile)
	if _, serr := os.Stat(cp); serr != nil {
		return in, nil
	}
	cl, err := conversation.ReadFile[conversation.Cluster](cp, conversation.ReadOptions{})
	if err != nil {
		return nil, err
	}
	of := map[string]int{}
	for g, c := range cl {
		for _, id := range c.ChatIDs {
			of[id] = g
		}
	}
	for i, id := range in.chatIDs() {
		if g, ok := of[id]; ok {
			in.truth[i] = g
		}
	}
	return in, nil
}

// clustersOf turns labels into Kura clusters (noise is left out), ordered
// by label.
func clustersOf(labels []int, ids []string) []conversation.Cluster {
	by := map[int][]string{}
	for i, l := range labels {
		if l >= 0 {
			by[l] = append(by[l], ids[i])
		}
	}
	keys := make([]int, 0, len(by))
	for l := range by {
		keys = append(keys, l)
	}
	sort.Ints(keys)
	out := make([]conversation.Cluster, 0, len(keys))
	for _, l := range keys {
		out = append(out, conversation.Cluster{
			ID:          fmt.Sprintf("loadtest-cluster-%d", l),
			Name:        fmt.Sprintf("Cluster %d", l),
			Description: fmt.Sprintf("Cluster %d found by the load test (%d conversations).", l, len(by[l])),
			Slug:        fmt.Sprintf("cluster_%d", l),
			ChatIDs:     by[l],
		})
	}
	return out
}

// writeResults writes the records and the clusters found with the given
// extension and returns the bytes on disk.
func writeResults(dir, ext string, in *input, found []conversation.Cluster) (int64, error) {
	var rec string
	var err error
	if in.kind == scaledata.KindConversations {
		rec = filepath.Join(dir, "conversations"+ext)
		err = conversation.WriteFile(rec, in.conversations)
	} else {
		rec = filepath.Join(dir, "summaries"+ext)
		err = conversation.WriteFile(rec, in.summaries)
	}
	if err != nil {
		return 0, err
	}
	cl := filepath.Join(dir, "clusters"+ext)
	if err := conversation.WriteFile(cl, found); err != nil {
		return 0, err
	}
	a, err := fileSize(rec)
	if err != nil {
		return 0, err
	}
	b, err := fileSize(cl)
	return a + b, err
}

// score compares labels with the ground truth over the records that have
// one. It returns nil when there is no ground truth.
func score(truth, labels []int) (*measure.Quality, error) {
	var t, p []int
	for i, g := range truth {
		if g >= 0 {
			t = append(t, g)
			p = append(p, labels[i])
		}
	}
	if len(t) == 0 {
		return nil, nil
	}
	q := &measure.Quality{Labeled: len(t)}
	var err, e error
	q.ARI, err = quality.AdjustedRandIndex(t, p)
	q.NMI, e = quality.NMI(t, p)
	err = errors.Join(err, e)
	q.Spillover, e = quality.Spillover(t, p)
	if err = errors.Join(err, e); err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	return q, nil
}
