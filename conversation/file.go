package conversation

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/outfile"
)

// Format is a file format for records.
type Format int

// The file formats: JSONL (".jsonl" or no extension, as Kura's legacy
// checkpoint manager writes) and Parquet (".parquet").
const (
	JSONL Format = iota
	Parquet
)

func (f Format) String() string {
	if f == Parquet {
		return "parquet"
	}
	return "jsonl"
}

// FormatOf returns the format of a file by its extension: ".parquet" is
// Parquet, anything else JSONL.
func FormatOf(path string) Format {
	if strings.EqualFold(filepath.Ext(path), ".parquet") {
		return Parquet
	}
	return JSONL
}

// Kind is the kind of records a checkpoint file holds.
type Kind int

// The kinds of checkpoint files, named as Kura names them.
const (
	Conversations  Kind = iota + 1 // conversations: Conversation
	Summaries                      // summaries: ConversationSummary
	Clusters                       // clusters: Cluster
	MetaClusters                   // meta_clusters: Cluster
	Dimensionality                 // dimensionality: ProjectedCluster
)

// Kinds lists every kind in checkpoint order.
var Kinds = []Kind{Conversations, Summaries, Clusters, MetaClusters, Dimensionality}

// kindInfo is what differs between the kinds: names, and the record type
// that checking and converting a file of the kind reads.
type kindInfo struct {
	name, label string
	one         string // label for a count of one ("meta cluster")
	check       func(ctx context.Context, path string, kind Kind, opts CheckOptions) (*Report, error)
	convert     func(ctx context.Context, in, out string, opts ReadOptions) (written, skipped int, err error)
}

var kinds = [...]kindInfo{
	Conversations:  {"conversations", "conversations", "conversation", checkFile[Conversation], convertFile[Conversation]},
	Summaries:      {"summaries", "summaries", "summary", checkFile[ConversationSummary], convertFile[ConversationSummary]},
	Clusters:       {"clusters", "clusters", "cluster", checkFile[Cluster], convertFile[Cluster]},
	MetaClusters:   {"meta_clusters", "meta clusters", "meta cluster", checkFile[Cluster], convertFile[Cluster]},
	Dimensionality: {"dimensionality", "projected clusters", "projected cluster", checkFile[ProjectedCluster], convertFile[ProjectedCluster]},
}

func (k Kind) info() (kindInfo, bool) {
	if k < 1 || int(k) >= len(kinds) {
		return kindInfo{}, false
	}
	return kinds[k], true
}

