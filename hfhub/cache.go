package hfhub

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// CacheDir returns kura's model cache: $KURA_CACHE_DIR/models when that is
// set, else os.UserCacheDir()/kura/models (~/.cache/kura/models on Linux).
func CacheDir() (string, error) {
	if d := os.Getenv("KURA_CACHE_DIR"); d != "" {
		return filepath.Join(d, "models"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil || d == "" {
		return "", ErrNoCache
	}
	return filepath.Join(d, "kura", "models"), nil
}

// ModelDir is where repo ("ORG/NAME") lives inside a kura cache.
func ModelDir(cache, repo string) string {
	org, name, _ := strings.Cut(repo, "/")
	return filepath.Join(cache, org, name)
}

// HFCacheDir returns the Hugging Face hub cache: $HF_HUB_CACHE, else
// $HF_HOME/hub, else ~/.cache/huggingface/hub.
func HFCacheDir() string {
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

// HFSnapshot returns the snapshot folder of repo in the Hugging Face cache
// hf: the one refs/main points to, else the most recently modified one that
// holds a config.json. ok is false when there is none.
func HFSnapshot(hf, repo string) (dir string, ok bool) {
	if hf == "" {
		return "", false
	}
	base := filepath.Join(hf, "models--"+strings.ReplaceAll(repo, "/", "--"))
	if ref, err := os.ReadFile(filepath.Join(base, "refs", "main")); err == nil {
		d := filepath.Join(base, "snapshots", strings.TrimSpace(string(ref)))
		if IsModelDir(d) {
			return d, true
		}
	}
	snaps, _ := filepath.Glob(filepath.Join(base, "snapshots", "*"))
	var best string
	var bestT int64
	for _, s := range snaps {
		st, err := os.Stat(s)
		if err != nil || !IsModelDir(s) {
			continue
		}
		if t := st.ModTime().UnixNano(); best == "" || t > bestT {
			best, bestT = s, t
		}
	}
	return best, best != ""
}

// IsModelDir reports whether dir holds a loadable BERT model: config.json,
// weights (model.safetensors or model.onnx) and a tokenizer (tokenizer.json
// or vocab.txt).
func IsModelDir(dir string) bool {
	return MissingFiles(dir) == nil
}

// MissingFiles lists what dir lacks to be a loadable model (nil if nothing).
func MissingFiles(dir string) []string {
	exists := func(p ...string) bool {
		for _, q := range p {
			if st, err := os.Stat(filepath.Join(dir, q)); err == nil && !st.IsDir() {
				return true
			}
		}
		return false
	}
	var missing []string
	if !exists("config.json") {
		missing = append(missing, "config.json")
	}
	if !exists("model.safetensors", "model.onnx", filepath.Join("onnx", "model.onnx")) {
		missing = append(missing, "model.safetensors (or model.onnx)")
	}
	if !exists("tokenizer.json", "vocab.txt") {
		missing = append(missing, "tokenizer.json (or vocab.txt)")
	}
	return missing
}

// Installed is a model found on disk.
type Installed struct {
	Repo   string // "ORG/NAME"
	Dir    string
	Source string // "kura" or "huggingface"
	Bytes  int64  // total size of the folder's files
	SHA    string // revision commit, when known
}

// List returns the models in kura's cache (cache, "" for CacheDir()) and in
// the Hugging Face cache, sorted by repository.
func List(cache string) ([]Installed, error) {
	if cache == "" {
		var err error
		if cache, err = CacheDir(); err != nil {
			return nil, err
		}
	}
	var out []Installed
	orgs, err := os.ReadDir(cache)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("hfhub: %w", err)
	}
	for _, o := range orgs {
		if !o.IsDir() {
			continue
		}
		names, _ := os.ReadDir(filepath.Join(cache, o.Name()))
		for _, n := range names {
			dir := filepath.Join(cache, o.Name(), n.Name())
			if !n.IsDir() || !IsModelDir(dir) {
				continue
			}
			in := Installed{Repo: o.Name() + "/" + n.Name(), Dir: dir, Source: "kura", Bytes: dirSize(dir)}
			if b, err := os.ReadFile(filepath.Join(dir, ManifestName)); err == nil {
				var m Manifest
				if json.Unmarshal(b, &m) == nil {
					in.SHA = m.SHA
				}
			}
			out = append(out, in)
		}
	}
	if hf := HFCacheDir(); hf != "" {
		repos, _ := filepath.Glob(filepath.Join(hf, "models--*--*"))
		for _, r := range repos {
			name := strings.TrimPrefix(filepath.Base(r), "models--")
			org, model, ok := strings.Cut(name, "--")
			if !ok {
				continue
			}
			repo := org + "/" + model
			if dir, ok := HFSnapshot(hf, repo); ok {
				out = append(out, Installed{Repo: repo, Dir: dir, Source: "huggingface", Bytes: dirSize(dir), SHA: filepath.Base(dir)})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Repo < out[j].Repo })
	return out, nil
}

// dirSize sums the sizes of the files under dir, following symbolic links
// (the Hugging Face cache links snapshot files to blobs).
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
		return nil
	})
	return n
}
