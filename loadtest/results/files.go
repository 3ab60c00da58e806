package results

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/loadtest"
)

// fileStem returns "load_test_results_YYYYMMDD_HHMMSS" for t (UTC).
func fileStem(t time.Time) string {
	return "load_test_results_" + t.UTC().Format("20060102_150405")
}

// WriteFiles writes the results as JSON and CSV into dir and returns the
// two paths. Files are written to a temporary name, flushed to disk and renamed,
// so a reader never sees half a file.
func WriteFiles(r *loadtest.Results, dir string) (jsonPath, csvPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	stem := filepath.Join(dir, fileStem(r.StartedAt))
	// Two runs started in the same second must not overwrite each other.
	for k := 2; exists(stem+".json") || exists(stem+".csv"); k++ {
		stem = filepath.Join(dir, fmt.Sprintf("%s_%d", fileStem(r.StartedAt), k))
	}
	var jb bytes.Buffer
	if err := loadtest.EncodeJSON(&jb, r); err != nil {
		return "", "", err
	}
	jsonPath, csvPath = stem+".json", stem+".csv"
	if err := outfile.WriteFile(jsonPath, jb.Bytes()); err != nil {
		return "", "", err
	}
	var cb bytes.Buffer
	if err := writeCSV(&cb, r); err != nil {
		return "", "", err
	}
	if err := outfile.WriteFile(csvPath, cb.Bytes()); err != nil {
		return "", "", err
	}
	return jsonPath, csvPath, nil
}

// ProbeDir makes sure results can be written to dir before a run starts:
// it creates the directory if needed, then creates and removes a file in it.
func ProbeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".kura-loadtest-probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	err = f.Close()
	return errors.Join(err, os.Remove(name))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
