package results

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/measure"
)

// mib is a mebibyte, the unit of the table's memory and storage columns.
const mib = 1 << 20

// column is a column of the performance table: a metric of the registry
// and how the table prints it. Columns of higher rank are left out first
// when the table does not fit the width.
type column struct {
	header string
	metric string
	rank   int
	format func(v float64) string
	// spread names the metrics metric+"_min" and metric+"_max", the lowest
	// and highest over the runs of a --repeat: the cell is then
	// "median (min-max)".
	spread string
}

// count writes a count as the rest of the report does: 1,234.
func count(v float64) string { return human.Thousands(int(v)) }

// tableColumns are the guide's columns, the time of each stage of the
// pipeline (from measure.Pipeline), then the API and cluster counts. With
// --repeat, the time and memory cells are "median (min-max)" over the runs.
func tableColumns(r *loadtest.Results) []column {
	cols := []column{
		{header: "Scale", metric: "conversations", format: func(v float64) string { return human.Thousands(int(v)) }},
		{header: "Time s", metric: "total_time", spread: "total_time", format: human.Seconds},
	}
	cols = append(cols,
		column{header: "Peak MiB", metric: "peak_memory", spread: "peak_memory", format: func(v float64) string { return fmt.Sprintf("%.1f", v/mib) }},
		column{header: "Disk MiB", metric: "storage", rank: 1, format: func(v float64) string { return fmt.Sprintf("%.2f", v/mib) }},
		column{header: "conv/min", metric: "throughput", rank: 2, format: func(v float64) string { return human.Thousands(int(math.Round(v))) }},
		column{header: "Cost $", metric: "estimated_cost", rank: 1, format: human.USD},
	)
	for _, st := range measure.Pipeline {
		if !ranStage(r, st.Name) {
			continue // the reduce stage of a run without --reduce
		}
		rank := 4
		if st.Ratios {
			rank = 1
		}
		cols = append(cols, column{header: title(st.Name) + " s", metric: st.Name + "_time", spread: st.Name + "_time", rank: rank, format: human.Seconds})
	}
	return append(cols,
		column{header: "ARI", metric: "ari", rank: 2, format: func(v float64) string { return fmt.Sprintf("%.3f", v) }},
		column{header: "Clusters", metric: "clusters", rank: 3, format: count},
		column{header: "Noise", metric: "noise", rank: 3, format: count},
		column{header: "API calls", metric: "api_requests", rank: 5, format: count},
		column{header: "Retries", metric: "api_retries", rank: 5, format: count},
		column{header: "429s", metric: "api_rate_limited", rank: 5, format: count},
	)
}

// ranStage reports whether any scale of r ran the named stage.
func ranStage(r *loadtest.Results, name string) bool {
	for i := range r.Scales {
		if _, ok := r.Scales[i].Stages.Lookup(name); ok {
			return true
		}
	}
	return false
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// withSpread formats v, and after it the lowest and highest over the runs
// of a --repeat when the scale has them: "0.48 (0.41-0.52)".
func withSpread(c column, s *measure.Scale, v float64) string {
	out := c.format(v)
	if c.spread == "" {
		return out
	}
	lo, okLo := measure.Lookup(c.spread + "_min").Value(s)
	hi, okHi := measure.Lookup(c.spread + "_max").Value(s)
	if !okLo || !okHi {
		return out
	}
	return fmt.Sprintf("%s (%s-%s)", out, c.format(lo), c.format(hi))
}

// tableCells returns the table's columns and their cells: cells[column][row],
// row 0 the header.
func tableCells(r *loadtest.Results) ([]column, [][]string) {
	cols := tableColumns(r)
	cells := make([][]string, len(cols))
	for k, c := range cols {
		cells[k] = append(cells[k], c.header)
		for i := range r.Scales {
			s := &r.Scales[i]
			v := "-"
			if f, ok := measure.Lookup(c.metric).Value(s); ok {
				v = withSpread(c, s, f)
			}
			cells[k] = append(cells[k], v)
		}
	}
	return cols, cells
}

// tableSep separates the columns of the table.
const tableSep = "  "

// writeTable writes the performance table, one row per successful scale,
// with as many columns as fit in width (all of them when wide), and says
// which were left out.
func writeTable(w io.Writer, r *loadtest.Results, width int, wide bool) {
	cols, cells := tableCells(r)
	widths := make([]int, len(cols))
	for k := range cols {
		for _, v := range cells[k] {
			widths[k] = max(widths[k], len(v))
		}
	}
	keep := make([]bool, len(cols))
	for k := range keep {
		keep[k] = true
	}
	if !wide {
		total := func() int {
			n := 0
			for k := range cols {
				if keep[k] {
					n += widths[k] + len(tableSep)
				}
			}
			return n - len(tableSep)
		}
		// Leave out the highest-ranked column, the rightmost first, until
		// the table fits.
		for total() > width {
			drop := -1
			for k := len(cols) - 1; k >= 0; k-- {
				if keep[k] && cols[k].rank > 0 && (drop < 0 || cols[k].rank > cols[drop].rank) {
					drop = k
				}
			}
			if drop < 0 {
				break
			}
			keep[drop] = false
		}
	}
	var left []string
	for k, c := range cols {
		if !keep[k] {
			left = append(left, c.header)
		}
	}
	for row := 0; row <= len(r.Scales); row++ {
		var parts []string
		for k := range cols {
			if keep[k] {
				v := cells[k][row]
				parts = append(parts, strings.Repeat(" ", widths[k]-len(v))+v)
			}
		}
		fmt.Fprintln(w, strings.Join(parts, tableSep))
	}
	if len(r.Scales) > 0 {
		s := r.Scales[0]
		fmt.Fprintf(w, "Peak: peak RSS. Disk: JSONL + .npy. Cost: %s tokens at $%g per 1M.\n",
			costSource(s.API), s.API.PricePerMillion)
	}
	if len(left) > 0 {
		fmt.Fprintf(w, "Not shown (--wide): %s.\n", strings.Join(left, ", "))
	}
}
