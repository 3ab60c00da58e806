package loadtest

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/cluster/hdbscan"
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest/analysis"
	"github.com/kura-go/kura/vecfile"
)

// defaultScales are the guide's test scales.
var defaultScales = []int{100, 250, 500, 1000, 2000}

// Config is a load test's configuration. It is recorded in the results JSON
// and sent to every scale's worker process.
type Config struct {
	Scales []int  `json:"scales"`
	Data   string `json:"data"` // a checkpoint dir or file; "" = the built-in sample corpus
	// SampleConversations and SampleTopics size the built-in baseline
	// (default 1,000 conversations in 13 topics, the shape of the guide's data).
	SampleConversations int   `json:"sample_conversations"`
	SampleTopics        int   `json:"sample_topics"`
	Seed                int64 `json:"seed"`

	// Embedder is the embedder each worker builds (with its prices).
	Embedder backend.Spec `json:"embedder"`
	// EmbedChunk bounds the texts whose vectors embed.Stream holds at once:
	// an API embedder (or the mock) gets one request's texts per call with
	// its requests kept in flight across calls; a local one gets this many
	// per call. 0 means about 500, a multiple of batch size × concurrency.
	EmbedChunk int `json:"embed_chunk"`
	// PriceModel prices the tokens for the estimated cost; "" means the
	// embedder's API model when it has a price (openai:M, mock:M), else
	// embed.DefaultPriceModel.
	PriceModel string `json:"price_model"`

	// VectorDType is how each scale's embeddings.npy stores the vectors:
	// "float32" (the default) or "float16" (half the bytes; read back into
	// float32 memory by the reduce and cluster stages instead of mapped; in
	// the full pipeline, kura run's --vector-dtype).
	// Files written before the option leave it out: float32.
	VectorDType string `json:"vector_dtype,omitempty"`

	Cluster cluster.Spec `json:"cluster"`
	// AutoReduce lets the run add a PCA to AutoReduceDims dimensions
	// before clustering at every scale when the largest volume it measures
	// or plans for reaches AutoReduceFrom conversations (see autoReduce):
	// on when no reduction was asked for (--reduce not given).
	AutoReduce bool `json:"auto_reduce,omitempty"`

	// Pipeline is what each scale runs: "" (embed-cluster, the default:
	// load, embed, cluster, write) or PipelineFull (Kura's whole pipeline
	// through package pipeline: summarise, embed, cluster, name, hierarchy,
	// map). Omitted from the JSON in the default mode.
	Pipeline string `json:"pipeline,omitempty"`
	// LLM is the chat model of the full pipeline's LLM stages; nil keeps
	// them offline (extractive summaries, keyword names, agglomerative
	// hierarchy).
	LLM *LLMConfig `json:"llm,omitempty"`

	// GOGC, when not 0, sets the garbage collector's target percentage in
	// each scale's process (lower: less memory, more CPU); -1 turns it off.
	GOGC int `json:"gogc"`
	// Repeat runs each scale this many times (each in a fresh process) and
	// reports the median of each measurement, against noisy machines.
	Repeat int `json:"repeat"`

	Delay       time.Duration `json:"delay_ns"`           // pause between scales
	Timeout     time.Duration `json:"timeout_ns"`         // per scale; 0 = none
	MemoryLimit int64         `json:"memory_limit_bytes"` // skip scales whose fitted peak memory exceeds it; 0 = none

	TargetConversations  int `json:"target_conversations"`
	MonthlyConversations int `json:"monthly_conversations"`
	// PlanFor lists more volumes to plan for (--plan-for), beside the target.
	PlanFor []int `json:"plan_for,omitempty"`

	OutDir        string `json:"out_dir"`
	KeepArtifacts string `json:"keep_artifacts"` // dir to keep each scale's files in; "" = temp dir, removed
	InProcess     bool   `json:"in_process"`     // run scales in this process (less isolated)
	Quiet         bool   `json:"quiet"`
}

// The pipelines a load test can measure.
const (
	PipelineEmbedCluster = "embed-cluster"
	PipelineFull         = "full"
)

// LLMConfig is the chat model of a full-pipeline load test: an in-process
// kura mock-api on 127.0.0.1 (Mock), or an OpenAI-compatible API at BaseURL
// (only when asked for explicitly). The API key is read by each worker from
// the environment variable APIKeyEnv, never stored.
type LLMConfig struct {
	Mock      bool   `json:"mock"`
	BaseURL   string `json:"base_url,omitempty"`
	APIKeyEnv string `json:"api_key_env,omitempty"`
	Model     string `json:"model"`
	// Prices are USD per million input and output tokens; every LLM stage's
	// cost is its tokens at these prices.
	PriceInputPerMillion  float64 `json:"price_input_per_million_usd"`
	PriceOutputPerMillion float64 `json:"price_output_per_million_usd"`
	Concurrency           int     `json:"concurrency"`
}

