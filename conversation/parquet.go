package conversation

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Parquet rows. Column names are the JSON field names. Times are ISO-8601
// strings (exactly as in JSONL), metadata is a JSON object encoded as a
// string, optional values are optional columns, and lists are LIST columns
// whose null and empty states are kept apart.

type pqMessage struct {
	CreatedAt string `parquet:"created_at"`
	Role      string `parquet:"role"`
	Content   string `parquet:"content"`
}

type pqConversation struct {
	ChatID    string      `parquet:"chat_id"`
	CreatedAt string      `parquet:"created_at"`
	Messages  []pqMessage `parquet:"messages,list"`
	Metadata  string      `parquet:"metadata"`
}

type pqSummary struct {
	Summary         string    `parquet:"summary"`
	Request         *string   `parquet:"request,optional"`
	Topic           *string   `parquet:"topic,optional"`
	Languages       []string  `parquet:"languages,optional,list"`
	Task            *string   `parquet:"task,optional"`
	ConcerningScore *int64    `parquet:"concerning_score,optional"`
	UserFrustration *int64    `parquet:"user_frustration,optional"`
	AssistantErrors []string  `parquet:"assistant_errors,optional,list"`
	ChatID          string    `parquet:"chat_id"`
	Metadata        string    `parquet:"metadata"`
	Embedding       []float64 `parquet:"embedding,optional,list"`
}

type pqCluster struct {
	ID          string   `parquet:"id"`
	Name        string   `parquet:"name"`
	Description string   `parquet:"description"`
	Slug        string   `parquet:"slug"`
	ChatIDs     []string `parquet:"chat_ids,list"`
	ParentID    *string  `parquet:"parent_id,optional"`
	Count       int64    `parquet:"count"`
}

type pqProjected struct {
	ID          string   `parquet:"id"`
	Name        string   `parquet:"name"`
	Description string   `parquet:"description"`
	Slug        string   `parquet:"slug"`
	ChatIDs     []string `parquet:"chat_ids,list"`
	ParentID    *string  `parquet:"parent_id,optional"`
	XCoord      float64  `parquet:"x_coord"`
	YCoord      float64  `parquet:"y_coord"`
	Level       int64    `parquet:"level"`
	Count       int64    `parquet:"count"`
}

// convertPtr converts the integer p points at; nil stays nil.
func convertPtr[To, From int | int32 | int64](p *From) *To {
	if p == nil {
		return nil
	}
	v := To(*p)
	return &v
}

func metaToString(m map[string]any, keys []string) string {
	return string(appendMap(nil, m, keys))
}

func metaFromString(s string) (map[string]any, []string, *RecordError) {
	if s == "" {
		return nil, nil, nil
	}
	return decMetadata([]byte(s))
}

func parseTimeField(field, s string) (Time, *RecordError) {
	t, err := ParseTime(s)
	if err != nil {
		return Time{}, fieldErr(field, "%v (expected e.g. 2025-06-12T11:04:56.965428 or with +00:00)", err)
	}
	return t, nil
}

func toPQConversation(c *Conversation) pqConversation {
	msgs := make([]pqMessage, len(c.Messages))
	for i, m := range c.Messages {
		msgs[i] = pqMessage{CreatedAt: m.CreatedAt.String(), Role: m.Role, Content: m.Content}
	}
	return pqConversation{ChatID: c.ChatID, CreatedAt: c.CreatedAt.String(), Messages: msgs,
		Metadata: metaToString(c.Metadata, c.metaKeys)}
}

func fromPQConversation(r *pqConversation) (Conversation, *RecordError) {
	c := Conversation{ChatID: r.ChatID, Messages: make([]Message, len(r.Messages))}
	var err *RecordError
	if c.CreatedAt, err = parseTimeField("created_at", r.CreatedAt); err != nil {
		return c, err
	}
	for i, m := range r.Messages {
		c.Messages[i] = Message{Role: m.Role, Content: m.Content}
		if c.Messages[i].CreatedAt, err = parseTimeField(fmt.Sprintf("messages[%d].created_at", i), m.CreatedAt); err != nil {
			return c, err
		}
	}
	c.Metadata, c.metaKeys, err = metaFromString(r.Metadata)
	return c, err
}

