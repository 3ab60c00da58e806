package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/embed/minilm"
	"github.com/kura-go/kura/embed/openai"
	"github.com/kura-go/kura/internal/httpapi"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/internal/progress"
	"github.com/kura-go/kura/llm"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/gate"
	"github.com/kura-go/kura/loadtest/results"
	"github.com/kura-go/kura/report"
	"github.com/kura-go/kura/vecfile"
)

func init() {
	register(newLoadtestCmd)
	register(newLoadtestWorkerCmd)
}

// loadtestFlags are kura loadtest's flags: the configuration, and what the
// flags give as text to be parsed.
type loadtestFlags struct {
	cfg                                         loadtest.Config
	ef                                          embedderFlags
	scales, memoryLimit, compare, maxRegression string
	htmlReport                                  string // --report
	wide, details                               bool
	format                                      string // --format

	// --pipeline full: the chat model of the LLM stages.
	llmBaseURL, llmModel, llmKeyEnv string
	llmPriceIn, llmPriceOut         float64
	llmConcurrency                  int
	mon                             monitorFlags
	reduce                          preReduceFlags
}

// renamedEmbedderFlags are embedder flags whose names the load tester uses
// for something else; they are offered under these names instead.
var renamedEmbedderFlags = map[string]string{"timeout": "request-timeout", "seed": "embedder-seed"}

