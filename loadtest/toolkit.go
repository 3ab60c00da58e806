package loadtest

import (
	"context"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
)

// Toolkit is what a load test needs from the rest of kura. cmd/kura fills it
// with the real implementations (package conversation for files, package
// sample for the built-in corpus, the embedders and the clusterers); tests
// fill it with small fakes. The interfaces are defined here, by their
// consumer.
type Toolkit struct {
	Records RecordIO
	// Sample returns the built-in corpus of n conversations in topics topics
	// as a baseline (summaries, with each topic as a ground-truth cluster).
	Sample func(ctx context.Context, n, topics int, seed int64) (*Baseline, error)
	// NewEmbedder builds the embedder from the embedder flags in args; corpus
	// is the texts about to be embedded (a lexical embedder fits its IDF on it).
	NewEmbedder func(ctx context.Context, args []string, corpus []string) (embed.Embedder, error)
	// Warmup, if set, runs in each worker before its baseline memory is
	// measured: loading what every scale needs whatever its size (kura's
	// cl100k_base tokenizer, used for token accounting in every mode), so
	// that the garbage of loading it is not counted as the work's memory.
	// What it keeps is part of the baseline and of the peak.
	Warmup func() error
	// Cluster labels n points of d dimensions (row-major x); -1 is noise.
	Cluster func(ctx context.Context, x []float32, n, d int, c ClusterConfig) ([]int, error)
}

// RecordIO reads and writes Kura's record files. Paths ending in .parquet
// are Parquet, anything else JSONL.
type RecordIO interface {
	// FindCheckpoint returns the files of a Kura checkpoint directory, ""
	// for those that are absent.
	FindCheckpoint(dir string) (summaries, conversations, clusters string, err error)
	ReadSummaries(path string) ([]conversation.ConversationSummary, error)
	ReadConversations(path string) ([]conversation.Conversation, error)
	ReadClusters(path string) ([]conversation.Cluster, error)
	WriteSummaries(path string, recs []conversation.ConversationSummary) error
	WriteConversations(path string, recs []conversation.Conversation) error
	WriteClusters(path string, recs []conversation.Cluster) error
}
