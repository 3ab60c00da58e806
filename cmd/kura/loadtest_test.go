package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/schemacheck"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/loadtest/results"
	"github.com/kura-go/kura/loadtest/scaledata"
)

func TestLoadtestCommand(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	dir := t.TempDir()
	common := []string{"loadtest", "--in-process", "--quiet", "--embedder", "hash", "--dims", "128",
		"--sample-size", "60", "--sample-topics", "3", "--clusterer", "kmeans", "--k", "3", "--out", dir}
	out, _, err, code := execCLI(t, append(common, "--scales", "30,60,120", "--details")...).all()
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	for _, want := range []string{"Summary", "Scale  Time s", "Scaling analysis (30 -> 120 conversations, 4.0x)", "Production planning", "Results: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	jsons, _ := filepath.Glob(filepath.Join(dir, "load_test_results_*.json"))
	csvs, _ := filepath.Glob(filepath.Join(dir, "load_test_results_*.csv"))
	if len(jsons) != 1 || len(csvs) != 1 {
		t.Fatalf("files: %v %v", jsons, csvs)
	}
	doc, err := os.ReadFile(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := schemacheck.Validate(loadtest.SchemaJSON, loadtest.SchemaID, doc); err != nil {
		t.Error(err)
	}
	res, err := loadtest.LoadResults(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Config.Embedder; got.Kind != "hash" || got.Dims != 128 {
		t.Errorf("embedder recorded: %+v", got)
	}
	if res.Scales[0].Embedder != "hash" || res.Scales[0].Dims != 128 {
		t.Errorf("scale ran with %s/%d", res.Scales[0].Embedder, res.Scales[0].Dims)
	}

	// The regression gate. Timings of a few milliseconds are noisy, so the
	// passing case compares with an "old" run made far slower and bigger,
	// and the failing case with one made cheaper (tokens are deterministic).
	writeOld := func(edit func(s *measure.Scale)) string {
		old, err := loadtest.LoadResults(jsons[0])
		if err != nil {
			t.Fatal(err)
		}
		// The gate runs below use scales 30 and 60: a scale of the old run
		// missing from the new one would fail it.
		kept := old.Scales[:0]
		for i := range old.Scales {
			if old.Scales[i].Conversations <= 60 {
				edit(&old.Scales[i])
				kept = append(kept, old.Scales[i])
			}
		}
		old.Scales = kept
		var b bytes.Buffer
		if err := loadtest.EncodeJSON(&b, old); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "old.json")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	slower := writeOld(func(s *measure.Scale) {
		s.TotalWallS *= 1000
		s.ThroughputPerMin /= 1000
		s.PeakRSSBytes *= 4
	})
	if out, _, err, code := execCLI(t, append(common, "--scales", "30,60", "--out", t.TempDir(), "--compare", slower)...).all(); code != 0 || !strings.Contains(out, "better") {
		t.Fatalf("compare with a slower run: exit %d: %v\n%s", code, err, out)
	}
	old := writeOld(func(s *measure.Scale) {
		s.TotalWallS *= 1000
		s.ThroughputPerMin /= 1000
		s.PeakRSSBytes *= 4
		s.API.EstimatedCostUSD /= 2
	})
	out, _, err, code = execCLI(t, append(common, "--scales", "30,60", "--out", t.TempDir(), "--compare", old, "--max-regression", "20%")...).all()
	if code != 1 || err == nil || !strings.Contains(err.Error(), "cost at scale 30 worse by 100.0%") || !strings.Contains(out, "REGRESSION") {
		t.Errorf("regression gate: exit %d, %v\n%s", code, err, out)
	}
	// The comparison fits the width (80 when stdout is not a terminal).
	_, table, _ := strings.Cut(out, "Comparison with")
	for _, l := range strings.Split(table, "\n") {
		if len(l) > 80 {
			t.Errorf("comparison line of %d columns: %q", len(l), l)
		}
	}
}

func TestLoadtestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"loadtest", "--scales", "abc"},
		{"loadtest", "--scales", "100,100"},
		{"loadtest", "--clusterer", "dbscan"},
		{"loadtest", "--memory-limit", "lots"},
		{"loadtest", "--max-regression", "x"},
		{"loadtest", "--max-regression", "20"}, // ambiguous: 20% or 20x?
		{"loadtest", "--repeat", "0"},
		{"loadtest", "--scales", "2000000000"}, // absurd: refused before anything is built
		{"loadtest", "--memory-limit", "99999999TB"},
		{"loadtest", "--repeat", "-3"},
		{"loadtest", "--price-model", "no-such-model"},
		{"loadtest", "--compare", "/no/such/file.json"},
		{"loadtest", "--embedder", "nope"},
		{"loadtest", "extra-arg"},
		{"loadtest", "--pipeline", "half"},
		{"loadtest", "--llm-model", "gpt-4o"},                                                   // needs --pipeline full
		{"loadtest", "--pipeline", "full", "--llm-price-input", "1"},                            // needs --mock or --llm-base-url
		{"loadtest", "--pipeline", "full", "--mock", "--llm-base-url", "http://127.0.0.1:1/v1"}, // one LLM only
		{"loadtest", "--pipeline", "full", "--mock", "--llm-model", "no-such-chat-model"},       // no price known
		{"loadtest", "--reduce", "tsne"},
		{"loadtest", "--reduce", "umap", "--reduce-dims", "0"},
		{"loadtest", "--reduce", "umap", "--reduce-metric", "manhattan"},
		{"loadtest", "--reduce", "umap", "--reduce-neighbors", "1"},
		{"loadtest", "--reduce", "pca", "--reduce-dims", "-1"},
		{"loadtest", "--vector-dtype", "float64"},
	} {
		if _, _, err, code := execCLI(t, args...).all(); code != 2 {
			t.Errorf("%v: exit %d (%v), want 2", args, code, err)
		}
	}
}

