package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kura-go/kura/conversation"
)

// Format is a kind of input file.
type Format string

// The input formats. Auto tells the format by content; the others force it.
const (
	Auto     Format = "auto"
	Kura     Format = "kura"      // Kura checkpoint file: conversations.jsonl or .parquet
	KuraJSON Format = "kura-json" // Kura's conversations.json: a JSON array of Conversation
	Claude   Format = "claude"    // Claude.ai data export (conversations.json)
	ChatGPT  Format = "chatgpt"   // ChatGPT data export (conversations.json)
)

// Formats lists the formats ParseFormat accepts, Auto first.
var Formats = []Format{Auto, Kura, KuraJSON, Claude, ChatGPT}

// ParseFormat parses a format name: auto, kura, kura-json, claude or
// chatgpt ("" is auto; case and '_' for '-' do not matter).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-"))
	if f == "" {
		return Auto, nil
	}
	if slices.Contains(Formats, f) {
		return f, nil
	}
	if f == "hf" {
		return "", fmt.Errorf("input format hf: %w (see HFLayout); expected %s", ErrHFDatasets, formatList())
	}
	return "", fmt.Errorf("unknown input format %q (expected %s)", s, formatList())
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Describe returns a few words for a format, for messages ("Claude.ai
// export").
func (f Format) Describe() string {
	switch f {
	case Kura:
		return "Kura conversations checkpoint"
	case KuraJSON:
		return "Kura conversations.json"
	case Claude:
		return "Claude.ai export"
	case ChatGPT:
		return "ChatGPT export"
	}
	return "unknown format"
}

// Limits applied when Options leave them 0.
const (
	DefaultMaxElementBytes = 256 << 20 // one conversation of a JSON array
	DefaultMaxDepth        = 128       // nesting of one conversation of a JSON array
)

// Options control reading.
type Options struct {
	// Format of the input; "" or Auto tells it by content.
	Format Format
	// SkipInvalid skips invalid conversations (after passing each to
	// OnSkip) instead of returning them from Next as errors.
	SkipInvalid bool
	// OnSkip receives every conversation skipped under SkipInvalid: an
	// *Error, or a *conversation.RecordError for Kura checkpoint files.
	OnSkip func(error)
	// OnWarning receives findings that do not stop a conversation from
	// being read (a byte-order mark, an empty array, unknown fields of a
	// Kura checkpoint file).
	OnWarning func(error)
	// MaxElementBytes is the largest conversation of a JSON array kept in
	// memory; a larger one is an error and is skipped. 0 means
	// DefaultMaxElementBytes.
	MaxElementBytes int
	// MaxDepth is the deepest nesting of brackets in one conversation of a
	// JSON array (the conversation object itself is level 1); a deeper one
	// is an error and is skipped. 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxLineBytes is the longest line of a Kura JSONL file; 0 means
	// conversation.DefaultMaxLineBytes.
	MaxLineBytes int
}

// Stats count what a Reader read.
type Stats struct {
	Conversations int // returned by Next
	Skipped       int // invalid conversations skipped under SkipInvalid
	Messages      int // messages in the conversations returned
	// Dropped counts messages of the exports left out of the conversations
	// returned: ChatGPT's system, tool, hidden and empty messages.
	Dropped int
}

// Reader streams conversations from one input, one at a time: the memory it
// holds is bounded by the largest conversation, not by the file.
type Reader struct {
	path   string
	format Format
	opts   Options
	f      *os.File
	stats  Stats

	// JSON arrays
	scan    *arrayScanner
	decode  func([]byte, *Stats) (conversation.Conversation, *fieldError)
	pending []byte // the first element, read to tell the format
	pendOff int64

	// Kura checkpoint files
	kura interface {
		Next() (conversation.Conversation, error)
		Skipped() int
	}
	kuraClose func() error
}

// Open opens a file or directory of conversations. With Options.Format
// Auto the format is told by content, not by name:
//
//   - a file starting with "PAR1" is a Kura Parquet checkpoint file;
//   - a file starting with '{' is a Kura JSONL checkpoint file;
//   - a file starting with '[' is a JSON array whose first element tells
//     the rest: chat_id and messages make it Kura's conversations.json,
//     uuid and chat_messages a Claude.ai export, mapping a ChatGPT export;
//   - a directory is read through its conversations file: Kura's
//     checkpoint file (conversations.jsonl, conversations, or .parquet) or,
//     failing that, conversations.json (Kura's, or an unpacked Claude.ai or
//     ChatGPT export).
//
// Open reads as far as the first conversation of a JSON array to tell its
// format; an error there (a first conversation that is too large, or not of
// a known export) is returned by Open unless the format is given.
func Open(path string, opts Options) (*Reader, error) {
	format, err := ParseFormat(string(opts.Format))
	if err != nil {
		return nil, err
	}
	opts.Format = format
	if opts.MaxElementBytes <= 0 {
		opts.MaxElementBytes = DefaultMaxElementBytes
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		p, err := conversationsFile(path)
		if err != nil {
			if herr := HFLayout(path); herr != nil {
				return nil, herr
			}
			return nil, err
		}
		path = p
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := &Reader{path: path, format: format, opts: opts, f: f}
	if err := r.start(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// conversationsFile finds the conversations file of a directory.
func conversationsFile(dir string) (string, error) {
	for _, name := range []string{"conversations.jsonl", "conversations", "conversations.parquet", "conversations.jsonl.parquet", "conversations.json"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no conversations file found (expected conversations.jsonl, conversations, conversations.parquet or conversations.json)", dir)
}

func (r *Reader) warn(err error) {
	if r.opts.OnWarning != nil {
		r.opts.OnWarning(err)
	}
}

// start looks at the first bytes and sets up the reader of the format.
func (r *Reader) start() error {
	br := bufio.NewReaderSize(r.f, 1<<20)
	head, _ := br.Peek(4)
	if bytes.Equal(head, []byte("PAR1")) && (r.format == Auto || r.format == Kura) {
		r.format = Kura
		return r.startParquet()
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		r.warn(&Error{File: r.path, Msg: "UTF-8 byte-order mark at the start of the file ignored"})
	}
	first, err := firstByte(br)
	if err != nil {
		return fmt.Errorf("%s: %w", r.path, err)
	}
	if r.format == Kura || (r.format == Auto && first != '[') {
		if r.format == Auto && first != '{' {
			what := "an empty file"
			if first != 0 {
				what = "starts with " + describe(first)
			}
			return fmt.Errorf("%s: not conversations of a known format: %s (expected a JSON array of conversations from Kura, Claude.ai or ChatGPT, Kura JSONL records, or Parquet)", r.path, what)
		}
		r.format = Kura
		ro := conversation.ReadOptions{SkipInvalid: r.opts.SkipInvalid, MaxLineBytes: r.opts.MaxLineBytes}
		if r.opts.OnSkip != nil {
			ro.OnSkip = func(e *conversation.RecordError) { r.opts.OnSkip(e) }
		}
		if r.opts.OnWarning != nil {
			ro.OnWarning = func(e *conversation.RecordError) { r.opts.OnWarning(e) }
		}
		r.kura = conversation.NewReader[conversation.Conversation](br, r.path, ro)
		return nil
	}
	r.scan = newArrayScanner(br, r.path, r.opts.MaxElementBytes, r.opts.MaxDepth)
	if r.format != Auto {
		r.decode = decoderOf(r.format)
		return nil
	}
	elem, off, err := r.scan.next()
	if err == io.EOF {
		r.warn(&Error{File: r.path, Msg: "an empty JSON array: no conversations"})
		r.decode = decodeKura
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot tell the format (give it): %w", err)
	}
	f, ferr := sniffElement(elem)
	if ferr != nil {
		return &Error{File: r.path, Index: 1, Offset: off + 1, Msg: ferr.msg + "; give the format"}
	}
	r.format = f
	r.decode = decoderOf(f)
	r.pending, r.pendOff = elem, off
	return nil
}

func (r *Reader) startParquet() error {
	fi, err := r.f.Stat()
	if err != nil {
		return err
	}
	ro := conversation.ReadOptions{SkipInvalid: r.opts.SkipInvalid}
	if r.opts.OnSkip != nil {
		ro.OnSkip = func(e *conversation.RecordError) { r.opts.OnSkip(e) }
	}
	if r.opts.OnWarning != nil {
		ro.OnWarning = func(e *conversation.RecordError) { r.opts.OnWarning(e) }
	}
	pr, err := conversation.NewParquetReader[conversation.Conversation](r.f, fi.Size(), r.path, ro)
	if err != nil {
		return err
	}
	r.kura, r.kuraClose = pr, pr.Close
	return nil
}

// firstByte returns the first byte that is not white space without
// consuming it, or 0 for an input of white space only.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			br.Discard(1)
		default:
			return b[0], nil
		}
	}
}

func decoderOf(f Format) func([]byte, *Stats) (conversation.Conversation, *fieldError) {
	switch f {
	case Claude:
		return decodeClaude
	case ChatGPT:
		return decodeChatGPT
	}
	return decodeKura
}

// sniffElement tells the format of a JSON array by its first element's
// fields.
func sniffElement(elem []byte) (Format, *fieldError) {
	if len(elem) == 0 || elem[0] != '{' {
		return "", ferr("", "expected a conversation object, got %s", jsonKind(elem))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(elem, &fields); err != nil {
		return "", jsonError(err)
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := fields[n]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("chat_messages"):
		return Claude, nil
	case has("mapping"):
		return ChatGPT, nil
	case has("chat_id", "messages"):
		return KuraJSON, nil
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) > 12 {
		names = append(names[:12], "...")
	}
	return "", ferr("", "not a conversation of a known export: its fields are %s (expected chat_id and messages for Kura, chat_messages for Claude.ai, mapping for ChatGPT)", strings.Join(names, ", "))
}

func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func decodeKura(raw []byte, _ *Stats) (conversation.Conversation, *fieldError) {
	var c conversation.Conversation
	return c, recordError(c.UnmarshalJSON(raw))
}

// recordError turns an error of the conversation package into a field error.
func recordError(err error) *fieldError {
	if err == nil {
		return nil
	}
	var re *conversation.RecordError
	if errors.As(err, &re) {
		return &fieldError{field: re.Field, msg: re.Msg}
	}
	return &fieldError{msg: err.Error()}
}

// Path returns the file read (for a directory, its conversations file).
func (r *Reader) Path() string { return r.path }

// Format returns the format of the input: as given, or as told by its
// content. It is Auto only for an empty JSON array.
func (r *Reader) Format() Format { return r.format }

// Stats returns what was read so far.
func (r *Reader) Stats() Stats {
	st := r.stats
	if r.kura != nil {
		st.Skipped = r.kura.Skipped()
	}
	return st
}

// Next returns the next conversation, or io.EOF after the last one. An
// invalid conversation is returned as an error (*Error for JSON arrays,
// *conversation.RecordError for Kura checkpoint files) and the next call
// goes on with the following one; with SkipInvalid it is passed to OnSkip
// and skipped instead. Other errors (a broken file structure, I/O, ctx
// done) are final.
func (r *Reader) Next(ctx context.Context) (conversation.Conversation, error) {
	var zero conversation.Conversation
	for {
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		if r.kura != nil {
			c, err := r.kura.Next()
			if err == nil {
				r.stats.Conversations++
				r.stats.Messages += len(c.Messages)
			}
			return c, err
		}
		var (
			elem []byte
			off  int64
			err  error
		)
		if r.pending != nil {
			elem, off = r.pending, r.pendOff
			r.pending = nil
		} else if elem, off, err = r.scan.next(); err != nil {
			if err == io.EOF || IsFatal(err) {
				return zero, err
			}
			if r.skip(err) {
				continue
			}
			return zero, err
		}
		var c conversation.Conversation
		var fe *fieldError
		if elem[0] != '{' {
			fe = ferr("", "expected a conversation object, got %s", jsonKind(elem))
		} else {
			c, fe = r.decode(elem, &r.stats)
		}
		if fe == nil {
			fe = recordError(c.Validate())
		}
		if fe == nil {
			r.stats.Conversations++
			r.stats.Messages += len(c.Messages)
			return c, nil
		}
		err = &Error{File: r.path, Index: r.scan.n, Offset: off + 1, Field: fe.field, Msg: fe.msg}
		if r.skip(err) {
			continue
		}
		return zero, err
	}
}

func (r *Reader) skip(err error) bool {
	if !r.opts.SkipInvalid {
		return false
	}
	r.stats.Skipped++
	if r.opts.OnSkip != nil {
		r.opts.OnSkip(err)
	}
	return true
}

// Close closes the file.
func (r *Reader) Close() error {
	var err error
	if r.kuraClose != nil {
		err = r.kuraClose()
	}
	return errors.Join(err, r.f.Close())
}

// Read calls fn with each conversation of path in turn, stopping at the
// first error: an invalid conversation (unless opts.SkipInvalid), a broken
// file, ctx done, or an error returned by fn. The conversations before it
// have been passed to fn.
func Read(ctx context.Context, path string, opts Options, fn func(*conversation.Conversation) error) (Stats, error) {
	r, err := Open(path, opts)
	if err != nil {
		return Stats{}, err
	}
	defer r.Close()
	for {
		c, err := r.Next(ctx)
		if err == io.EOF {
			return r.Stats(), nil
		}
		if err != nil {
			return r.Stats(), err
		}
		if err := fn(&c); err != nil {
			return r.Stats(), err
		}
	}
}

// Detect tells the format of a file or directory by its content, as Open
// does with Format Auto.
func Detect(path string) (Format, error) {
	r, err := Open(path, Options{})
	if err != nil {
		return "", err
	}
	defer r.Close()
	return r.Format(), nil
}
