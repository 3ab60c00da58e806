package loadtest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WriteReport writes the human-readable report: the performance table, the
// scaling analysis and the production planning.
func WriteReport(w io.Writer, r *Results) {
	fmt.Fprintf(w, "Baseline: %s (%d %s, %d ground-truth clusters)\n", r.Baseline.Source, r.Baseline.Records, r.Baseline.Kind, r.Baseline.Clusters)
	if len(r.Scales) > 0 {
		s := r.Scales[0]
		fmt.Fprintf(w, "Embedder: %s (%d dims); clusterer: %s; isolation: %s\n", s.Embedder, s.Dims, s.Clusterer, s.Isolation)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Performance")
	WriteTable(w, r)
	for _, f := range r.Failures {
		fmt.Fprintf(w, "FAILED scale %d (%s): %s\n", f.Scale, f.Kind, f.Error)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "Skipped scale %d: %s\n", s.Scale, s.Reason)
	}
	if r.Interrupted {
		fmt.Fprintln(w, "The run was interrupted; the results hold the scales completed before.")
	}
	if r.Analysis != nil {
		fmt.Fprintln(w)
		WriteAnalysis(w, r.Analysis)
	}
	if r.Planning != nil {
		fmt.Fprintln(w)
		WritePlanning(w, r.Planning, r.Analysis)
	}
}

// TableHeader is the header of the performance table: the guide's columns,
// then the stage columns.
var TableHeader = []string{"Scale", "Time (s)", "Peak Memory (MiB)", "Storage (MiB)", "Throughput (conv/min)", "Cost ($)",
	"Embed (s)", "Cluster (s)", "API calls", "Retries", "429s", "Clusters", "Noise", "ARI"}

// WriteTable writes the performance table, one row per successful scale.
func WriteTable(w io.Writer, r *Results) {
	rows := [][]string{TableHeader}
	for _, s := range r.Scales {
		ari := "-"
		if s.Quality != nil {
			ari = fmt.Sprintf("%.3f", s.Quality.ARI)
		}
		rows = append(rows, []string{
			strconv.Itoa(s.Conversations),
			secs(s.TotalWallS),
			fmt.Sprintf("%.1f", float64(s.PeakRSSBytes)/mib),
			fmt.Sprintf("%.2f", float64(s.Storage.TotalBytes)/mib),
			fmt.Sprintf("%.0f", s.ThroughputPerMin),
			fmtCost(s.API.EstimatedCostUSD),
			secs(s.Stages.Embed.WallS),
			secs(s.Stages.Cluster.WallS),
			strconv.FormatInt(s.API.Requests, 10),
			strconv.FormatInt(s.API.Retries, 10),
			strconv.FormatInt(s.API.RateLimited, 10),
			strconv.Itoa(s.Clusters),
			strconv.Itoa(s.Noise),
			ari,
		})
	}
	widths := make([]int, len(TableHeader))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, row := range rows {
		parts := make([]string, len(row))
		for i, c := range row {
			parts[i] = c + strings.Repeat(" ", widths[i]-len(c))
		}
		fmt.Fprintln(w, strings.TrimRight(strings.Join(parts, " | "), " "))
	}
	if len(r.Scales) > 0 {
		s := r.Scales[0]
		note := fmt.Sprintf("Cost: %s tokens priced at %s ($%g per 1M tokens)", costSource(s.API), s.API.PriceModel, s.API.PricePerMillion)
		fmt.Fprintln(w, note+"; Storage: JSONL results + .npy vectors; Peak Memory: kernel peak RSS of the scale's process.")
	}
}

