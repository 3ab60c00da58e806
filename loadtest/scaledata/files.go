package scaledata

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/kura-go/kura/conversation"
)

// The files of a dataset written by WriteCheckpoint: the records (one of
// the first two) and the ground-truth clusters.
const (
	SummariesFile     = "summaries.jsonl"
	ConversationsFile = "conversations.jsonl"
	ClustersFile      = "clusters.jsonl"
)

// WriteCheckpoint writes the dataset to dir as a Kura checkpoint (the
// records and the ground-truth clusters.jsonl) for a worker to load.
func (d *Dataset) WriteCheckpoint(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var err error
	if d.Kind == KindConversations {
		err = conversation.WriteFile(filepath.Join(dir, ConversationsFile), d.Conversations)
	} else {
		err = conversation.WriteFile(filepath.Join(dir, SummariesFile), d.Summaries)
	}
	if err != nil {
		return err
	}
	return conversation.WriteFile(filepath.Join(dir, ClustersFile), d.Clusters)
}

// RecordBytes is the mean size of the baseline's records encoded as JSON:
// what one conversation of the scaled data takes at least, in memory as on
// disk (Go structs with their strings take more).
func (b *Baseline) RecordBytes() float64 {
	n := b.Len()
	if n == 0 {
		return 0
	}
	var total int
	for i := 0; i < n; i++ {
		var v any
		if b.Kind == KindConversations {
			v = &b.Conversations[i]
		} else {
			v = &b.Summaries[i]
		}
		if j, err := json.Marshal(v); err == nil {
			total += len(j)
		}
	}
	return float64(total) / float64(n)
}
