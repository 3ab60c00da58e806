package measure

import "strings"

// Metric is one named measurement of a scale. Metrics is the one list of
// them: the scaling analysis fits and compares the ones marked Fit and
// Ratio, the report's table and CSV columns and the regression gate name
// metrics from it, and JSON says where each is in a scale's results.
type Metric struct {
	Name  string // e.g. "total_time", "embed_memory"
	Unit  string // "s", "bytes", "usd", "count", "conv/min" or "score"
	Label string // in words, as the scaling analysis prints it
	JSON  string // its path in a scale's JSON object, e.g. "stages.embed.wall_s"
	CSV   string // its CSV column
	Int   bool   // a whole number (printed without a fraction)
	// Ratio puts the metric in the first-versus-last comparison; Fit fits
	// its growth over all scales.
	Ratio, Fit bool
	// Gate is the metric's name in the regression gate ("" = not gated);
	// HigherIsBetter says which way is worse.
	Gate           string
	HigherIsBetter bool
	// Value returns the metric of a scale; ok is false when the scale did
	// not measure it (quality without a ground truth).
	Value func(*Scale) (v float64, ok bool)
}

// Get returns the metric of a scale, 0 when not measured.
func (m *Metric) Get(s *Scale) float64 {
	v, _ := m.Value(s)
	return v
}

// Metrics lists every metric a scale measures. Those with Fit are in the
// order the analysis reports them.
var Metrics = buildMetrics()

// Lookup returns the named metric, or nil.
func Lookup(name string) *Metric {
	for i := range Metrics {
		if Metrics[i].Name == name {
			return &Metrics[i]
		}
	}
	return nil
}

// ByCSV returns the metric of a CSV column, or nil.
func ByCSV(column string) *Metric {
	for i := range Metrics {
		if Metrics[i].CSV == column {
			return &Metrics[i]
		}
	}
	return nil
}

func always(f func(*Scale) float64) func(*Scale) (float64, bool) {
	return func(s *Scale) (float64, bool) { return f(s), true }
}

func quality(f func(*Quality) float64) func(*Scale) (float64, bool) {
	return func(s *Scale) (float64, bool) {
		if s.Quality == nil {
			return 0, false
		}
		return f(s.Quality), true
	}
}

// stage reads a measurement of the named stage; ok is false when the scale
// did not run it (the reduce stage without a reduction), and the value 0.
func stage(name string, f func(Stage) float64) func(*Scale) (float64, bool) {
	return func(s *Scale) (float64, bool) {
		st, ok := s.Stages.Lookup(name)
		return f(st), ok
	}
}

// spread reads the named stage's spread over the runs of a --repeat; ok is
// false for a single run or a stage that did not run.
func spread(name string, f func(*StageSpread) float64) func(*Scale) (float64, bool) {
	return func(s *Scale) (float64, bool) {
		st, ok := s.Stages.Lookup(name)
		if !ok || st.Spread == nil {
			return 0, false
		}
		return f(st.Spread), true
	}
}

