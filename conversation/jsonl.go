package conversation

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// DefaultMaxLineBytes is the longest JSONL line read by default (64 MiB). A
// longer line is reported as an error naming the line, and the reader goes on
// with the next line.
const DefaultMaxLineBytes = 64 << 20

// ReadOptions control how records are read.
type ReadOptions struct {
	// SkipInvalid makes readers skip invalid records (after passing each one
	// to OnSkip) instead of returning them as errors.
	SkipInvalid bool
	// OnSkip, if set, receives every record skipped under SkipInvalid.
	OnSkip func(*RecordError)
	// OnWarning, if set, receives findings that do not stop a record from
	// being read: unknown fields (once per field name and file), blank lines,
	// a byte-order mark, a "count" that does not match chat_ids.
	OnWarning func(*RecordError)
	// MaxLineBytes is the longest JSONL line accepted; 0 means
	// DefaultMaxLineBytes.
	MaxLineBytes int
}

// skip reports whether the invalid record rerr is to be skipped, passing it
// to OnSkip when it is.
func (o *ReadOptions) skip(rerr *RecordError) bool {
	if !o.SkipInvalid {
		return false
	}
	if o.OnSkip != nil {
		o.OnSkip(rerr)
	}
	return true
}

// Reader streams records of type T from JSONL, one line at a time, so that
// files of any size can be read in constant memory (apart from the longest
// line).
//
// Blank lines are skipped; a UTF-8 byte-order mark at the start and CRLF line
// ends are accepted; the last line need not end in a newline. Every record is
// decoded and validated. An invalid record is returned by Next as a
// *RecordError (or, with SkipInvalid, passed to OnSkip and skipped); either
// way the next call to Next continues with the following line. Other errors
// (I/O) are final.
type Reader[T Record] struct {
	lines   lineReader
	file    string
	opts    ReadOptions
	line    int
	err     error
	skipped int
	seen    map[string]bool // unknown fields already reported
}

// NewReader returns a reader of JSONL records from r; file names the input in
// errors.
func NewReader[T Record](r io.Reader, file string, opts ReadOptions) *Reader[T] {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	return &Reader[T]{lines: newLineReader(r, opts.MaxLineBytes), file: file, opts: opts}
}

// Line returns the number of the last line read (1-based).
func (r *Reader[T]) Line() int { return r.line }

// Skipped returns how many invalid records were skipped under SkipInvalid.
func (r *Reader[T]) Skipped() int { return r.skipped }

func (r *Reader[T]) warn(line int, field, msg string) {
	if r.opts.OnWarning != nil {
		r.opts.OnWarning(&RecordError{File: r.file, Line: line, Field: field, Msg: msg})
	}
}

// lineReader reads lines of at most max bytes (plus the line end) in
// memory bounded by that limit: a longer line is discarded as it is read,
// not kept whole.
type lineReader struct {
	br  *bufio.Reader
	max int
	buf []byte
}

func newLineReader(r io.Reader, max int) lineReader {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	return lineReader{br: bufio.NewReaderSize(r, 256<<10), max: max}
}

