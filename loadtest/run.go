package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kura-go/kura/cluster/hdbscan"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/pidtemp"
	"github.com/kura-go/kura/internal/procstat"
	"github.com/kura-go/kura/internal/progress"
	"github.com/kura-go/kura/knn"
	"github.com/kura-go/kura/loadtest/analysis"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/reduce"
	"github.com/kura-go/kura/vecfile"
)

// Runner runs a load test: one scale after another, each in a fresh child
// process (or in this process when Config.InProcess is set).
type Runner struct {
	Toolkit *Toolkit
	// Worker returns the command of a fresh worker process (for kura:
	// os.Executable() with the hidden loadtest-worker subcommand). It is
	// required unless Config.InProcess is set.
	Worker func(ctx context.Context) *exec.Cmd
	// Env describes the machine; see DetectEnvironment.
	Env Environment
	// Log receives worker log lines and per-scale summary lines; nil = discard.
	Log io.Writer
	// Width gives the width in columns that Log's per-scale lines are
	// kept within; nil = 80.
	Width func() int
	// Progress draws the live display; nil = none.
	Progress *progress.Display
	// Available returns the memory available for a scale (bytes, 0 =
	// unknown), checked before each scale; nil = MemAvailable.
	Available func() int64
	// DiskFree returns the bytes free on the file system of a directory
	// (0 = unknown), checked before each scale against what the scale
	// will write there; nil = procstat.DiskFree.
	DiskFree func(dir string) int64
	// Checkpoint, when not nil, is given the results so far (marked
	// Incomplete, with the analysis of the scales done) after each scale
	// that completes, fails or is skipped, so that they can be saved
	// before the next one: a run killed later still leaves them. Its
	// error is logged; the run goes on.
	Checkpoint func(*Results) error
	// OnScale, when set, receives each scale's results as it finishes
	// (e.g. for monitoring).
	OnScale func(*measure.Scale)
	// OnResponse, when set, is called after each embedding API request
	// attempt of every scale, in a worker process or in this one, with the
	// HTTP status (0 when no answer came) and the time it took (e.g. for a
	// latency histogram).
	OnResponse func(status int, elapsed time.Duration)
}

// ErrTooFewScales is returned (wrapped, with the results) when the memory
// guard skipped scales so that fewer than two ran (none, of one).
var ErrTooFewScales = errors.New("too few scales ran")

// ErrInterrupted is returned (wrapped) when the run was cancelled.
var ErrInterrupted = errors.New("load test interrupted")

