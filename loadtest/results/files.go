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
// creating them whole and exclusively (outfile.WriteNew), with a suffix _2,
// _3 ... when another run holds them, so two runs sharing a directory never
// write the same file. Each Write replaces the files atomically (internal/outfile): a
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
	if w.stem == "" {
		return w.claim(r.StartedAt, jb.Bytes(), cb.Bytes())
	}
	err := outfile.WriteFile(w.stem+".json", jb.Bytes())
	if err == nil {
		err = outfile.WriteFile(w.stem+".csv", cb.Bytes())
	}
	return err
}

// claim writes the pair of files for a run started at t under names no
// other file holds: each file appears complete under its name or not at
// all (outfile.WriteNew), so a run killed at any point leaves no empty or
// half-written results file (it left an empty claimed one).
func (w *Writer) claim(t time.Time, jsonDoc, csvDoc []byte) error {
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		return err
	}
	// A run killed while it replaced its files left a temporary file.
	removed, _ := outfile.RemoveStaleTemps(w.Dir)
	for _, f := range removed {
		slog.Info("removed a killed load test's temporary file", "file", f)
	}
	base := filepath.Join(w.Dir, fileStem(t))
	for k := 1; k <= 10000; k++ {
		stem := base
		if k > 1 {
			stem = fmt.Sprintf("%s_%d", base, k)
		}
		err := outfile.WriteNew(stem+".json", jsonDoc)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err = outfile.WriteNew(stem+".csv", csvDoc); err != nil {
			os.Remove(stem + ".json")
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			return err
		}
		w.stem = stem
		return nil
	}
	return fmt.Errorf("no free results file name for %s_N.json in %s", fileStem(t), w.Dir)
}

// ProbeDir makes sure results can be written to dir before a run starts:
// it creates the directory if needed, then creates and removes a file in it.
func ProbeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return outfile.CheckDir(filepath.Join(dir, "load_test_results.json"))
}
