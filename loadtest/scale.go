package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
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

	sr := &scaleRun{ctx: ctx, tk: tk, job: job, progress: progress, res: res, truth: prepared.Labels}
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
// next. No stage holds the records or their texts: they are read from the
// scale's file as a stream, and the vectors go to an .npy file, mapped into
// memory for clustering.
type scaleRun struct {
	ctx      context.Context
	tk       *Toolkit
	job      *ScaleJob
	progress func(Event)
	res      *measure.Scale

	truth       []int32 // prepare: each record's ground-truth cluster, -1 none
	recs        string  // load: the records file
	kind        conversation.TextKind
	n           int            // load: how many records
	ids         []string       // load: their chat ids, for the clusters found
	emb         embed.Embedder // embed
	npy         string         // embed: the vectors, n × dims, stored as dtype
	dtype       vecfile.DType  // embed: float32 or float16 (Config.VectorDType)
	dims        int            // embed
	xr          []float32      // reduce: n × dr reduced vectors (dropped once clustered)
	dr          int            // reduce
	localTokens int64          // embed: counted here when the embedder reports none
	labels      []int          // cluster
	found       []conversation.Cluster
}

// load reads the records as a pipeline would, one at a time, rendering
// each one's text, and keeps their chat ids.
func (r *scaleRun) load() error {
	p, kind, err := recordsFile(r.job.InputDir)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	r.recs, r.kind = p, kind
	err = r.eachText(func(t conversation.Text) error {
		r.ids = append(r.ids, t.ChatID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	r.n = len(r.ids)
	if r.n != len(r.truth) {
		return fmt.Errorf("load: %s has %d records, %d were written", r.recs, r.n, len(r.truth))
	}
	r.res.Conversations = r.n
	if r.res.Storage.MetadataBytes, err = fileSize(r.recs); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

// recordsFile returns the scale's records file and what it holds.
func recordsFile(dir string) (string, conversation.TextKind, error) {
	p := filepath.Join(dir, scaledata.SummariesFile)
	if _, err := os.Stat(p); err == nil {
		return p, conversation.SummaryTexts, nil
	}
	p = filepath.Join(dir, scaledata.ConversationsFile)
	_, err := os.Stat(p)
	return p, conversation.ConversationTexts, err
}

// eachText reads the records file and hands each record's text to f, in
// order.
func (r *scaleRun) eachText(f func(conversation.Text) error) error {
	tr, err := conversation.OpenTexts(r.ctx, r.recs, r.kind, conversation.ReadOptions{})
	if err != nil {
		return err
	}
	defer tr.Close()
	for {
		t, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(t); err != nil {
			return err
		}
	}
}

// eachChunk reads the texts in chunks of up to size and hands each to f in
// order; the next chunk is read while f works on the last.
func (r *scaleRun) eachChunk(size int, f func(lo int, texts []string) error) error {
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	chunks := make(chan []string, 1)
	readErr := make(chan error, 1)
	go func() {
		defer close(chunks)
		var buf []string
		err := r.eachText(func(t conversation.Text) error {
			buf = append(buf, t.Text)
			if len(buf) < size {
				return nil
			}
			select {
			case chunks <- buf:
				buf = make([]string, 0, size)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err == nil && len(buf) > 0 {
			select {
			case chunks <- buf:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		readErr <- err
	}()
	lo := 0
	for texts := range chunks {
		if err := f(lo, texts); err != nil {
			cancel()
			for range chunks {
			}
			<-readErr
			return err
		}
		lo += len(texts)
	}
	return <-readErr
}

// readChunk is how many texts the embed stage reads from the file at a
// time: many of the embedder's chunks, so that an API embedder's pool
// rarely drains, and few enough that the texts in memory stay small.
var readChunk = 16384

// embed embeds the texts as they are read from the file, in chunks (two
// in flight, as kura embed does), and writes the vectors straight to an
// .npy file in the results. The vector length comes from the first
// vectors returned: an API model the embedder does not know reports no
// dimensions before it has answered. An embedder that fits on the corpus
// (hash) reads the file once more before.
func (r *scaleRun) embed() error {
	cfg, n := &r.job.Config, r.n
	if err := os.MkdirAll(r.job.ArtifactDir, 0o755); err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	emb, err := r.tk.NewEmbedder(r.ctx, cfg.Embedder, func(yield func(string)) error {
		return r.eachText(func(t conversation.Text) error { yield(t.Text); return nil })
	})
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
	if r.dtype, err = cfg.vectorDType(); err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	r.npy = filepath.Join(r.job.ArtifactDir, "embeddings.npy")
	var w *vecfile.Writer
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	dims := 0
	err = r.eachChunk(max(readChunk, cfg.EmbedChunk), func(base int, texts []string) error {
		d, err := embed.Stream(r.ctx, emb, texts, cfg.EmbedChunk, report, func(lo int, vecs [][]float32) error {
			if w == nil {
				var err error
				if w, err = vecfile.CreateAs(r.npy, len(vecs[0]), r.dtype); err != nil {
					return err
				}
			}
			for i, v := range vecs {
				if len(v) != w.Cols() {
					return fmt.Errorf("%s returned a %d-dimensional vector for text %d after %d-dimensional ones", emb.Name(), len(v), base+lo+i+1, w.Cols())
				}
				if err := w.Write(v); err != nil {
					return fmt.Errorf("text %d: %w", base+lo+i+1, err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("texts %d-%d: %w", base+1, base+len(texts), err)
		}
		dims = d
		return nil
	})
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	if w == nil {
		return fmt.Errorf("embed: no texts")
	}
	if w.Rows() != n {
		return fmt.Errorf("embed: %d vectors for %d records", w.Rows(), n)
	}
	err, w = w.Close(), nil
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
// per-input limit), reading the texts once more (untimed).
func (r *scaleRun) countTokens() {
	if ur, ok := r.emb.(embed.UsageReporter); ok && ur.Usage().Tokens > 0 {
		return
	}
	var total int64
	err := r.eachChunk(readChunk, func(_ int, texts []string) error {
		k, _ := embed.CountTokens(texts, embed.OpenAILimits)
		total += k
		return nil
	})
	if err == nil {
		r.localTokens = total
	}
}

// vectors maps the embeddings file into memory; a float16 file is read
// into float32 memory instead (vecfile.Open).
func (r *scaleRun) vectors() (*vecfile.Matrix, error) {
	m, err := vecfile.Open(r.npy, 0)
	if err != nil {
		return nil, err
	}
	if m.Rows != r.n || m.Cols != r.dims {
		m.Close()
		return nil, fmt.Errorf("%s: %d × %d vectors, want %d × %d", r.npy, m.Rows, m.Cols, r.n, r.dims)
	}
	return m, nil
}

// reduce runs the cluster spec's reduction, as its own stage so that its
// time and memory are measured and planned apart from the clusterer's. It
// runs only when the spec has a reduction.
func (r *scaleRun) reduce() error {
	rs := r.job.Config.Cluster.ReduceSpec()
	rs.Progress = func(done, total int) {
		r.progress(Event{Scale: r.job.Scale, Stage: measure.Reduce, Done: done, Total: total})
	}
	if r.tk.Reduce == nil {
		return fmt.Errorf("reduce: this toolkit cannot reduce (%s)", rs)
	}
	m, err := r.vectors()
	if err != nil {
		return fmt.Errorf("reduce: %w", err)
	}
	defer m.Close()
	xr, dr, err := r.tk.Reduce(r.ctx, rs, m.Data, r.n, r.dims)
	if err != nil {
		return fmt.Errorf("reduce (%s): %w", rs, err)
	}
	r.xr, r.dr = xr, dr
	return nil
}

// cluster labels the vectors: the reduced ones when the reduce stage ran
// (the spec then goes without its reduction, already done), else the
// embeddings file, mapped.
func (r *scaleRun) cluster() error {
	cs := r.job.Config.Cluster
	var labels []int
	var err error
	if r.xr != nil {
		cs.Reduce = reduce.Spec{}
		labels, err = r.tk.Cluster(r.ctx, cs, r.xr, r.n, r.dr)
		r.xr = nil
	} else {
		var m *vecfile.Matrix
		if m, err = r.vectors(); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		labels, err = r.tk.Cluster(r.ctx, cs, m.Data, r.n, r.dims)
		m.Close()
	}
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if len(labels) != r.n {
		return fmt.Errorf("cluster: %d labels for %d points", len(labels), r.n)
	}
	r.labels = labels
	return nil
}

// write writes the results: the records and the clusters found as JSONL
// and Parquet, the records copied from the scale's file one at a time.
// The vectors are in the results already (the embed stage wrote them).
func (r *scaleRun) write() error {
	dir, st := r.job.ArtifactDir, &r.res.Storage
	var err error
	if st.VectorsNPYBytes, err = fileSize(r.npy); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	r.found = clustersOf(r.labels, r.ids)
	if r.kind == conversation.ConversationTexts {
		err = copyRecords[conversation.Conversation](r.ctx, r.recs, dir, "conversations")
	} else {
		err = copyRecords[conversation.ConversationSummary](r.ctx, r.recs, dir, "summaries")
	}
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	for _, ext := range []string{".jsonl", ".parquet"} {
		if err := conversation.WriteFile(filepath.Join(dir, "clusters"+ext), r.found); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	if st.ResultsJSONLBytes, err = sizes(filepath.Join(dir, r.kind.String()+".jsonl"), filepath.Join(dir, "clusters.jsonl")); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if st.ResultsParquetBytes, err = sizes(filepath.Join(dir, r.kind.String()+".parquet"), filepath.Join(dir, "clusters.parquet")); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// copyRecords reads the records of src one at a time and writes each to
// dir/name.jsonl and dir/name.parquet.
func copyRecords[T conversation.Record](ctx context.Context, src, dir, name string) error {
	in, err := conversation.Open[T](src, conversation.ReadOptions{})
	if err != nil {
		return err
	}
	defer in.Close()
	var outs []*conversation.FileWriter[T]
	defer func() {
		for _, w := range outs {
			w.Abort()
		}
	}()
	for _, ext := range []string{".jsonl", ".parquet"} {
		w, err := conversation.Create[T](filepath.Join(dir, name+ext))
		if err != nil {
			return err
		}
		outs = append(outs, w)
	}
	for i := 0; ; i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := in.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		for _, w := range outs {
			if err := w.Write(rec); err != nil {
				return err
			}
		}
	}
	for _, w := range outs {
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

func sizes(paths ...string) (int64, error) {
	var total int64
	for _, p := range paths {
		n, err := fileSize(p)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// account fills in what is not timed: totals, storage, clusters, API usage
// and the estimated cost, and the quality against the ground truth.
func (r *scaleRun) account() error {
	res, cfg := r.res, &r.job.Config
	res.Storage.EmbeddingBytes = int64(r.n) * int64(r.dims) * int64(r.dtype.Size())
	res.Storage.VectorDType = r.dtype.String()
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
	truth := make([]int, len(r.truth))
	for i, g := range r.truth {
		truth[i] = int(g)
	}
	q, err := score(truth, r.labels)
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
	*scaledata.Dataset
	truth []int // ground-truth cluster per record, -1 none
	bytes int64 // size of the records file
}

func readInput(dir string) (*input, error) {
	d, p, err := scaledata.ReadCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	in := &input{Dataset: d}
	if in.bytes, err = fileSize(p); err != nil {
		return nil, err
	}
	in.truth = make([]int, in.Len())
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
	for i := range in.truth {
		if g, ok := of[in.ChatID(i)]; ok {
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
