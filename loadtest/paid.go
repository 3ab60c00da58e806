package loadtest

import (
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/embed/tokens"
	"github.com/kura-go/kura/loadtest/scaledata"
)

// PaidEstimate is what a run whose embedder is the paid API is expected to
// cost, said before the first request.
type PaidEstimate struct {
	Conversations int64   // embedded over all scales and repeats
	Tokens        int64   // estimated: the baseline's mean tokens per record × Conversations
	CostUSD       float64 // Tokens at the API model's price
	Priced        bool    // false: the model's price is unknown, CostUSD is 0
	Model         string
}

// estimatePaid returns the estimate when cfg's embedder is openai (the only
// backend that bills), nil otherwise. The mean tokens per record are
// counted on up to 2,000 of the baseline's records; scaled records are
// recombinations of them, so their length is the same on average.
func estimatePaid(cfg *Config, base *scaledata.Baseline) *PaidEstimate {
	kind, _, err := backend.Choose(cfg.Embedder)
	if err != nil || kind != "openai" || base.Len() == 0 {
		return nil
	}
	n := min(base.Len(), 2000)
	var sum int64
	for i := 0; i < n; i++ {
		sum += int64(tokens.Count(base.Text(i)))
	}
	e := &PaidEstimate{Model: cfg.Embedder.APIModel()}
	for _, s := range cfg.Scales {
		e.Conversations += int64(s) * int64(max(cfg.Repeat, 1))
	}
	e.Tokens = int64(float64(sum) / float64(n) * float64(e.Conversations))
	e.CostUSD, e.Priced = cfg.Embedder.APICost(e.Tokens)
	return e
}
