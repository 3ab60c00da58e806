// Package measure is what one scale of a load test measures: the stages it
// runs and the cost of each (wall and CPU time, peak memory, heap), the
// storage and API usage, the clusters and their quality; the meter that
// measures a stage; and the registry of named metrics (Metrics) that the
// analysis, the report, the CSV file and the regression gate all read.
package measure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Scale is what one scale measured.
type Scale struct {
	Scale         int    `json:"scale"`         // conversations requested
	Conversations int    `json:"conversations"` // conversations processed
	Generated     int    `json:"generated"`     // of which new records made from the baseline
	Embedder      string `json:"embedder"`      // backend and model actually used
	Dims          int    `json:"dims"`
	Clusterer     string `json:"clusterer"`
	Isolation     string `json:"isolation"` // "process" (own child process) or "in-process"
	// GOGC is the garbage collector's target percentage in force (Go's
	// default 100, the GOGC environment variable, or --gogc).
	GOGC int `json:"gogc"`

	BaselineRSSBytes int64 `json:"baseline_rss_bytes"` // resident memory before any work
	PeakRSSBytes     int64 `json:"peak_rss_bytes"`     // highest resident memory over all stages
	HeapInuseBytes   int64 `json:"heap_inuse_bytes"`   // Go heap in use at the end of the largest stage

	Stages     Stages  `json:"stages"`       // in the order they ran; see Pipeline
	TotalWallS float64 `json:"total_wall_s"` // load + embed + cluster + write
	TotalCPUS  float64 `json:"total_cpu_s"`
	// ThroughputPerMin is conversations per minute of total wall time.
	ThroughputPerMin float64 `json:"throughput_per_min"`

	Storage  Storage  `json:"storage"`
	API      APIUsage `json:"api"`
	Clusters int      `json:"clusters"` // clusters found
	Noise    int      `json:"noise"`    // points labelled noise (-1)
	Quality  *Quality `json:"quality"`  // null without ground truth
	// DuplicateFallbacks counts generated records that needed a numbered
	// closing clause to stay distinct (recombination found nothing new).
	DuplicateFallbacks int `json:"duplicate_fallbacks"`
	// RewrittenDuplicates counts baseline records whose text repeated an
	// earlier record's and were rewritten as distinct variants.
	RewrittenDuplicates int `json:"rewritten_duplicates"`
	// RepeatWallS lists the total wall time of every run of this scale
	// when --repeat ran it more than once; stage measurements are medians
	// (each stage keeps its spread over the runs, see Stage.Spread).
	RepeatWallS []float64 `json:"repeat_wall_s,omitempty"`
	// RepeatPeakRSSBytes lists the peak resident memory of every run, as
	// RepeatWallS lists their time.
	RepeatPeakRSSBytes []int64 `json:"repeat_peak_rss_bytes,omitempty"`
	ArtifactsDir       string  `json:"artifacts_dir,omitempty"`
	// Pipeline is "full" for Kura's whole pipeline (absent in the default
	// embed-cluster mode); LLM is its chat model's usage (null offline).
	Pipeline string    `json:"pipeline,omitempty"`
	LLM      *LLMUsage `json:"llm,omitempty"`
	Notes    []string  `json:"notes,omitempty"`
}

// Stage is the cost of one stage.
type Stage struct {
	// Name is the stage's (see Pipeline); in JSON it is the key of the stage
	// in its scale's "stages" object.
	Name           string  `json:"-"`
	WallS          float64 `json:"wall_s"`
	CPUS           float64 `json:"cpu_s"`
	PeakRSSBytes   int64   `json:"peak_rss_bytes"`   // peak resident memory during the stage (kernel VmHWM after a reset)
	HeapInuseBytes int64   `json:"heap_inuse_bytes"` // Go heap in use at the end of the stage

	// What the stage spent on APIs, in a full-pipeline load test (absent
	// when 0, and always in the default embed-cluster mode): calls to the
	// chat model (embedding requests for the embed stage), tokens in and
	// out, and CostUSD, the tokens at the configured prices (the chat
	// model's for the LLM stages, the price model's for the embed stage).
	Calls        int64   `json:"calls,omitempty"`
	InputTokens  int64   `json:"input_tokens,omitempty"`
	OutputTokens int64   `json:"output_tokens,omitempty"`
	CostUSD      float64 `json:"cost_usd,omitempty"`

	// Spread is the lowest and highest of the stage's measurements over
	// the runs of a --repeat (nil for a single run): the stage's figures
	// above are the medians.
	Spread *StageSpread `json:"spread,omitempty"`
}

// StageSpread is how far a stage's repeated runs were apart.
type StageSpread struct {
	WallMinS        float64 `json:"wall_min_s"`
	WallMaxS        float64 `json:"wall_max_s"`
	CPUMinS         float64 `json:"cpu_min_s"`
	CPUMaxS         float64 `json:"cpu_max_s"`
	PeakRSSMinBytes int64   `json:"peak_rss_min_bytes"`
	PeakRSSMaxBytes int64   `json:"peak_rss_max_bytes"`
}