// Run runs every scale of cfg and returns the results. The results are
// returned even when a scale fails or the run is interrupted (ctx
// cancelled): they then hold the scales done and the failure, and the
// error says what went wrong. Only a bad configuration or an unreadable
// baseline returns nil results.
func (r *Runner) Run(ctx context.Context, cfg Config) (*Results, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.InProcess && r.Worker == nil {
		return nil, fmt.Errorf("no worker command to run scales in; use in-process mode")
	}
	log := r.Log
	if log == nil {
		log = io.Discard
	}
	res := &Results{SchemaVersion: SchemaVersion, StartedAt: time.Now().UTC(), Config: cfg, Environment: r.Env,
		Scales: []measure.Scale{}, Failures: []Failure{}, Skipped: []Skipped{}}
	base, err := loadBaseline(ctx, r.Toolkit, &cfg)
	if err != nil {
		return nil, err
	}
	res.Baseline = base.Info()
	perRecord := base.RecordBytes()
	if est := estimatePaid(&cfg, base); est != nil {
		price := fmt.Sprintf("about $%.2f", est.CostUSD)
		if !est.Priced {
			price = "an unknown amount (no price known for " + est.Model + "; set --price-per-million)"
		}
		// Said before the first request, --quiet or not: this run spends money.
		fmt.Fprintf(log, "kura loadtest: the paid API (%s) will embed %s conversations, about %s tokens: %s\n",
			est.Model, human.Thousands(int(est.Conversations)), human.Thousands(int(est.Tokens)), price)
	}
	base = nil // the workers load their own
	removeStaleTemps()
	available := r.Available
	if available == nil {
		available = procstat.MemAvailable
	}
	// Each scale writes under scratch (see runScale).
	scratch := cfg.KeepArtifacts
	if scratch == "" {
		scratch = os.TempDir()
	}
	diskFree := r.DiskFree
	if diskFree == nil {
		diskFree = procstat.DiskFree
	}
	dt, err := cfg.vectorDType()
	if err != nil {
		return nil, err
	}
	// The vector length before the first scale has measured it (finding it
	// may read a model's config.json: once per run, not per scale).
	dims := cfg.Embedder.ExpectedDims()
	slog.Debug("baseline loaded", "source", res.Baseline.Source, "records", res.Baseline.Records, "clusters", res.Baseline.Clusters)

	// What the run changed in the clusterer is said once in full, as a
	// note of the planning (the summary, --details, the JSON); the log
	// gives a short line as it starts.
	var pinned string
	if auto := autoReduce(&cfg); auto != "" {
		slog.Info("every scale clusters a PCA of the vectors", "dims", cfg.Cluster.Reduce.Dims)
		pinned = auto
	}
	if pin := pinSearch(&cfg); pin != "" {
		slog.Info("HDBSCAN's neighbour search pinned", "to", cfg.Cluster.Search)
		pinned = strings.TrimPrefix(pinned+" and "+pin, " and ")
	}
	if pinned != "" {
		res.Config.Cluster = cfg.Cluster // the results say what ran
		pinned = "every scale ran " + pinned
	}
	var runErr error
	for i, scale := range cfg.Scales {
		if ctx.Err() != nil {
			res.Interrupted = true
			runErr = ErrInterrupted
			skipRest(res, cfg.Scales[i:], "run interrupted before this scale")
			break
		}
		if k := len(res.Scales); k > 0 {
			dims = res.Scales[k-1].Dims
		}
		var anonVector float64
		if dt != vecfile.Float32 {
			anonVector = float64(dims * vecfile.Float32.Size())
		}
		reason := memoryCheck(res.Scales, scale, perRecord, anonVector, cfg.MemoryLimit, available())
		if reason == "" {
			reason = diskCheck(scale, perRecord, dims, dt.Size(), scratch, diskFree(scratch))
		}
		if reason != "" {
			res.Skipped = append(res.Skipped, Skipped{Scale: scale, Reason: reason})
			fmt.Fprintf(log, "scale %s skipped: %s\n", human.Thousands(scale), reason)
			continue
		}
		if i > 0 && cfg.Delay > 0 {
			if err := r.Progress.Wait(ctx, cfg.Delay, scaleHead(scale, i, len(cfg.Scales))); err != nil {
				res.Interrupted = true
				runErr = ErrInterrupted
				skipRest(res, cfg.Scales[i:], "run interrupted before this scale")
				break
			}
		}
		sr, err := r.runRepeated(ctx, &cfg, scale, i, len(cfg.Scales))
		if err != nil {
			f := Failure{Scale: scale, Kind: "error", Error: err.Error()}
			switch {
			case ctx.Err() != nil:
				f.Kind = "interrupted"
				res.Interrupted = true
				runErr = fmt.Errorf("scale %s: %w", human.Thousands(scale), ErrInterrupted)
			case errors.Is(err, context.DeadlineExceeded):
				f.Kind = "timeout"
				runErr = fmt.Errorf("scale %s timed out after %s", human.Thousands(scale), cfg.Timeout)
			default:
				runErr = fmt.Errorf("scale %s: %w", human.Thousands(scale), err)
			}
			res.Failures = append(res.Failures, f)
			if f.Kind == "interrupted" {
				fmt.Fprintf(log, "scale %s interrupted\n", human.Thousands(scale))
			} else {
				fmt.Fprintf(log, "scale %s failed (%s): %v\n", human.Thousands(scale), f.Kind, err)
			}
			reason := fmt.Sprintf("not run after scale %s failed (%s)", human.Thousands(scale), f.Kind)
			if f.Kind == "interrupted" {
				reason = "run interrupted"
			}
			skipRest(res, cfg.Scales[i+1:], reason)
			break
		}
		res.Scales = append(res.Scales, *sr)
		if r.OnScale != nil {
			r.OnScale(sr)
		}
		if !cfg.Quiet {
			width := 80
			if r.Width != nil {
				width = r.Width()
			}
			fmt.Fprintln(log, scaleLine(sr, width))
		}
		if i < len(cfg.Scales)-1 {
			r.checkpoint(res, &cfg, log)
		}
	}
	if runErr == nil && len(res.Skipped) > 0 && len(res.Scales) < min(2, len(cfg.Scales)) {
		// Skipped by the memory guard: the run measured too little to
		// analyse or plan, and must not pass as a success.
		runErr = fmt.Errorf("%w: %d of %d scales ran (%d skipped; see above), so there is no scaling analysis or planning",
			ErrTooFewScales, len(res.Scales), len(cfg.Scales), len(res.Skipped))
	}
	res.FinishedAt = time.Now().UTC()
	res.Analysis = analysis.Analyze(res.Scales)
	res.Planning = analysis.Plan(res.Scales, res.Analysis, cfg.goal())
	for _, n := range cfg.PlanFor {
		g := cfg.goal()
		g.Conversations = n
		if p := analysis.Plan(res.Scales, res.Analysis, g); p != nil {
			res.Plans = append(res.Plans, p)
		}
	}
	if res.Planning != nil && pinned != "" {
		res.Planning.Notes = append(res.Planning.Notes, pinned)
	}
	return res, runErr
}