func buildMetrics() []Metric {
	m := []Metric{
		{Name: "total_time", Unit: "s", Label: "Time scaling", JSON: "total_wall_s", CSV: "total_wall_s", Ratio: true, Fit: true, Gate: "time",
			Value: always(func(s *Scale) float64 { return s.TotalWallS })},
		{Name: "peak_memory", Unit: "bytes", Label: "Memory scaling", JSON: "peak_rss_bytes", CSV: "peak_rss_bytes", Int: true, Ratio: true, Fit: true, Gate: "memory",
			Value: always(func(s *Scale) float64 { return float64(s.PeakRSSBytes) })},
		{Name: "working_memory", Unit: "bytes", Label: "Working memory (peak - baseline RSS)", Ratio: true, Fit: true,
			Value: always(func(s *Scale) float64 { return float64(s.PeakRSSBytes - s.BaselineRSSBytes) })},
		{Name: "total_cpu", Unit: "s", Label: "CPU time (less sensitive to load)", JSON: "total_cpu_s", CSV: "total_cpu_s", Ratio: true, Fit: true,
			Value: always(func(s *Scale) float64 { return s.TotalCPUS })},
		{Name: "throughput", Unit: "conv/min", Label: "Throughput", JSON: "throughput_per_min", CSV: "throughput_per_min", Gate: "throughput", HigherIsBetter: true,
			Value: always(func(s *Scale) float64 { return s.ThroughputPerMin })},
	}
	// With --repeat, the spread of the time and peak memory over the runs
	// (the figures above are medians); not measured for a single run.
	m = append(m,
		Metric{Name: "total_time_min", Unit: "s", Label: "Time, fastest run", CSV: "total_wall_min_s",
			Value: func(s *Scale) (float64, bool) { lo, _, ok := s.WallRange(); return lo, ok }},
		Metric{Name: "total_time_max", Unit: "s", Label: "Time, slowest run", CSV: "total_wall_max_s",
			Value: func(s *Scale) (float64, bool) { _, hi, ok := s.WallRange(); return hi, ok }},
		Metric{Name: "peak_memory_min", Unit: "bytes", Label: "Peak memory, lowest run", CSV: "peak_rss_min_bytes", Int: true,
			Value: func(s *Scale) (float64, bool) { lo, _, ok := s.PeakRange(); return float64(lo), ok }},
		Metric{Name: "peak_memory_max", Unit: "bytes", Label: "Peak memory, highest run", CSV: "peak_rss_max_bytes", Int: true,
			Value: func(s *Scale) (float64, bool) { _, hi, ok := s.PeakRange(); return float64(hi), ok }},
	)
	for _, st := range Pipeline {
		name := st.Name
		m = append(m,
			Metric{Name: name + "_time_min", Unit: "s", Label: title(name) + " time, fastest run", JSON: "stages." + name + ".spread.wall_min_s", CSV: name + "_wall_min_s",
				Value: spread(name, func(sp *StageSpread) float64 { return sp.WallMinS })},
			Metric{Name: name + "_time_max", Unit: "s", Label: title(name) + " time, slowest run", JSON: "stages." + name + ".spread.wall_max_s", CSV: name + "_wall_max_s",
				Value: spread(name, func(sp *StageSpread) float64 { return sp.WallMaxS })})
	}
	for _, st := range Pipeline {
		name := st.Name
		m = append(m, Metric{Name: name + "_cpu", Unit: "s", Label: title(name) + " CPU time", JSON: "stages." + name + ".cpu_s", CSV: name + "_cpu_s",
			Ratio: st.Ratios, Fit: st.Ratios, Value: stage(name, func(st Stage) float64 { return st.CPUS })})
	}
	for _, st := range Pipeline {
		name := st.Name
		m = append(m,
			Metric{Name: name + "_time", Unit: "s", Label: title(name) + " time", JSON: "stages." + name + ".wall_s", CSV: name + "_wall_s",
				Ratio: st.Ratios, Fit: true, Value: stage(name, func(st Stage) float64 { return st.WallS })},
			Metric{Name: name + "_memory", Unit: "bytes", Label: title(name) + " memory", JSON: "stages." + name + ".peak_rss_bytes", CSV: name + "_peak_rss_bytes", Int: true,
				Ratio: st.Ratios, Fit: st.Ratios, Value: stage(name, func(st Stage) float64 { return float64(st.PeakRSSBytes) })})
	}
	return append(m,
		Metric{Name: "storage", Unit: "bytes", Label: "Storage", JSON: "storage.total_bytes", CSV: "storage_total_bytes", Int: true, Fit: true,
			Value: always(func(s *Scale) float64 { return float64(s.Storage.TotalBytes) })},
		Metric{Name: "estimated_cost", Unit: "usd", Label: "Estimated API cost", JSON: "api.estimated_cost_usd", CSV: "estimated_cost_usd", Fit: true, Gate: "cost",
			Value: always(func(s *Scale) float64 { return s.API.EstimatedCostUSD })},
		Metric{Name: "actual_cost", Unit: "usd", Label: "API cost charged", JSON: "api.cost_usd", CSV: "cost_usd", Fit: true,
			Value: always(func(s *Scale) float64 { return s.API.CostUSD })},

		// Measured, reported, not analysed.
		Metric{Name: "conversations", Unit: "count", Label: "Conversations", JSON: "conversations", CSV: "conversations", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Conversations) })},
		Metric{Name: "generated", Unit: "count", Label: "Generated records", JSON: "generated", CSV: "generated", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Generated) })},
		Metric{Name: "dims", Unit: "count", Label: "Vector length", JSON: "dims", CSV: "dims", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Dims) })},
		Metric{Name: "baseline_memory", Unit: "bytes", Label: "Baseline memory", JSON: "baseline_rss_bytes", CSV: "baseline_rss_bytes", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.BaselineRSSBytes) })},
		Metric{Name: "heap_inuse", Unit: "bytes", Label: "Go heap in use", JSON: "heap_inuse_bytes", CSV: "heap_inuse_bytes", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.HeapInuseBytes) })},
		Metric{Name: "embedding_bytes", Unit: "bytes", Label: "Vectors in memory", JSON: "storage.embedding_bytes", CSV: "embedding_bytes", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Storage.EmbeddingBytes) })},
		Metric{Name: "metadata_bytes", Unit: "bytes", Label: "Records file", JSON: "storage.metadata_bytes", CSV: "metadata_bytes", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Storage.MetadataBytes) })},
		Metric{Name: "results_jsonl_bytes", Unit: "bytes", Label: "JSONL results", JSON: "storage.results_jsonl_bytes", CSV: "results_jsonl_bytes", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Storage.ResultsJSONLBytes) })},
		Metric{Name: "results_parquet_bytes", Unit: "bytes", Label: "Parquet results", JSON: "storage.results_parquet_bytes", CSV: "results_parquet_bytes", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Storage.ResultsParquetBytes) })},
		Metric{Name: "vectors_npy_bytes", Unit: "bytes", Label: ".npy vectors", JSON: "storage.vectors_npy_bytes", CSV: "vectors_npy_bytes", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Storage.VectorsNPYBytes) })},
		Metric{Name: "api_requests", Unit: "count", Label: "API calls", JSON: "api.requests", CSV: "api_requests", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.API.Requests) })},
		Metric{Name: "api_retries", Unit: "count", Label: "Retries", JSON: "api.retries", CSV: "api_retries", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.API.Retries) })},
		Metric{Name: "api_rate_limited", Unit: "count", Label: "429 answers", JSON: "api.rate_limited", CSV: "api_rate_limited", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.API.RateLimited) })},
		Metric{Name: "api_errors", Unit: "count", Label: "API errors", JSON: "api.errors", CSV: "api_errors", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.API.Errors) })},
		Metric{Name: "tokens", Unit: "count", Label: "Tokens", JSON: "api.tokens", CSV: "tokens", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.API.Tokens) })},
		Metric{Name: "clusters", Unit: "count", Label: "Clusters", JSON: "clusters", CSV: "clusters", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Clusters) })},
		Metric{Name: "noise", Unit: "count", Label: "Noise", JSON: "noise", CSV: "noise", Int: true,
			Value: always(func(s *Scale) float64 { return float64(s.Noise) })},
		Metric{Name: "ari", Unit: "score", Label: "ARI", JSON: "quality.ari", CSV: "ari",
			Value: quality(func(q *Quality) float64 { return q.ARI })},
		Metric{Name: "nmi", Unit: "score", Label: "NMI", JSON: "quality.nmi", CSV: "nmi",
			Value: quality(func(q *Quality) float64 { return q.NMI })},
		Metric{Name: "spillover", Unit: "score", Label: "Spillover", JSON: "quality.spillover", CSV: "spillover",
			Value: quality(func(q *Quality) float64 { return q.Spillover })},
	)
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
