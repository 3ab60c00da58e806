package scaledata

import (
	"context"
	"encoding/json"
	"fmt"
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
	k := lookupKind(d.Kind)
	if err := k.writeFile(filepath.Join(dir, k.file()), &d.Records); err != nil {
		return err
	}
	return conversation.WriteFile(filepath.Join(dir, ClustersFile), d.Clusters)
}

// Written describes a dataset written by Write.
type Written struct {
	Stats
	Kind    string
	Records int
	// Labels is each record's ground-truth cluster, in file order: an
	// index into Clusters, or -1 for none.
	Labels []int32
	// Clusters is the ground truth, as written to ClustersFile.
	Clusters []conversation.Cluster
}

// Write makes the dataset of n records from the baseline (Generate, with
// the same seed the same records as Build) and writes it to dir as a Kura
// checkpoint, each record as it is made: the records file and the
// ground-truth ClustersFile. It keeps no record in memory, only a label
// per record (returned) and what Generate keeps.
func Write(ctx context.Context, b *Baseline, n int, seed int64, dir string) (*Written, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	w := &Written{Kind: b.Kind, Labels: make([]int32, 0, n)}
	k := lookupKind(b.Kind)
	emit, closeFn, abort, err := k.create(filepath.Join(dir, k.file()))
	if err != nil {
		return nil, err
	}
	// The ground truth maps the baseline's cluster indices to those of
	// the clusters written (clusters without records at this scale are
	// left out); Labels are translated at the end.
	st, clusters, err := Generate(ctx, b, n, seed, func(r Record) error {
		w.Labels = append(w.Labels, int32(r.Label))
		return emit(r)
	})
	if err != nil {
		abort()
		return nil, fmt.Errorf("scale %d: %w", n, err)
	}
	if err := closeFn(); err != nil {
		return nil, err
	}
	w.Stats, w.Records, w.Clusters = st, len(w.Labels), clusters
	// Generate lists a baseline cluster iff a record has its label, in
	// the baseline's order.
	remap := make([]int32, len(b.Clusters))
	for i := range remap {
		remap[i] = -1
	}
	for _, l := range w.Labels {
		if l >= 0 {
			remap[l] = 0
		}
	}
	next := int32(0)
	for l := range remap {
		if remap[l] == 0 {
			remap[l], next = next, next+1
		}
	}
	if int(next) != len(clusters) {
		return nil, fmt.Errorf("scale %d: %d ground-truth clusters for %d labels", n, len(clusters), next)
	}
	for i, l := range w.Labels {
		if l >= 0 {
			w.Labels[i] = remap[l]
		}
	}
	if err := conversation.WriteFile(filepath.Join(dir, ClustersFile), clusters); err != nil {
		return nil, err
	}
	return w, nil
}

// RecordBytes is the mean size of the baseline's records encoded as JSON:
// what one conversation of the scaled data takes at least, in memory as on
// disk (Go structs with their strings take more).
func (b *Baseline) RecordBytes() float64 {
	n := b.Len()
	if n == 0 {
		return 0
	}
	k := lookupKind(b.Kind)
	var total int
	for i := 0; i < n; i++ {
		if j, err := json.Marshal(k.value(&b.Records, i)); err == nil {
			total += len(j)
		}
	}
	return float64(total) / float64(n)
}
