package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrHFDatasets marks a checkpoint written by Python Kura's
// HFDatasetCheckpointManager: a directory per checkpoint ("conversations",
// "summaries", ...), each a Hugging Face dataset saved with save_to_disk
// (state.json, dataset_info.json and Arrow IPC stream files). kura does not
// read Arrow; the error says how to convert such a checkpoint to JSONL with
// Python Kura itself.
var ErrHFDatasets = errors.New("a Hugging Face datasets checkpoint (Python Kura's HFDatasetCheckpointManager), which kura does not read")

// isHFDataset reports whether dir is one dataset saved by save_to_disk.
func isHFDataset(dir string) bool {
	for _, name := range []string{"state.json", "dataset_info.json"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// HFLayout returns an error wrapping ErrHFDatasets when dir is, or holds,
// a checkpoint of Python Kura's HFDatasetCheckpointManager, naming the
// dataset found and the Python Kura command that converts it to the JSONL
// checkpoint file kura reads; nil otherwise.
func HFLayout(dir string) error {
	name, ds := "", ""
	switch {
	case isHFDataset(dir):
		name, ds = filepath.Base(filepath.Clean(dir)), dir
		dir = filepath.Dir(filepath.Clean(dir))
	default:
		for _, k := range []string{"conversations", "summaries", "clusters", "meta_clusters", "dimensionality"} {
			if p := filepath.Join(dir, k); isHFDataset(p) {
				name, ds = k, p
				break
			}
		}
	}
	if ds == "" {
		return nil
	}
	class := map[string]string{"conversations": "Conversation", "summaries": "ConversationSummary",
		"clusters": "Cluster", "meta_clusters": "Cluster", "dimensionality": "ProjectedCluster"}[name]
	if class == "" {
		class = "Conversation"
	}
	module := "kura.types"
	if class == "ProjectedCluster" {
		module = "kura.types.dimensionality"
	}
	return fmt.Errorf("%s: %w; convert it to JSONL with Python Kura (pip install kura datasets), for example:\n"+
		"  python3 -c \"from kura.checkpoints import HFDatasetCheckpointManager as H, JSONLCheckpointManager as J; from %s import %s as T; "+
		"J('OUT').save_checkpoint('%s', H('%s').load_checkpoint('%s', T))\"\n"+
		"and give kura OUT/%s.jsonl", ds, ErrHFDatasets, module, class, name, dir, name, name)
}
