package conversation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/kura-go/kura/internal/jsonscan"
)

// TextKind is what a file of texts to embed holds.
type TextKind int

// The kinds of text files: records whose Text is embedded, or plain text.
const (
	SummaryTexts      TextKind = iota + 1 // summaries (JSONL or Parquet): ConversationSummary.Text
	ConversationTexts                     // conversations (JSONL or Parquet): Conversation.Text
	PlainTexts                            // one text per line
)

// String returns "summaries", "conversations" or "text".
func (k TextKind) String() string {
	switch k {
	case SummaryTexts:
		return "summaries"
	case ConversationTexts:
		return "conversations"
	case PlainTexts:
		return "text"
	}
	return fmt.Sprintf("TextKind(%d)", int(k))
}

// ParseTextKind parses summaries, conversations or text (also the singular
// forms and "txt").
func ParseTextKind(s string) (TextKind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "summaries", "summary":
		return SummaryTexts, nil
	case "conversations", "conversation":
		return ConversationTexts, nil
	case "text", "txt":
		return PlainTexts, nil
	}
	return 0, fmt.Errorf("unknown kind of texts %q (expected summaries, conversations or text)", s)
}

// Text is the text to embed of one record, with where it came from.
type Text struct {
	Text   string
	ChatID string // the record's chat_id; "" for a line of plain text
	// Pos is the 1-based position of the record: its line in a JSONL or
	// text file, its row in a Parquet file, or its number in the stream
	// given to NewTextReader.
	Pos int
}

// TextReader streams the texts to embed of a file, one record at a time,
// so that its memory is bounded by the longest record, not the file: the
// records are rendered (ConversationSummary.Text, Conversation.Text) and
// dropped as they are read. It is the one reader of texts for kura embed
// and the load test's load stage.
//
// Errors name the file and the line (or row): an invalid record is a
// *RecordError, as from Reader; so is a record or line with nothing to
// embed (a summary without text, a conversation without message text, a
// blank line), since an empty text has no embedding. After an error other
// than a *RecordError (I/O, ctx done) the reader is finished.
type TextReader struct {
	ctx   context.Context
	file  string
	next  func() (Text, error)
	close func() error
	err   error
}

// OpenTexts opens path for reading texts of the given kind: summaries or
// conversations as Open reads them (JSONL or Parquet by extension), or
// plain text, one text per line of at most opts.MaxLineBytes, in UTF-8.
// Cancelling ctx ends a read in progress, even one blocked on a pipe; Next
// then returns ctx.Err(). Close must be called when done.
func OpenTexts(ctx context.Context, path string, kind TextKind, opts ReadOptions) (*TextReader, error) {
	switch kind {
	case SummaryTexts:
		return openRecordTexts[ConversationSummary](ctx, path, opts, "summary", "no text to embed")
	case ConversationTexts:
		return openRecordTexts[Conversation](ctx, path, opts, "messages", "no message text to embed")
	case PlainTexts:
		f, stop, err := openCtx(ctx, path)
		if err != nil {
			return nil, err
		}
		lr := newLineReader(f, opts.MaxLineBytes)
		line := 0
		next := func() (Text, error) {
			for {
				b, tooLong, _, err := lr.next()
				if err != nil {
					if err != io.EOF {
						err = fmt.Errorf("%s: reading after line %d: %w", path, line, err)
					}
					return Text{}, err
				}
				line++
				var msg string
				switch {
				case tooLong:
					msg = fmt.Sprintf("line longer than %d MiB; one text per line expected", lr.max>>20)
				case !utf8.Valid(b):
					msg = fmt.Sprintf("invalid UTF-8 at byte %d (expected UTF-8 text; convert the file, e.g. iconv -f latin1 -t utf-8)", invalidUTF8At(b)+1)
				case len(bytes.TrimSpace(b)) == 0:
					msg = "blank line: every line is one text to embed; remove blank lines"
				default:
					return Text{Text: string(b), Pos: line}, nil
				}
				return Text{}, &RecordError{File: path, Line: line, Msg: msg}
			}
		}
		return &TextReader{ctx: ctx, file: path, next: next, close: stop}, nil
	}
	return nil, fmt.Errorf("%s: unknown kind of texts %d", path, kind)
}

// textRecord is a record with a text to embed.
type textRecord interface {
	Text() string
	chatID() string
}

func (c *Conversation) chatID() string        { return c.ChatID }
func (s *ConversationSummary) chatID() string { return s.ChatID }

