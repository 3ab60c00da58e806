package loadtest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kura-go/kura/embed"
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

// runAndWrite runs a load test and writes its files, as the command does.
func runAndWrite(t *testing.T, ctx context.Context, r *Runner, cfg Config) (*Results, []byte, error) {
	t.Helper()
	res, err := r.Run(ctx, cfg)
	if res == nil {
		t.Fatalf("no results: %v", err)
	}
	jp, cp, werr := WriteFiles(res, cfg.OutDir)
	if werr != nil {
		t.Fatal(werr)
	}
	if filepath.Base(jp) != FileStem(res.StartedAt)+".json" || filepath.Ext(cp) != ".csv" {
		t.Errorf("file names %s, %s", jp, cp)
	}
	doc, rerr := os.ReadFile(jp)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if verr := ValidateJSON(doc); verr != nil {
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

func checkScale(t *testing.T, s *ScaleResult) {
	t.Helper()
	if s.Conversations != s.Scale || s.Dims != 256 || s.Embedder != "hash" {
		t.Errorf("scale %d: %d conversations, %d dims, embedder %q", s.Scale, s.Conversations, s.Dims, s.Embedder)
	}
	if s.PeakRSSBytes <= 0 || s.BaselineRSSBytes <= 0 || s.HeapInuseBytes <= 0 || s.TotalWallS <= 0 || s.ThroughputPerMin <= 0 {
		t.Errorf("scale %d: missing measurements %+v", s.Scale, s)
	}
	if s.Stages.Embed.PeakRSSBytes <= 0 || s.Stages.Cluster.WallS <= 0 {
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
	var out bytes.Buffer
	WriteReport(&out, res)
	for _, want := range []string{"Scale | Time (s) | Peak Memory (MiB) | Storage (MiB) | Throughput (conv/min) | Cost ($)",
		"Memory scaling:", "Time scaling:", "efficiency", "For 10,000 conversations, need ~", "Monthly embedding cost (50,000 conversations"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
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
		st := s.Stages
		if sum := st.Load.WallS + st.Embed.WallS + st.Cluster.WallS + st.Write.WallS; math.Abs(s.TotalWallS-sum) > 1e-12 {
			t.Errorf("scale %d: total %v, stages sum to %v", s.Scale, s.TotalWallS, sum)
		}
	}
}

func TestMedianRun(t *testing.T) {
	mk := func(load, embed, cluster float64, peak int64) *ScaleResult {
		return &ScaleResult{Conversations: 600, Stages: Stages{
			Load: Stage{WallS: load}, Embed: Stage{WallS: embed, PeakRSSBytes: peak}, Cluster: Stage{WallS: cluster}},
			TotalWallS: load + embed + cluster}
	}
	m := medianRun([]*ScaleResult{mk(1, 10, 100, 30), mk(2, 30, 50, 10), mk(3, 20, 70, 20)})
	if m.Stages.Load.WallS != 2 || m.Stages.Embed.WallS != 20 || m.Stages.Cluster.WallS != 70 || m.PeakRSSBytes != 20 {
		t.Errorf("median stages %+v peak %d", m.Stages, m.PeakRSSBytes)
	}
	if m.TotalWallS != 92 || m.ThroughputPerMin != 600/92.0*60 || !reflect.DeepEqual(m.RepeatWallS, []float64{111, 82, 93}) {
		t.Errorf("total %v throughput %v repeats %v", m.TotalWallS, m.ThroughputPerMin, m.RepeatWallS)
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
	cluster := tk.Cluster
	calls := 0
	tk.Cluster = func(ctx context.Context, x []float32, n, d int, c ClusterConfig) ([]int, error) {
		calls++
		if calls == 2 {
			cancel() // Ctrl-C during the second scale
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return cluster(ctx, x, n, d, c)
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
	cluster := tk.Cluster
	tk.Cluster = func(ctx context.Context, x []float32, n, d int, c ClusterConfig) ([]int, error) {
		if n == 120 {
			<-ctx.Done() // a scale that never finishes on its own
			return nil, ctx.Err()
		}
		return cluster(ctx, x, n, d, c)
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
	res, _, err = runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scales) != 1 || len(res.Skipped) != 2 || !strings.Contains(res.Skipped[0].Reason, "over --memory-limit 1.0 MiB") {
		t.Errorf("scales %d skipped %+v", len(res.Scales), res.Skipped)
	}
}

func TestWriteFilesNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	r := &Results{SchemaVersion: SchemaVersion, StartedAt: time.Date(2026, 11, 26, 4, 5, 6, 0, time.UTC)}
	var names []string
	for range 3 {
		j, c, err := WriteFiles(r, dir)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(j), filepath.Base(c))
	}
	want := []string{"load_test_results_20261126_040506.json", "load_test_results_20261126_040506.csv",
		"load_test_results_20261126_040506_2.json", "load_test_results_20261126_040506_2.csv",
		"load_test_results_20261126_040506_3.json", "load_test_results_20261126_040506_3.csv"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
}

func TestCSVColumns(t *testing.T) {
	r := &Results{Scales: []ScaleResult{fakeScale(100, 1, 30<<20, 10<<20, 0.001)},
		Failures: []Failure{{Scale: 200, Kind: "timeout", Error: "x"}}, Skipped: []Skipped{{Scale: 400, Reason: "y"}}}
	r.Scales[0].Quality = &Quality{Labeled: 100, ARI: 0.5, NMI: 0.6, Spillover: 0.25}
	var b bytes.Buffer
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !reflect.DeepEqual(rows[0], CSVHeader) {
		t.Fatalf("rows %v", rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"scale", "total_wall_s", "peak_rss_bytes", "storage_total_bytes", "throughput_per_min", "estimated_cost_usd",
		"embed_wall_s", "cluster_wall_s", "clusters", "noise", "ari", "nmi", "spillover", "api_retries", "api_rate_limited"} {
		if _, ok := col[h]; !ok {
			t.Errorf("no column %s", h)
		}
	}
	for i, row := range rows {
		if len(row) != len(CSVHeader) {
			t.Errorf("row %d has %d fields", i, len(row))
		}
	}
	if rows[1][col["status"]] != "ok" || rows[1][col["peak_rss_bytes"]] != "31457280" || rows[1][col["ari"]] != "0.5" ||
		rows[2][col["status"]] != "timeout" || rows[3][col["status"]] != "skipped" || rows[3][col["scale"]] != "400" {
		t.Errorf("rows %v", rows[1:])
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
		{`"schema_version": 1`, `"schema_version": 2`, "$.schema_version"},
		{`"interrupted": false`, `"interrupted": "no"`, "$.interrupted: is string"},
		{`"isolation": "in-process"`, `"isolation": "thread"`, "want one of"},
		{`"peak_rss_bytes": `, `"peak_rss_bytes": -`, "want >= 0"},
		{`"noise": `, `"noise_points": `, `unexpected field "noise_points"`},
	}
	for _, tt := range tests {
		doc := strings.Replace(good.String(), tt.from, tt.to, 1)
		if doc == good.String() {
			t.Fatalf("%q not in the document", tt.from)
		}
		err := ValidateJSON([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s -> %s: error %v, want %q", tt.from, tt.to, err, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	two := func(t100, t1000 float64, m1000 int64, cost100 float64) *Results {
		return &Results{Scales: []ScaleResult{fakeScale(100, t100, 30<<20, 10<<20, cost100), fakeScale(1000, t1000, m1000, 10<<20, 0.01)}}
	}
	old := two(1.0, 10, 60<<20, 0.001)
	tests := []struct {
		name        string
		old, cur    *Results
		wantRegs    []string // "metric@scale"
		wantMissing []int
		wantNone    bool
		wantErr     []string
	}{
		{name: "against itself", old: old, cur: old},
		// At 1000: time +30%, throughput -23% and memory +33% exceed 20%;
		// at 100: time +10% does not.
		{name: "regressions", old: old, cur: two(1.1, 13, 80<<20, 0.001),
			wantRegs: []string{"time@1000", "memory@1000", "throughput@1000"},
			wantErr:  []string{"time at scale 1000 worse by 30.0%", "memory at scale 1000 worse by 33.3%"}},
		{name: "cost, and a scale missing from the new run", old: old,
			cur:      &Results{Scales: []ScaleResult{fakeScale(100, 1.0, 30<<20, 10<<20, 0.002)}},
			wantRegs: []string{"cost@100"}, wantMissing: []int{1000},
			wantErr: []string{"cost at scale 100 worse by 100.0%", "scale 1000 of the earlier run did not complete"}},
		{name: "a missing scale alone fails", old: old,
			cur:         &Results{Scales: []ScaleResult{fakeScale(100, 1.0, 30<<20, 10<<20, 0.001)}},
			wantMissing: []int{1000}, wantErr: []string{"scale 1000 of the earlier run"}},
		{name: "no scale in common", old: old,
			cur:         &Results{Scales: []ScaleResult{fakeScale(200, 1.0, 30<<20, 10<<20, 0.001)}},
			wantMissing: []int{100, 1000}, wantNone: true, wantErr: []string{"no scale in common"}},
		// Below the noise floors: 2 ms -> 4 ms is +100% in time and -50% in
		// throughput; 12 ms -> 20 ms at 100 conversations is -40% in
		// throughput, but only 8 ms: noise, for both metrics.
		{name: "milliseconds are noise", old: &Results{Scales: []ScaleResult{fakeScale(100, 0.002, 30<<20, 10<<20, 0.001)}},
			cur: &Results{Scales: []ScaleResult{fakeScale(100, 0.004, 30<<20, 10<<20, 0.001)}}},
		{name: "12 ms to 20 ms is noise", old: &Results{Scales: []ScaleResult{fakeScale(100, 0.012, 30<<20, 10<<20, 0.001)}},
			cur: &Results{Scales: []ScaleResult{fakeScale(100, 0.020, 30<<20, 10<<20, 0.001)}}},
		{name: "12 ms to 30 ms is not", old: &Results{Scales: []ScaleResult{fakeScale(100, 0.012, 30<<20, 10<<20, 0.001)}},
			cur:      &Results{Scales: []ScaleResult{fakeScale(100, 0.030, 30<<20, 10<<20, 0.001)}},
			wantRegs: []string{"time@100", "throughput@100"}, wantErr: []string{"time at scale 100 worse by 150.0%"}},
		{name: "half a MiB more memory is noise", old: &Results{Scales: []ScaleResult{fakeScale(100, 1, 1<<20, 0, 0.001)}},
			cur: &Results{Scales: []ScaleResult{fakeScale(100, 1, 3<<19, 0, 0.001)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.old, tt.cur, 0.2)
			var regs []string
			for _, r := range c.Regressions {
				regs = append(regs, fmt.Sprintf("%s@%d", r.Metric, r.Scale))
			}
			if !reflect.DeepEqual(regs, tt.wantRegs) || !reflect.DeepEqual(c.Missing, tt.wantMissing) || c.NoneInCommon != tt.wantNone {
				t.Errorf("regressions %v missing %v none %v; want %v %v %v", regs, c.Missing, c.NoneInCommon, tt.wantRegs, tt.wantMissing, tt.wantNone)
			}
			err := c.Err()
			if (err != nil) != (len(tt.wantErr) > 0) || c.Failed() != (err != nil) {
				t.Fatalf("error %v, failed %v", err, c.Failed())
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
			var out bytes.Buffer
			c.Write(&out, "old.json")
			if len(tt.wantMissing) > 0 && !strings.Contains(out.String(), "MISSING scale") {
				t.Errorf("table does not show the missing scales:\n%s", out.String())
			}
		})
	}
}

func TestThroughputFloor(t *testing.T) {
	for _, tt := range []struct {
		n           int
		oldPM, want float64
	}{
		{100, 500000, 500000 - 6000/0.022}, // 12 ms: the 10 ms floor is most of it
		{1000, 6000, 6000 - 60000/10.01},   // 10 s: a tiny fraction
		{100, 0, 0},
	} {
		if got := throughputFloor(tt.n, tt.oldPM); rel(got, tt.want) > 1e-12 && got != tt.want {
			t.Errorf("throughputFloor(%d, %v) = %v, want %v", tt.n, tt.oldPM, got, tt.want)
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
		v    float64
		want string
	}{
		{0, "0 bytes"}, {1536, "2 KiB"}, {1 << 20, "1.0 MiB"}, {1.5 * (1 << 20), "1.5 MiB"}, {100 << 20, "100 MiB"},
		{3 << 30, "3.0 GiB"}, {2 << 40, "2.0 TiB"},
	} {
		if got := humanBytes(tt.v); got != tt.want {
			t.Errorf("humanBytes(%v) = %q, want %q", tt.v, got, tt.want)
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
	c.Scales = []int{100, MaxScale + 1}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "100000001") {
		t.Errorf("scale over MaxScale: %v", err)
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
	} {
		c := DefaultConfig()
		tt.mutate(&c)
		err := c.Validate()
		if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestProbeDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir string
		ok  bool
	}{
		{base, true},
		{filepath.Join(base, "new", "nested"), true},
		{file, false},
		{filepath.Join(file, "sub"), false},
	}
	for _, tt := range tests {
		if err := ProbeDir(tt.dir); (err == nil) != tt.ok {
			t.Errorf("ProbeDir(%s) = %v, want ok=%v", tt.dir, err, tt.ok)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(base, ".kura-loadtest-probe-*")); len(left) != 0 {
		t.Errorf("probe files left behind: %v", left)
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
		tk.NewEmbedder = func(ctx context.Context, args []string, corpus []string) (embed.Embedder, error) {
			e, err := newEmb(ctx, args, corpus)
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
			if err != nil {
				t.Fatal(err)
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
	one := []ScaleResult{{Conversations: 1000, BaselineRSSBytes: 20 << 20, PeakRSSBytes: 30 << 20}}
	tests := []struct {
		name             string
		done             []ScaleResult
		n                int
		limit, available int64
		want             string // "" = may run
	}{
		{"no limit, unknown memory", nil, 1000, 0, 0, ""},
		{"records under the limit", nil, 1000, 1 << 20, 0, ""},                                                      // 1000 × 500 B
		{"records over the limit", nil, 10000, 1 << 20, 0, "its records alone take about 4.8 MiB"},                  // 5,000,000 B
		{"records over available", nil, 10000, 0, 1 << 20, "more than the 1.0 MiB this machine has"},                //
		{"predicted from one scale", one, 2000, 35 << 20, 0, "predicted peak memory 40 MiB (from one scale (1000)"}, // 20 + 2 × 10
		{"prediction under the limit", one, 1400, 35 << 20, 0, ""},                                                  // 34 MiB
	}
	for _, tt := range tests {
		got := memoryCheck(tt.done, tt.n, 500, tt.limit, tt.available)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