// WallRange returns the lowest and highest total wall time over the runs
// of a --repeat; ok is false for a single run.
func (r *Scale) WallRange() (lo, hi float64, ok bool) {
	if len(r.RepeatWallS) < 2 {
		return 0, 0, false
	}
	lo, hi = r.RepeatWallS[0], r.RepeatWallS[0]
	for _, v := range r.RepeatWallS[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, true
}

// PeakRange returns the lowest and highest peak resident memory over the
// runs of a --repeat; ok is false for a single run.
func (r *Scale) PeakRange() (lo, hi int64, ok bool) {
	if len(r.RepeatPeakRSSBytes) < 2 {
		return 0, 0, false
	}
	lo, hi = r.RepeatPeakRSSBytes[0], r.RepeatPeakRSSBytes[0]
	for _, v := range r.RepeatPeakRSSBytes[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, true
}

// LLMUsage is what a full-pipeline scale spent on the chat model, over all
// stages, and what the chat server counted when it was kura's mock.
type LLMUsage struct {
	Model                 string  `json:"model"`
	Endpoint              string  `json:"endpoint"` // redacted base URL; "mock" for the in-process mock
	PriceInputPerMillion  float64 `json:"price_input_per_million_usd"`
	PriceOutputPerMillion float64 `json:"price_output_per_million_usd"`
	Calls                 int64   `json:"calls"`
	Requests              int64   `json:"requests"` // calls plus retries
	InputTokens           int64   `json:"input_tokens"`
	OutputTokens          int64   `json:"output_tokens"`
	CostUSD               float64 `json:"cost_usd"`
	// MockServer is the in-process mock's GET /stats after the scale.
	MockServer *MockServerStats `json:"mock_server,omitempty"`
}

// MockServerStats is the part of kura mock-api's /stats a load test keeps.
type MockServerStats struct {
	ChatCompletions  int64 `json:"chat_completions"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

// Storage is what the results take: estimates as in the guide and real sizes
// of files written.
type Storage struct {
	EmbeddingBytes      int64 `json:"embedding_bytes"`       // n × dims × 4 (float32) or × 2 (float16)
	MetadataBytes       int64 `json:"metadata_bytes"`        // the records as JSON, without embeddings
	ResultsJSONLBytes   int64 `json:"results_jsonl_bytes"`   // records + clusters written as JSONL
	ResultsParquetBytes int64 `json:"results_parquet_bytes"` // the same as Parquet
	VectorsNPYBytes     int64 `json:"vectors_npy_bytes"`     // the vectors as .npy
	// TotalBytes is what a Kura-style checkpoint takes: JSONL results plus
	// the .npy vectors (the Storage column of the table).
	TotalBytes int64 `json:"total_bytes"`
	// VectorDType is how the .npy stores the vectors: float32 or float16
	// (--vector-dtype). Files written before the option leave it out: float32.
	VectorDType string `json:"vector_dtype,omitempty"`
}

// DType returns VectorDType, float32 when it is not recorded.
func (s *Storage) DType() string {
	if s.VectorDType == "" {
		return "float32"
	}
	return s.VectorDType
}

// APIUsage is what the embedder spent.
type APIUsage struct {
	Requests    int64   `json:"requests"`
	Retries     int64   `json:"retries"`
	RateLimited int64   `json:"rate_limited"` // HTTP 429 answers
	Errors      int64   `json:"errors"`
	Tokens      int64   `json:"tokens"`
	TokensLocal bool    `json:"tokens_counted_locally"` // the embedder reported none; counted with cl100k_base
	CostUSD     float64 `json:"cost_usd"`               // what the embedder says it spent
	// EstimatedCostUSD prices the same tokens at PriceModel, so that mock and
	// offline runs still plan money.
	EstimatedCostUSD float64 `json:"estimated_cost_usd"`
	PriceModel       string  `json:"price_model"`
	PricePerMillion  float64 `json:"price_per_million_usd"`
}

// Quality compares the clusters found with the baseline's clusters.
type Quality struct {
	Labeled   int     `json:"labeled"`   // records with a ground-truth cluster (the ones scored)
	ARI       float64 `json:"ari"`       // adjusted Rand index
	NMI       float64 `json:"nmi"`       // normalised mutual information (arithmetic mean)
	Spillover float64 `json:"spillover"` // share of true groups split over more than one cluster
}

// SumStages sets the totals from the stages: wall and CPU time are summed,
// peak RSS and heap are the largest of any stage, and throughput follows
// from the total time.
func (r *Scale) SumStages() {
	r.TotalWallS, r.TotalCPUS, r.PeakRSSBytes, r.HeapInuseBytes = 0, 0, 0, 0
	for _, st := range r.Stages {
		r.TotalWallS += st.WallS
		r.TotalCPUS += st.CPUS
		r.PeakRSSBytes = max(r.PeakRSSBytes, st.PeakRSSBytes)
		r.HeapInuseBytes = max(r.HeapInuseBytes, st.HeapInuseBytes)
	}
	r.ThroughputPerMin = 0
	if r.TotalWallS > 0 {
		r.ThroughputPerMin = float64(r.Conversations) / r.TotalWallS * 60
	}
}

// Median combines repeated runs of one scale: every stage's wall time, CPU
// time, peak memory and heap is the median over the runs, and the totals
// are recomputed from them; the rest (storage, API usage, clusters,
// quality) comes from the run with the median total time. RepeatWallS
// and RepeatPeakRSSBytes list every run's total time and peak memory, and
// every stage keeps the lowest and highest of its measurements (Spread).
func Median(runs []*Scale) *Scale {
	walls := make([]float64, len(runs))
	peaks := make([]int64, len(runs))
	for i, sr := range runs {
		walls[i] = sr.TotalWallS
		peaks[i] = sr.PeakRSSBytes
	}
	byTotal := append([]*Scale(nil), runs...)
	sort.Slice(byTotal, func(a, b int) bool { return byTotal[a].TotalWallS < byTotal[b].TotalWallS })
	med := *byTotal[len(byTotal)/2]
	med.RepeatWallS, med.RepeatPeakRSSBytes = walls, peaks
	medF := func(get func(*Scale) float64) float64 {
		v := make([]float64, len(runs))
		for i, sr := range runs {
			v[i] = get(sr)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	rangeF := func(get func(*Scale) float64) (lo, hi float64) {
		lo, hi = get(runs[0]), get(runs[0])
		for _, sr := range runs[1:] {
			lo, hi = min(lo, get(sr)), max(hi, get(sr))
		}
		return lo, hi
	}
	med0 := byTotal[len(byTotal)/2]
	med.Stages = nil
	for _, name := range runs[0].Stages.Names() {
		of := func(s *Scale) Stage { return s.Stages.Of(name) }
		var sp StageSpread
		sp.WallMinS, sp.WallMaxS = rangeF(func(s *Scale) float64 { return of(s).WallS })
		sp.CPUMinS, sp.CPUMaxS = rangeF(func(s *Scale) float64 { return of(s).CPUS })
		lo, hi := rangeF(func(s *Scale) float64 { return float64(of(s).PeakRSSBytes) })
		sp.PeakRSSMinBytes, sp.PeakRSSMaxBytes = int64(lo), int64(hi)
		med.Stages = append(med.Stages, Stage{
			Name:           name,
			WallS:          medF(func(s *Scale) float64 { return of(s).WallS }),
			CPUS:           medF(func(s *Scale) float64 { return of(s).CPUS }),
			PeakRSSBytes:   int64(medF(func(s *Scale) float64 { return float64(of(s).PeakRSSBytes) })),
			HeapInuseBytes: int64(medF(func(s *Scale) float64 { return float64(of(s).HeapInuseBytes) })),
			// API usage is the median-time run's, as for the scale's.
			Calls: med0.Stages.Of(name).Calls, InputTokens: med0.Stages.Of(name).InputTokens,
			OutputTokens: med0.Stages.Of(name).OutputTokens, CostUSD: med0.Stages.Of(name).CostUSD,
			Spread: &sp,
		})
	}
	med.BaselineRSSBytes = int64(medF(func(s *Scale) float64 { return float64(s.BaselineRSSBytes) }))
	med.SumStages()
	return &med
}

// Stages are a scale's stages in the order they ran. In JSON they are an
// object keyed by stage name, in that order.
type Stages []Stage

// Of returns the named stage, or a zero Stage when it did not run.
func (s Stages) Of(name string) Stage {
	st, _ := s.Lookup(name)
	return st
}

// Lookup returns the named stage and whether it ran (a zero Stage if not).
func (s Stages) Lookup(name string) (Stage, bool) {
	for _, st := range s {
		if st.Name == name {
			return st, true
		}
	}
	return Stage{Name: name}, false
}

// Names lists the stages' names in order.
func (s Stages) Names() []string {
	out := make([]string, len(s))
	for i, st := range s {
		out[i] = st.Name
	}
	return out
}

// MarshalJSON writes the stages as an object keyed by name, in order.
func (s Stages) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, st := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(st.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(st)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object keyed by stage name, keeping its order.
func (s *Stages) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if t == nil && err == nil {
			*s = nil // null
			return nil
		}
		return fmt.Errorf("stages: want an object keyed by stage name")
	}
	var out Stages
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("stages: %w", err)
		}
		st := Stage{Name: t.(string)}
		if err := dec.Decode(&st); err != nil {
			return fmt.Errorf("stages.%s: %w", st.Name, err)
		}
		out = append(out, st)
	}
	*s = out
	return nil
}