func toPQSummary(s *ConversationSummary) pqSummary {
	return pqSummary{Summary: s.Summary, Request: s.Request, Topic: s.Topic, Languages: s.Languages,
		Task: s.Task, ConcerningScore: convertPtr[int64](s.ConcerningScore), UserFrustration: convertPtr[int64](s.UserFrustration),
		AssistantErrors: s.AssistantErrors, ChatID: s.ChatID, Metadata: metaToString(s.Metadata, s.metaKeys),
		Embedding: s.Embedding}
}

func fromPQSummary(r *pqSummary) (ConversationSummary, *RecordError) {
	s := ConversationSummary{Summary: r.Summary, Request: r.Request, Topic: r.Topic, Languages: r.Languages,
		Task: r.Task, ConcerningScore: convertPtr[int](r.ConcerningScore), UserFrustration: convertPtr[int](r.UserFrustration),
		AssistantErrors: r.AssistantErrors, ChatID: r.ChatID, Embedding: r.Embedding}
	var err *RecordError
	s.Metadata, s.metaKeys, err = metaFromString(r.Metadata)
	return s, err
}

func toPQCluster(c *Cluster) pqCluster {
	return pqCluster{ID: c.ID, Name: c.Name, Description: c.Description, Slug: c.Slug,
		ChatIDs: nonNil(c.ChatIDs), ParentID: c.ParentID, Count: int64(len(c.ChatIDs))}
}

func fromPQCluster(r *pqCluster) (Cluster, *RecordError) {
	return Cluster{ID: r.ID, Name: r.Name, Description: r.Description, Slug: r.Slug,
		ChatIDs: nonNil(r.ChatIDs), ParentID: r.ParentID}, nil
}

func toPQProjected(p *ProjectedCluster) pqProjected {
	return pqProjected{ID: p.ID, Name: p.Name, Description: p.Description, Slug: p.Slug,
		ChatIDs: nonNil(p.ChatIDs), ParentID: p.ParentID, XCoord: p.XCoord, YCoord: p.YCoord,
		Level: int64(p.Level), Count: int64(len(p.ChatIDs))}
}

func fromPQProjected(r *pqProjected) (ProjectedCluster, *RecordError) {
	return ProjectedCluster{Cluster: Cluster{ID: r.ID, Name: r.Name, Description: r.Description,
		Slug: r.Slug, ChatIDs: nonNil(r.ChatIDs), ParentID: r.ParentID},
		XCoord: r.XCoord, YCoord: r.YCoord, Level: int(r.Level)}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// parquetRowsPerBatch is how many rows are read or written at a time.
const parquetRowsPerBatch = 256

// parquetRowGroupBytes is the approximate size of a row group before it is
// flushed, which bounds the writer's memory.
const parquetRowGroupBytes = 64 << 20

// ParquetReader streams records of type T from a Parquet file written by
// Create or WriteFile (or any file with the same column names and types). Like
// Reader, it validates every record and reports problems with the 1-based
// row number; after a *RecordError, Next continues with the next row.
type ParquetReader[T Record] struct {
	file    string
	opts    ReadOptions
	row     int
	skipped int
	next    func() (T, *RecordError, error)
	close   func() error
	err     error
}

// NewParquetReader opens Parquet data of the given size; file names it in
// errors.
func NewParquetReader[T Record](r io.ReaderAt, size int64, file string, opts ReadOptions) (pr *ParquetReader[T], err error) {
	defer func() {
		if p := recover(); p != nil {
			pr, err = nil, fmt.Errorf("%s: reading Parquet: %v", file, p)
		}
	}()
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable Parquet file: %w", file, err)
	}
	pr = &ParquetReader[T]{file: file, opts: opts}
	var zero T
	kura := isKuraLayout(f.Schema(), any(zero))
	var schema *parquet.Schema
	switch any(zero).(type) {
	case Conversation:
		schema = schemaFor[pqConversation, kuraPQConversation](kura)
	case ConversationSummary:
		schema = schemaFor[pqSummary, kuraPQSummary](kura)
	case Cluster:
		schema = schemaFor[pqCluster, kuraPQCluster](kura)
	case ProjectedCluster:
		schema = schemaFor[pqProjected, kuraPQProjected](kura)
	}
	if err := checkSchema(f.Schema(), schema, file, opts); err != nil {
		return nil, err
	}
	var fn any
	switch any(zero).(type) {
	case Conversation:
		fn, pr.close = pickSource(f, kura, fromPQConversation, fromKuraPQConversation)
	case ConversationSummary:
		fn, pr.close = pickSource(f, kura, fromPQSummary, fromKuraPQSummary)
	case Cluster:
		fn, pr.close = pickSource(f, kura, fromPQCluster, fromKuraPQCluster)
	case ProjectedCluster:
		fn, pr.close = pickSource(f, kura, fromPQProjected, fromKuraPQProjected)
	}
	pr.next = fn.(func() (T, *RecordError, error))
	return pr, nil
}

