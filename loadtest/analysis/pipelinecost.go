package analysis

import (
	"fmt"
	"strings"

	"github.com/kura-go/kura/loadtest/measure"
)

// StageCost is one stage's share of the whole pipeline's monthly cost, in
// a full-pipeline load test. Like the embedding cost it is arithmetic over
// counted tokens, not a fit: the stage's calls, tokens and cost summed over
// all scales, divided by the conversations of all scales, times the
// monthly volume.
type StageCost struct {
	Stage                       string  `json:"stage"`
	CallsPerConversation        float64 `json:"calls_per_conversation"`
	InputTokensPerConversation  float64 `json:"input_tokens_per_conversation"`
	OutputTokensPerConversation float64 `json:"output_tokens_per_conversation"`
	MonthlyCostUSD              float64 `json:"monthly_cost_usd"`
}

// planPipelineCost fills the whole pipeline's monthly cost by stage when
// the scales ran the full pipeline; it leaves p alone otherwise.
func (p *Planning) planPipelineCost(results []measure.Scale, monthly int) {
	var order []string
	type sum struct {
		calls, in, out int64
		cost           float64
	}
	sums := map[string]*sum{}
	var convs int64
	chat := ""
	for _, r := range results {
		if r.Pipeline == "" {
			return
		}
		convs += int64(r.Conversations)
		if r.LLM != nil {
			chat = fmt.Sprintf("%s at $%g / $%g per million input / output tokens", r.LLM.Model, r.LLM.PriceInputPerMillion, r.LLM.PriceOutputPerMillion)
		}
		for _, st := range r.Stages {
			s := sums[st.Name]
			if s == nil {
				s = &sum{}
				sums[st.Name] = s
				order = append(order, st.Name)
			}
			s.calls += st.Calls
			s.in += st.InputTokens
			s.out += st.OutputTokens
			s.cost += st.CostUSD
		}
	}
	if convs == 0 {
		return
	}
	per := func(v float64) float64 { return v / float64(convs) }
	var parts []string
	for _, name := range order {
		s := sums[name]
		c := StageCost{Stage: name, CallsPerConversation: per(float64(s.calls)), InputTokensPerConversation: per(float64(s.in)),
			OutputTokensPerConversation: per(float64(s.out)), MonthlyCostUSD: per(s.cost) * float64(monthly)}
		p.PipelineCost = append(p.PipelineCost, c)
		p.MonthlyPipelineCostUSD += c.MonthlyCostUSD
		parts = append(parts, fmt.Sprintf("%s $%.2f", name, c.MonthlyCostUSD))
	}
	if chat == "" {
		chat = "no chat model (the LLM stages ran offline)"
	}
	for _, r := range results {
		if r.Clusters == 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("scale %d found no cluster (all noise), so its name and hierarchy stages made no call and their cost is understated; mock LLM summaries are text without topics, which HDBSCAN leaves as noise: --clusterer kmeans (Kura's default, k = n / --items-per-cluster) gives the clusters a real run would name", r.Scale))
			break
		}
	}
	p.Notes = append(p.Notes,
		fmt.Sprintf("the whole pipeline costs $%.2f a month for %d conversations (%s; chat model %s; embeddings at %s): every stage's counted tokens per conversation over all scales, times the monthly volume; the name and hierarchy stages' calls follow the number of clusters, planned here per conversation as measured",
			p.MonthlyPipelineCostUSD, monthly, strings.Join(parts, ", "), chat, p.PriceModel),
		"the planned time and its stage models cover the load-test stages (embed, cluster); the full pipeline's time per stage is in each scale's stages, and its total time in the time scaling")
}