// String returns the file base name of the kind ("meta_clusters").
func (k Kind) String() string {
	if ki, ok := k.info(); ok {
		return ki.name
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Label returns a plural noun for counts ("meta clusters", "projected
// clusters").
func (k Kind) Label() string {
	if ki, ok := k.info(); ok {
		return ki.label
	}
	return k.String()
}

// Count returns n with thousands separators and the kind's noun in the
// number n takes: "1 cluster", "2 clusters", "1,200 meta clusters".
func (k Kind) Count(n int) string {
	one := k.String()
	if ki, ok := k.info(); ok {
		one = ki.one
	}
	return human.Count(int64(n), one, k.Label())
}

// ParseKind parses a kind name: conversations, summaries, clusters,
// meta_clusters or dimensionality (also singular forms, "meta-clusters" and
// "projected_clusters").
func ParseKind(s string) (Kind, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_") {
	case "conversations", "conversation":
		return Conversations, nil
	case "summaries", "summary":
		return Summaries, nil
	case "clusters", "cluster":
		return Clusters, nil
	case "meta_clusters", "meta_cluster", "metaclusters":
		return MetaClusters, nil
	case "dimensionality", "projected_clusters", "projected_cluster", "projected":
		return Dimensionality, nil
	}
	return 0, fmt.Errorf("unknown record type %q (expected conversations, summaries, clusters, meta_clusters or dimensionality)", s)
}

// KindOf infers the kind of a file from its name: conversations.jsonl,
// summaries, clusters.parquet and so on (also summaries.jsonl.parquet, as
// Python Kura's Parquet manager names files it was given as .jsonl).
func KindOf(path string) (Kind, bool) {
	base := filepath.Base(path)
	for _, ext := range []string{".parquet", ".jsonl"} {
		if len(base) > len(ext) && strings.EqualFold(base[len(base)-len(ext):], ext) {
			base = base[:len(base)-len(ext)]
		}
	}
	for _, k := range Kinds {
		if base == k.String() {
			return k, true
		}
	}
	return 0, false
}

// FileReader streams the records of a JSONL or Parquet file.
type FileReader[T Record] struct {
	f       *os.File
	next    func() (T, error)
	skipped func() int
	pos     func() int
	closeFn func() error
}

// Open opens a file of records for streaming; the format follows the
// extension (see FormatOf).
func Open[T Record](path string, opts ReadOptions) (*FileReader[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fr := &FileReader[T]{f: f}
	if FormatOf(path) == Parquet {
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		pr, err := NewParquetReader[T](f, fi.Size(), path, opts)
		if err != nil {
			f.Close()
			return nil, err
		}
		fr.next, fr.skipped, fr.pos, fr.closeFn = pr.Next, pr.Skipped, pr.Row, pr.Close
	} else {
		jr := NewReader[T](f, path, opts)
		fr.next, fr.skipped, fr.pos = jr.Next, jr.Skipped, jr.Line
	}
	return fr, nil
}

// Next returns the next record or io.EOF; see Reader.Next.
func (r *FileReader[T]) Next() (T, error) { return r.next() }

// Skipped returns how many invalid records were skipped under SkipInvalid.
func (r *FileReader[T]) Skipped() int { return r.skipped() }

// Close closes the file.
func (r *FileReader[T]) Close() error {
	var err error
	if r.closeFn != nil {
		err = r.closeFn()
	}
	return errors.Join(err, r.f.Close())
}

// ReadFile reads and validates every record of a JSONL (".jsonl" or no
// extension) or Parquet (".parquet") file. Without SkipInvalid the first
// invalid record stops reading with a *RecordError.
func ReadFile[T Record](path string, opts ReadOptions) ([]T, error) {
	r, err := Open[T](path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []T
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// FileWriter writes records to a new file atomically: the data goes to a
// temporary file beside the target, which replaces the target on Close.
type FileWriter[T Record] struct {
	path  string
	tmp   *outfile.File
	bw    *bufio.Writer
	write func(T) error
	end   func() error
	done  bool
}

// Create starts writing a file of records in the format of its extension.
func Create[T Record](path string) (*FileWriter[T], error) {
	tmp, err := outfile.Create(path) // names the output, not the temporary file, when it cannot be written
	if err != nil {
		return nil, err
	}
	fw := &FileWriter[T]{path: path, tmp: tmp}
	if FormatOf(path) == Parquet {
		fw.bw = bufio.NewWriterSize(tmp, 1<<20)
		pw := newParquetWriter[T](fw.bw)
		fw.write, fw.end = pw.Write, func() error {
			if err := pw.Close(); err != nil {
				return err
			}
			return fw.bw.Flush()
		}
	} else {
		jw := NewWriter[T](tmp)
		fw.write, fw.end = jw.Write, jw.Flush
	}
	return fw, nil
}

// Write validates and writes one record; see Writer.Write.
func (w *FileWriter[T]) Write(rec T) error {
	if err := w.write(rec); err != nil {
		var re *RecordError
		if errors.As(err, &re) && re.File == "" {
			re.File = w.path
		}
		return err
	}
	return nil
}

// Close finishes the file and moves it into place.
func (w *FileWriter[T]) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if err := w.end(); err != nil {
		w.tmp.Abort()
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	return w.tmp.Commit() // fsync, the replaced file's mode, rename
}

// Abort discards the file; the target is left untouched. It is a no-op
// after Close.
func (w *FileWriter[T]) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.tmp.Abort()
}

// WriteFile writes recs to path, as Parquet if it ends in ".parquet", else
// as JSONL. Every record is validated first; nothing is written if one is
// invalid.
func WriteFile[T Record](path string, recs []T) error {
	for i := range recs {
		if err := validateRecord(&recs[i]); err != nil {
			err.File, err.Line = path, i+1
			return err
		}
	}
	w, err := Create[T](path)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// Checkpoint is a Kura checkpoint directory: the path of each file found, or
// "" when absent.
type Checkpoint struct {
	Dir            string
	Conversations  string
	Summaries      string
	Clusters       string
	MetaClusters   string
	Dimensionality string
	// Ignored lists files of a kind already found in another format (for
	// example summaries.parquet beside summaries.jsonl).
	Ignored []string
}

// Path returns the file of kind k, or "".
func (c *Checkpoint) Path(k Kind) string {
	if p := c.file(k); p != nil {
		return *p
	}
	return ""
}

// file returns the field holding the file of kind k, or nil.
func (c *Checkpoint) file(k Kind) *string {
	switch k {
	case Conversations:
		return &c.Conversations
	case Summaries:
		return &c.Summaries
	case Clusters:
		return &c.Clusters
	case MetaClusters:
		return &c.MetaClusters
	case Dimensionality:
		return &c.Dimensionality
	}
	return nil
}

// FindCheckpoint recognises a checkpoint directory by its file names:
// conversations, summaries, clusters, meta_clusters and dimensionality, each
// as ".jsonl", without extension (Kura's legacy manager), ".parquet" or
// ".jsonl.parquet" (preferred in that order when several exist). It is an error if dir holds
// none of them.
func FindCheckpoint(dir string) (*Checkpoint, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	c := &Checkpoint{Dir: dir}
	found := false
	for _, k := range Kinds {
		for _, ext := range []string{".jsonl", "", ".parquet", ".jsonl.parquet"} {
			p := filepath.Join(dir, k.String()+ext)
			if fi, err := os.Stat(p); err != nil || fi.IsDir() {
				continue
			}
			if c.Path(k) == "" {
				*c.file(k) = p
				found = true
			} else {
				c.Ignored = append(c.Ignored, p)
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%s is not a Kura checkpoint directory: none of conversations, summaries, clusters, meta_clusters, dimensionality (.jsonl, no extension or .parquet) found", dir)
	}
	return c, nil
}

// Report is the outcome of checking one file.
type Report struct {
	Path    string
	Kind    Kind
	Records int // valid records
	Skipped int // invalid records skipped under SkipInvalid
	// Problems holds the first MaxProblems problems: *RecordError for an
	// invalid record (not under SkipInvalid), or an error that stopped the
	// file from being read; NumProblems counts them all.
	Problems    []error
	NumProblems int
	// Skips holds the first MaxProblems records skipped under SkipInvalid
	// (*RecordError, or the error type of the reader that filled the
	// report, such as package ingest's).
	Skips []error
	// Warnings holds the first MaxWarnings findings that did not make a
	// record invalid; NumWarnings counts them all.
	Warnings    []error
	NumWarnings int

	refs *refs // identifiers collected under CheckOptions.CollectRefs
}

// Collect keeps the identifiers of a record (a *Conversation,
// *ConversationSummary, *Cluster or *ProjectedCluster) for CrossCheck; it is
// for reports filled by readers outside this package.
func (rep *Report) Collect(rec any) { rep.collect(rec) }

// refs are the identifiers of a file that other checkpoint files refer to.
type refs struct {
	ids     []string // chat_id of conversations/summaries, id of clusters
	members []string // chat ids listed by clusters (with repeats)
	parents []string // parent ids of clusters (non-null)
}

// CheckOptions control CheckFile.
type CheckOptions struct {
	SkipInvalid  bool
	MaxProblems  int // problems (and skips) kept in the report; 0 means 20
	MaxWarnings  int // warnings kept in the report; 0 means 20
	MaxLineBytes int // see ReadOptions
	// CollectRefs keeps the identifiers of the records (chat ids, cluster
	// ids) for CrossCheck; this costs memory in proportion to the records.
	CollectRefs bool
}

// CheckFile reads every record of a file of the given kind and reports how
// many are valid and what is wrong. Reading goes on past invalid records, so
// every problem is counted. The error is non-nil only if ctx is done.
func CheckFile(ctx context.Context, path string, kind Kind, opts CheckOptions) (*Report, error) {
	ki, ok := kind.info()
	if !ok {
		return nil, fmt.Errorf("unknown record kind %d", kind)
	}
	return ki.check(ctx, path, kind, opts)
}

func checkFile[T Record](ctx context.Context, path string, kind Kind, opts CheckOptions) (*Report, error) {
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 20
	}
	if opts.MaxWarnings <= 0 {
		opts.MaxWarnings = 20
	}
	rep := &Report{Path: path, Kind: kind}
	problem := func(err error) {
		rep.NumProblems++
		if len(rep.Problems) < opts.MaxProblems {
			rep.Problems = append(rep.Problems, err)
		}
	}
	ro := ReadOptions{
		SkipInvalid:  opts.SkipInvalid,
		MaxLineBytes: opts.MaxLineBytes,
		OnSkip: func(e *RecordError) {
			rep.Skipped++
			if len(rep.Skips) < opts.MaxProblems {
				rep.Skips = append(rep.Skips, e)
			}
		},
		OnWarning: func(e *RecordError) {
			rep.NumWarnings++
			if len(rep.Warnings) < opts.MaxWarnings {
				rep.Warnings = append(rep.Warnings, e)
			}
		},
	}
	r, err := Open[T](path, ro)
	if err != nil {
		problem(err)
		return rep, nil
	}
	defer r.Close()
	for {
		if rep.Records%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err == nil && opts.CollectRefs {
			rep.collect(&rec)
		}
		var re *RecordError
		if errors.As(err, &re) {
			problem(err)
			continue
		}
		if err != nil {
			problem(err)
			break
		}
		rep.Records++
	}
	if rep.Records == 0 && rep.Skipped == 0 && rep.NumProblems == 0 {
		ro.OnWarning(&RecordError{File: path, Msg: "no records: the file is empty"})
	}
	return rep, nil
}

// ConvertFile copies the records of kind from in to out, converting between
// JSONL and Parquet by the files' extensions. The output is written
// atomically. Without SkipInvalid the first invalid record stops the
// conversion and out is left untouched; with it, invalid records are skipped
// (passed to opts.OnSkip) and counted.
func ConvertFile(ctx context.Context, in, out string, kind Kind, opts ReadOptions) (written, skipped int, err error) {
	ki, ok := kind.info()
	if !ok {
		return 0, 0, fmt.Errorf("unknown record kind %d", kind)
	}
	return ki.convert(ctx, in, out, opts)
}

func convertFile[T Record](ctx context.Context, in, out string, opts ReadOptions) (written, skipped int, err error) {
	if ai, err1 := filepath.Abs(in); err1 == nil {
		if ao, err2 := filepath.Abs(out); err2 == nil && ai == ao {
			return 0, 0, fmt.Errorf("input and output are the same file: %s", in)
		}
	}
	r, err := Open[T](in, opts)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	w, err := Create[T](out)
	if err != nil {
		return 0, 0, err
	}
	for {
		if written%1024 == 0 {
			if err := ctx.Err(); err != nil {
				w.Abort()
				return written, r.Skipped(), err
			}
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			err = w.Write(rec)
		}
		if err != nil {
			w.Abort()
			return written, r.Skipped(), err
		}
		written++
	}
	if err := w.Close(); err != nil {
		return written, r.Skipped(), err
	}
	return written, r.Skipped(), nil
}