func newLoadtestCmd() *cobra.Command {
	lf := &loadtestFlags{cfg: loadtest.DefaultConfig(), scales: "100,250,500,1000,2000", maxRegression: "20%", format: "text"}
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Load-test the pipeline: memory, time, storage, cost per scale",
		Long: `loadtest runs the embedding and clustering pipeline at several scales (numbers
of conversations), each in a fresh process, and measures memory (peak RSS
overall and per stage), time (load, embed, cluster, write), storage (JSONL,
Parquet, .npy), API requests, retries, tokens and cost, and cluster quality
against the baseline's clusters. It prints a performance table, the scaling
analysis (efficiency = conversation ratio / metric ratio; 1.0 is linear, above
1 better) and production planning fitted over all scales, and writes
load_test_results_YYYYMMDD_HHMMSS.json and .csv to --out.

Without --data the baseline is the built-in sample corpus; scales above the
baseline's size are reached with new, distinct records that keep its cluster
structure. With no flags it runs offline (the hash embedder, or minilm when a
local model is installed); OPENAI_API_KEY alone never makes it call the paid
API: ask with --embedder openai, and the run prints its cost estimate first.
See docs/loadtest.md.`,
		Example: `  # Offline, built-in data, scales 100..2,000
  kura loadtest

  # Also plan RAM, time and cost for 100,000 and 1,000,000 conversations
  kura loadtest --plan-for 100k,1M

  # Your Kura checkpoint, mock embeddings (no API calls, the guide's MOCK_MODE)
  kura loadtest --data ./checkpoints --mock

  # Rehearse against the fake API with latency and rate limits
  kura mock-api --addr 127.0.0.1:8089 --latency 100ms --rate-limit-rate 0.2 &
  OPENAI_API_KEY=dummy kura loadtest --embedder openai \
      --base-url http://127.0.0.1:8089/v1

  # CI gate: fail if time, memory, throughput or cost got >20% worse
  kura loadtest --embedder hash --compare baseline.json --max-regression 20%`,
		Args: loadtestArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runLoadtest(cmd, lf) },
	}
	f := cmd.Flags()
	f.StringVar(&lf.scales, "scales", lf.scales, "comma-separated numbers of conversations to test (1k = 1000)")
	f.StringVar(&lf.cfg.Data, "data", "", "baseline: a Kura checkpoint dir, or files (summaries.jsonl, conversations.jsonl or a conversations.json export of Kura, Claude.ai or ChatGPT, clusters.jsonl; comma-separated); default: the built-in sample corpus")
	f.IntVar(&lf.cfg.SampleConversations, "sample-size", lf.cfg.SampleConversations, "conversations in the built-in baseline (without --data)")
	f.IntVar(&lf.cfg.SampleTopics, "sample-topics", lf.cfg.SampleTopics, "topics (ground-truth clusters) in the built-in baseline")
	f.Int64Var(&lf.cfg.Seed, "seed", lf.cfg.Seed, "seed for the scaled data, K-means and HDBSCAN's approximate neighbour search")
	f.StringVar(&lf.cfg.Cluster.Algorithm, "clusterer", lf.cfg.Cluster.Algorithm, "clustering algorithm: hdbscan or kmeans")
	f.StringVar(&lf.cfg.VectorDType, "vector-dtype", lf.cfg.VectorDType, "how each scale's embeddings.npy stores the vectors: float32, or float16 (half the storage; the reduce and cluster\nstages then read it into float32 memory instead of mapping it)")
	f.IntVar(&lf.cfg.Cluster.MinClusterSize, "min-cluster-size", lf.cfg.Cluster.MinClusterSize, "HDBSCAN min_cluster_size")
	f.IntVar(&lf.cfg.Cluster.MinSamples, "min-samples", 0, "HDBSCAN min_samples (0 = min-cluster-size)")
	f.IntVar(&lf.cfg.Cluster.K, "k", 0, "K-means clusters (0 = ceil(n / items-per-cluster), Kura's rule)")
	f.IntVar(&lf.cfg.Cluster.ItemsPerCluster, "items-per-cluster", lf.cfg.Cluster.ItemsPerCluster, "K-means: conversations per cluster when --k is 0")
	lf.reduce.add(f)
	f.Lookup("reduce").Usage += fmt.Sprintf("; not given: PCA to %d dimensions at every scale when the run measures or plans %s conversations or more, else none", loadtest.AutoReduceDims, human.Thousands(loadtest.AutoReduceFrom))
	f.StringVar(&lf.cfg.PriceModel, "price-model", "", "model whose price estimates the API cost of the tokens, so mock and offline runs still plan money\n(default: the embedder's API model, else "+embed.DefaultPriceModel+")")
	f.DurationVar(&lf.cfg.Delay, "delay", 0, "pause between scales (e.g. 60s, to let API rate limits recover)")
	f.DurationVar(&lf.cfg.Timeout, "timeout", 0, "time limit per scale (0 = none); a scale over it is stopped and recorded as a failure")
	f.StringVar(&lf.memoryLimit, "memory-limit", "", "skip scales whose predicted peak memory would exceed this (e.g. 2GiB = 2^30 bytes, 2GB = 10^9 bytes)")
	f.Var(countValue{&lf.cfg.TargetConversations}, "target-conversations", "production volume to plan RAM and time for (written as in --scales: 100000, 100_000, 100k)")
	f.Var(countsValue{&lf.cfg.PlanFor}, "plan-for", "more volumes to plan RAM, time and cost for, beside --target-conversations (repeatable or comma-separated; 1M = 1000000)")
	f.Var(countValue{&lf.cfg.MonthlyConversations}, "monthly-conversations", "monthly volume to plan embedding cost for (50k = 50000)")
	f.StringVar(&lf.cfg.OutDir, "out", lf.cfg.OutDir, "directory for load_test_results_*.json and .csv; - writes no files (the results go to stdout in --format)")
	f.StringVar(&lf.compare, "compare", "", "results JSON of an earlier run: exit non-zero if any metric got worse by more than --max-regression")
	f.StringVar(&lf.maxRegression, "max-regression", lf.maxRegression, "regression threshold for --compare (time, memory, throughput, cost): a percentage such as 20% (a bare number must be a fraction below 1, e.g. 0.2)")
	f.IntVar(&lf.cfg.Repeat, "repeat", 1, "run each scale this many times (each in a fresh process) and report the median of each measurement: steadier figures on a busy machine")
	f.IntVar(&lf.cfg.GOGC, "gogc", 0, "garbage collector target percentage in each scale's process (0 = Go's default or $GOGC; lower trades CPU for memory)")
	f.BoolVar(&lf.cfg.Quiet, "quiet", false, "no progress display, no per-scale lines and no INFO log on stderr")
	f.BoolVar(&lf.cfg.InProcess, "in-process", false, "run scales in this process instead of fresh child processes (less isolated: peak memory includes earlier scales' leftovers)")
	f.StringVar(&lf.cfg.KeepArtifacts, "keep-artifacts", "", "keep each scale's data and results (JSONL, Parquet, .npy) under this directory")
	f.StringVar(&lf.htmlReport, "report", "", "also write the results as one self-contained HTML page with charts (with --compare, both runs overlaid); see 'kura report'")
	f.StringVar(&lf.format, "format", lf.format, "what stdout gets: text (the report), json (the results file's JSON) or markdown (summary and table, for a pull request); with --out - no files are written")
	f.BoolVar(&lf.wide, "wide", false, "print every column of the table, however wide (default: the columns that fit the terminal)")
	f.BoolVar(&lf.details, "details", false, "also print the scaling analysis, the fits and each planned figure's model")
	f.StringVar(&lf.cfg.Pipeline, "pipeline", loadtest.PipelineEmbedCluster, "what each scale runs: embed-cluster (load, embed, cluster, write) or full (Kura's whole pipeline:\nsummarise, embed, cluster, name, hierarchy, map, with LLM calls, tokens and cost per stage;\nwith --mock the LLM is an in-process kura mock-api, with --llm-base-url a real API, else offline)")
	f.StringVar(&lf.llmBaseURL, "llm-base-url", "", "--pipeline full: OpenAI-compatible API for the LLM stages (billed; the key is read from --llm-api-key-env)")
	f.StringVar(&lf.llmModel, "llm-model", llm.DefaultModel, "--pipeline full: chat model, whose list price prices the LLM stages")
	f.StringVar(&lf.llmKeyEnv, "llm-api-key-env", "OPENAI_API_KEY", "--pipeline full: environment variable holding the API key (read only with --llm-base-url)")
	f.Var(priceValue{&lf.llmPriceIn}, "llm-price-input", "--pipeline full: USD per million input tokens (default: the chat model's list price; gpt-4o-mini 0.15)")
	f.Var(priceValue{&lf.llmPriceOut}, "llm-price-output", "--pipeline full: USD per million output tokens (default: the chat model's list price; gpt-4o-mini 0.60)")
	f.IntVar(&lf.llmConcurrency, "llm-concurrency", llm.DefaultConcurrency, "--pipeline full: LLM requests in flight")
	addRenamedEmbedderFlags(f, &lf.ef)
	lf.mon.addServe(f)
	lf.mon.addExport(f)
	return cmd
}