// scaleLine says how a scale went, on one line when it fits width:
// "scale 2,000: 0.57s (embed 0.12s, cluster 0.33s), peak 48 MiB, 13
// clusters"; else (a reduce stage, large figures) the stages' times go on
// a line of their own under it.
func scaleLine(sr *measure.Scale, width int) string {
	stages := "embed " + human.Duration(sr.Stages.Of(measure.Embed).WallS)
	if st, ok := sr.Stages.Lookup(measure.Reduce); ok {
		stages += ", reduce " + human.Duration(st.WallS)
	}
	stages += ", cluster " + human.Duration(sr.Stages.Of(measure.Cluster).WallS)
	head := fmt.Sprintf("scale %s: %s", human.Thousands(sr.Conversations), human.Duration(sr.TotalWallS))
	tail := fmt.Sprintf("peak %s, %d clusters", human.Bytes(float64(sr.PeakRSSBytes)), sr.Clusters)
	if line := head + " (" + stages + "), " + tail; len(line) <= width {
		return line
	}
	return human.Wrap(head+", "+tail+"\n  "+stages, width)
}

// tempPrefix starts the names of the scales' temporary directories
// (kura-loadtest-pidPID-SCALE-N in the system's temporary directory).
const tempPrefix = "kura-loadtest-"

// removeStaleTemps removes the scale directories of load tests that were
// killed before they could remove them (SIGKILL, OOM killer): those named
// for a process that no longer exists.
func removeStaleTemps() {
	removed, err := pidtemp.RemoveStale("", tempPrefix)
	for _, d := range removed {
		slog.Info("removed a killed load test's temporary directory", "dir", d)
	}
	if err != nil {
		slog.Warn("removing the temporary directories of killed load tests", "err", err)
	}
}

// checkpoint hands a snapshot of the results so far to r.Checkpoint.
func (r *Runner) checkpoint(res *Results, cfg *Config, log io.Writer) {
	if r.Checkpoint == nil {
		return
	}
	snap := *res
	snap.Incomplete = true
	snap.FinishedAt = time.Now().UTC()
	snap.Analysis = analysis.Analyze(snap.Scales)
	snap.Planning = analysis.Plan(snap.Scales, snap.Analysis, cfg.goal())
	if err := r.Checkpoint(&snap); err != nil {
		fmt.Fprintf(log, "warning: saving the results so far: %v (the run goes on)\n", err)
	}
}

