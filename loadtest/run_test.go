package loadtest

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/internal/schemacheck"
	"github.com/kura-go/kura/loadtest/measure"
)

// workerCmd runs this test binary as a worker process (see TestMain).
func workerCmd(extraEnv ...string) func(ctx context.Context) *exec.Cmd {
	return func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), workerEnv+"=1")
		cmd.Env = append(cmd.Env, extraEnv...)
		return cmd
	}
}

// runAndWrite runs a load test and writes its JSON, checks it against the
// schema and reads it back.
func runAndWrite(t *testing.T, ctx context.Context, r *Runner, cfg Config) (*Results, []byte, error) {
	t.Helper()
	res, err := r.Run(ctx, cfg)
	if res == nil {
		t.Fatalf("no results: %v", err)
	}
	var buf bytes.Buffer
	if werr := EncodeJSON(&buf, res); werr != nil {
		t.Fatal(werr)
	}
	doc := buf.Bytes()
	jp := filepath.Join(cfg.OutDir, "results.json")
	if werr := os.WriteFile(jp, doc, 0o644); werr != nil {
		t.Fatal(werr)
	}
	if verr := schemacheck.Validate(SchemaJSON, SchemaID, doc); verr != nil {
		t.Errorf("written JSON does not match its schema: %v", verr)
	}
	back, lerr := LoadResults(jp)
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(back.Scales) != len(res.Scales) || back.Interrupted != res.Interrupted {
		t.Errorf("results read back differ")
	}
	return res, doc, err
}

func checkScale(t *testing.T, s *measure.Scale) {
	t.Helper()
	if s.Conversations != s.Scale || s.Dims != 256 || s.Embedder != "hash" {
		t.Errorf("scale %d: %d conversations, %d dims, embedder %q", s.Scale, s.Conversations, s.Dims, s.Embedder)
	}
	if s.PeakRSSBytes <= 0 || s.BaselineRSSBytes <= 0 || s.HeapInuseBytes <= 0 || s.TotalWallS <= 0 || s.ThroughputPerMin <= 0 {
		t.Errorf("scale %d: missing measurements %+v", s.Scale, s)
	}
	if s.Stages.Of(measure.Embed).PeakRSSBytes <= 0 || s.Stages.Of(measure.Cluster).WallS <= 0 {
		t.Errorf("scale %d: stages %+v", s.Scale, s.Stages)
	}
	st := s.Storage
	if st.EmbeddingBytes != int64(s.Conversations*256*4) || st.VectorsNPYBytes <= st.EmbeddingBytes || st.ResultsJSONLBytes <= 0 ||
		st.ResultsParquetBytes <= 0 || st.MetadataBytes <= 0 || st.TotalBytes != st.ResultsJSONLBytes+st.VectorsNPYBytes {
		t.Errorf("scale %d: storage %+v", s.Scale, st)
	}
	if s.API.Tokens <= 0 || !s.API.TokensLocal || s.API.EstimatedCostUSD <= 0 || s.API.PriceModel != "text-embedding-3-small" {
		t.Errorf("scale %d: api %+v", s.Scale, s.API)
	}
	if s.Clusters != 4 || s.Noise != 0 || s.Quality == nil || s.Quality.Labeled != s.Conversations {
		t.Errorf("scale %d: %d clusters, %d noise, quality %+v", s.Scale, s.Clusters, s.Noise, s.Quality)
	}
}

func TestRunInProcess(t *testing.T) {
	cfg := testConfig(t)
	cfg.KeepArtifacts = t.TempDir()
	r := &Runner{Toolkit: testToolkit(), Env: DetectEnvironment("test", "abc")}
	res, _, err := runAndWrite(t, context.Background(), r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scales) != 3 || len(res.Failures) != 0 || res.Interrupted {
		t.Fatalf("results %+v", res)
	}
	for i := range res.Scales {
		s := &res.Scales[i]
		checkScale(t, s)
		if s.Isolation != "in-process" {
			t.Errorf("isolation %q", s.Isolation)
		}
		for _, f := range []string{"summaries.jsonl", "summaries.parquet", "clusters.jsonl", "clusters.parquet", "embeddings.npy"} {
			if _, err := os.Stat(filepath.Join(s.ArtifactsDir, "results", f)); err != nil {
				t.Errorf("artifact: %v", err)
			}
		}
	}
	if res.Scales[2].Generated != 120-48 || res.Scales[0].Generated != 0 {
		t.Errorf("generated %d / %d", res.Scales[0].Generated, res.Scales[2].Generated)
	}
	// The topics are well separated: k-means with the true k finds them.
	if q := res.Scales[2].Quality; q.ARI < 0.9 || q.NMI < 0.9 {
		t.Errorf("quality at 120: %+v", q)
	}
	if res.Analysis == nil || res.Planning == nil || res.Analysis.ScaleRatio != 4 {
		t.Fatalf("analysis %+v planning %+v", res.Analysis, res.Planning)
	}
}