// checkSchema requires every column of want to be in got.
func checkSchema(got, want *parquet.Schema, file string, opts ReadOptions) error {
	var missing []string
	for _, f := range want.Fields() {
		if f.Name() == "count" {
			continue // derived, ignored
		}
		if _, ok := fieldByName(got, f.Name()); !ok {
			missing = append(missing, f.Name())
		}
	}
	if len(missing) > 0 {
		var names []string
		for _, f := range want.Fields() {
			names = append(names, f.Name())
		}
		return fmt.Errorf("%s: Parquet column(s) %s missing (expected columns %s)", file,
			strings.Join(missing, ", "), strings.Join(names, ", "))
	}
	for _, f := range got.Fields() {
		if _, ok := fieldByName(want, f.Name()); !ok && opts.OnWarning != nil {
			opts.OnWarning(&RecordError{File: file, Field: f.Name(), Msg: "unknown column ignored"})
		}
	}
	return nil
}

func fieldByName(s *parquet.Schema, name string) (parquet.Field, bool) {
	for _, f := range s.Fields() {
		if f.Name() == name {
			return f, true
		}
	}
	return nil, false
}

// rowSource returns a function reading one record at a time from f through
// row type R, and a close function.
func rowSource[R any, T Record](f *parquet.File, conv func(*R) (T, *RecordError)) (func() (T, *RecordError, error), func() error) {
	rd := parquet.NewGenericReader[R](f)
	batch := make([]R, parquetRowsPerBatch)
	var n, i int
	var eof bool
	next := func() (rec T, rerr *RecordError, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("reading Parquet rows: %v", p)
			}
		}()
		for i >= n {
			if eof {
				return rec, nil, io.EOF
			}
			clear(batch)
			var rerr error
			n, rerr = rd.Read(batch)
			i = 0
			if rerr != nil {
				if !errors.Is(rerr, io.EOF) {
					return rec, nil, rerr
				}
				eof = true
			}
		}
		r := &batch[i]
		i++
		rec, rerr = conv(r)
		return rec, rerr, nil
	}
	return next, rd.Close
}

// Row returns the number of the last row read (1-based).
func (r *ParquetReader[T]) Row() int { return r.row }

// Skipped returns how many invalid records were skipped under SkipInvalid.
func (r *ParquetReader[T]) Skipped() int { return r.skipped }

// Next returns the next record, or io.EOF after the last one.
func (r *ParquetReader[T]) Next() (T, error) {
	var zero T
	for {
		if r.err != nil {
			return zero, r.err
		}
		rec, rerr, err := r.next()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("%s: after row %d: %w", r.file, r.row, err)
			}
			r.err = err
			return zero, err
		}
		r.row++
		if rerr == nil {
			rerr = validateRecord(&rec)
		}
		if rerr == nil {
			return rec, nil
		}
		rerr.File, rerr.Line = r.file, r.row
		if r.opts.skip(rerr) {
			r.skipped++
			continue
		}
		return zero, rerr
	}
}

// Close releases the reader.
func (r *ParquetReader[T]) Close() error { return r.close() }

// parquetWriter writes records of type T as Parquet, in row groups of about
// 64 MiB so that memory stays bounded. Pages are Snappy-compressed, as
// pyarrow (and so Python Kura) writes them by default: zstd makes files
// about 20% smaller, but its encoder holds some 15 MB, which the load tester
// would then report as the pipeline's own memory.
type parquetWriter[T Record] struct {
	write func(*T) error
	close func() error
	n     int
	err   error
}