// pinSearch fixes HDBSCAN's neighbour search for the whole run when it is
// "auto" and the rule would take one path at the small scales and another
// at the volumes planned for (auto goes approximate above 16 dimensions from
// 20,000 points): scales measured on the exact O(n²) path cannot plan a run
// that takes the approximate one, nor the other way round. Every scale then
// runs the path of the largest volume planned for. It returns what every
// scale then runs, as words to follow "every scale ran " ("HDBSCAN's
// approximate search (auto: ...)"), or "" when nothing needed
// fixing. The vector length is the
// embedder's when set, else taken as above 16, as for every embedder kura
// ships.
func pinSearch(cfg *Config) string {
	c := &cfg.Cluster
	if c.Algorithm != "hdbscan" || (c.Search != "" && c.Search != hdbscan.SearchAuto) || len(cfg.Scales) == 0 {
		return ""
	}
	d := cfg.Embedder.Dims
	if d == 0 {
		d = 1024
	}
	if c.Reduces() {
		d = c.Reduce.Dims // what HDBSCAN sees
	}
	top := cfg.largestVolume()
	p := c.HDBSCAN()
	small, large := hdbscan.ResolveSearch(p, cfg.Scales[0], d), hdbscan.ResolveSearch(p, top, d)
	if small == large {
		return ""
	}
	c.Search = large
	return fmt.Sprintf("HDBSCAN's %s search (auto: %s at %s, %s at %s; one fit cannot plan both; --neighbor-search)",
		large, small, human.Thousands(cfg.Scales[0]), large, human.Thousands(top))
}

// The automatic reduction (Config.AutoReduce): PCA to AutoReduceDims
// dimensions before clustering, at every scale of a run whose largest
// volume measured or planned for is at least AutoReduceFrom conversations.
// On the built-in corpus with the hash embedder (1,024 dimensions) HDBSCAN
// finds the same 13 topics on the 32 principal components as on the full
// vectors (ARI 1.000 against the topics at 100,000, as on the full
// vectors), for a third of the clustering CPU and memory at 100,000, and the
// clusterer never maps the n × 1,024 file (4 GB at 1,000,000), only PCA
// streams through it: see docs/PERFORMANCE.md.
const (
	AutoReduceFrom = 200_000
	AutoReduceDims = 32
)

// autoReduce adds the automatic reduction to cfg's cluster spec when
// cfg.AutoReduce is on, the spec has none, the vectors have more than
// AutoReduceDims dimensions (1,024 assumed when the embedder does not say),
// every scale has more conversations than AutoReduceDims and the
// largest volume is at least AutoReduceFrom. Every scale then reduces, so
// that the small scales measure and plan what the large ones run. It
// returns what every scale then runs, as words to follow "every scale ran "
// ("PCA to 32 dims (auto from ...)"), or "".
func autoReduce(cfg *Config) string {
	c := &cfg.Cluster
	if !cfg.AutoReduce || c.Reduces() || len(cfg.Scales) == 0 || cfg.Pipeline == PipelineFull {
		return ""
	}
	d := cfg.Embedder.Dims
	if d == 0 {
		d = 1024
	}
	top := cfg.largestVolume()
	if d <= AutoReduceDims || top < AutoReduceFrom || cfg.Scales[0] <= AutoReduceDims {
		return ""
	}
	c.Reduce = reduce.Spec{Method: reduce.MethodPCA, Dims: AutoReduceDims, Metric: knn.Euclidean, Seed: uint64(c.Seed)}
	return fmt.Sprintf("PCA to %d dims (auto from %s conversations; --reduce none: off)",
		AutoReduceDims, human.Thousands(AutoReduceFrom))
}

// largestVolume is the largest number of conversations the run measures or
// plans for.
func (c *Config) largestVolume() int {
	top := max(c.TargetConversations, c.Scales[len(c.Scales)-1])
	for _, n := range c.PlanFor {
		top = max(top, n)
	}
	return top
}

func skipRest(res *Results, scales []int, reason string) {
	for _, s := range scales {
		res.Skipped = append(res.Skipped, Skipped{Scale: s, Reason: reason})
	}
}

