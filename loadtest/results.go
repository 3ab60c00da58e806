package loadtest

import "time"

// SchemaVersion is the version of the results JSON layout described in
// docs/loadtest-schema.md and schema.json. It changes when a field is
// removed or changes meaning; adding a field does not change it.
const SchemaVersion = 1

// Results is everything a load test run produced; it is written as
// load_test_results_YYYYMMDD_HHMMSS.json.
type Results struct {
	SchemaVersion int           `json:"schema_version"`
	StartedAt     time.Time     `json:"started_at"`
	FinishedAt    time.Time     `json:"finished_at"`
	Config        Config        `json:"config"`
	Environment   Environment   `json:"environment"`
	Baseline      BaselineInfo  `json:"baseline"`
	Scales        []ScaleResult `json:"scales"`
	Failures      []Failure     `json:"failures"`
	Skipped       []Skipped     `json:"skipped"`
	// Interrupted is true when the run was cancelled (Ctrl-C) before all
	// scales ran.
	Interrupted bool      `json:"interrupted"`
	Analysis    *Analysis `json:"analysis"` // null with fewer than two successful scales
	Planning    *Planning `json:"planning"` // null with fewer than two successful scales
}

// Environment describes the machine and the kura build that ran the test.
type Environment struct {
	KuraVersion   string `json:"kura_version"`
	KuraCommit    string `json:"kura_commit"`
	GoVersion     string `json:"go_version"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
	CPUModel      string `json:"cpu_model"`
	Cores         int    `json:"cores"`
	GOMAXPROCS    int    `json:"gomaxprocs"`
	TotalMemBytes int64  `json:"total_memory_bytes"`
	Hostname      string `json:"hostname"`
}

// BaselineInfo describes the data the scales were made from.
type BaselineInfo struct {
	Source   string `json:"source"`   // the --data path, or "built-in sample corpus"
	Kind     string `json:"kind"`     // "summaries" or "conversations": what is embedded
	Records  int    `json:"records"`  // records in the baseline
	Clusters int    `json:"clusters"` // ground-truth clusters
	Labeled  int    `json:"labeled"`  // records that belong to a ground-truth cluster
}

// ScaleResult is what one scale measured.
type ScaleResult struct {
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

	Stages     Stages  `json:"stages"`
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
	// when --repeat ran it more than once; stage measurements are medians.
	RepeatWallS  []float64 `json:"repeat_wall_s,omitempty"`
	ArtifactsDir string    `json:"artifacts_dir,omitempty"`
	Notes        []string  `json:"notes,omitempty"`
}

// Stages holds the per-stage measurements.
type Stages struct {
	Load    Stage `json:"load"`    // read the records and render the texts
	Embed   Stage `json:"embed"`   // texts to vectors
	Cluster Stage `json:"cluster"` // vectors to labels
	Write   Stage `json:"write"`   // results as JSONL, Parquet and .npy
}

// Stage is the cost of one stage.
type Stage struct {
	WallS          float64 `json:"wall_s"`
	CPUS           float64 `json:"cpu_s"`
	PeakRSSBytes   int64   `json:"peak_rss_bytes"`   // peak resident memory during the stage (kernel VmHWM after a reset)
	HeapInuseBytes int64   `json:"heap_inuse_bytes"` // Go heap in use at the end of the stage
}

// Storage is what the results take: estimates as in the guide and real sizes
// of files written.
type Storage struct {
	EmbeddingBytes      int64 `json:"embedding_bytes"`       // n × dims × 4
	MetadataBytes       int64 `json:"metadata_bytes"`        // the records as JSON, without embeddings
	ResultsJSONLBytes   int64 `json:"results_jsonl_bytes"`   // records + clusters written as JSONL
	ResultsParquetBytes int64 `json:"results_parquet_bytes"` // the same as Parquet
	VectorsNPYBytes     int64 `json:"vectors_npy_bytes"`     // the vectors as .npy
	// TotalBytes is what a Kura-style checkpoint takes: JSONL results plus
	// the .npy vectors (the Storage column of the table).
	TotalBytes int64 `json:"total_bytes"`
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

// Failure records a scale that did not complete.
type Failure struct {
	Scale int    `json:"scale"`
	Kind  string `json:"kind"` // "error", "timeout" or "interrupted"
	Error string `json:"error"`
}

// Skipped records a scale that was not run, and why.
type Skipped struct {
	Scale  int    `json:"scale"`
	Reason string `json:"reason"`
}

// sumStages sets the totals from the stages: wall and CPU time are summed,
// peak RSS and heap are the largest of any stage, and throughput follows
// from the total time.
func (r *ScaleResult) sumStages() {
	r.TotalWallS, r.TotalCPUS, r.PeakRSSBytes, r.HeapInuseBytes = 0, 0, 0, 0
	for _, st := range []Stage{r.Stages.Load, r.Stages.Embed, r.Stages.Cluster, r.Stages.Write} {
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
