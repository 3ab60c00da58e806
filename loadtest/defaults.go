package loadtest

import (
	"context"
	"fmt"

	"github.com/kura-go/kura/cluster/hdbscan"
	"github.com/kura-go/kura/cluster/kmeans"
	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/tokens"
	"github.com/kura-go/kura/sample"
)

// NewToolkit returns the toolkit of the kura binary: Kura files through
// package conversation, the built-in sample corpus, HDBSCAN and K-means,
// and the given embedder constructor.
func NewToolkit(newEmbedder func(ctx context.Context, args []string, corpus []string) (embed.Embedder, error)) *Toolkit {
	return &Toolkit{Records: KuraFiles{}, Sample: SampleBaseline, NewEmbedder: newEmbedder, Cluster: Cluster, Warmup: tokens.Init}
}

// SampleBaseline returns the first n conversations of the built-in sample
// corpus (package sample) in topics topics, as summaries with each topic as
// a ground-truth cluster.
func SampleBaseline(ctx context.Context, n, topics int, seed int64) (*Baseline, error) {
	if topics > sample.NumTopics() {
		return nil, fmt.Errorf("the sample corpus has %d topics, not %d", sample.NumTopics(), topics)
	}
	g, err := sample.NewGenerator(sample.Options{Conversations: n, Topics: topics, Seed: seed})
	if err != nil {
		return nil, err
	}
	ts := g.Topics()
	b := &Baseline{Kind: KindSummaries, Summaries: make([]conversation.ConversationSummary, 0, n), Labels: make([]int, 0, n)}
	b.Clusters = make([]conversation.Cluster, len(ts))
	for t, tp := range ts {
		b.Clusters[t] = conversation.Cluster{ID: g.ClusterID(t), Name: tp.Name, Description: tp.Description, Slug: tp.Slug}
	}
	for i := 0; i < n; i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		_, s, t := g.Next()
		b.Summaries = append(b.Summaries, s)
		b.Labels = append(b.Labels, t)
		b.Clusters[t].ChatIDs = append(b.Clusters[t].ChatIDs, s.ChatID)
	}
	return b, nil
}

// Cluster runs the configured clusterer: HDBSCAN (euclidean, EOM, as the
// guide and the Python hdbscan library) or K-means (k-means++ and Lloyd, k
// fixed or Kura's ceil(n / items per cluster)).
func Cluster(ctx context.Context, x []float32, n, d int, c ClusterConfig) ([]int, error) {
	switch c.Algorithm {
	case "hdbscan":
		p := hdbscan.DefaultParams()
		p.MinClusterSize = c.MinClusterSize
		p.MinSamples = c.MinSamples
		if p.MinSamples == 0 {
			p.MinSamples = c.MinClusterSize
		}
		r, err := hdbscan.Cluster(ctx, x, n, d, p)
		if err != nil {
			return nil, err
		}
		return r.Labels, nil
	case "kmeans":
		k := c.K
		if k == 0 {
			k = kmeans.KForItems(n, c.ItemsPerCluster)
		}
		k = min(k, n)
		r, err := kmeans.Cluster(ctx, x, n, d, kmeans.Params{K: k, Seed: uint64(c.Seed)})
		if err != nil {
			return nil, err
		}
		return r.Labels, nil
	}
	return nil, fmt.Errorf("unknown clusterer %q", c.Algorithm)
}
