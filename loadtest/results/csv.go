package results

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/measure"
)

// textColumns are the CSV columns that are not metrics: what was run.
var textColumns = map[string]func(*measure.Scale) string{
	"scale":       func(s *measure.Scale) string { return strconv.Itoa(s.Scale) },
	"status":      func(*measure.Scale) string { return "ok" },
	"embedder":    func(s *measure.Scale) string { return s.Embedder },
	"clusterer":   func(s *measure.Scale) string { return s.Clusterer },
	"isolation":   func(s *measure.Scale) string { return s.Isolation },
	"price_model": func(s *measure.Scale) string { return s.API.PriceModel },
	// vector_dtype is how the .npy of vectors_npy_bytes stores the vectors.
	"vector_dtype": func(s *measure.Scale) string { return s.Storage.DType() },
}

// csvHeader lists the CSV columns, one row per scale (failed and skipped
// scales too, with their status, the run's vector_dtype and empty
// measurements). Each is a metric's
// CSV column (see measure.Metrics) or one of textColumns.
var csvHeader = []string{
	"scale", "status", "conversations", "generated", "embedder", "dims", "clusterer", "isolation",
	"total_wall_s", "total_cpu_s", "throughput_per_min",
	"baseline_rss_bytes", "peak_rss_bytes", "heap_inuse_bytes",
	"load_wall_s", "load_cpu_s", "load_peak_rss_bytes",
	"embed_wall_s", "embed_cpu_s", "embed_peak_rss_bytes",
	"reduce_wall_s", "reduce_cpu_s", "reduce_peak_rss_bytes",
	"cluster_wall_s", "cluster_cpu_s", "cluster_peak_rss_bytes",
	"write_wall_s", "write_cpu_s", "write_peak_rss_bytes",
	"embedding_bytes", "metadata_bytes", "results_jsonl_bytes", "results_parquet_bytes", "vectors_npy_bytes", "vector_dtype", "storage_total_bytes",
	"api_requests", "api_retries", "api_rate_limited", "api_errors", "tokens", "cost_usd", "estimated_cost_usd", "price_model",
	"clusters", "noise", "ari", "nmi", "spillover",
	// The run's configuration and times, the same on every row, so that
	// rows of several runs pasted together keep what they came from.
	"started_at", "finished_at", "kura_version", "kura_commit", "data", "seed", "repeat", "gogc",
	"target_conversations", "monthly_conversations", "cpu_model", "cores",
	// With --repeat, the lowest and highest over the runs (the figures
	// above are medians); empty for a single run.
	"total_wall_min_s", "total_wall_max_s", "peak_rss_min_bytes", "peak_rss_max_bytes",
	"load_wall_min_s", "load_wall_max_s", "embed_wall_min_s", "embed_wall_max_s",
	"reduce_wall_min_s", "reduce_wall_max_s", "cluster_wall_min_s", "cluster_wall_max_s",
	"write_wall_min_s", "write_wall_max_s",
}

// runColumns are the CSV columns of the run, not of a scale.
var runColumns = map[string]func(*loadtest.Results) string{
	"started_at":   func(r *loadtest.Results) string { return r.StartedAt.UTC().Format(time.RFC3339) },
	"finished_at":  func(r *loadtest.Results) string { return r.FinishedAt.UTC().Format(time.RFC3339) },
	"kura_version": func(r *loadtest.Results) string { return r.Environment.KuraVersion },
	"kura_commit":  func(r *loadtest.Results) string { return r.Environment.KuraCommit },
	"data": func(r *loadtest.Results) string {
		if r.Config.Data == "" {
			return "built-in sample"
		}
		return r.Config.Data
	},
	"seed":                  func(r *loadtest.Results) string { return strconv.FormatInt(r.Config.Seed, 10) },
	"repeat":                func(r *loadtest.Results) string { return strconv.Itoa(max(r.Config.Repeat, 1)) },
	"gogc":                  func(r *loadtest.Results) string { return strconv.Itoa(r.Config.GOGC) },
	"target_conversations":  func(r *loadtest.Results) string { return strconv.Itoa(r.Config.TargetConversations) },
	"monthly_conversations": func(r *loadtest.Results) string { return strconv.Itoa(r.Config.MonthlyConversations) },
	"cpu_model":             func(r *loadtest.Results) string { return r.Environment.CPUModel },
	"cores":                 func(r *loadtest.Results) string { return strconv.Itoa(r.Environment.Cores) },
}

// csvCell formats column col of scale s.
func csvCell(col string, s *measure.Scale) string {
	if f, ok := textColumns[col]; ok {
		return f(s)
	}
	m := measure.ByCSV(col)
	v, ok := m.Value(s)
	switch {
	case !ok:
		return ""
	case m.Int:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 10, 64)
}

// writeCSV writes one row per scale.
func writeCSV(w io.Writer, r *loadtest.Results) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for i := range r.Scales {
		row := make([]string, len(csvHeader))
		for k, col := range csvHeader {
			if f, ok := runColumns[col]; ok {
				row[k] = f(r)
			} else {
				row[k] = csvCell(col, &r.Scales[i])
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	empty := func(scale int, status string) []string {
		row := make([]string, len(csvHeader))
		row[0], row[1] = strconv.Itoa(scale), status
		for k, col := range csvHeader {
			if f, ok := runColumns[col]; ok {
				row[k] = f(r)
			} else if col == "vector_dtype" {
				row[k] = r.VectorDType()
			}
		}
		return row
	}
	for _, fl := range r.Failures {
		if err := cw.Write(empty(fl.Scale, fl.Kind)); err != nil {
			return err
		}
	}
	for _, sk := range r.Skipped {
		if err := cw.Write(empty(sk.Scale, "skipped")); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
