package results

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/analysis"
	"github.com/kura-go/kura/loadtest/measure"
)

// writeHeader says what was run: scales, embedder, clusterer, baseline,
// one line each, each shortened to width when it is above 0 (the
// baseline's description first, then the middle of the longest part).
func writeHeader(w io.Writer, r *loadtest.Results, width int) {
	// The first line's parts, most important first: the scales, then when
	// and how long. What does not fit is left out whole, not cut.
	var parts []string
	if n := len(r.Scales); n > 0 {
		first, last := r.Scales[0].Conversations, r.Scales[n-1].Conversations
		span := human.Thousands(first)
		if last != first {
			span += ".." + human.Thousands(last)
		}
		parts = append(parts, fmt.Sprintf(": %s conversations, %d scale%s", span, n, plural(n)))
	}
	if !r.StartedAt.IsZero() {
		parts = append(parts, ", "+r.StartedAt.UTC().Format("2006-01-02 15:04 UTC"))
		if r.FinishedAt.After(r.StartedAt) {
			parts = append(parts, ", "+human.Duration(r.FinishedAt.Sub(r.StartedAt).Seconds()))
		}
	}
	for k := len(parts); k >= 0; k-- {
		line := "Load test" + strings.Join(parts[:k], "")
		if width <= 0 || len(line) <= width || k == 0 {
			fmt.Fprintln(w, fitLine(line, "", width))
			break
		}
	}
	if len(r.Scales) > 0 {
		s := r.Scales[0]
		head := fmt.Sprintf("Embedder %s (%d dims), clusterer ", s.Embedder, s.Dims)
		tail := ""
		if s.Isolation != "process" && s.Isolation != "" {
			tail = ", " + s.Isolation
		}
		name := s.Clusterer
		if width > 0 && len(head)+len(name)+len(tail) > width {
			name = withoutParams(name) // "pca:32 + hdbscan": the parameters are in the JSON
		}
		fmt.Fprintln(w, fitLine(head, name+tail, width))
	}
	b := r.Baseline
	head := fmt.Sprintf("Baseline: %s %s, %d clusters, from ", human.Thousands(b.Records), b.Kind, b.Clusters)
	src := b.Source
	if width > 0 && len(head)+len(src) > width {
		// "built-in sample corpus (1000 conversations, ...)": the counts
		// are said already.
		if i := strings.Index(src, " ("); i > 0 && strings.HasSuffix(src, ")") {
			src = src[:i]
		}
	}
	fmt.Fprintln(w, fitLine(head, src, width))
	fmt.Fprintln(w)
}