// --target-conversations, --plan-for and --monthly-conversations take
// numbers as --scales does (100k, 1M, 100_000); a bad one is a usage error
// naming the flag.
func TestLoadtestVolumeFlags(t *testing.T) {
	for _, tt := range []struct {
		args            []string
		target, monthly int
		planFor         []int
		wantErr         string
	}{
		{args: nil, target: 10000, monthly: 50000},
		{args: []string{"--plan-for", "100k"}, target: 10000, monthly: 50000, planFor: []int{100000}},
		{args: []string{"--plan-for", "1M,250_000", "--plan-for", "2k"}, target: 10000, monthly: 50000, planFor: []int{1000000, 250000, 2000}},
		{args: []string{"--target-conversations", "20k", "--monthly-conversations", "1_500"}, target: 20000, monthly: 1500},
		{args: []string{"--monthly-conversations", "0"}, target: 10000},
		{args: []string{"--plan-for", "100x"}, wantErr: `invalid argument "100x" for "--plan-for" flag: want a whole number of conversations`},
		{args: []string{"--plan-for", "1M,1.5M"}, wantErr: `invalid argument "1M,1.5M" for "--plan-for" flag: "1.5M": want a whole number`},
		{args: []string{"--target-conversations", "10,000"}, wantErr: `invalid argument "10,000" for "--target-conversations" flag`},
		{args: []string{"--monthly-conversations", "-1"}, wantErr: `invalid argument "-1" for "--monthly-conversations" flag`},
	} {
		cmd := newLoadtestCmd()
		err := cmd.Flags().Parse(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		get := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
		var planFor []string
		for _, n := range tt.planFor {
			planFor = append(planFor, strconv.Itoa(n))
		}
		if get("target-conversations") != strconv.Itoa(tt.target) || get("monthly-conversations") != strconv.Itoa(tt.monthly) ||
			get("plan-for") != strings.Join(planFor, ",") {
			t.Errorf("%v: target %s, monthly %s, plan for %q; want %d, %d, %v", tt.args,
				get("target-conversations"), get("monthly-conversations"), get("plan-for"), tt.target, tt.monthly, tt.planFor)
		}
	}
	// As a process: exit 2, the error names the flag, and a volume out of
	// range too.
	for _, tt := range []struct{ flag, value, want string }{
		{"--plan-for", "100x", `for "--plan-for" flag`},
		{"--plan-for", "0", "--plan-for 0: must be between 1 and 10,000,000,000"},
		{"--target-conversations", "20B", `for "--target-conversations" flag`},
	} {
		_, _, err, code := execCLI(t, "loadtest", "--quiet", "--out", "-", "--scales", "100,200", tt.flag, tt.value).all()
		if code != 2 || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %s: exit %d, error %v; want exit 2 with %q", tt.flag, tt.value, code, err, tt.want)
		}
	}
}

// --vector-dtype is read as kura embed and kura run read it: an empty or
// unknown value is a usage error naming the flag, before anything runs.
func TestLoadtestVectorDTypeErrors(t *testing.T) {
	for _, v := range []string{"", " ", "float8", "float64"} {
		_, _, err, code := execCLI(t, "loadtest", "--quiet", "--out", "-", "--scales", "100,200", "--vector-dtype", v).all()
		if code != 2 || err == nil || !strings.Contains(err.Error(), "--vector-dtype: unknown vector dtype "+strconv.Quote(v)) {
			t.Errorf("--vector-dtype %q: exit %d, error %v; want exit 2 naming --vector-dtype", v, code, err)
		}
	}
}

