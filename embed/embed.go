// Package embed turns texts into vectors: an OpenAI-compatible API client, a
// local lexical embedder, a deterministic mock, and (in embed/minilm) a local
// transformer. All implement Embedder.
package embed

import "context"

// Embedder turns a batch of texts into one vector per text, in order.
type Embedder interface {
	// Name identifies the backend and model, e.g. "openai:text-embedding-3-small".
	Name() string
	// Dims is the length of every vector returned.
	Dims() int
	// Embed returns len(texts) vectors of length Dims(). It may split the batch
	// into requests and run them concurrently; it honours ctx cancellation.
	// When it stops part way (an error, ctx cancelled) it may return, with
	// the error, len(texts) entries holding the vectors of the texts it
	// finished and nil for the others: Stream keeps the leading finished
	// ones, so that an interrupted call's work up to there is not lost.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// MaxDims is the longest vector kura accepts from or asks of any embedder:
// 65,536 components, twenty times OpenAI's largest model (3,072). A longer
// request is a mistake, and would cost memory in proportion before failing.
const MaxDims = 1 << 16

// Usage is what an embedder spent: requests, retries, tokens and money.
type Usage struct {
	Requests    int64   `json:"requests"`     // HTTP requests (or simulated calls) sent, retries included
	Retries     int64   `json:"retries"`      // requests that were repeats of a failed one
	RateLimited int64   `json:"rate_limited"` // responses with status 429
	Errors      int64   `json:"errors"`       // failed attempts other than 429 (5xx, timeouts, bad responses)
	Inputs      int64   `json:"inputs"`       // texts embedded
	Tokens      int64   `json:"tokens"`       // prompt tokens (from the API's usage, else counted locally)
	Truncated   int64   `json:"truncated"`    // inputs cut to the model's token limit
	CostUSD     float64 `json:"cost_usd"`     // tokens priced with the model's price table
}

// UsageReporter is implemented by embedders that account for what they spend.
type UsageReporter interface {
	Usage() Usage
}