// countValue is a flag holding a number of conversations, written as
// --scales writes one (loadtest.ParseCount: 100000, 100_000, 100k, 1M); a
// bad value is a usage error naming the flag.
type countValue struct{ p *int }

func (v countValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}

func (v countValue) Set(s string) error {
	n, err := loadtest.ParseCount(s)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}

func (v countValue) Type() string { return "count" }

// countsValue is a repeatable flag holding numbers of conversations, each
// given as countValue takes it, several at once separated by commas.
type countsValue struct{ p *[]int }

func (v countsValue) String() string {
	if v.p == nil {
		return ""
	}
	parts := make([]string, len(*v.p))
	for i, n := range *v.p {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

func (v countsValue) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		n, err := loadtest.ParseCount(f)
		if err != nil {
			if strings.Contains(s, ",") {
				return fmt.Errorf("%q: %w", strings.TrimSpace(f), err)
			}
			return err
		}
		*v.p = append(*v.p, n)
	}
	return nil
}

func (v countsValue) Type() string { return "counts" }

// llmConfig is the chat model of --pipeline full: the in-process mock with
// --mock, the API at --llm-base-url, or none (offline LLM stages).
func (lf *loadtestFlags) llmConfig(fl *pflag.FlagSet, cfg *loadtest.Config) error {
	llmFlags := []string{"llm-base-url", "llm-model", "llm-api-key-env", "llm-price-input", "llm-price-output", "llm-concurrency"}
	if cfg.Pipeline != loadtest.PipelineFull {
		for _, name := range llmFlags {
			if fl.Changed(name) {
				return usageErrorf("--%s needs --pipeline full", name)
			}
		}
		return nil
	}
	mock := lf.ef.s.Mock
	if !mock && lf.llmBaseURL == "" {
		for _, name := range llmFlags[1:] {
			if fl.Changed(name) {
				return usageErrorf("--%s needs --mock or --llm-base-url (without them the LLM stages run offline)", name)
			}
		}
		return nil
	}
	if mock && lf.llmBaseURL != "" {
		return usageErrorf("--mock answers the LLM with an in-process mock; drop it to use --llm-base-url")
	}
	price, known := chatPrice(fl, lf.llmModel, lf.llmPriceIn, lf.llmPriceOut)
	if !known {
		return usageErrorf("--llm-model %s: no list price known; give --llm-price-input and --llm-price-output", lf.llmModel)
	}
	cfg.LLM = &loadtest.LLMConfig{Mock: mock, BaseURL: lf.llmBaseURL, Model: lf.llmModel, Concurrency: lf.llmConcurrency,
		PriceInputPerMillion: price.InputPerMillion, PriceOutputPerMillion: price.OutputPerMillion}
	if !mock {
		cfg.LLM.APIKeyEnv = lf.llmKeyEnv
	}
	return nil
}