// next returns the next line without its line end; it is valid until the
// following call. tooLong reports a line over the limit (its bytes are
// discarded); lastNoEOL that the input ended without a newline. The error
// is io.EOF at the end of the input, with no line.
func (r *lineReader) next() (line []byte, tooLong, lastNoEOL bool, err error) {
	if cap(r.buf) > 4<<20 {
		r.buf = nil // do not keep one huge line's buffer for the whole file
	}
	r.buf = r.buf[:0]
	complete := false
	n := 0
	for {
		chunk, err := r.br.ReadSlice('\n')
		n += len(chunk)
		if n > r.max+2 { // +2 for "\r\n"
			tooLong = true
			r.buf = r.buf[:0]
		} else if !tooLong {
			if len(r.buf) == 0 && err == nil {
				// The whole line is in the bufio buffer: no copy.
				line = chunk
				complete = true
			} else {
				r.buf = appendDoubling(r.buf, chunk)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if n == 0 {
				return nil, false, false, io.EOF
			}
			lastNoEOL = true
		default:
			return nil, false, false, err
		}
		break
	}
	if !complete {
		line = r.buf
	}
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, tooLong, lastNoEOL, nil
}

// appendDoubling appends b to buf, at least doubling the capacity when it
// grows: append grows large slices by only 1.25x, so a long line read in
// bufio-sized chunks would allocate about 5 times its length.
func appendDoubling(buf, b []byte) []byte {
	if n := len(buf) + len(b); n > cap(buf) {
		grown := make([]byte, len(buf), max(n, 2*cap(buf)))
		copy(grown, buf)
		buf = grown
	}
	return append(buf, b...)
}

// Next returns the next record, or io.EOF after the last one.
func (r *Reader[T]) Next() (T, error) {
	var zero T
	for {
		if r.err != nil {
			return zero, r.err
		}
		line, tooLong, lastNoEOL, err := r.lines.next()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("%s: reading after line %d: %w", r.file, r.line, err)
			}
			r.err = err
			return zero, err
		}
		r.line++
		var rerr *RecordError
		var rec T
		switch {
		case tooLong:
			rerr = &RecordError{Msg: fmt.Sprintf("line longer than the limit of %d MiB (ReadOptions.MaxLineBytes); one JSON record per line expected", r.opts.MaxLineBytes>>20)}
		default:
			if r.line == 1 && bytes.HasPrefix(line, []byte("\xef\xbb\xbf")) {
				line = line[3:]
				r.warn(1, "", "UTF-8 byte-order mark at the start of the file ignored (Python's json module rejects it)")
			}
			if len(bytes.TrimLeft(line, " \t\r\n")) == 0 {
				r.warn(r.line, "", "blank line skipped")
				continue
			}
			if !utf8.Valid(line) {
				off := 0
				for off < len(line) {
					c, size := utf8.DecodeRune(line[off:])
					if c == utf8.RuneError && size <= 1 {
						break
					}
					off += size
				}
				rerr = &RecordError{Msg: fmt.Sprintf("invalid UTF-8 at byte %d (expected UTF-8 text)", off+1)}
				break
			}
			rerr = decodeRecord(&rec, line, r.warnUnknown)
			if rerr == nil {
				rerr = validateRecord(&rec)
			}
			if rerr != nil && lastNoEOL && rerr.Field == "" && len(rerr.Msg) > 9 && rerr.Msg[:9] == "truncated" {
				rerr.Msg += "; the last line has no newline, so the file was probably cut short"
			}
		}
		if rerr == nil {
			return rec, nil
		}
		rerr.File, rerr.Line = r.file, r.line
		if r.opts.skip(rerr) {
			r.skipped++
			continue
		}
		return zero, rerr
	}
}

func (r *Reader[T]) warnUnknown(field, msg string) {
	if msg == "unknown field ignored" {
		if r.seen[field] {
			return
		}
		if r.seen == nil {
			r.seen = make(map[string]bool)
		}
		r.seen[field] = true
		msg += " (reported once per file)"
	}
	r.warn(r.line, field, msg)
}

// decodeRecord decodes one JSON object into *T.
func decodeRecord[T Record](v *T, b []byte, warn warnFunc) *RecordError {
	return any(v).(jsonDecoder).decodeJSON(b, warn)
}

// jsonDecoder is implemented by the pointer to every Record type.
type jsonDecoder interface {
	decodeJSON(b []byte, warn warnFunc) *RecordError
}

func validateRecord[T Record](v *T) *RecordError {
	return any(v).(validator).validate()
}

type jsonAppender interface{ appendJSON([]byte) []byte }

// Writer writes records of type T as JSONL, exactly as Kura does. Output is
// buffered; call Flush at the end.
type Writer[T Record] struct {
	w   *bufio.Writer
	buf []byte
	n   int
}

// NewWriter returns a JSONL writer to w.
func NewWriter[T Record](w io.Writer) *Writer[T] {
	return &Writer[T]{w: bufio.NewWriterSize(w, 256<<10)}
}

// Write validates rec and writes it as one line. An invalid record is not
// written; the error is a *RecordError with Line set to the record's 1-based
// position.
func (w *Writer[T]) Write(rec T) error {
	w.n++
	if err := validateRecord(&rec); err != nil {
		err.Line = w.n
		return err
	}
	w.buf = any(&rec).(jsonAppender).appendJSON(w.buf[:0])
	w.buf = append(w.buf, '\n')
	_, err := w.w.Write(w.buf)
	if cap(w.buf) > 4<<20 {
		w.buf = nil // do not keep one huge record's buffer
	}
	return err
}

// Flush writes buffered data to the underlying writer.
func (w *Writer[T]) Flush() error { return w.w.Flush() }
