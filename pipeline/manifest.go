package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kura-go/kura/internal/outfile"
)

// ManifestName is the file, in the output directory, that records what
// each stage was computed from.
const ManifestName = "run_manifest.json"

// manifestVersion changes when the manifest's layout or the meaning of a
// fingerprint changes; an older manifest is then ignored.
const manifestVersion = 1

// Manifest records, per stage, the fingerprint of its inputs and
// parameters and the hashes of the files it wrote.
type Manifest struct {
	Version int                       `json:"version"`
	Stages  map[string]*StageManifest `json:"stages"`
}

// StageManifest is one stage's record.
type StageManifest struct {
	// Fingerprint hashes the stage's parameters and the content of its
	// inputs; the stage is skipped when it matches and its outputs are
	// unchanged.
	Fingerprint string `json:"fingerprint"`
	// Complete is false while the stage runs (a crash leaves it false).
	Complete bool              `json:"complete"`
	Params   map[string]string `json:"params"`
	Inputs   map[string]string `json:"inputs"`  // file name -> sha256
	Outputs  map[string]string `json:"outputs"` // file name -> sha256
	Finished time.Time         `json:"finished,omitzero"`
	Stats    *StageStats       `json:"stats,omitempty"`
}

// readManifest reads dir's manifest; a missing or unusable one is empty.
func readManifest(dir string) (*Manifest, string) {
	m := &Manifest{Version: manifestVersion, Stages: map[string]*StageManifest{}}
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return m, ""
	}
	if err != nil {
		return m, fmt.Sprintf("cannot read %s (%v): every stage runs", ManifestName, err)
	}
	var old Manifest
	if err := json.Unmarshal(b, &old); err != nil || old.Stages == nil {
		return m, fmt.Sprintf("%s is not a kura run manifest: every stage runs", ManifestName)
	}
	if old.Version != manifestVersion {
		return m, fmt.Sprintf("%s is of version %d, not %d: every stage runs", ManifestName, old.Version, manifestVersion)
	}
	return &old, ""
}

// write saves the manifest atomically.
func (m *Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := outfile.Create(filepath.Join(dir, ManifestName))
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// fingerprint hashes a stage's name, parameters and input hashes.
func fingerprint(stage string, params, inputs map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "kura-run/%d/%s\n", manifestVersion, stage)
	for _, m := range []map[string]string{params, inputs} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(h, "%q=%q\n", k, m[k])
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashFile returns the sha256 of a file's content.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// whyRun compares a stage's earlier record with what it would be now and
// returns "" when the stage can be skipped, else why it must run.
func whyRun(old *StageManifest, fp string, params, inputs map[string]string, dir string) string {
	if old == nil {
		return "no earlier run"
	}
	if !old.Complete {
		return "the earlier run did not finish"
	}
	if old.Fingerprint != fp {
		var changed []string
		for _, k := range sortedKeys(params, old.Params) {
			if params[k] != old.Params[k] {
				changed = append(changed, fmt.Sprintf("%s %s -> %s", k, orNone(old.Params[k]), orNone(params[k])))
			}
		}
		for _, k := range sortedKeys(inputs, old.Inputs) {
			if inputs[k] != old.Inputs[k] {
				changed = append(changed, "input "+k+" changed")
			}
		}
		if len(changed) == 0 {
			return "fingerprint changed"
		}
		return strings.Join(changed, "; ")
	}
	for _, name := range sortedKeys(old.Outputs) {
		h, err := hashFile(filepath.Join(dir, name))
		switch {
		case err != nil:
			return "output " + name + " is missing"
		case h != old.Outputs[name]:
			return "output " + name + " was modified"
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func sortedKeys(ms ...map[string]string) []string {
	var keys []string
	for _, m := range ms {
		for k := range m {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return slices.Compact(keys)
}
