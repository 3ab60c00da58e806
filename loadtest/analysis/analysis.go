package analysis

import (
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
		if m.Ratio {
			a.Ratios = append(a.Ratios, newRatio(m.Name, m.Unit, first.Conversations, last.Conversations, m.Get(first), m.Get(last)))
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