// withoutParams drops the parenthesised parameters of a clusterer's
// name: "pca:32 + hdbscan(min_cluster_size=10,min_samples=10)" becomes
// "pca:32 + hdbscan".
func withoutParams(name string) string {
	var b strings.Builder
	depth := 0
	for _, c := range name {
		switch {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// fitLine returns head+tail, with the middle of tail (else of the whole
// line) replaced by "..." when it is longer than width (0: no limit).
func fitLine(head, tail string, width int) string {
	if width <= 0 || len(head)+len(tail) <= width {
		return head + tail
	}
	if room := width - len(head); room >= 12 {
		return head + elide(tail, room)
	}
	return elide(head+tail, width)
}

// elide keeps the start and the end of s, n bytes in all with "..." in the
// middle.
func elide(s string, n int) string {
	if len(s) <= n || n < 5 {
		return s
	}
	keep := n - 3
	head, tail := keep-keep/2, len(s)-keep/2
	// Cut between characters, not inside one.
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + "..." + s[tail:]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// shortVerdict is the verdict of a ratio in a few words: "better than
// linear", "linear", "too small to judge".
func shortVerdict(v string) string {
	if i := strings.IndexAny(v, "(:"); i > 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// stageGrowth finds the stage and its growth in a verdict the analysis
// made from a fit ("the cluster stage grows as n^1.58", "working memory
// grows as n^1.20").
var stageGrowth = regexp.MustCompile(`(the \w+ stage|working memory) grows as (n\^[0-9.]+)`)

// verdictOf says how the named metric scaled, or "" without an analysis.
func verdictOf(r *loadtest.Results, metric string) string {
	ra := r.Analysis.Ratio(metric)
	if ra == nil {
		return ""
	}
	v := shortVerdict(ra.Verdict)
	// A verdict from a stage's fitted growth names the stage: say which,
	// not the first-versus-last efficiency it overrides.
	if m := stageGrowth.FindStringSubmatch(ra.Verdict); m != nil {
		return fmt.Sprintf("%s: %s grows as %s", v, m[1], m[2])
	}
	if ra.Efficiency > 0 {
		v += fmt.Sprintf(" (eff. %.2f)", ra.Efficiency)
	}
	return v
}

// perConversation formats bytes per conversation.
func perConversation(bytes int64, n int) string {
	if n <= 0 {
		return "-"
	}
	v := float64(bytes) / float64(n)
	if v >= 1024 {
		return fmt.Sprintf("%.1f KiB", v/1024)
	}
	return fmt.Sprintf("%.0f bytes", v)
}

// writeSummary writes what a person asks first: how each resource scales,
// RAM, time and money per 1,000 conversations, the stage that takes the
// time, and the plan for the target volume.
func writeSummary(w io.Writer, r *loadtest.Results, md bool) {
	if len(r.Scales) == 0 {
		fmt.Fprintln(w, "No scale completed: nothing to summarise.")
		return
	}
	last := &r.Scales[len(r.Scales)-1]
	p := r.Planning
	n := float64(last.Conversations)
	line := func(name, format string, args ...any) {
		if md {
			if name == "" { // a continuation of the item above
				fmt.Fprintf(w, "  - %s\n", strings.TrimSpace(fmt.Sprintf(format, args...)))
				return
			}
			fmt.Fprintf(w, "- **%s**: %s\n", name, fmt.Sprintf(format, args...))
			return
		}
		fmt.Fprintf(w, "  %-8s %s\n", name, fmt.Sprintf(format, args...))
	}
	if md {
		fmt.Fprintln(w, "### Summary")
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "Summary")
	}
	join := func(parts ...string) string {
		var out []string
		for _, s := range parts {
			if s != "" {
				out = append(out, s)
			}
		}
		return strings.Join(out, "; ")
	}

	per1K := last.TotalWallS / n * 1000
	if p != nil && p.TimeFor1KS > 0 {
		per1K = p.TimeFor1KS
	}
	line("Time", "%s", join("~"+human.Duration(per1K)+" per 1K", verdictOf(r, "total_time")))
	mem := fmt.Sprintf("%s baseline RSS, peak %s at %s", human.Bytes(float64(last.BaselineRSSBytes)),
		human.Bytes(float64(last.PeakRSSBytes)), human.Thousands(last.Conversations))
	if p != nil && p.MemorySlopePer1KBytes > 0 {
		mem = fmt.Sprintf("+%s per 1K over %s baseline", human.Bytes(p.MemorySlopePer1KBytes), human.Bytes(float64(last.BaselineRSSBytes)))
	}
	line("Memory", "%s", join(mem, verdictOf(r, "working_memory")))
	if v := verdictOf(r, "total_cpu"); v != "" {
		line("CPU", "%s", v)
	}
	line("Storage", "%s/conversation (%s vectors %s, records %s)",
		perConversation(last.Storage.TotalBytes, last.Conversations),
		last.Storage.DType(), perConversation(last.Storage.EmbeddingBytes, last.Conversations),
		perConversation(last.Storage.MetadataBytes, last.Conversations))
	cost := last.API.EstimatedCostUSD / n * 1000
	monthly := ""
	if p != nil && p.TokensPerConversation > 0 {
		cost = p.CostPer1KUSD
		monthly = fmt.Sprintf(", ~$%.2f/month for %s", p.MonthlyCostUSD, human.Thousands(p.MonthlyConversations))
	}
	line("Cost", "$%s per 1K%s (%s)", human.USD(cost), monthly, last.API.PriceModel)
	if b := bottleneck(last, r); b != "" {
		line("Slowest", "%s", b)
	}
	if p != nil {
		plan := fmt.Sprintf("~%s RAM, ~%s, ~%s on disk", human.Bytes(p.RAMBytes), human.Duration(p.TimeForTargetS), human.Bytes(p.StorageForTargetBytes))
		line("Plan", "for %s: %s", human.Thousands(p.TargetConversations), plan)
		if iv := planInterval(p); iv != "" {
			line("", "%s", iv)
		}
		for _, q := range r.Plans {
			line("", "for %s: ~%s RAM, ~%s, ~%s on disk", human.Thousands(q.TargetConversations), human.Bytes(q.RAMBytes), human.Duration(q.TimeForTargetS), human.Bytes(q.StorageForTargetBytes))
			if iv := planIntervalShort(q); iv != "" {
				line("", "  %s", iv)
			}
		}
		// explained: a warning that a target is far beyond the scales has
		// been given in full; another volume's then only names its scales.
		explained := false
		for _, note := range p.Notes {
			line("Note", "%s", note)
			_, far := p.FarExtrapolation(r.Analysis, note)
			explained = explained || far
		}
		// The other volumes' own notes (how far beyond the scales they
		// are, which scales to add), where they say something the
		// target's do not.
		said := map[string]bool{}
		for _, note := range p.Notes {
			said[note] = true
		}
		for _, q := range r.Plans {
			for _, note := range q.Notes {
				if said[note] {
					continue
				}
				said[note] = true
				if scales, far := q.FarExtrapolation(r.Analysis, note); far && explained {
					line("Note", "for %s (%.0f× the largest scale) likewise: measure closer with --scales %s",
						human.Thousands(q.TargetConversations), q.Extrapolation, scales)
					continue
				} else if far {
					explained = true
				}
				line("Note", "for %s: %s", human.Thousands(q.TargetConversations), note)
			}
		}
	}
	if lo, hi, ok := last.WallRange(); ok {
		spread := fmt.Sprintf("time %s (%s-%s)", human.Duration(last.TotalWallS), human.Duration(lo), human.Duration(hi))
		if plo, phi, ok := last.PeakRange(); ok {
			unit, div, prec := "MiB", float64(mib), 1
			if phi >= 1<<30 {
				unit, div, prec = "GiB", float64(1<<30), 2
			}
			spread += fmt.Sprintf(", peak %.*f %s (%.*f-%.*f)", prec, float64(last.PeakRSSBytes)/div, unit,
				prec, float64(plo)/div, prec, float64(phi)/div)
		}
		line("Repeats", "%d runs per scale, figures are medians; at %s: %s; the table gives median (min-max)",
			len(last.RepeatWallS), human.Thousands(last.Conversations), spread)
	}
}

// bottleneck names the stage that took the most time at the largest scale
// and, with a plan, the one planned to take the most at the target.
func bottleneck(last *measure.Scale, r *loadtest.Results) string {
	var top string
	var topS float64
	for _, st := range measure.Pipeline {
		if v := last.Stages.Of(st.Name).WallS; v > topS {
			top, topS = st.Name, v
		}
	}
	if top == "" || last.TotalWallS <= 0 {
		return ""
	}
	out := fmt.Sprintf("%s: %.0f%% of the time at %s", top, 100*topS/last.TotalWallS, human.Thousands(last.Conversations))
	p := r.Planning
	if p == nil || len(p.StageTimesAtTargetS) == 0 || p.TimeForTargetS <= 0 {
		return out
	}
	names := make([]string, 0, len(p.StageTimesAtTargetS))
	for name := range p.StageTimesAtTargetS {
		names = append(names, name)
	}
	sort.Strings(names)
	var planned string
	var plannedS float64
	for _, name := range names {
		if v := p.StageTimesAtTargetS[name]; v > plannedS {
			planned, plannedS = name, v
		}
	}
	if planned != top {
		out += "; " + planned
	}
	out += fmt.Sprintf(", %.0f%% at %s", 100*plannedS/p.TimeForTargetS, human.Thousands(p.TargetConversations))
	if e, ok := p.StageExponents[planned]; ok {
		out += fmt.Sprintf(" (time ~ n^%.2f)", e)
	}
	return out
}

// planInterval gives the prediction intervals of the planned RAM and time,
// when the planning has them.
// planIntervalShort is planInterval for a line under the target's, which
// has said what the interval is: "90%: RAM 52.8 GiB-108.6 GiB, time ...".
func planIntervalShort(p *analysis.Planning) string {
	return strings.Replace(planInterval(p), " prediction interval:", ":", 1)
}

func planInterval(p *analysis.Planning) string {
	var parts []string
	if p.RAMHighBytes > 0 {
		parts = append(parts, fmt.Sprintf("RAM %s-%s", human.Bytes(p.RAMLowBytes), human.Bytes(p.RAMHighBytes)))
	}
	if p.TimeForTargetHighS > 0 {
		parts = append(parts, fmt.Sprintf("time %s-%s", human.Duration(p.TimeForTargetLowS), human.Duration(p.TimeForTargetHighS)))
	}
	if len(parts) == 0 || p.IntervalLevel <= 0 {
		return ""
	}
	return fmt.Sprintf("%.0f%% prediction interval: %s", 100*p.IntervalLevel, strings.Join(parts, ", "))
}