// vectorDType returns the element type of the embeddings files: float32
// when VectorDType is "" (files written before the option).
func (c *Config) vectorDType() (vecfile.DType, error) {
	if c.VectorDType == "" {
		return vecfile.Float32, nil
	}
	return vecfile.ParseDType(c.VectorDType)
}

// goal is what the production planning plans for.
func (c *Config) goal() analysis.Goal {
	g := analysis.Goal{Conversations: c.TargetConversations, Monthly: c.MonthlyConversations, PriceModel: c.PriceModel,
		MockLatency: c.Embedder.MockLatency}
	g.ClusterMinExponent, g.ClusterComplexity = c.clusterComplexity()
	return g
}

// clusterComplexity returns the lowest growth exponent of the clustering
// the scales ran, and why, when its algorithm fixes one: HDBSCAN's exact
// path on unreduced vectors above 16 dimensions (below, a KD-tree prunes)
// computes every pair's distance, and K-means with Kura's rule k = n/10
// compares every point with a number of centroids in proportion to n.
// pinSearch has made the path the same at every scale.
func (c *Config) clusterComplexity() (float64, string) {
	cl := c.Cluster
	if len(c.Scales) == 0 || cl.Reduces() {
		return 0, ""
	}
	switch cl.Algorithm {
	case "hdbscan":
		d := c.Embedder.Dims
		if d == 0 {
			d = 1024 // every embedder kura ships has more than 16
		}
		if d > 16 && hdbscan.ResolveSearch(cl.HDBSCAN(), c.Scales[0], d) == hdbscan.SearchExact {
			return 2, "HDBSCAN's exact path computes all n² distances"
		}
	case "kmeans":
		if cl.K == 0 {
			return 2, "K-means with k = n/" + strconv.Itoa(cl.ItemsPerCluster) + " makes n·k comparisons per pass"
		}
	}
	return 0, ""
}

// chunkFor is about 500 texts, rounded up to a whole number of request
// waves (batch size × concurrency).
func chunkFor(s backend.Spec) int {
	wave := s.BatchSize * s.Concurrency
	if wave <= 0 {
		return 500
	}
	return wave * max(1, (500+wave-1)/wave)
}

// DefaultConfig returns the defaults of `kura loadtest`.
func DefaultConfig() Config {
	return Config{
		Scales:               append([]int(nil), defaultScales...),
		SampleConversations:  1000,
		SampleTopics:         13,
		Seed:                 42,
		Repeat:               1,
		Embedder:             backend.DefaultSpec(),
		VectorDType:          vecfile.Float32.String(),
		Cluster:              cluster.Spec{Algorithm: "hdbscan", MinClusterSize: 10, ItemsPerCluster: 10, Seed: 42},
		AutoReduce:           true,
		TargetConversations:  10000,
		MonthlyConversations: 50000,
		OutDir:               ".",
	}
}

// Validate checks the configuration and sorts the scales.
func (c *Config) Validate() error {
	if len(c.Scales) == 0 {
		return fmt.Errorf("no scales given")
	}
	seen := map[int]bool{}
	for _, s := range c.Scales {
		if s < 2 {
			return fmt.Errorf("scale %d: need at least 2 conversations", s)
		}
		if s > maxScale {
			return fmt.Errorf("scale %s: more than %s conversations is not a load test (a typo?)", human.Thousands(s), human.Thousands(maxScale))
		}
		if seen[s] {
			return fmt.Errorf("scale %s given twice", human.Thousands(s))
		}
		seen[s] = true
	}
	sort.Ints(c.Scales)
	dt, err := c.vectorDType()
	if err != nil {
		return err
	}
	c.VectorDType = dt.String()
	switch c.Pipeline {
	case "", PipelineEmbedCluster:
		c.Pipeline = "" // the default, recorded as before
		if c.LLM != nil {
			return fmt.Errorf("an LLM is used only by --pipeline %s", PipelineFull)
		}
	case PipelineFull:
		if l := c.LLM; l != nil {
			if l.Mock == (l.BaseURL != "") {
				return fmt.Errorf("LLM: give either the mock or a base URL")
			}
			if l.Model == "" || l.PriceInputPerMillion < 0 || l.PriceOutputPerMillion < 0 || l.Concurrency < 0 {
				return fmt.Errorf("LLM: want a model, prices of 0 or more and a concurrency of 0 or more")
			}
		}
	default:
		return fmt.Errorf("pipeline %q: want %s or %s", c.Pipeline, PipelineEmbedCluster, PipelineFull)
	}
	if err := c.Cluster.Validate(); err != nil {
		return err
	}
	if c.Cluster.Algorithm == "kmeans" && c.Cluster.K > c.Scales[0] {
		return fmt.Errorf("k %d: more clusters than the %d conversations of the smallest scale", c.Cluster.K, c.Scales[0])
	}
	if err := c.Embedder.Validate(); err != nil {
		return err
	}
	if c.PriceModel != "" {
		prices, err := c.Embedder.Prices()
		if err != nil {
			return err
		}
		if _, ok := prices.Lookup(c.PriceModel); !ok {
			return fmt.Errorf("--price-model %q: not in the price table (add it with --prices FILE)", c.PriceModel)
		}
	}
	if c.SampleConversations < 2 || c.SampleTopics < 1 {
		return fmt.Errorf("sample corpus of %d conversations in %d topics: too small", c.SampleConversations, c.SampleTopics)
	}
	if c.Repeat < 1 {
		return fmt.Errorf("repeat %d: must be at least 1", c.Repeat)
	}
	if c.GOGC < -1 {
		return fmt.Errorf("gogc %d: want a percentage, 0 for Go's default, or -1 to turn the collector off", c.GOGC)
	}
	if c.EmbedChunk < 1 {
		c.EmbedChunk = chunkFor(c.Embedder)
	}
	for _, n := range c.PlanFor {
		if n < 1 || n > maxScale*100 {
			return fmt.Errorf("--plan-for %d: must be between 1 and %s", n, human.Thousands(maxScale*100))
		}
	}
	if c.TargetConversations < 1 || c.TargetConversations > maxScale*100 {
		return fmt.Errorf("--target-conversations %d: must be between 1 and %s", c.TargetConversations, human.Thousands(maxScale*100))
	}
	if c.MonthlyConversations < 0 {
		return fmt.Errorf("--monthly-conversations %d: cannot be negative", c.MonthlyConversations)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"delay", c.Delay}, {"timeout", c.Timeout}} {
		if d.v < 0 {
			return fmt.Errorf("--%s %v: cannot be negative", d.flag, d.v)
		}
	}
	if c.MemoryLimit < 0 {
		return fmt.Errorf("--memory-limit %d: cannot be negative", c.MemoryLimit)
	}
	return nil
}