func TestRunRepeat(t *testing.T) {
	cfg := testConfig(t)
	cfg.Scales = []int{30, 60}
	cfg.Repeat = 3
	res, _, err := runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Scales {
		if len(s.RepeatWallS) != 3 {
			t.Fatalf("scale %d: %d repeats recorded", s.Scale, len(s.RepeatWallS))
		}
		// The total is the sum of the stage medians (which may differ from
		// every run's own total).
		var sum float64
		for _, st := range s.Stages {
			sum += st.WallS
		}
		if got := strings.Join(s.Stages.Names(), ","); got != "load,embed,cluster,write" || math.Abs(s.TotalWallS-sum) > 1e-12 {
			t.Errorf("scale %d: stages %v, total %v, stages sum to %v", s.Scale, s.Stages.Names(), s.TotalWallS, sum)
		}
	}
}

func TestRunChildProcess(t *testing.T) {
	cfg := testConfig(t)
	cfg.InProcess = false
	cfg.Scales = []int{30, 90}
	var log bytes.Buffer
	r := &Runner{Toolkit: testToolkit(), Worker: workerCmd(), Log: &log}
	res, _, err := runAndWrite(t, context.Background(), r, cfg)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log.String())
	}
	if len(res.Scales) != 2 {
		t.Fatalf("%d scales", len(res.Scales))
	}
	for i := range res.Scales {
		checkScale(t, &res.Scales[i])
		if res.Scales[i].Isolation != "process" {
			t.Errorf("isolation %q", res.Scales[i].Isolation)
		}
	}
}

func TestRunChildProcessFailure(t *testing.T) {
	cfg := testConfig(t)
	cfg.InProcess = false
	r := &Runner{Toolkit: testToolkit(), Worker: workerCmd(workerEnv + "_FAIL=1")}
	res, doc, err := runAndWrite(t, context.Background(), r, cfg)
	if err == nil || !strings.Contains(err.Error(), "clusterer exploded on purpose") {
		t.Fatalf("error %v, want the worker's", err)
	}
	if len(res.Scales) != 0 || len(res.Failures) != 1 || res.Failures[0].Kind != "error" || len(res.Skipped) != 2 {
		t.Errorf("failures %+v skipped %+v", res.Failures, res.Skipped)
	}
	if !bytes.Contains(doc, []byte("clusterer exploded on purpose")) {
		t.Error("the JSON does not record the failure")
	}
}

func TestRunChildProcessCrash(t *testing.T) {
	cfg := testConfig(t)
	cfg.InProcess = false
	r := &Runner{Toolkit: testToolkit(), Worker: workerCmd(workerEnv + "_CRASH=1")}
	res, _, err := runAndWrite(t, context.Background(), r, cfg)
	// A worker that dies without a reply (an OOM kill, a crash): the error
	// says so with the end of its stderr.
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "out of memory (simulated)") {
		t.Fatalf("error %v", err)
	}
	if len(res.Failures) != 1 || res.Failures[0].Kind != "error" {
		t.Errorf("failures %+v", res.Failures)
	}
}

func TestRunInterrupted(t *testing.T) {
	cfg := testConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tk := testToolkit()
	clusterer := tk.Cluster
	calls := 0
	tk.Cluster = func(ctx context.Context, c cluster.Spec, x []float32, n, d int) ([]int, error) {
		calls++
		if calls == 2 {
			cancel() // Ctrl-C during the second scale
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return clusterer(ctx, c, x, n, d)
	}
	r := &Runner{Toolkit: tk}
	res, doc, err := runAndWrite(t, ctx, r, cfg)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error %v, want ErrInterrupted", err)
	}
	if !res.Interrupted || len(res.Scales) != 1 || len(res.Failures) != 1 || res.Failures[0].Kind != "interrupted" || len(res.Skipped) != 1 {
		t.Errorf("interrupted=%v scales=%d failures=%+v skipped=%+v", res.Interrupted, len(res.Scales), res.Failures, res.Skipped)
	}
	if !bytes.Contains(doc, []byte(`"interrupted": true`)) {
		t.Error("JSON does not say interrupted")
	}
}

func TestRunTimeoutAndMemoryLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.Timeout = 1500 * time.Millisecond // ample for the small scales, even on a loaded machine
	tk := testToolkit()
	clusterer := tk.Cluster
	tk.Cluster = func(ctx context.Context, c cluster.Spec, x []float32, n, d int) ([]int, error) {
		if n == 120 {
			<-ctx.Done() // a scale that never finishes on its own
			return nil, ctx.Err()
		}
		return clusterer(ctx, c, x, n, d)
	}
	res, _, err := runAndWrite(t, context.Background(), &Runner{Toolkit: tk}, cfg)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("error %v", err)
	}
	if len(res.Scales) != 2 || len(res.Failures) != 1 || res.Failures[0].Kind != "timeout" || res.Failures[0].Scale != 120 {
		t.Errorf("scales %d failures %+v", len(res.Scales), res.Failures)
	}

	// A memory limit below the first scale's peak skips every later scale.
	cfg = testConfig(t)
	cfg.MemoryLimit = 1 << 20
	// Fewer than two scales ran: an error (issue 13: exit 0), results kept.
	res, _, err = runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, cfg)
	if !errors.Is(err, ErrTooFewScales) || !strings.Contains(err.Error(), "1 of 3 scales ran (2 skipped") {
		t.Fatalf("error %v, want ErrTooFewScales", err)
	}
	if len(res.Scales) != 1 || len(res.Skipped) != 2 || !strings.Contains(res.Skipped[0].Reason, "over --memory-limit 1.0 MiB") {
		t.Errorf("scales %d skipped %+v", len(res.Scales), res.Skipped)
	}
}

// A scale that would not fit on the disk is skipped before it writes
// anything, saying what it needs and what is free; the scales before it
// keep their results and analysis.
func TestRunSkipsAScaleTheDiskCannotHold(t *testing.T) {
	cfg := testConfig(t)
	var asked []string
	free := []int64{1 << 40, 1 << 40, 4 << 10} // the disk fills up before the third scale
	r := &Runner{Toolkit: testToolkit(), DiskFree: func(dir string) int64 {
		asked = append(asked, dir)
		return free[len(asked)-1]
	}}
	res, _, err := runAndWrite(t, context.Background(), r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scales) != 2 || len(res.Skipped) != 1 || res.Skipped[0].Scale != 120 || res.Analysis == nil {
		t.Fatalf("scales %d, skipped %+v, analysis %v", len(res.Scales), res.Skipped, res.Analysis != nil)
	}
	if why := res.Skipped[0].Reason; !strings.Contains(why, "vectors") || !strings.Contains(why, "has 4 KiB free") {
		t.Errorf("reason %q", why)
	}
	if len(asked) != 3 || asked[0] != os.TempDir() {
		t.Errorf("free space asked for %q, want the temporary directory before each scale", asked)
	}
}

