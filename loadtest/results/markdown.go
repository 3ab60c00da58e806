package results

import (
	"fmt"
	"io"
	"strings"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest"
)

// WriteMarkdown writes the report as GitHub-flavoured Markdown, for a pull
// request or an issue: the header, the summary as a list, the table with
// every column, failures and skipped scales.
func WriteMarkdown(w io.Writer, r *loadtest.Results) {
	fmt.Fprintln(w, "## kura load test")
	fmt.Fprintln(w)
	var h strings.Builder
	writeHeader(&h, r, 0)
	for _, l := range strings.Split(strings.TrimSpace(h.String()), "\n") {
		fmt.Fprintf(w, "%s  \n", l) // two spaces: a line break
	}
	fmt.Fprintln(w)
	writeSummary(w, r, true)
	fmt.Fprintln(w)
	if len(r.Scales) > 0 {
		cols, cells := tableCells(r)
		row := func(i int) {
			parts := make([]string, len(cols))
			for k := range cols {
				parts[k] = strings.ReplaceAll(cells[k][i], "|", "\\|")
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(parts, " | "))
		}
		row(0)
		fmt.Fprintf(w, "|%s\n", strings.Repeat("---:|", len(cols)))
		for i := 1; i <= len(r.Scales); i++ {
			row(i)
		}
		fmt.Fprintln(w)
		s := r.Scales[0]
		fmt.Fprintf(w, "Peak: peak RSS of the scale's process. Disk: JSONL results + .npy vectors. Cost: %s tokens at %s prices ($%g per 1M tokens).\n",
			costSource(s.API), s.API.PriceModel, s.API.PricePerMillion)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "\n**Failed** scale %s (%s): %s\n", human.Thousands(f.Scale), f.Kind, f.Why())
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "\nSkipped scale %s: %s\n", human.Thousands(s.Scale), s.Reason)
	}
	if r.Interrupted {
		fmt.Fprintln(w, "\nThe run was interrupted; the results hold the scales completed before.")
	}
	writeMarkdownDetails(w, r)
}

// writeMarkdownDetails writes the scaling analysis (ratios and fitted
// growth over all scales) and the production planning with each figure's
// model and prediction interval (and each --plan-for volume's), folded in
// a <details> block, as the terminal report prints them with --details.
func writeMarkdownDetails(w io.Writer, r *loadtest.Results) {
	if r.Analysis == nil {
		return
	}
	var b strings.Builder
	writeAnalysis(&b, r.Analysis)
	if r.Planning != nil {
		fmt.Fprintln(&b)
		writePlanning(&b, r.Planning, r.Analysis, r.VectorDType())
		for _, q := range r.Plans {
			fmt.Fprintln(&b)
			writePlanning(&b, q, r.Analysis, r.VectorDType())
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "<details><summary>Scaling analysis, fits and planning</summary>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "~~~text")
	io.WriteString(w, b.String())
	fmt.Fprintln(w, "~~~")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "</details>")
}