// ParseScales parses a comma-separated list of conversation counts such as
// "100,250,1k,2000"; each is read as ParseCount reads it and must be
// positive.
func ParseScales(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := ParseCount(f)
		if err == nil && v == 0 {
			err = errors.New("want a positive whole number of conversations")
		}
		if err != nil {
			return nil, fmt.Errorf("scale %q: %w", f, err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scales in %q", s)
	}
	return out, nil
}

// ParseCount parses one number of conversations as --scales writes them: a
// whole number of 0 or more, with _ between digits allowed and a k or K
// (thousand) or m or M (million) suffix: "100000", "100_000" and "100k"
// are the same number. The error does not repeat s.
func ParseCount(s string) (int, error) {
	f := strings.TrimSpace(s)
	mult := 1
	switch {
	case strings.HasSuffix(f, "k") || strings.HasSuffix(f, "K"):
		mult, f = 1000, f[:len(f)-1]
	case strings.HasSuffix(f, "m") || strings.HasSuffix(f, "M"):
		mult, f = 1000000, f[:len(f)-1]
	}
	v, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
	if err != nil || v < 0 || strings.HasPrefix(f, "+") {
		return 0, errors.New("want a whole number of conversations, such as 100000, 100_000, 100k or 1M")
	}
	if v > math.MaxInt/mult {
		return 0, errors.New("too large")
	}
	return v * mult, nil
}

// ParseBytes parses a memory size: a number of bytes, or a number with a
// unit. Decimal units are powers of 1000 (kB or KB, MB, GB, TB; a bare K, M,
// G or T means the same), binary units powers of 1024 (KiB, MiB, GiB, TiB),
// as in the IEC standard: "512MB" is 512,000,000 bytes, "512MiB" is
// 536,870,912. "0" means no limit. Sizes over the int64 range are rejected.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num := strings.TrimRightFunc(t, func(r rune) bool { return r == ' ' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' })
	unit := strings.TrimSpace(t[len(num):])
	mult, ok := byteUnits[strings.ToLower(unit)]
	bad := fmt.Errorf("memory size %q: want e.g. 512MB (10^6 bytes), 2GiB (2^30 bytes) or a number of bytes", s)
	if !ok {
		return 0, bad
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, bad
	}
	b := v * mult
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("memory size %q: too large (over %d bytes)", s, int64(math.MaxInt64))
	}
	return int64(b), nil
}

var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParsePercent parses a threshold and returns it as a fraction: "20%" is
// 0.2, and a bare number must be a fraction below 1 ("0.2"). A bare number
// of 1 or more ("20", "1") is rejected as ambiguous: it could be meant as a
// percentage or as a fraction.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("threshold %q: want a percentage such as 20%%", s)
	}
	if pct {
		return v / 100, nil
	}
	if v >= 1 {
		return 0, fmt.Errorf("threshold %q: ambiguous; write it as a percentage (%s%%) or as a fraction below 1 (0.2 = 20%%)", s, t)
	}
	return v, nil
}