// newParquetWriter returns a Parquet writer to w. Close must be called to
// write the file footer.
func newParquetWriter[T Record](w io.Writer) *parquetWriter[T] {
	pw := &parquetWriter[T]{}
	var zero T
	var fn any
	switch any(zero).(type) {
	case Conversation:
		fn, pw.close = rowSink(w, toPQConversation, func(r *pqConversation) int {
			n := len(r.Metadata) + 64
			for _, m := range r.Messages {
				n += len(m.Content) + 40
			}
			return n
		})
	case ConversationSummary:
		fn, pw.close = rowSink(w, toPQSummary, func(r *pqSummary) int {
			return len(r.Summary) + len(r.Metadata) + 8*len(r.Embedding) + 256
		})
	case Cluster:
		fn, pw.close = rowSink(w, toPQCluster, func(r *pqCluster) int {
			return len(r.Description) + 40*len(r.ChatIDs) + 128
		})
	case ProjectedCluster:
		fn, pw.close = rowSink(w, toPQProjected, func(r *pqProjected) int {
			return len(r.Description) + 40*len(r.ChatIDs) + 128
		})
	}
	pw.write = fn.(func(*T) error)
	return pw
}

// shortTextColumns are the text columns whose values are short by nature
// (ids, times, roles): they keep min/max statistics.
var shortTextColumns = map[string]bool{"chat_id": true, "created_at": true, "role": true, "id": true,
	"parent_id": true, "slug": true, "chat_ids": true}

// textStatsOptions turns off min/max statistics for R's other text columns.
// parquet-go writes a page's min and max in full, twice each in the page
// header and again in the column chunk: a single 30 MB message was stored
// 5 times over (52 MB of JSONL became 221 MB of Parquet). pyarrow omits
// statistics over 4 kB (max_statistics_size); kura omits them for free text
// altogether, which every reader accepts, and keeps them for ids and times.
func textStatsOptions[R any]() []parquet.WriterOption {
	var opts []parquet.WriterOption
	for _, path := range parquet.SchemaOf(new(R)).Columns() {
		leaf, ok := parquet.SchemaOf(new(R)).Lookup(path...)
		if !ok || leaf.Node.Type().Kind() != parquet.ByteArray || shortTextColumns[fieldName(path)] {
			continue
		}
		opts = append(opts, parquet.SkipPageStatistics(path...), parquet.SkipPageBounds(path...))
	}
	return opts
}

// fieldName is the record field a column path belongs to: its last name
// other than a LIST's "list" and "element" (chat_ids.list.element is
// chat_ids, messages.list.element.content is content).
func fieldName(path []string) string {
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != "list" && path[i] != "element" {
			return path[i]
		}
	}
	return path[0]
}

func rowSink[R any, T Record](w io.Writer, conv func(*T) R, size func(*R) int) (func(*T) error, func() error) {
	wr := parquet.NewGenericWriter[R](w, append(textStatsOptions[R](), parquet.Compression(&parquet.Snappy))...)
	batch := make([]R, 0, parquetRowsPerBatch)
	pending := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := wr.Write(batch)
		clear(batch)
		batch = batch[:0]
		if err == nil && pending >= parquetRowGroupBytes {
			err = wr.Flush()
			pending = 0
		}
		return err
	}
	write := func(rec *T) error {
		r := conv(rec)
		pending += size(&r)
		batch = append(batch, r)
		if len(batch) == cap(batch) || pending >= parquetRowGroupBytes {
			return flush()
		}
		return nil
	}
	closeFn := func() error {
		if err := flush(); err != nil {
			return err
		}
		return wr.Close()
	}
	return write, closeFn
}

// Write validates rec and adds it to the file. An invalid record is not
// written; the error is a *RecordError with Line set to its 1-based row.
func (w *parquetWriter[T]) Write(rec T) error {
	if w.err != nil {
		return w.err
	}
	w.n++
	if err := validateRecord(&rec); err != nil {
		err.Line = w.n
		return err
	}
	if err := w.write(&rec); err != nil {
		w.err = fmt.Errorf("writing Parquet row %d: %w", w.n, err)
		return w.err
	}
	return nil
}

// Close writes the remaining rows and the file footer (it does not close the
// underlying writer).
func (w *parquetWriter[T]) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.close(); err != nil {
		w.err = fmt.Errorf("writing Parquet: %w", err)
		return w.err
	}
	w.err = errors.New("parquet writer closed")
	return nil
}