// config turns the flags into the run's configuration, the regression
// threshold and the earlier run to compare with (nil: none). Its errors are
// usage errors.
func (lf *loadtestFlags) config(fl *pflag.FlagSet) (cfg loadtest.Config, threshold float64, old *loadtest.Results, err error) {
	cfg = lf.cfg
	if cfg.Scales, err = loadtest.ParseScales(lf.scales); err != nil {
		return cfg, 0, nil, usageErrorf("--scales: %v", err)
	}
	if lf.memoryLimit != "" {
		if cfg.MemoryLimit, err = loadtest.ParseBytes(lf.memoryLimit); err != nil {
			return cfg, 0, nil, usageErrorf("--memory-limit: %v", err)
		}
	}
	if threshold, err = loadtest.ParsePercent(lf.maxRegression); err != nil {
		return cfg, 0, nil, usageErrorf("--max-regression: %v", err)
	}
	cfg.Cluster.Seed = cfg.Seed
	if err := lf.reduce.apply(&cfg.Cluster); err != nil {
		return cfg, 0, nil, err
	}
	// A reduction asked for (--reduce, none included) turns the automatic
	// one off.
	cfg.AutoReduce = !fl.Changed("reduce")
	cfg.Embedder = lf.ef.spec()
	// The workers read the price file; a bad one is found now, once, not
	// by every scale.
	if _, err := cfg.Embedder.Prices(); err != nil {
		return cfg, 0, nil, usageErr(err)
	}
	if err := lf.llmConfig(fl, &cfg); err != nil {
		return cfg, 0, nil, err
	}
	// Read as kura embed and kura run read it: Validate takes "" for
	// float32 (results files written before the option), a flag does not.
	if _, err := vecfile.ParseDType(cfg.VectorDType); err != nil {
		return cfg, 0, nil, usageErrorf("--vector-dtype: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, 0, nil, usageErrorf("%v", err)
	}
	switch lf.format {
	case "text", "json", "markdown":
	default:
		return cfg, 0, nil, usageErrorf("--format %q: must be text, json or markdown", lf.format)
	}
	// A run can take hours: find out now, not at the end, that the
	// results cannot be written.
	if cfg.OutDir == "-" {
		// stdout only
	} else if err := results.ProbeDir(cfg.OutDir); err != nil {
		return cfg, 0, nil, usageErrorf("--out %s: cannot write the results there: %v", cfg.OutDir, err)
	}
	if lf.htmlReport != "" {
		if err := outfile.CheckDistinct([]string{lf.compare}, []string{lf.htmlReport}); err != nil {
			return cfg, 0, nil, usageErrorf("--report: %v", err)
		}
	}
	if lf.compare != "" {
		if old, err = loadtest.LoadResults(lf.compare); err != nil {
			return cfg, 0, nil, usageErrorf("--compare: %v", err)
		}
		if err := gate.Check(old); err != nil {
			return cfg, 0, nil, usageErrorf("--compare %s: %v", lf.compare, err)
		}
	}
	return cfg, threshold, old, nil
}

// runLoadtest runs the load test the flags describe, prints the report,
// writes the files and applies the regression gate.
func runLoadtest(cmd *cobra.Command, lf *loadtestFlags) error {
	cfg, threshold, old, err := lf.config(cmd.Flags())
	if err != nil {
		return err
	}
	// Which embedder auto chose, and a missing model, fail before any scale.
	kind, why, err := backend.Choose(cfg.Embedder)
	if err != nil {
		return usageErr(err)
	}
	stderr := cmd.ErrOrStderr()
	if !cfg.Quiet {
		fmt.Fprintln(stderr, human.Wrap(fmt.Sprintf("kura loadtest: embedder %s, clusterer %s, scales %s\n  (embedder %s)", kind, cfg.Cluster.Algorithm, scaleList(cfg.Scales), why),
			terminalWidth(os.Stderr)))
	}
	if err := checkServers(cmd.Context(), kind, &cfg); err != nil {
		return err
	}
	ver, commit, _ := buildInfo()
	exe, err := os.Executable()
	if err != nil && !cfg.InProcess {
		return fmt.Errorf("finding kura's own executable for the worker processes: %w (use --in-process)", err)
	}
	r := &loadtest.Runner{
		Toolkit: loadtest.NewToolkit(),
		Worker: func(ctx context.Context) *exec.Cmd {
			return exec.CommandContext(ctx, exe, workerArgs(cmd.Flags())...)
		},
		Env:      loadtest.DetectEnvironment(ver, commit),
		Log:      stderr,
		Width:    func() int { return terminalWidth(os.Stderr) },
		Progress: newLoadtestDisplay(stderr, cfg.Quiet),
	}
	// The results are saved after each scale, so that a run killed later
	// leaves the scales it completed; the end rewrites the same files.
	var files *results.Writer // nil: --out - (no files)
	if cfg.OutDir != "-" {
		files = &results.Writer{Dir: cfg.OutDir}
		r.Checkpoint = files.Write
	}
	mon, stopMon, err := lf.mon.start(cmd.Context(), "loadtest", stderr)
	if err != nil {
		return err
	}
	defer stopMon()
	if mon != nil {
		r.OnScale = mon.ObserveScale
		r.OnResponse = mon.ObserveRequest // worker processes pass theirs back
	}
	res, runErr := r.Run(cmd.Context(), cfg)
	if res != nil && runErr != nil && len(res.Failures) > 0 {
		// The failure was printed as it happened and is in the report:
		// the closing line says so instead of repeating it.
		f := res.Failures[len(res.Failures)-1]
		scale := human.Thousands(f.Scale)
		switch {
		case f.Kind == "interrupted" && errors.Is(runErr, loadtest.ErrInterrupted):
			// Printed after "kura: interrupted: ".
			runErr = fmt.Errorf("scale %s stopped; %d of %d scales completed", scale, len(res.Scales), len(cfg.Scales))
		case runErr.Error() == fmt.Sprintf("scale %s: %s", scale, f.Error):
			runErr = fmt.Errorf("scale %s failed (%s, printed above); %d of %d scales completed", scale, f.Kind, len(res.Scales), len(cfg.Scales))
		}
	}
	runErr = errors.Join(runErr, lf.mon.export(context.WithoutCancel(cmd.Context()), mon))
	if res == nil {
		return runErr
	}
	out := cmd.OutOrStdout()
	// What is not the results (file names, the gate) goes to stderr when
	// stdout carries JSON or Markdown.
	info := out
	if lf.format != "text" {
		info = stderr
	}
	opt := results.Options{Width: terminalWidth(os.Stdout), Wide: lf.wide, Details: lf.details}
	jsonPath, err := writeLoadtestResults(out, info, res, files, lf.format, opt)
	runErr = errors.Join(runErr, err)
	if lf.htmlReport != "" {
		runErr = errors.Join(runErr, writeHTMLReport(info, lf.htmlReport, jsonPath, res, lf.compare, old, ver))
	}
	if old != nil {
		cmp := gate.Compare(old, res, threshold)
		// The table's rows end with their marks (REGRESSION, a widened
		// threshold), which go on a line of their own when the row does
		// not fit.
		var t strings.Builder
		cmp.Write(&t, lf.compare)
		fmt.Fprintln(info)
		io.WriteString(info, human.Wrap(t.String(), opt.Width))
		runErr = errors.Join(runErr, cmp.Err())
	}
	return runErr
}

// scaleList writes scales for a person: "100 250 1,000 2,000" (spaces
// between them, as commas are the thousands separators).
func scaleList(scales []int) string {
	parts := make([]string, len(scales))
	for i, n := range scales {
		parts[i] = human.Thousands(n)
	}
	return strings.Join(parts, " ")
}

// checkServers finds the local model (--embedder minilm), and connects once to the embedding API (--embedder openai) and
// the chat API (--llm-base-url) before the first scale: a server that is
// down or a name that does not resolve fails the run at once, not after
// every scale's retries.
func checkServers(ctx context.Context, kind string, cfg *loadtest.Config) error {
	if kind == "minilm" {
		// Every scale would fail to load it.
		if _, err := minilm.FindModel(cfg.Embedder.ModelDir); err != nil {
			return err
		}
	}
	if kind == "openai" {
		base := cfg.Embedder.BaseURL
		if base == "" {
			base = os.Getenv("OPENAI_BASE_URL")
		}
		if base == "" {
			base = openai.DefaultBaseURL
		}
		if err := httpapi.CheckReachable(ctx, base, httpapi.ReachTimeout); err != nil {
			return fmt.Errorf("embedding API: %w (checked before the first scale: is the server running, is --base-url right?)", err)
		}
	}
	if cfg.LLM != nil && !cfg.LLM.Mock && cfg.LLM.BaseURL != "" {
		if err := httpapi.CheckReachable(ctx, cfg.LLM.BaseURL, httpapi.ReachTimeout); err != nil {
			return fmt.Errorf("chat API: %w (checked before the first scale: is the server running, is --llm-base-url right?)", err)
		}
	}
	return nil
}

// writeHTMLReport writes the run (after the --compare baseline, when there
// is one) as an HTML report.
func writeHTMLReport(out io.Writer, path, resPath string, res *loadtest.Results, oldPath string, old *loadtest.Results, ver string) error {
	var inputs []report.Input
	if old != nil {
		inputs = append(inputs, report.Input{Path: oldPath, Results: old})
	}
	if resPath == "" {
		resPath = "this run (results file not written)"
	}
	inputs = append(inputs, report.Input{Path: resPath, Results: res})
	if err := report.WriteFile(path, inputs, report.Options{Version: ver}); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	fmt.Fprintf(out, "Report:  %s\n", path)
	return nil
}

// writeLoadtestResults writes the JSON and CSV files with files (none when
// files is nil: --out -) and prints the results on out in format (text,
// json or markdown); the file names go to info. The results are printed
// even when the files cannot be written, so that the measurements are not
// thrown away; the error is returned then.
func writeLoadtestResults(out, info io.Writer, res *loadtest.Results, files *results.Writer, format string, opt results.Options) (jsonPath string, err error) {
	if files != nil {
		err = files.Write(res)
	}
	switch format {
	case "json":
		if jerr := loadtest.EncodeJSON(out, res); jerr != nil {
			err = errors.Join(err, fmt.Errorf("writing the results to stdout: %w", jerr))
		}
	case "markdown":
		results.WriteMarkdown(out, res)
	default:
		results.WriteReport(out, res, opt)
	}
	if err != nil {
		what := "(what was printed is all that is left of this run)"
		if files != nil && files.JSONPath() != "" {
			what = "(" + files.JSONPath() + " holds the results up to the last completed scale, marked incomplete)"
		}
		dir := "stdout"
		if files != nil {
			dir = files.Dir
		}
		return "", fmt.Errorf("writing the results to %s: %w %s", dir, err, what)
	}
	if files != nil {
		fmt.Fprintf(info, "\nResults: %s\n         %s\n", files.JSONPath(), files.CSVPath())
		return files.JSONPath(), nil
	}
	return "", nil
}

// newLoadtestDisplay returns the progress display on stderr: redrawn in
// place within the terminal's width on a terminal, a line every few
// seconds otherwise (CI logs), none with --quiet.
func newLoadtestDisplay(stderr io.Writer, quiet bool) *progress.Display {
	if quiet {
		return nil
	}
	return progress.NewDisplay(stderr, stderrIsTerminal(), func() int { return terminalWidth(os.Stderr) })
}

// addRenamedEmbedderFlags adds the embedder flags to f, renaming those whose
// names f already uses.
func addRenamedEmbedderFlags(f *pflag.FlagSet, ef *embedderFlags) {
	fs := pflag.NewFlagSet("embedder", pflag.ContinueOnError)
	ef.addFlags(fs)
	fs.VisitAll(func(fl *pflag.Flag) {
		name := fl.Name
		if f.Lookup(name) != nil {
			if name = renamedEmbedderFlags[fl.Name]; name == "" {
				name = "embedder-" + fl.Name
			}
			f.Var(fl.Value, name, fl.Usage)
		} else {
			f.AddFlag(fl)
		}
	})
}

// workerArgs returns the arguments of a worker process: the hidden worker
// command and the global logging flags given to kura loadtest, so that the
// worker logs as the parent does (-v, --log-format).
func workerArgs(f *pflag.FlagSet) []string {
	args := []string{"loadtest-worker"}
	if v, err := f.GetBool("verbose"); err == nil && v {
		args = append(args, "--verbose")
	}
	if fl := f.Lookup("log-format"); fl != nil && fl.Changed {
		args = append(args, "--log-format="+fl.Value.String())
	}
	return args
}

func newLoadtestWorkerCmd() *cobra.Command {
	var verbose bool
	var logFormat string
	cmd := &cobra.Command{
		Use:    "loadtest-worker",
		Short:  "Run one scale of a load test (internal: started by kura loadtest)",
		Hidden: true,
		Example: `  # started by kura loadtest, with the job as JSON on stdin
  kura loadtest-worker < job.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The parent prints what matters; the worker logs warnings only,
			// unless the parent runs with --verbose.
			if !verbose {
				slog.SetDefault(slog.New(workerLogHandler(cmd.ErrOrStderr(), logFormat)))
			}
			// The error goes to the parent in the reply, which prints it:
			// printing it here too showed each failure twice.
			if err := loadtest.RunWorker(cmd.Context(), loadtest.NewToolkit(), cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()); err != nil {
				return &reportedError{err}
			}
			return nil
		},
	}
	cmd.PreRun = func(cmd *cobra.Command, args []string) {
		verbose, _ = cmd.Flags().GetBool("verbose")
		logFormat, _ = cmd.Flags().GetString("log-format")
	}
	return cmd
}

// workerLogHandler logs warnings and errors only, in the format of
// --log-format (text, without the time as the parent's, or json).
func workerLogHandler(w io.Writer, format string) slog.Handler {
	opts := &slog.HandlerOptions{Level: slog.LevelWarn}
	if strings.EqualFold(format, "json") {
		return slog.NewJSONHandler(w, opts)
	}
	opts.ReplaceAttr = dropTime
	return slog.NewTextHandler(w, opts)
}

// loadtestArgs refuses arguments, and says what was probably meant when the
// argument is a file or directory: the data goes in --data.
func loadtestArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if _, err := os.Stat(args[0]); err == nil || strings.ContainsAny(args[0], "/.") {
		return fmt.Errorf("kura loadtest takes no arguments: to load-test the data in %q, use --data %s", args[0], args[0])
	}
	return fmt.Errorf("unknown command %q for %q (see 'kura loadtest --help')", args[0], cmd.CommandPath())
}
