package embed

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// defaultPrices are OpenAI's list prices for embeddings, in US dollars per
// million input tokens.
var defaultPrices = map[string]float64{
	"text-embedding-3-small": 0.02,
	"text-embedding-3-large": 0.13,
	"text-embedding-ada-002": 0.10,
}

var (
	priceMu sync.RWMutex
	prices  = copyPrices(defaultPrices)
)

func copyPrices(m map[string]float64) map[string]float64 {
	c := make(map[string]float64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// PricePerMillion returns the price in US dollars per million input tokens
// of an embedding model, and whether the model is in the price table. A
// provider prefix ("openai/text-embedding-3-small") is ignored when the full
// name is not found.
func PricePerMillion(model string) (usd float64, ok bool) {
	priceMu.RLock()
	defer priceMu.RUnlock()
	if p, ok := prices[model]; ok {
		return p, true
	}
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		if p, ok := prices[model[i+1:]]; ok {
			return p, true
		}
	}
	return 0, false
}

// SetPrice sets (or overrides) the price of a model, in US dollars per
// million input tokens. It is safe for concurrent use.
func SetPrice(model string, usdPerMillion float64) error {
	if model == "" {
		return fmt.Errorf("price: empty model name")
	}
	if usdPerMillion < 0 || usdPerMillion != usdPerMillion {
		return fmt.Errorf("price of %s: %v is not a price (want >= 0 USD per million tokens)", model, usdPerMillion)
	}
	priceMu.Lock()
	defer priceMu.Unlock()
	prices[model] = usdPerMillion
	return nil
}

// Prices returns a copy of the current price table.
func Prices() map[string]float64 {
	priceMu.RLock()
	defer priceMu.RUnlock()
	return copyPrices(prices)
}

// LoadPriceFile merges a JSON price file into the table. The file is an
// object mapping model names to US dollars per million input tokens:
//
//	{"text-embedding-3-small": 0.02, "my-local-model": 0}
func LoadPriceFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("price file: %w", err)
	}
	var m map[string]float64
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("price file %s: want a JSON object of model name to USD per million tokens: %w", path, err)
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := SetPrice(k, m[k]); err != nil {
			return fmt.Errorf("price file %s: %w", path, err)
		}
	}
	return nil
}

// Cost prices tokens of model; it is 0 for a model not in the table.
func Cost(model string, tokens int64) float64 {
	p, _ := PricePerMillion(model)
	return float64(tokens) * p / 1e6
}
