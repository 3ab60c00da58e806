package loadtest

import (
	"context"
	"fmt"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/embed/tokens"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest/scaledata"
	"github.com/kura-go/kura/reduce"
)

// Toolkit is what a scale runs with: where the built-in baseline comes
// from, the embedder and the clusterer. NewToolkit fills it with kura's;
// tests fill it with small fakes.
type Toolkit struct {
	// Sample returns the built-in corpus of n conversations in topics topics
	// as a baseline (summaries, with each topic as a ground-truth cluster).
	Sample func(ctx context.Context, n, topics int, seed int64) (*scaledata.Baseline, error)
	// NewEmbedder builds the embedder s describes; corpus hands over the
	// texts about to be embedded, read from the scale's file (the hash
	// embedder fits its IDF on them; others need not call it).
	NewEmbedder func(ctx context.Context, s backend.Spec, corpus Corpus) (embed.Embedder, error)
	// Warmup, if set, runs in each worker before its baseline memory is
	// measured: loading what every scale needs whatever its size (kura's
	// cl100k_base tokenizer, used for token accounting in every mode), so
	// that the garbage of loading it is not counted as the work's memory.
	// What it keeps is part of the baseline and of the peak.
	Warmup func() error
	// Reduce reduces n points of d dimensions (row-major x) before
	// clustering and returns the result and its dimension; the load test's
	// reduce stage. It runs only when the cluster spec has a reduction.
	Reduce func(ctx context.Context, s reduce.Spec, x []float32, n, d int) ([]float32, int, error)
	// Cluster labels n points of d dimensions (row-major x); -1 is noise.
	// The load test hands it the spec without its reduction (already done
	// by Reduce).
	Cluster func(ctx context.Context, s cluster.Spec, x []float32, n, d int) ([]int, error)
}

// Corpus hands the texts of a scale to yield one at a time, in order (read
// from a file as it goes), and returns the reading's error.
type Corpus func(yield func(string)) error

// corpusOf is the Corpus of texts held in memory.
func corpusOf(texts []string) Corpus {
	return func(yield func(string)) error {
		for _, t := range texts {
			yield(t)
		}
		return nil
	}
}

// NewToolkit returns the toolkit of the kura binary: the built-in sample
// corpus, kura's embedders (package embed/backend) and clusterers (package
// cluster).
func NewToolkit() *Toolkit {
	return &Toolkit{
		Sample: scaledata.Sample,
		NewEmbedder: func(ctx context.Context, s backend.Spec, corpus Corpus) (embed.Embedder, error) {
			e, _, err := backend.BuildStream(ctx, s, corpus)
			return e, err
		},
		Reduce: func(ctx context.Context, s reduce.Spec, x []float32, n, d int) ([]float32, int, error) {
			return s.Apply(ctx, x, n, d)
		},
		Cluster: func(ctx context.Context, s cluster.Spec, x []float32, n, d int) ([]int, error) {
			r, err := cluster.Run(ctx, s, x, n, d)
			if err != nil {
				return nil, err
			}
			return r.Labels, nil
		},
		Warmup: tokens.Init,
	}
}

// loadBaseline loads the baseline of c: its --data, else the toolkit's
// sample corpus.
func loadBaseline(ctx context.Context, tk *Toolkit, c *Config) (*scaledata.Baseline, error) {
	var sample func(context.Context) (*scaledata.Baseline, error)
	if tk.Sample != nil {
		sample = func(ctx context.Context) (*scaledata.Baseline, error) {
			b, err := tk.Sample(ctx, c.SampleConversations, c.SampleTopics, c.Seed)
			if err == nil && b.Source == "" {
				b.Source = fmt.Sprintf("built-in sample corpus (%s conversations, %d topics, seed %d)", human.Thousands(c.SampleConversations), c.SampleTopics, c.Seed)
			}
			return b, err
		}
	}
	return scaledata.Load(ctx, c.Data, sample)
}