// runRepeated runs a scale cfg.Repeat times and returns the median: every
// stage's wall time, CPU time, peak memory and heap is the median over the
// runs, and the totals are recomputed from them; the rest (storage, API
// usage, clusters, quality) comes from the run with the median total time.
func (r *Runner) runRepeated(ctx context.Context, cfg *Config, scale, idx, count int) (*measure.Scale, error) {
	var runs []*measure.Scale
	for k := 0; k < max(cfg.Repeat, 1); k++ {
		sr, err := r.runScale(ctx, cfg, scale, idx, count)
		if err != nil {
			return nil, err
		}
		runs = append(runs, sr)
	}
	if len(runs) == 1 {
		return runs[0], nil
	}
	return measure.Median(runs), nil
}

// scaleHead is what the progress display says runs: "[2/3] 20,000" for
// the second of three scales, of 20,000 conversations.
func scaleHead(scale, idx, count int) string {
	return fmt.Sprintf("[%d/%d] %s", idx+1, count, human.Thousands(scale))
}

// showEvent shows a scale's progress on the display.
func (r *Runner) showEvent(e Event) {
	r.Progress.Stage(e.Stage, int64(e.Done), int64(e.Total))
}

// runScale runs one scale in a worker (or in this process).
func (r *Runner) runScale(ctx context.Context, cfg *Config, scale, idx, count int) (*measure.Scale, error) {
	r.Progress.Begin(scaleHead(scale, idx, count), "scale", 0)
	defer r.Progress.End()
	var dir string
	if cfg.KeepArtifacts != "" {
		dir = filepath.Join(cfg.KeepArtifacts, fmt.Sprintf("scale-%d", scale))
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
	} else {
		d, err := pidtemp.MkdirTemp("", tempPrefix, strconv.Itoa(scale))
		if err != nil {
			return nil, err
		}
		dir = d
		defer os.RemoveAll(dir)
	}
	// The worker builds the scale's data itself (see prepareInput): the
	// parent never holds more than the baseline.
	job := &ScaleJob{Config: *cfg, Scale: scale, InputDir: filepath.Join(dir, "input"),
		ArtifactDir: filepath.Join(dir, "results"), Isolation: "process"}
	var err error
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	var sr *measure.Scale
	if cfg.InProcess {
		job.Isolation = "in-process"
		if r.OnResponse != nil {
			job.Config.Embedder.OnResponse = r.OnResponse
		}
		sr, err = runScaleJob(ctx, r.Toolkit, job, r.showEvent)
	} else {
		sr, err = r.runWorker(ctx, job)
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, err
	}
	if cfg.KeepArtifacts != "" {
		sr.ArtifactsDir = dir
	}
	return sr, nil
}

// runWorker runs a job in a fresh worker process.
func (r *Runner) runWorker(ctx context.Context, job *ScaleJob) (*measure.Scale, error) {
	cmd := r.Worker(ctx)
	in, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout = &out
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	// On cancellation ask the worker to stop, then kill it if it does not.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the worker: %w", err)
	}
	relay := &relayStderr{}
	relayDone := make(chan struct{})
	go func() {
		relay.run(errPipe, r.showEvent, r.OnResponse, r.Log)
		close(relayDone)
	}()
	<-relayDone
	waitErr := cmd.Wait()
	// The reply is the last line on stdout (a library that printed to
	// stdout before it cannot corrupt it).
	var reply workerReply
	var replyErr error
	if b := bytes.TrimSpace(out.Bytes()); len(b) > 0 {
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
		if err := json.Unmarshal(b, &reply); err != nil {
			replyErr = fmt.Errorf("worker reply: %w", err)
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if reply.Error != "" {
		return nil, errors.New(reply.Error)
	}
	if replyErr != nil && waitErr == nil {
		return nil, replyErr
	}
	if waitErr != nil || reply.Result == nil {
		msg := "worker ended without a result"
		if waitErr != nil {
			msg = fmt.Sprintf("worker failed: %v", waitErr)
		}
		if t := strings.TrimSpace(relay.last()); t != "" {
			msg += ": " + t
		}
		return nil, errors.New(msg)
	}
	return reply.Result, nil
}
