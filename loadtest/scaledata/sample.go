package scaledata

import (
	"context"
	"fmt"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/sample"
)

// Sample returns the first n conversations of the built-in sample corpus
// (package sample) in topics topics, as summaries with each topic as a
// ground-truth cluster.
func Sample(ctx context.Context, n, topics int, seed int64) (*Baseline, error) {
	if topics > sample.NumTopics() {
		return nil, fmt.Errorf("the sample corpus has %d topics, not %d", sample.NumTopics(), topics)
	}
	g, err := sample.NewGenerator(sample.Options{Conversations: n, Topics: topics, Seed: seed})
	if err != nil {
		return nil, err
	}
	ts := g.Topics()
	b := &Baseline{Kind: KindSummaries, Records: Records{Summaries: make([]conversation.ConversationSummary, 0, n)}, Labels: make([]int, 0, n)}
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
