package results

import (
	"fmt"
	"io"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/analysis"
)

// writePipeline prints, for a full-pipeline load test, each stage at the
// largest scale (time, peak memory, calls, tokens, cost) and the monthly
// cost the planning gives it; nothing in the default mode.
func writePipeline(w io.Writer, r *loadtest.Results) {
	if r.Config.Pipeline == "" || len(r.Scales) == 0 {
		return
	}
	s := r.Scales[len(r.Scales)-1]
	monthly := map[string]analysis.StageCost{}
	if r.Planning != nil {
		for _, c := range r.Planning.PipelineCost {
			monthly[c.Stage] = c
		}
	}
	chat := "no LLM (offline stages)"
	if s.LLM != nil {
		chat = fmt.Sprintf("%s at $%g/$%g per M in/out tokens (%s)", s.LLM.Model, s.LLM.PriceInputPerMillion, s.LLM.PriceOutputPerMillion, s.LLM.Endpoint)
	}
	fmt.Fprintf(w, "\nFull pipeline at %s conversations; chat model %s\n", human.Thousands(s.Conversations), chat)
	fmt.Fprintf(w, "%-9s %7s %8s %6s %9s %8s %8s %10s\n", "stage", "time s", "peak MiB", "calls", "in tok", "out tok", "cost $", "$/month")
	for _, st := range s.Stages {
		fmt.Fprintf(w, "%-9s %7.2f %8.1f %6d %9d %8d %8.4f %10.2f\n", st.Name, st.WallS, float64(st.PeakRSSBytes)/(1<<20),
			st.Calls, st.InputTokens, st.OutputTokens, st.CostUSD, monthly[st.Name].MonthlyCostUSD)
	}
	if r.Planning != nil && len(r.Planning.PipelineCost) > 0 {
		fmt.Fprintf(w, "Whole pipeline: $%.2f a month for %s conversations (tokens per conversation over all scales).\n",
			r.Planning.MonthlyPipelineCostUSD, human.Thousands(r.Planning.MonthlyConversations))
	}
}
