package results

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
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
// two paths: a one-shot Writer.
func WriteFiles(r *loadtest.Results, dir string) (jsonPath, csvPath string, err error) {
	w := &Writer{Dir: dir}
	if err := w.Write(r); err != nil {
		return "", "", err
	}
	return w.JSONPath(), w.CSVPath(), nil
}

// A Writer writes one run's results as JSON and CSV into Dir, again after
// each scale if asked, always to the same two files. The first Write
// claims the names load_test_results_YYYYMMDD_HHMMSS.json and .csv by
// creating them exclusively (O_EXCL), with a suffix _2, _3 ... when another
// run holds them, so two runs sharing a directory never write the same
// file. Each Write replaces the files atomically (internal/outfile): a
// reader, or a run killed mid-write, sees the previous version or the new
// one, and a failed write leaves no temporary file.
type Writer struct {
	Dir  string
	stem string // the claimed path without extension; "" before the first Write
}

// JSONPath is the JSON file's path; "" before the first successful Write.
func (w *Writer) JSONPath() string {
	if w.stem == "" {
		return ""
	}
	return w.stem + ".json"
}

// CSVPath is the CSV file's path; "" before the first successful Write.
func (w *Writer) CSVPath() string {
	if w.stem == "" {
		return ""
	}
	return w.stem + ".csv"
}

// Write writes r to the Writer's files, claiming them on the first call.
func (w *Writer) Write(r *loadtest.Results) error {
	var jb, cb bytes.Buffer
	if err := loadtest.EncodeJSON(&jb, r); err != nil {
		return err
	}
	if err := writeCSV(&cb, r); err != nil {
		return err
	}
	first := w.stem == ""
	if first {
		if err := w.claim(r.StartedAt); err != nil {
			return err
		}
	}
	err := outfile.WriteFile(w.stem+".json", jb.Bytes())
	if err == nil {
		err = outfile.WriteFile(w.stem+".csv", cb.Bytes())
	}
	if err != nil && first {
		// Leave no empty claimed files behind; the next Write claims anew.
		os.Remove(w.stem + ".json")
		os.Remove(w.stem + ".csv")
		w.stem = ""
	}
	return err
}

// claim creates the pair of files for a run started at t, exclusively.
func (w *Writer) claim(t time.Time) error {
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		return err
	}
	// A run killed while it replaced its files left a temporary file.
	removed, _ := outfile.RemoveStaleTemps(w.Dir)
	for _, f := range removed {
		slog.Info("removed the temporary file of a load test that was killed while writing", "file", f)
	}
	base := filepath.Join(w.Dir, fileStem(t))
	for k := 1; k <= 10000; k++ {
		stem := base
		if k > 1 {
			stem = fmt.Sprintf("%s_%d", base, k)
		}
		ok, err := createExcl(stem + ".json")
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if ok, err = createExcl(stem + ".csv"); err != nil || !ok {
			os.Remove(stem + ".json")
			if err != nil {
				return err
			}
			continue
		}
		w.stem = stem
		return nil
	}
	return fmt.Errorf("no free results file name for %s_N.json in %s", fileStem(t), w.Dir)
}

// createExcl creates path if nothing is there; false when something is.
func createExcl(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, f.Close()
}

// ProbeDir makes sure results can be written to dir before a run starts:
// it creates the directory if needed, then creates and removes a file in it.
func ProbeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return outfile.CheckDir(filepath.Join(dir, "load_test_results.json"))
}
