package embed

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// DefaultPriceModel is the model whose price estimates what texts would
// cost through an API when the embedder has no API price of its own (hash,
// minilm): the load-testing guide's model.
const DefaultPriceModel = "text-embedding-3-small"

// Prices is a price table: US dollars per million input tokens, by model.
// It is a value: DefaultPrices gives OpenAI's list prices, With and Merge
// return copies with overrides; nothing changes a table in place.
type Prices map[string]float64

// DefaultPrices returns OpenAI's list prices for embeddings.
func DefaultPrices() Prices {
	return Prices{
		"text-embedding-3-small": 0.02,
		"text-embedding-3-large": 0.13,
		"text-embedding-ada-002": 0.10,
	}
}

// Lookup returns the price of a model and whether the table has it. A
// provider prefix ("openai/text-embedding-3-small") is ignored when the full
// name is not found.
func (p Prices) Lookup(model string) (usdPerMillion float64, ok bool) {
	if v, ok := p[model]; ok {
		return v, true
	}
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		if v, ok := p[model[i+1:]]; ok {
			return v, true
		}
	}
	return 0, false
}

// MaxPricePerMillion is the highest price kura accepts, in US dollars per
// million tokens: a dollar a token, thousands of times any list price. A
// cap keeps every cost finite (1e308 per million tokens overflowed to +Inf
// at a few tokens) and catches a price typed in the wrong unit.
const MaxPricePerMillion = 1e6

// CheckPrice returns an error when usdPerMillion is not a price in US
// dollars per million tokens: negative, NaN, infinite or over
// MaxPricePerMillion.
func CheckPrice(usdPerMillion float64) error {
	if usdPerMillion >= 0 && usdPerMillion <= MaxPricePerMillion {
		return nil
	}
	return fmt.Errorf("%v is not a price: want 0 to %.0f USD per million tokens", usdPerMillion, float64(MaxPricePerMillion))
}

// With returns a copy of p with the price of model set.
func (p Prices) With(model string, usdPerMillion float64) (Prices, error) {
	if model == "" {
		return nil, fmt.Errorf("price: empty model name")
	}
	if err := CheckPrice(usdPerMillion); err != nil {
		return nil, fmt.Errorf("price of %s: %w", model, err)
	}
	c := maps.Clone(p)
	if c == nil {
		c = Prices{}
	}
	c[model] = usdPerMillion
	return c, nil
}

// Merge returns a copy of p with q's prices added or replacing p's.
func (p Prices) Merge(q Prices) Prices {
	c := maps.Clone(p)
	if c == nil {
		c = Prices{}
	}
	maps.Copy(c, q)
	return c
}

// LoadPrices reads a JSON price file: an object mapping model names to US
// dollars per million input tokens,
//
//	{"text-embedding-3-small": 0.02, "my-local-model": 0}
func LoadPrices(path string) (Prices, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("price file: %w", err)
	}
	var m map[string]float64
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("price file %s: want a JSON object of model name to USD per million tokens: %w", path, err)
	}
	var out Prices
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if out, err = out.With(k, m[k]); err != nil {
			return nil, fmt.Errorf("price file %s: %w", path, err)
		}
	}
	return out, nil
}

// Cost is what tokens cost at a price in US dollars per million tokens:
// the one rule by which kura prices tokens (what an API charged, what the
// load test estimates, what the planning projects).
func Cost(tokens, usdPerMillion float64) float64 {
	return tokens * usdPerMillion / 1e6
}

// ModelFor is the model whose price estimates what an embedder's tokens
// would cost through an API: configured when given; else the embedder's
// API model (the M of a Name "openai:M" or "mock:M") when p has its price;
// else DefaultPriceModel.
func (p Prices) ModelFor(configured, embedderName string) string {
	if configured != "" {
		return configured
	}
	if _, m, ok := strings.Cut(embedderName, ":"); ok {
		if _, known := p.Lookup(m); known {
			return m
		}
	}
	return DefaultPriceModel
}
