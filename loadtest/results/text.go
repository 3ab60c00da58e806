// Package results presents a load test's results: the text report (the
// performance table, the scaling analysis and the production planning),
// and the JSON and CSV files.
package results

import (
	"fmt"
	"io"
	"strings"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/analysis"
	"github.com/kura-go/kura/loadtest/measure"
)

// Options says how the text report is laid out.
type Options struct {
	// Width is the terminal's width in columns: no line of the report is
	// longer (0 = 80). The table keeps as many columns as fit.
	Width int
	// Wide prints every column of the table, however wide.
	Wide bool
	// Details adds the scaling analysis (ratios and fits) and the full
	// production planning, each figure with its model.
	Details bool
}

// DefaultWidth is the width of the report when none is known.
const DefaultWidth = 80

// WriteReport writes the human-readable report: a summary of what a
// person asks first (verdict per resource, RAM, time and money per 1,000
// conversations, the bottleneck, the plan for the target), the performance
// table, then, with Details, the scaling analysis and the planning in full.
func WriteReport(w io.Writer, r *loadtest.Results, opt Options) {
	width := opt.Width
	if width <= 0 {
		width = DefaultWidth
	}
	var b strings.Builder
	writeHeader(&b, r, width)
	writeSummary(&b, r, false)
	fmt.Fprintln(&b)
	// The table fits the width by leaving columns out, so it is not
	// wrapped (with --wide it is as wide as it needs).
	var t strings.Builder
	writeTable(&t, r, width, opt.Wide)
	var tail strings.Builder
	for _, f := range r.Failures {
		fmt.Fprintf(&tail, "FAILED scale %s (%s): %s\n", human.Thousands(f.Scale), f.Kind, f.Why())
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&tail, "Skipped scale %s: %s\n", human.Thousands(s.Scale), s.Reason)
	}
	if r.Interrupted {
		fmt.Fprintln(&tail, "The run was interrupted; the results hold the scales completed before.")
	}
	writePipeline(&tail, r)
	if opt.Details {
		if r.Analysis != nil {
			fmt.Fprintln(&tail)
			writeAnalysis(&tail, r.Analysis)
		}
		if r.Planning != nil {
			fmt.Fprintln(&tail)
			writePlanning(&tail, r.Planning, r.Analysis, r.VectorDType())
		}
	} else if r.Analysis != nil {
		fmt.Fprintln(&tail, "--details: the scaling analysis, the fits and each planned figure's model.")
	}
	io.WriteString(w, human.Wrap(b.String(), width))
	table := t.String()
	if !opt.Wide {
		table = human.Wrap(table, width)
	}
	io.WriteString(w, table)
	io.WriteString(w, human.Wrap(tail.String(), width))
}

func costSource(a measure.APIUsage) string {
	if a.TokensLocal {
		return "cl100k_base"
	}
	return "the embedder's"
}

// label is how the analysis prints a metric.
func label(name string) string {
	if m := measure.Lookup(name); m != nil {
		return m.Label
	}
	return name
}

// writeAnalysis writes the scaling analysis as the guide shows it.
func writeAnalysis(w io.Writer, a *analysis.Analysis) {
	fmt.Fprintf(w, "Scaling analysis (%s -> %s conversations, %.1fx)\n", human.Thousands(a.FirstScale), human.Thousands(a.LastScale), a.ScaleRatio)
	for _, r := range a.Ratios {
		fmt.Fprintf(w, "  %-38s %6.2fx for %.1fx conversations  efficiency %5.2f  %s\n",
			label(r.Metric)+":", r.Ratio, r.ScaleRatio, r.Efficiency, r.Verdict)
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

// writePlanning writes the production planning, each figure with the model
// it comes from.
func writePlanning(w io.Writer, p *analysis.Planning, a *analysis.Analysis, dtype string) {
	fmt.Fprintf(w, "Production planning (from %s..%s conversations)\n", human.Thousands(a.FirstScale), human.Thousands(a.LastScale))
	fmt.Fprintf(w, "  For %s conversations, need ~%s RAM\n", human.Thousands(p.TargetConversations), human.Bytes(p.RAMBytes))
	if p.MemoryModel != "" {
		fmt.Fprintf(w, "    (peak memory: %s)\n", p.MemoryModel)
	}
	if iv := planInterval(p); iv != "" {
		fmt.Fprintf(w, "    %s\n", iv)
	}
	fmt.Fprintf(w, "  Time to process 1K conversations: ~%s\n", human.Duration(p.TimeFor1KS))
	growth := ""
	if p.TimeExponent > 0 {
		growth = fmt.Sprintf("; time grows as n^%.2f there", p.TimeExponent)
	}
	fmt.Fprintf(w, "  Time for %s conversations: ~%s (~%s per 1K at that size%s), the sum of the stages:\n",
		human.Thousands(p.TargetConversations), human.Duration(p.TimeForTargetS), human.Duration(p.TimePer1KAtTargetS), growth)
	for _, stage := range measure.Pipeline {
		st := stage.Name
		if m, ok := p.StageModels[st]; ok {
			fmt.Fprintf(w, "    %-8s ~%-8s %s\n", st, human.Duration(p.StageTimesAtTargetS[st]), m)
		}
	}
	fmt.Fprintf(w, "  Storage for %s conversations: ~%s (vectors as %s)\n", human.Thousands(p.TargetConversations), human.Bytes(p.StorageForTargetBytes), dtype)
	fmt.Fprintf(w, "  Monthly embedding cost (%s conversations at %s prices): ~$%.2f ($%.4f per 1K)\n",
		human.Thousands(p.MonthlyConversations), p.PriceModel, p.MonthlyCostUSD, p.CostPer1KUSD)
	fmt.Fprintf(w, "    (exact arithmetic, not a fit: %.1f tokens per conversation, the mean over all scales, × %s × $%g per 1M tokens)\n",
		p.TokensPerConversation, human.Thousands(p.MonthlyConversations), p.PricePerMillionUSD)
	if p.MonthlyActualCostUSD > 0 {
		fmt.Fprintf(w, "  Monthly cost at what this embedder charged: ~$%.2f\n", p.MonthlyActualCostUSD)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