func TestDiskCheck(t *testing.T) {
	tests := []struct {
		name       string
		n, dims    int
		valueBytes int
		free       int64
		want       string // "" = may run
	}{
		{"unknown free space", 10_000_000, 1024, 4, 0, ""},
		{"fits", 10_000, 1024, 4, 100 << 20, ""},
		// 10,000 × (1,024 × 4 + 2.2 × 1,000) = 63 MB.
		{"does not fit", 10_000, 1024, 4, 50 << 20, "it writes about 60 MiB under /scratch (vectors 39 MiB (10,000 × 1024 dims × 4 bytes), records and results 21 MiB), and that file system has 50 MiB free"},
		{"float16 halves the vectors", 10_000, 1024, 2, 50 << 20, ""},
		{"dims unknown: the records", 100_000, 0, 4, 100 << 20, "(records and results 210 MiB)"},
	}
	for _, tt := range tests {
		got := diskCheck(tt.n, 1000, tt.dims, tt.valueBytes, "/scratch", tt.free)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSchemaValidatorRejects(t *testing.T) {
	cfg := testConfig(t)
	res, _, err := runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var good bytes.Buffer
	if err := EncodeJSON(&good, res); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ from, to, want string }{
		{`"schema_version": 2`, `"schema_version": 3`, "at '/schema_version': value must be 2"},
		{`"interrupted": false`, `"interrupted": "no"`, "at '/interrupted': got string, want boolean"},
		{`"isolation": "in-process"`, `"isolation": "thread"`, "at '/scales/0/isolation': value must be one of"},
		{`"peak_rss_bytes": `, `"peak_rss_bytes": -`, "at '/scales/0/peak_rss_bytes': minimum"},
		{`"noise": `, `"noise_points": `, "additional properties 'noise_points' not allowed"},
	}
	for _, tt := range tests {
		doc := strings.Replace(good.String(), tt.from, tt.to, 1)
		if doc == good.String() {
			t.Fatalf("%q not in the document", tt.from)
		}
		err := schemacheck.Validate(SchemaJSON, SchemaID, []byte(doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s -> %s: error %v, want %q", tt.from, tt.to, err, tt.want)
		}
	}
}

// TestParseCount: --target-conversations, --plan-for and
// --monthly-conversations take a number as --scales does.
func TestParseCount(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		err  string
	}{
		{"100000", 100000, ""},
		{" 100_000 ", 100000, ""},
		{"100k", 100000, ""},
		{"100K", 100000, ""},
		{"1M", 1000000, ""},
		{"2m", 2000000, ""},
		{"0", 0, ""}, // --monthly-conversations 0: no cost planned
		{"", 0, "want a whole number"},
		{"10,000", 0, "want a whole number"},
		{"1.5M", 0, "want a whole number"},
		{"-5", 0, "want a whole number"},
		{"+5", 0, "want a whole number"},
		{"k", 0, "want a whole number"},
		{"100x", 0, "want a whole number"},
		{"99999999999999999M", 0, "too large"},
	} {
		got, err := ParseCount(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseCount(%q) = %d, %v; want %d, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseFlags(t *testing.T) {
	if s, err := ParseScales("100, 250,1k,2K"); err != nil || !reflect.DeepEqual(s, []int{100, 250, 1000, 2000}) {
		t.Errorf("ParseScales = %v, %v", s, err)
	}
	for _, bad := range []string{"", "a", "-5", "10,0"} {
		if _, err := ParseScales(bad); err == nil {
			t.Errorf("ParseScales(%q) accepted", bad)
		}
	}
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MB", 512e6, true}, {"512MiB", 512 << 20, true}, {"2GiB", 2 << 30, true}, {"2 GB", 2e9, true},
		{"1.5G", 1.5e9, true}, {"1000", 1000, true}, {"0", 0, true}, {"64k", 64e3, true}, {"64KiB", 64 << 10, true},
		{"100mb", 100e6, true}, {"1TiB", 1 << 40, true}, {"12B", 12, true},
		{"lots", 0, false}, {"5XB", 0, false}, {"-1MB", 0, false}, {"MB", 0, false},
		{"9999999TB", 0, false}, {"1e300", 0, false}, {"9223372036854775807", 0, false}, // overflow, not a negative "no limit"
	} {
		got, err := ParseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseBytes(%q) = %v, %v; want %v (ok=%v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for _, tt := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"20%", 0.2, true}, {" 20 % ", 0.2, true}, {"0.2", 0.2, true}, {"150%", 1.5, true}, {"1%", 0.01, true},
		{"0", 0, true}, {"0.9", 0.9, true},
		{"20", 0, false}, {"1", 0, false}, {"1.5", 0, false}, // bare numbers >= 1 are ambiguous
		{"-5%", 0, false}, {"x", 0, false}, {"", 0, false},
	} {
		got, err := ParsePercent(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v (ok=%v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
	c := DefaultConfig()
	c.Scales = []int{500, 100, 250}
	if err := c.Validate(); err != nil || !reflect.DeepEqual(c.Scales, []int{100, 250, 500}) {
		t.Errorf("Validate: %v %v", err, c.Scales)
	}
	c.Scales = []int{100, 100}
	if err := c.Validate(); err == nil {
		t.Error("duplicate scale accepted")
	}
	c.Scales = []int{100, maxScale + 1}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "scale 100,000,001: more than 100,000,000") {
		t.Errorf("scale over maxScale: %v", err)
	}
	if _, err := ParseScales("99999999999999999M"); err == nil {
		t.Error("ParseScales overflow accepted")
	}
	for _, repeat := range []int{0, -3} {
		c := DefaultConfig()
		c.Repeat = repeat
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "repeat") {
			t.Errorf("--repeat %d: %v, want an error", repeat, err)
		}
	}
	for _, tt := range []struct {
		name    string
		mutate  func(c *Config)
		wantErr string
	}{
		{"k over the smallest scale", func(c *Config) { c.Cluster.Algorithm, c.Cluster.K = "kmeans", 101 }, "k 101: more clusters than the 100 conversations"},
		{"k at the smallest scale", func(c *Config) { c.Cluster.Algorithm, c.Cluster.K = "kmeans", 100 }, ""},
		{"gogc below -1", func(c *Config) { c.GOGC = -5 }, "gogc -5"},
		{"gogc off", func(c *Config) { c.GOGC = -1 }, ""},
		// Each volume and duration error names its flag and value.
		{"target 0", func(c *Config) { c.TargetConversations = 0 }, "--target-conversations 0: must be between 1 and 10,000,000,000"},
		{"target absurd", func(c *Config) { c.TargetConversations = 99999999999999 }, "--target-conversations 99999999999999: must be between 1 and"},
		{"target at the bound", func(c *Config) { c.TargetConversations = maxScale * 100 }, ""},
		{"monthly negative", func(c *Config) { c.MonthlyConversations = -1 }, "--monthly-conversations -1: cannot be negative"},
		{"monthly none", func(c *Config) { c.MonthlyConversations = 0 }, ""},
		{"timeout negative", func(c *Config) { c.Timeout = -time.Second }, "--timeout -1s: cannot be negative"},
		{"delay negative", func(c *Config) { c.Delay = -time.Second }, "--delay -1s: cannot be negative"},
		{"memory limit negative", func(c *Config) { c.MemoryLimit = -1 }, "--memory-limit -1: cannot be negative"},
	} {
		c := DefaultConfig()
		tt.mutate(&c)
		err := c.Validate()
		if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

// lateDims is an embedder that, like an API model missing from the
// known-dimensions table, reports 0 dimensions until it has answered.
type lateDims struct {
	embed.Embedder
	answered atomic.Bool
}

func (l *lateDims) Dims() int {
	if !l.answered.Load() {
		return 0
	}
	return l.Embedder.Dims()
}

func (l *lateDims) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	v, err := l.Embedder.Embed(ctx, texts)
	l.answered.Store(true)
	return v, err
}

// TestRunDimsFromFirstVectors checks that the vector length is taken from
// the vectors returned, not from Dims() before any request, for every chunk
// size (one chunk, several, a ragged last one).
func TestRunDimsFromFirstVectors(t *testing.T) {
	for _, chunk := range []int{1000, 7, 30} {
		cfg := testConfig(t)
		cfg.Scales = []int{30, 60}
		cfg.EmbedChunk = chunk
		tk := testToolkit()
		newEmb := tk.NewEmbedder
		tk.NewEmbedder = func(ctx context.Context, s backend.Spec, corpus Corpus) (embed.Embedder, error) {
			e, err := newEmb(ctx, s, corpus)
			return &lateDims{Embedder: e}, err
		}
		res, _, err := runAndWrite(t, context.Background(), &Runner{Toolkit: tk}, cfg)
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		for i := range res.Scales {
			checkScale(t, &res.Scales[i])
		}
	}
}

// TestRunRefusesScalesThatCannotFit checks the memory guard before each
// scale, the first included: a scale whose records alone exceed
// --memory-limit or the memory available is skipped with the reason,
// without building its data (a 50-million-conversation scale here would
// take minutes and gigabytes if it were built).
func TestRunRefusesScalesThatCannotFit(t *testing.T) {
	tests := []struct {
		name      string
		scales    []int
		limit     int64
		available int64
		wantRun   []int
		wantWhy   string
	}{
		{"over the memory limit, first scale", []int{30, 50_000_000}, 64 << 20, 0, []int{30}, "over --memory-limit 64 MiB"},
		{"over the memory available", []int{30, 50_000_000}, 0, 1 << 30, []int{30}, "more than the 1.0 GiB this machine has available"},
		{"only scale too big", []int{50_000_000}, 0, 1 << 30, nil, "its records alone take about"},
		{"fits", []int{30, 60}, 1 << 40, 1 << 40, []int{30, 60}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Scales = tt.scales
			cfg.MemoryLimit = tt.limit
			r := &Runner{Toolkit: testToolkit(), Available: func() int64 { return tt.available }}
			res, err := r.Run(context.Background(), cfg)
			// Fewer than two scales ran (none of one): not a success.
			if tooFew := len(tt.wantRun) < min(2, len(tt.scales)); tooFew != errors.Is(err, ErrTooFewScales) || (!tooFew && err != nil) {
				t.Fatalf("error %v (too few scales: %v)", err, tooFew)
			}
			var ran []int
			for _, s := range res.Scales {
				ran = append(ran, s.Scale)
			}
			if !reflect.DeepEqual(ran, tt.wantRun) {
				t.Errorf("ran %v, want %v", ran, tt.wantRun)
			}
			if tt.wantWhy == "" {
				if len(res.Skipped) != 0 {
					t.Errorf("skipped %+v", res.Skipped)
				}
				return
			}
			if len(res.Skipped) != 1 || res.Skipped[0].Scale != 50_000_000 || !strings.Contains(res.Skipped[0].Reason, tt.wantWhy) {
				t.Errorf("skipped %+v, want 50000000: %q", res.Skipped, tt.wantWhy)
			}
		})
	}
}

func TestMemoryCheck(t *testing.T) {
	one := []measure.Scale{{Conversations: 1000, BaselineRSSBytes: 20 << 20, PeakRSSBytes: 30 << 20}}
	two := append(one, measure.Scale{Conversations: 2000, BaselineRSSBytes: 20 << 20, PeakRSSBytes: 40 << 20})
	three := append(two[:2:2], measure.Scale{Conversations: 3000, BaselineRSSBytes: 20 << 20, PeakRSSBytes: 51 << 20})
	falling := []measure.Scale{{Conversations: 1000, BaselineRSSBytes: 20 << 20, PeakRSSBytes: 30 << 20},
		{Conversations: 2000, BaselineRSSBytes: 20 << 20, PeakRSSBytes: 29 << 20}}
	tests := []struct {
		name             string
		done             []measure.Scale
		n                int
		anon             float64 // bytes per vector outside a file (float16 converted)
		limit, available int64
		want             string // "" = may run
	}{
		{"no limit, unknown memory", nil, 1000, 0, 0, 0, ""},
		// 10,000,000 float16 vectors of 1,024 dims become 38 GiB of float32.
		{"float16 vectors over available", nil, 10_000_000, 4096, 0, 24 << 30, "its records and its vectors converted to float32 take about 42.8 GiB ((500 bytes + 4 KiB) × 10,000,000)"},
		{"float16 vectors that fit", nil, 10_000, 4096, 0, 24 << 30, ""},
		{"records under the limit", nil, 1000, 0, 1 << 20, 0, ""},                                       // 1000 × 500 B
		{"records over the limit", nil, 10000, 0, 1 << 20, 0, "its records alone take about 4.8 MiB"},   // 5,000,000 B
		{"records over available", nil, 10000, 0, 0, 1 << 20, "more than the 1.0 MiB this machine has"}, //
		// One scale's working memory is not extrapolated (it skipped scales
		// that fitted): only the records count.
		{"one scale: not extrapolated", one, 2000, 0, 35 << 20, 0, ""},
		{"one scale: its peak over the limit", one, 2000, 0, 25 << 20, 0, "the peak already measured at 1,000 conversations is 30 MiB"},
		// Two scales: the line, plus 25%: 30 + 10 per 1,000 → 50 MiB at
		// 3,000, 62.5 with the margin.
		{"two scales: line plus margin", two, 3000, 0, 60 << 20, 0, "predicted peak memory 50 MiB, plus a 25% margin (two scales) 62 MiB"},
		{"two scales: under the limit", two, 3000, 0, 64 << 20, 0, ""},
		// Three scales: the upper end of the prediction interval.
		{"three scales: interval", three, 4000, 0, 40 << 20, 0, "upper end of its 90% prediction interval"},
		// Two noisy scales whose line slopes down never predict less than
		// the peak already measured.
		{"negative slope", falling, 3000, 0, 36 << 20, 0, "raised to the peak measured at 1,000 conversations (30 MiB)"},
	}
	for _, tt := range tests {
		got := memoryCheck(tt.done, tt.n, 500, tt.anon, tt.limit, tt.available)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
