package server

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/kura-go/kura/conversation"
)

// Every file is opened through an os.Root on DIR: names with "..", absolute
// names and symbolic links that lead outside DIR are refused by the
// operating system's openat-based resolution, not by string checks.

// maxProblems is how many problems per file are kept for the page.
const maxProblems = 20

// fileProblems collects what went wrong reading one file.
type fileProblems struct {
	File     string   `json:"file"`
	Problems []string `json:"problems"`
	Count    int      `json:"count"` // all problems, including those not kept
}

func (p *fileProblems) add(msg string) {
	p.Count++
	if len(p.Problems) < maxProblems {
		p.Problems = append(p.Problems, msg)
	}
}

// checkpointExts are the name endings of a checkpoint file, preferred in
// this order when several exist (as conversation.FindCheckpoint does).
var checkpointExts = []string{".jsonl", "", ".parquet", ".jsonl.parquet"}

// findKind returns the name in names of the file holding kind k, or "".
func findKind(names map[string]bool, k conversation.Kind) string {
	for _, ext := range checkpointExts {
		if n := k.String() + ext; names[n] {
			return n
		}
	}
	return ""
}

// listDir returns the names of the regular files (or links to them) at the
// top of root, sorted.
func listDir(root *os.Root) ([]string, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// readRecords reads every valid record of a checkpoint file in root, with
// invalid records skipped and reported to probs.
func readRecords[T conversation.Record](root *os.Root, name string, probs *fileProblems) []T {
	f, err := root.Open(name)
	if err != nil {
		probs.add(describeOpenError(name, err))
		return nil
	}
	defer f.Close()
	opts := conversation.ReadOptions{SkipInvalid: true, OnSkip: func(e *conversation.RecordError) { probs.add(e.Error()) }}
	var next func() (T, error)
	if conversation.FormatOf(name) == conversation.Parquet {
		fi, err := f.Stat()
		if err != nil {
			probs.add(fmt.Sprintf("%s: %v", name, err))
			return nil
		}
		pr, err := conversation.NewParquetReader[T](f, fi.Size(), name, opts)
		if err != nil {
			probs.add(err.Error())
			return nil
		}
		defer pr.Close()
		next = pr.Next
	} else {
		next = conversation.NewReader[T](f, name, opts).Next
	}
	var out []T
	for {
		rec, err := next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			var rerr *conversation.RecordError
			if errors.As(err, &rerr) {
				probs.add(err.Error())
				continue
			}
			probs.add(fmt.Sprintf("%s: %v (records after this point were not read)", name, err))
			return out
		}
		out = append(out, rec)
	}
}

// describeOpenError says why a file in DIR could not be opened, without the
// absolute path of DIR.
func describeOpenError(name string, err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if strings.Contains(err.Error(), "escapes from parent") || strings.Contains(err.Error(), "path escapes") {
		return fmt.Sprintf("%s: refused: it leads outside the served directory", name)
	}
	return fmt.Sprintf("%s: %v", name, err)
}

// readSmallFile reads a whole file of at most limit bytes from root.
func readSmallFile(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, errors.New(describeOpenError(name, err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes; not read", name, limit)
	}
	return b, nil
}
