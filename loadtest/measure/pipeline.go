package measure

// The stages a scale runs, by name.
const (
	Load    = "load"
	Embed   = "embed"
	Reduce  = "reduce"
	Cluster = "cluster"
	Write   = "write"
)

// StageInfo describes one stage of the measured pipeline.
type StageInfo struct {
	Name string
	// Does says in a few words what the stage does.
	Does string
	// Linear marks a stage that is O(n) by construction (reading n records,
	// embedding n texts in batches of fixed size, writing n results): its
	// time is planned with the linear fit whatever the best fit over a few
	// noisy points says.
	Linear bool
	// Computes marks a stage that only computes (no API, no disk): its
	// time is planned from its CPU time even when its CPU time is a small
	// share of its wall time, which here means the machine was busy, not
	// that the stage waited.
	Computes bool
	// Ratios puts the stage's time, CPU time and memory in the first-versus-
	// last scaling analysis (the others' time is fitted, not compared).
	Ratios bool
}

// Pipeline lists the stages a scale runs, in order. The metric registry
// (Metrics) and the planning's per-stage time model follow this list.
var Pipeline = []StageInfo{
	{Name: Load, Does: "read the records and render the texts", Linear: true},
	{Name: Embed, Does: "texts to vectors", Linear: true, Ratios: true},
	// Reduce runs only with --reduce umap or pca; a scale without it has
	// no reduce stage (and the analysis and planning leave it out).
	{Name: Reduce, Does: "vectors to fewer dimensions (UMAP or PCA)", Computes: true, Ratios: true},
	{Name: Cluster, Does: "vectors to labels", Computes: true, Ratios: true},
	{Name: Write, Does: "results as JSONL, Parquet and .npy", Linear: true},
}

// Noise floors: differences of time under TimeNoiseS and of memory under
// MemoryNoiseBytes are measurement noise (timer resolution, scheduling,
// garbage collection, page accounting). The regression gate never fails on
// them, and the scaling analysis does not judge a ratio over a first value
// below them.
const (
	TimeNoiseS       = 0.01
	MemoryNoiseBytes = 1 << 20
)