// secs formats seconds with three significant decimals below 10 s.
func secs(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func costSource(a APIUsage) string {
	if a.TokensLocal {
		return "locally counted (cl100k_base)"
	}
	return "the embedder's"
}

func fmtCost(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 0.001:
		return fmt.Sprintf("%.6f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

var ratioLabels = map[string]string{
	"total_time":     "Time scaling",
	"peak_memory":    "Memory scaling",
	"working_memory": "Working memory (peak - baseline RSS)",
	"embed_time":     "Embed time",
	"embed_memory":   "Embed memory",
	"cluster_time":   "Cluster time",
	"cluster_memory": "Cluster memory",
	"total_cpu":      "CPU time (less sensitive to load)",
	"embed_cpu":      "Embed CPU time",
	"cluster_cpu":    "Cluster CPU time",
}

// WriteAnalysis writes the scaling analysis as the guide shows it.
func WriteAnalysis(w io.Writer, a *Analysis) {
	fmt.Fprintf(w, "Scaling analysis (%d -> %d conversations, %.1fx)\n", a.FirstScale, a.LastScale, a.ScaleRatio)
	for _, r := range a.Ratios {
		fmt.Fprintf(w, "  %-38s %6.2fx for %.1fx conversations  efficiency %5.2f  %s\n",
			ratioLabels[r.Metric]+":", r.Ratio, r.ScaleRatio, r.Efficiency, r.Verdict)
	}
	fmt.Fprintln(w, "  (efficiency = conversation ratio / metric ratio: 1.0 linear, above 1 better than linear, below 1 worse)")
	if len(a.Fits) > 0 && a.Points() > 2 {
		fmt.Fprintf(w, "Fitted growth over all scales (least squares; growth exponent: 1 = linear, 2 = quadratic)\n")
		for _, f := range a.Fits {
			fmt.Fprintf(w, "  %-15s n^%-5.2f %s\n", f.Metric, f.Exponent, f.Describe())
		}
	}
	for _, n := range a.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

// WritePlanning writes the production planning, each figure with the model
// it comes from.
func WritePlanning(w io.Writer, p *Planning, a *Analysis) {
	fmt.Fprintf(w, "Production planning (from %d..%d conversations)\n", a.FirstScale, a.LastScale)
	fmt.Fprintf(w, "  For %s conversations, need ~%s RAM\n", thousands(p.TargetConversations), humanBytes(p.RAMBytes))
	if p.MemoryModel != "" {
		fmt.Fprintf(w, "    (peak memory: %s)\n", p.MemoryModel)
	}
	fmt.Fprintf(w, "  Time to process 1K conversations: ~%s\n", humanDuration(p.TimeFor1KS))
	growth := ""
	if p.TimeExponent > 0 {
		growth = fmt.Sprintf("; time grows as n^%.2f there", p.TimeExponent)
	}
	fmt.Fprintf(w, "  Time for %s conversations: ~%s (~%s per 1K at that size%s), the sum of the stages:\n",
		thousands(p.TargetConversations), humanDuration(p.TimeForTargetS), humanDuration(p.TimePer1KAtTargetS), growth)
	for _, st := range []string{"load", "embed", "cluster", "write"} {
		if m, ok := p.StageModels[st]; ok {
			fmt.Fprintf(w, "    %-8s ~%-8s %s\n", st, humanDuration(p.StageTimesAtTargetS[st]), m)
		}
	}
	fmt.Fprintf(w, "  Storage for %s conversations: ~%s\n", thousands(p.TargetConversations), humanBytes(p.StorageForTargetBytes))
	fmt.Fprintf(w, "  Monthly embedding cost (%s conversations at %s prices): ~$%.2f ($%.4f per 1K)\n",
		thousands(p.MonthlyConversations), p.PriceModel, p.MonthlyCostUSD, p.CostPer1KUSD)
	fmt.Fprintf(w, "    (exact arithmetic, not a fit: %.1f tokens per conversation, the mean over all scales, × %s × $%g per 1M tokens)\n",
		p.TokensPerConversation, thousands(p.MonthlyConversations), p.PricePerMillionUSD)
	if p.MonthlyActualCostUSD > 0 {
		fmt.Fprintf(w, "  Monthly cost at what this embedder charged: ~$%.2f\n", p.MonthlyActualCostUSD)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// humanBytes formats a size in binary units, labelled as such (1 MiB =
// 2^20 bytes), as the table and the rest of the report are.
func humanBytes(v float64) string {
	switch {
	case v >= 1<<40:
		return fmt.Sprintf("%.1f TiB", v/(1<<40))
	case v >= 1<<30:
		return fmt.Sprintf("%.1f GiB", v/(1<<30))
	case v >= 10<<20:
		return fmt.Sprintf("%.0f MiB", v/(1<<20))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.0f KiB", v/(1<<10))
	default:
		return fmt.Sprintf("%.0f bytes", v)
	}
}

func humanDuration(s float64) string {
	switch {
	case s < 10:
		return fmt.Sprintf("%.2fs", s)
	case s < 120:
		return fmt.Sprintf("%.0fs", s)
	case s < 7200:
		return fmt.Sprintf("%.1f min", s/60)
	default:
		return fmt.Sprintf("%.1f h", s/3600)
	}
}

// FileStem returns "load_test_results_YYYYMMDD_HHMMSS" for t (UTC).
func FileStem(t time.Time) string {
	return "load_test_results_" + t.UTC().Format("20060102_150405")
}

// WriteFiles writes the results as JSON and CSV into dir and returns the
// two paths. Files are written to a temporary name and renamed, so a reader
// never sees half a file.
func WriteFiles(r *Results, dir string) (jsonPath, csvPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	stem := filepath.Join(dir, FileStem(r.StartedAt))
	// Two runs started in the same second must not overwrite each other.
	for k := 2; exists(stem+".json") || exists(stem+".csv"); k++ {
		stem = filepath.Join(dir, fmt.Sprintf("%s_%d", FileStem(r.StartedAt), k))
	}
	var jb bytes.Buffer
	if err := EncodeJSON(&jb, r); err != nil {
		return "", "", err
	}
	jsonPath, csvPath = stem+".json", stem+".csv"
	if err := writeAtomic(jsonPath, jb.Bytes()); err != nil {
		return "", "", err
	}
	var cb bytes.Buffer
	if err := WriteCSV(&cb, r); err != nil {
		return "", "", err
	}
	if err := writeAtomic(csvPath, cb.Bytes()); err != nil {
		return "", "", err
	}
	return jsonPath, csvPath, nil
}

// ProbeDir makes sure results can be written to dir before a run starts:
// it creates the directory if needed, then creates and removes a file in it.
func ProbeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".kura-loadtest-probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	err = f.Close()
	return errors.Join(err, os.Remove(name))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// EncodeJSON writes the results as indented JSON. Non-finite numbers (an
// efficiency of a zero metric) are written as null.
func EncodeJSON(w io.Writer, r *Results) error {
	b, err := json.Marshal(sanitize(r))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// sanitize replaces NaN and ±Inf, which JSON cannot hold, by marshalling
// through a generic tree.
func sanitize(r *Results) any {
	c := *r
	if r.Analysis != nil {
		a := *r.Analysis
		a.Ratios = append([]Ratio(nil), a.Ratios...)
		for i := range a.Ratios {
			a.Ratios[i].Ratio = finite(a.Ratios[i].Ratio)
			a.Ratios[i].Efficiency = finite(a.Ratios[i].Efficiency)
		}
		fits := make([]*Fit, len(a.Fits))
		for i, f := range a.Fits {
			g := *f
			g.PowerA, g.PowerB, g.PowerR2 = finite(g.PowerA), finite(g.PowerB), finite(g.PowerR2)
			g.Intercept, g.Slope, g.LinearR2 = finite(g.Intercept), finite(g.Slope), finite(g.LinearR2)
			g.OffsetC, g.OffsetD, g.OffsetE, g.OffsetR2 = finite(g.OffsetC), finite(g.OffsetD), finite(g.OffsetE), finite(g.OffsetR2)
			g.Exponent = finite(g.Exponent)
			fits[i] = &g
		}
		a.Fits = fits
		c.Analysis = &a
	}
	return &c
}

// finite maps NaN and infinities to 0; the verdict says the value was not
// measurable.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// CSVHeader lists the CSV columns, one row per scale (failed scales too,
// with their status and empty measurements).
var CSVHeader = []string{
	"scale", "status", "conversations", "generated", "embedder", "dims", "clusterer", "isolation",
	"total_wall_s", "total_cpu_s", "throughput_per_min",
	"baseline_rss_bytes", "peak_rss_bytes", "heap_inuse_bytes",
	"load_wall_s", "load_cpu_s", "load_peak_rss_bytes",
	"embed_wall_s", "embed_cpu_s", "embed_peak_rss_bytes",
	"cluster_wall_s", "cluster_cpu_s", "cluster_peak_rss_bytes",
	"write_wall_s", "write_cpu_s", "write_peak_rss_bytes",
	"embedding_bytes", "metadata_bytes", "results_jsonl_bytes", "results_parquet_bytes", "vectors_npy_bytes", "storage_total_bytes",
	"api_requests", "api_retries", "api_rate_limited", "api_errors", "tokens", "cost_usd", "estimated_cost_usd", "price_model",
	"clusters", "noise", "ari", "nmi", "spillover",
}

// WriteCSV writes one row per scale.
func WriteCSV(w io.Writer, r *Results) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, s := range r.Scales {
		q := []string{"", "", ""}
		if s.Quality != nil {
			q = []string{f(s.Quality.ARI), f(s.Quality.NMI), f(s.Quality.Spillover)}
		}
		st := s.Stages
		row := []string{
			strconv.Itoa(s.Scale), "ok", strconv.Itoa(s.Conversations), strconv.Itoa(s.Generated), s.Embedder, strconv.Itoa(s.Dims), s.Clusterer, s.Isolation,
			f(s.TotalWallS), f(s.TotalCPUS), f(s.ThroughputPerMin),
			i(s.BaselineRSSBytes), i(s.PeakRSSBytes), i(s.HeapInuseBytes),
			f(st.Load.WallS), f(st.Load.CPUS), i(st.Load.PeakRSSBytes),
			f(st.Embed.WallS), f(st.Embed.CPUS), i(st.Embed.PeakRSSBytes),
			f(st.Cluster.WallS), f(st.Cluster.CPUS), i(st.Cluster.PeakRSSBytes),
			f(st.Write.WallS), f(st.Write.CPUS), i(st.Write.PeakRSSBytes),
			i(s.Storage.EmbeddingBytes), i(s.Storage.MetadataBytes), i(s.Storage.ResultsJSONLBytes), i(s.Storage.ResultsParquetBytes), i(s.Storage.VectorsNPYBytes), i(s.Storage.TotalBytes),
			i(s.API.Requests), i(s.API.Retries), i(s.API.RateLimited), i(s.API.Errors), i(s.API.Tokens), f(s.API.CostUSD), f(s.API.EstimatedCostUSD), s.API.PriceModel,
			strconv.Itoa(s.Clusters), strconv.Itoa(s.Noise), q[0], q[1], q[2],
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	empty := func(scale int, status string) []string {
		row := make([]string, len(CSVHeader))
		row[0], row[1] = strconv.Itoa(scale), status
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

// LoadResults reads a results JSON file written by WriteFiles.
func LoadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a load test results file: %w", path, err)
	}
	if r.SchemaVersion < 1 || r.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d; this kura reads version %d", path, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}
