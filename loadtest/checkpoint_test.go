package loadtest

import (
	"bytes"
	"context"
	"testing"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/internal/schemacheck"
)

// While a scale runs, the scales completed before it are already saved
// (issue 13: a killed load test left no results for its completed scales).
// The check sits inside the second scale's clustering, the point a SIGKILL
// would strike; the last scale is not checkpointed (the final write follows).
func TestRunCheckpointsEachCompletedScale(t *testing.T) {
	cfg := testConfig(t)
	tk := testToolkit()
	var saved []*Results
	var atKill []byte
	clusterer := tk.Cluster
	calls := 0
	tk.Cluster = func(ctx context.Context, c cluster.Spec, x []float32, n, d int) ([]int, error) {
		calls++
		if calls == 2 && len(saved) == 1 {
			var b bytes.Buffer
			if err := EncodeJSON(&b, saved[0]); err != nil {
				t.Error(err)
			}
			atKill = b.Bytes()
		}
		return clusterer(ctx, c, x, n, d)
	}
	r := &Runner{Toolkit: tk, Checkpoint: func(res *Results) error {
		saved = append(saved, res)
		return nil
	}}
	res, err := r.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(saved) != len(cfg.Scales)-1 {
		t.Fatalf("%d checkpoints for %d scales, want one after each but the last", len(saved), len(cfg.Scales))
	}
	for i, s := range saved {
		if !s.Incomplete || len(s.Scales) != i+1 || s.Scales[i].Scale != cfg.Scales[i] {
			t.Errorf("checkpoint %d: incomplete=%v scales=%d", i, s.Incomplete, len(s.Scales))
		}
	}
	if atKill == nil {
		t.Fatal("no results saved when the second scale was running")
	}
	if err := schemacheck.Validate(SchemaJSON, SchemaID, atKill); err != nil {
		t.Errorf("checkpoint JSON: %v", err)
	}
	if !bytes.Contains(atKill, []byte(`"incomplete": true`)) {
		t.Error("checkpoint JSON is not marked incomplete")
	}
	if res.Incomplete || len(res.Scales) != len(cfg.Scales) {
		t.Errorf("final results: incomplete=%v scales=%d", res.Incomplete, len(res.Scales))
	}
}