func openRecordTexts[T Record, P interface {
	*T
	textRecord
}](ctx context.Context, path string, opts ReadOptions, field, empty string) (*TextReader, error) {
	// Open first, so that a file that cannot be read is the error.
	r, err := Open[T](path, opts)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { r.f.Close() })
	next := func() (Text, error) {
		rec, err := r.Next()
		if err != nil {
			return Text{}, err
		}
		pos := r.pos()
		p := P(&rec)
		text := p.Text()
		if text == "" {
			return Text{}, &RecordError{File: path, Line: pos, Field: field, Msg: fmt.Sprintf("%s (chat_id %q)", empty, p.chatID())}
		}
		return Text{Text: text, ChatID: p.chatID(), Pos: pos}, nil
	}
	closeFn := func() error {
		canceled := !stop() // the file was closed on cancel
		if err := r.Close(); err != nil && !canceled {
			return err
		}
		return nil
	}
	return &TextReader{ctx: ctx, file: path, next: next, close: closeFn}, nil
}

// NewTextReader reads the texts of conversations from another source of
// them, such as package ingest's reader of exported JSON arrays: next
// returns the next conversation, or io.EOF after the last one. file names
// the source in errors, where a conversation is known by its number.
// close, if not nil, is called by Close.
func NewTextReader(ctx context.Context, file string, next func() (Conversation, error), close func() error) *TextReader {
	n := 0
	return &TextReader{ctx: ctx, file: file, close: close, next: func() (Text, error) {
		c, err := next()
		if err != nil {
			return Text{}, err
		}
		n++
		text := c.Text()
		if text == "" {
			return Text{}, fmt.Errorf("%s: conversation %d (chat_id %q): conversation has no message text to embed", file, n, c.ChatID)
		}
		return Text{Text: text, ChatID: c.ChatID, Pos: n}, nil
	}}
}

// Next returns the text of the next record, or io.EOF after the last one.
func (r *TextReader) Next() (Text, error) {
	if r.err != nil {
		return Text{}, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return Text{}, err
	}
	t, err := r.next()
	if err != nil {
		if cerr := r.ctx.Err(); cerr != nil {
			err = cerr // a read ended by closing the file on cancel
		}
		var re *RecordError
		if !errors.As(err, &re) {
			r.err = err
		}
	}
	return t, err
}

// Close closes the file.
func (r *TextReader) Close() error {
	if r.close == nil {
		return nil
	}
	err := r.close()
	r.close = nil
	return err
}

// All reads the remaining texts, stopping at the first error, with the
// texts read before it.
func (r *TextReader) All() ([]string, error) {
	var texts []string
	for {
		t, err := r.Next()
		if err == io.EOF {
			return texts, nil
		}
		if err != nil {
			return texts, err
		}
		texts = append(texts, t.Text)
	}
}

// DetectTextKind tells summaries from conversations by the first record of
// a JSONL file: one with "messages" is a conversation, one with "summary" a
// summary. A file that starts with '[' is a JSON array of conversations (an
// export that package ingest reads). Lines up to DefaultMaxLineBytes are
// read; cancelling ctx ends a read in progress.
func DetectTextKind(ctx context.Context, path string) (TextKind, error) {
	f, stop, err := openCtx(ctx, path)
	if err != nil {
		return 0, err
	}
	defer stop()
	lr := newLineReader(f, DefaultMaxLineBytes)
	// A JSON array: looked at before reading a line, which may be the
	// whole file.
	if b, _ := lr.br.Peek(1 << 10); bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n"), []byte("[")) {
		return ConversationTexts, nil
	}
	for line := 1; ; line++ {
		b, tooLong, _, err := lr.next()
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if err == io.EOF {
			return 0, fmt.Errorf("%s: empty file", path)
		}
		if err != nil {
			return 0, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if tooLong {
			return 0, fmt.Errorf("%s:%d: line longer than %d MiB; one record per line expected", path, line, lr.max>>20)
		}
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		fields, serr := jsonscan.Object(b, nil)
		if serr != nil {
			return 0, fmt.Errorf("%s:%d: not a JSON object", path, line)
		}
		kind := TextKind(0)
		for _, f := range fields {
			switch f.Key {
			case "messages":
				return ConversationTexts, nil
			case "summary":
				kind = SummaryTexts
			}
		}
		if kind != 0 {
			return kind, nil
		}
		return 0, fmt.Errorf("%s:%d: record has neither \"summary\" nor \"messages\"", path, line)
	}
}

// openCtx opens path for reading so that cancelling ctx ends a read in
// progress: the file is closed, which also wakes a read blocked on a pipe.
// stop must be called when done; it closes the file.
func openCtx(ctx context.Context, path string) (*os.File, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	return f, func() error {
		if stop() {
			return f.Close()
		}
		return nil // closed on cancel
	}, nil
}

// invalidUTF8At returns the byte offset of the first invalid UTF-8 sequence
// in b, or -1.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		c, size := utf8.DecodeRune(b[i:])
		if c == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}