// A directory given as an argument is the data the user meant: the message
// says to use --data.
func TestLoadtestPathArgumentSuggestsData(t *testing.T) {
	dir := t.TempDir()
	_, _, err, code := execCLI(t, "loadtest", dir).all()
	if code != 2 || err == nil || !strings.Contains(err.Error(), "use --data "+dir) {
		t.Errorf("exit %d, error %v; want exit 2 suggesting --data", code, err)
	}
}

// --pipeline full --mock through the CLI: every stage of Kura's pipeline is
// reported, with the LLM answered by the in-process mock.
func TestLoadtestFullPipelineCommand(t *testing.T) {
	dir := t.TempDir()
	out, _, err, code := execCLI(t, "loadtest", "--in-process", "--quiet", "--pipeline", "full", "--mock", "--dims", "64",
		"--sample-size", "60", "--sample-topics", "3", "--clusterer", "kmeans", "--scales", "30,60", "--out", dir).all()
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	for _, want := range []string{"Full pipeline at 60 conversations; chat model gpt-4o-mini", "summarise", "hierarchy", "Whole pipeline: $"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestLoadtestOutDir checks that an unwritable --out is refused before any
// scale runs, and that a results write that fails at the end still prints
// the report and returns the error.
func TestLoadtestOutDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{file, filepath.Join(file, "sub")} {
		_, _, err, code := execCLI(t, "loadtest", "--in-process", "--quiet", "--embedder", "hash", "--scales", "30", "--out", out).all()
		if code != 2 || err == nil || !strings.Contains(err.Error(), "--out") {
			t.Errorf("--out %s: exit %d, %v; want a usage error naming --out", out, code, err)
		}
	}
	res := &loadtest.Results{SchemaVersion: loadtest.SchemaVersion, Baseline: scaledata.Info{Source: "test"},
		Scales: []measure.Scale{{Scale: 30, Conversations: 30, TotalWallS: 1}}}
	tests := []struct {
		name    string
		dir     string
		wantErr bool
	}{
		{"writable", t.TempDir(), false},
		{"under a file", filepath.Join(file, "sub"), true},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		_, err := writeLoadtestResults(&out, &out, res, &results.Writer{Dir: tt.dir}, "text", results.Options{})
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v", tt.name, err)
		}
		if !strings.Contains(out.String(), "Summary") || !strings.Contains(out.String(), "Scale  Time s") {
			t.Errorf("%s: report not printed:\n%s", tt.name, out.String())
		}
		if got := strings.Contains(out.String(), "Results: "); got == tt.wantErr {
			t.Errorf("%s: \"Results:\" line printed=%v", tt.name, got)
		}
	}
}

// TestLoadtestWorkerArgs checks that the global logging flags reach the
// worker processes, and that the worker logs in the format asked for.
func TestLoadtestWorkerArgs(t *testing.T) {
	tests := []struct {
		flags []string
		want  string
	}{
		{nil, "loadtest-worker"},
		{[]string{"-v"}, "loadtest-worker --verbose"},
		{[]string{"--log-format", "json"}, "loadtest-worker --log-format=json"},
		{[]string{"--log-format=text", "--verbose"}, "loadtest-worker --verbose --log-format=text"},
	}
	for _, tt := range tests {
		root := newRootCmd()
		lt, _, err := root.Find([]string{"loadtest"})
		if err != nil {
			t.Fatal(err)
		}
		fs := lt.Flags()
		fs.AddFlagSet(root.PersistentFlags())
		if err := fs.Parse(tt.flags); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(workerArgs(fs), " "); got != tt.want {
			t.Errorf("%v: worker args %q, want %q", tt.flags, got, tt.want)
		}
	}
	for _, tt := range []struct{ format, want string }{{"json", `{"time":`}, {"text", "level=WARN msg=hello"}, {"", "level=WARN msg=hello"}} {
		var b bytes.Buffer
		h := workerLogHandler(&b, tt.format)
		slog.New(h).Warn("hello")
		slog.New(h).Info("dropped")
		if !strings.HasPrefix(b.String(), tt.want) || strings.Contains(b.String(), "dropped") {
			t.Errorf("format %q: %q", tt.format, b.String())
		}
	}
}

