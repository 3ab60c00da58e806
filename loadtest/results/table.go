package results

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/measure"
)

// mib is a mebibyte, the unit of the table's memory and storage columns.
const mib = 1 << 20

// column is a column of the performance table: a metric of the registry
// and how the table prints it.
type column struct {
	header string
	metric string
	format func(v float64) string
}

func count(v float64) string { return strconv.FormatInt(int64(v), 10) }

// tableColumns are the guide's columns, then the stage columns.
var tableColumns = []column{
	{"Scale", "conversations", count},
	{"Time (s)", "total_time", human.Seconds},
	{"Peak Memory (MiB)", "peak_memory", func(v float64) string { return fmt.Sprintf("%.1f", v/mib) }},
	{"Storage (MiB)", "storage", func(v float64) string { return fmt.Sprintf("%.2f", v/mib) }},
	{"Throughput (conv/min)", "throughput", func(v float64) string { return fmt.Sprintf("%.0f", v) }},
	{"Cost ($)", "estimated_cost", human.USD},
	{"Embed (s)", "embed_time", human.Seconds},
	{"Cluster (s)", "cluster_time", human.Seconds},
	{"API calls", "api_requests", count},
	{"Retries", "api_retries", count},
	{"429s", "api_rate_limited", count},
	{"Clusters", "clusters", count},
	{"Noise", "noise", count},
	{"ARI", "ari", func(v float64) string { return fmt.Sprintf("%.3f", v) }},
}

// writeTable writes the performance table, one row per successful scale.
func writeTable(w io.Writer, r *loadtest.Results) {
	header := make([]string, len(tableColumns))
	for i, c := range tableColumns {
		header[i] = c.header
	}
	rows := [][]string{header}
	for i := range r.Scales {
		s := &r.Scales[i]
		row := make([]string, len(tableColumns))
		for k, c := range tableColumns {
			row[k] = "-"
			if v, ok := measure.Lookup(c.metric).Value(s); ok {
				row[k] = c.format(v)
			}
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(header))
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
