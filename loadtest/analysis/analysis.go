package analysis

import (
	"fmt"
	"sort"

	"github.com/kura-go/kura/loadtest/fit"
	"github.com/kura-go/kura/loadtest/measure"
)

// Analysis is the scaling analysis of a run: first-versus-last ratios with
// their efficiency and verdict, and least-squares fits over all scales.
type Analysis struct {
	FirstScale int        `json:"first_scale"` // conversations at the smallest successful scale
	LastScale  int        `json:"last_scale"`  // conversations at the largest successful scale
	ScaleRatio float64    `json:"scale_ratio"`
	Ratios     []Ratio    `json:"ratios"`
	Fits       []*fit.Fit `json:"fits"`
	Notes      []string   `json:"notes,omitempty"`
}

// Analyze computes the scaling analysis of the successful scales (sorted by
// size). It returns nil when fewer than two scales succeeded.
func Analyze(results []measure.Scale) *Analysis {
	rs := append([]measure.Scale(nil), results...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Conversations < rs[j].Conversations })
	if len(rs) < 2 || rs[0].Conversations == rs[len(rs)-1].Conversations {
		return nil
	}
	first, last := &rs[0], &rs[len(rs)-1]
	a := &Analysis{FirstScale: first.Conversations, LastScale: last.Conversations,
		ScaleRatio: float64(last.Conversations) / float64(first.Conversations)}
	ns := make([]float64, len(rs))
	for i := range rs {
		ns[i] = float64(rs[i].Conversations)
	}
	for i := range measure.Metrics {
		m := &measure.Metrics[i]
		if !m.Fit {
			continue
		}
		// A metric the first or last scale did not measure (the reduce
		// stage of a run without a reduction) has no ratio.
		v0, ok0 := m.Value(first)
		v1, ok1 := m.Value(last)
		if m.Ratio && ok0 && ok1 {
			a.Ratios = append(a.Ratios, newRatio(m.Name, m.Unit, first.Conversations, last.Conversations, v0, v1))
		}
		ys := make([]float64, len(rs))
		allZero := true
		for i := range rs {
			ys[i] = m.Get(&rs[i])
			if ys[i] != 0 {
				allZero = false
			}
		}
		if allZero {
			continue // e.g. actual cost of an offline run
		}
		f, err := fit.Scaling(m.Name, m.Unit, ns, ys)
		if err != nil {
			a.Notes = append(a.Notes, err.Error())
			continue
		}
		a.Fits = append(a.Fits, f)
	}
	a.judgeByWorstStage(rs)
	if len(rs) == 2 {
		a.Notes = append(a.Notes, "only two scales: ratios only; every curve passes through two points, so no growth exponent is fitted (the JSON still has the fits); run three or more scales to measure one")
	}
	return a
}

// Points is the number of scales the fits were made over.
func (a *Analysis) Points() int {
	if a == nil || len(a.Fits) == 0 {
		return 0
	}
	return a.Fits[0].Points
}

// Ratio returns the named ratio, or nil.
func (a *Analysis) Ratio(name string) *Ratio {
	if a == nil {
		return nil
	}
	for i := range a.Ratios {
		if a.Ratios[i].Metric == name {
			return &a.Ratios[i]
		}
	}
	return nil
}

// Fit returns the named fit, or nil.
func (a *Analysis) Fit(name string) *fit.Fit {
	if a == nil {
		return nil
	}
	for _, f := range a.Fits {
		if f.Metric == name {
			return f
		}
	}
	return nil
}

// superlinear is the growth exponent above which a stage is called
// super-linear: n^1.15 is 41% more time per conversation at 10× the data.
const superlinear = 1.15

// judgeByWorstStage makes the time and memory verdicts the worst stage's. A
// first-versus-last ratio of the total can look sub-linear while one stage
// grows as n^1.8 under the fixed costs of the others; at larger scales that
// stage is the whole bill. From three scales on, each stage whose work can
// grow faster than the data (measure.StageInfo.Linear false) and that took
// long enough to time is fitted with fit.Growth over its wall time, and its
// CPU-time fit is read too (less disturbed by other load); the larger
// exponent counts. Above superlinear, the verdicts of the total time, the
// total CPU time and that stage's time say so.
func (a *Analysis) judgeByWorstStage(rs []measure.Scale) {
	if len(distinctScales(rs)) < 3 {
		return
	}
	if w := a.Fit("working_memory"); w != nil && w.Model != "linear" && w.Exponent > superlinear {
		for i := range a.Ratios {
			if a.Ratios[i].Metric == "working_memory" {
				a.Ratios[i].Verdict = fmt.Sprintf("super-linear: working memory grows as n^%.2f (%s): concerning", w.Exponent, w.Describe())
			}
		}
	}
	worst, worstExp, how := "", 0.0, ""
	for _, st := range measure.Pipeline {
		if st.Linear {
			continue
		}
		var longest float64
		ns := make([]float64, len(rs))
		ys := make([]float64, len(rs))
		for i := range rs {
			ns[i] = float64(rs[i].Conversations)
			ys[i] = rs[i].Stages.Of(st.Name).WallS
			longest = max(longest, ys[i])
		}
		if longest < minFitTimeS {
			continue
		}
		exp, desc := 0.0, ""
		if g, err := fit.Growth(st.Name+"_time", "s", ns, ys); err == nil {
			exp, desc = g.Exponent, "wall time "+g.Describe()
		}
		if c := a.Fit(st.Name + "_cpu"); c != nil && c.Exponent > exp {
			exp, desc = c.Exponent, "CPU time "+c.Describe()
		}
		if exp > worstExp {
			worst, worstExp, how = st.Name, exp, desc
		}
	}
	if worstExp <= superlinear {
		return
	}
	v := fmt.Sprintf("super-linear: the %s stage grows as n^%.2f (%s); the total follows it at larger scales: concerning", worst, worstExp, how)
	for i := range a.Ratios {
		switch a.Ratios[i].Metric {
		case "total_time", "total_cpu", worst + "_time", worst + "_cpu":
			a.Ratios[i].Verdict = v
		}
	}
	a.Notes = append(a.Notes, fmt.Sprintf("%s is the stage that grows fastest (n^%.2f): plan larger volumes from its fit, not from the ratio of the totals", worst, worstExp))
}