// TestLoadtestPriceOverride: --price-per-million prices the tokens of a mock
// run (the estimated API cost), not only a real API client's.
func TestLoadtestPriceOverride(t *testing.T) {
	dir := t.TempDir()
	args := []string{"loadtest", "--in-process", "--quiet", "--mock", "--dims", "16", "--price-per-million", "1",
		"--sample-size", "60", "--sample-topics", "3", "--clusterer", "kmeans", "--k", "3", "--scales", "30,60", "--out", dir}
	if out, _, err, code := execCLI(t, args...).all(); code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	jsons, _ := filepath.Glob(filepath.Join(dir, "load_test_results_*.json"))
	if len(jsons) != 1 {
		t.Fatalf("results: %v", jsons)
	}
	res, err := loadtest.LoadResults(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Scales {
		if s.API.PricePerMillion != 1 || s.API.EstimatedCostUSD != float64(s.API.Tokens)/1e6 {
			t.Errorf("scale %d: price %v, estimated cost %v for %d tokens; want $1 per million", s.Scale, s.API.PricePerMillion, s.API.EstimatedCostUSD, s.API.Tokens)
		}
	}
}

// --out - --format json: the results JSON on stdout, no files, no folder
// named "-"; --format markdown: the summary list and the table.
func TestLoadtestStdoutFormats(t *testing.T) {
	t.Chdir(t.TempDir())
	common := []string{"loadtest", "--in-process", "--quiet", "--embedder", "hash", "--dims", "64",
		"--sample-size", "40", "--sample-topics", "2", "--clusterer", "kmeans", "--k", "2", "--scales", "20,40", "--out", "-"}
	out, _, err, code := execCLI(t, append(common, "--format", "json")...).all()
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	if err := schemacheck.Validate(loadtest.SchemaJSON, loadtest.SchemaID, []byte(out)); err != nil {
		t.Errorf("stdout is not the results JSON: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("--out - wrote %v", entries)
	}
	out, _, err, code = execCLI(t, append(common, "--format", "markdown")...).all()
	if code != 0 || !strings.Contains(out, "### Summary") || !strings.Contains(out, "| Scale | Time s |") || strings.Contains(out, "Results:") {
		t.Errorf("exit %d: %v\n%s", code, err, out)
	}
	if _, _, _, code := execCLI(t, append(common, "--format", "xml")...).all(); code != 2 {
		t.Errorf("--format xml: exit %d, want 2", code)
	}
}

// --reduce and --reduce-dims reach the scales: a reduce stage between embed
// and cluster, recorded in the results' config.
func TestLoadtestReduce(t *testing.T) {
	dir := t.TempDir()
	out, _, err, code := execCLI(t, "loadtest", "--in-process", "--quiet", "--embedder", "hash", "--dims", "128",
		"--sample-size", "60", "--sample-topics", "3", "--clusterer", "kmeans", "--k", "3", "--scales", "30,60",
		"--reduce", "pca", "--reduce-dims", "4", "--out", dir).all()
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	jsons, _ := filepath.Glob(filepath.Join(dir, "load_test_results_*.json"))
	if len(jsons) != 1 {
		t.Fatalf("files: %v", jsons)
	}
	res, err := loadtest.LoadResults(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Config.Cluster.Reduce; r.Method != "pca" || r.Dims != 4 || r.Seed != uint64(res.Config.Seed) {
		t.Errorf("reduction recorded: %+v", r)
	}
	for _, s := range res.Scales {
		if got := strings.Join(s.Stages.Names(), ","); got != "load,embed,reduce,cluster,write" || s.Clusterer != "pca:4 + kmeans(k=3)" {
			t.Errorf("scale %d: stages %s, clusterer %s", s.Scale, got, s.Clusterer)
		}
	}
}

// TestLoadtestCompareMalformed checks that a --compare file that is not
// JSON, holds a field of the wrong type, or numbers no run can measure is
// a usage error naming the file and the place or field, before any scale.
func TestLoadtestCompareMalformed(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, doc string
		want      []string
	}{
		{"syntax", "{\"schema_version\": 2,\n  \"scales\": [x]}", []string{"old.json: not a load test results file (line 2, column 14)", "invalid character"}},
		{"type", `{"schema_version": 2, "scales": [{"scale": 30, "conversations": 30, "total_wall_s": "fast"}]}`, []string{"old.json", "total_wall_s"}},
		{"negative time", `{"schema_version": 2, "scales": [{"scale": 30, "conversations": 30, "total_wall_s": -1}]}`, []string{"old.json", "scales[0] (scale 30): total_wall_s is -1"}},
		{"negative stage memory", `{"schema_version": 2, "scales": [{"scale": 30, "conversations": 30, "stages": {"embed": {"peak_rss_bytes": -7}}}]}`, []string{"old.json", "stages.embed.peak_rss_bytes is -7"}},
		{"no conversations", `{"schema_version": 2, "scales": [{"scale": 30}]}`, []string{"old.json", "conversations is 0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name, "old.json")
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(tt.doc), 0o644)
			_, stderr, err, code := execCLI(t, "loadtest", "--quiet", "--embedder", "hash", "--scales", "30", "--out", "-", "--compare", p).all()
			if code != 2 || err == nil {
				t.Fatalf("exit %d, err %v; want a usage error", code, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(stderr, "scale 30") {
				t.Errorf("a scale ran before the error:\n%s", stderr)
			}
		})
	}
}
