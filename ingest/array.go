package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/kura-go/kura/conversation"
)

// arrayScanner streams the elements of a top-level JSON array: each call to
// next returns the raw bytes of one element, so that only one element is in
// memory at a time. It checks the array's structure (brackets matched,
// commas, nothing after the end) but not the elements' contents, which their
// decoders check. An element larger than maxBytes or nested deeper than
// maxDepth is skipped (scanned without being kept, with a counter for the
// depth beyond the limit) and reported as a non-fatal *Error, so hostile
// input costs neither memory nor recursion.
type arrayScanner struct {
	br       *bufio.Reader
	file     string
	off      int64 // offset of the next unread byte
	maxBytes int
	maxDepth int

	started bool // '[' read
	comma   bool // an element was read: a ',' or ']' comes next
	ended   bool // ']' read
	n       int  // elements started so far
	buf     []byte
	stack   []byte // open brackets up to maxDepth
	err     error  // fatal and sticky
}

func newArrayScanner(br *bufio.Reader, file string, maxBytes, maxDepth int) *arrayScanner {
	return &arrayScanner{br: br, file: file, maxBytes: maxBytes, maxDepth: maxDepth}
}

// fatal records a problem that stops reading: after it the array's
// structure is unknown.
func (s *arrayScanner) fatal(index int, off int64, format string, a ...any) error {
	s.err = &Error{File: s.file, Index: index, Offset: off + 1, Msg: fmt.Sprintf(format, a...), Fatal: true}
	return s.err
}

func describe(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// skipWS consumes white space and returns the next byte without consuming
// it; ok is false at the end of the input.
func (s *arrayScanner) skipWS() (c byte, ok bool, err error) {
	for {
		b, err := s.br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return 0, false, nil
			}
			return 0, false, err
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			s.br.Discard(1)
			s.off++
		default:
			return b[0], true, nil
		}
	}
}

func (s *arrayScanner) ioErr(err error) error {
	s.err = fmt.Errorf("%s: reading at byte %d: %w", s.file, s.off+1, err)
	return s.err
}

// next returns the next element and the offset of its first byte, or io.EOF
// after the last one. A non-fatal *Error (Fatal false) reports an element
// that was skipped; the following call continues with the next element.
func (s *arrayScanner) next() (elem []byte, start int64, err error) {
	if s.err != nil {
		return nil, 0, s.err
	}
	if s.ended {
		return nil, 0, io.EOF
	}
	c, ok, err := s.skipWS()
	if err != nil {
		return nil, 0, s.ioErr(err)
	}
	if !s.started {
		if !ok {
			return nil, 0, s.fatal(0, s.off, "empty input (expected a JSON array of conversations)")
		}
		if c != '[' {
			return nil, 0, s.fatal(0, s.off, "expected a JSON array ('[') of conversations, found %s", describe(c))
		}
		s.br.Discard(1)
		s.off++
		s.started = true
		if c, ok, err = s.skipWS(); err != nil {
			return nil, 0, s.ioErr(err)
		}
		if ok && c == ']' {
			return nil, 0, s.end()
		}
	} else if s.comma {
		switch {
		case !ok:
			return nil, 0, s.fatal(0, s.off, "truncated: the input ends after conversation %d without closing the array (expected ',' or ']'); the file was probably cut short", s.n)
		case c == ']':
			return nil, 0, s.end()
		case c != ',':
			return nil, 0, s.fatal(s.n, s.off, "expected ',' or ']' after conversation %d, found %s", s.n, describe(c))
		}
		s.br.Discard(1)
		s.off++
		if c, ok, err = s.skipWS(); err != nil {
			return nil, 0, s.ioErr(err)
		}
		if ok && c == ']' {
			return nil, 0, s.fatal(s.n, s.off, "trailing comma before ']' after conversation %d", s.n)
		}
	}
	if !ok {
		return nil, 0, s.fatal(0, s.off, "truncated: the input ends inside the array, before conversation %d; the file was probably cut short", s.n+1)
	}
	s.n++
	s.comma = true
	return s.value(c)
}

// end consumes ']' and checks that nothing but white space follows.
func (s *arrayScanner) end() error {
	s.br.Discard(1)
	s.off++
	s.ended = true
	c, ok, err := s.skipWS()
	if err != nil {
		return s.ioErr(err)
	}
	if ok {
		return s.fatal(0, s.off, "unexpected %s after the end of the array", describe(c))
	}
	return io.EOF
}

// value scans one element whose first byte is c.
func (s *arrayScanner) value(c byte) ([]byte, int64, error) {
	start := s.off
	if c == ',' || c == ']' || c == '}' || c == ':' {
		return nil, start, s.fatal(s.n, s.off, "expected conversation %d, found %s", s.n, describe(c))
	}
	scalar := c != '{' && c != '[' && c != '"'
	s.buf = s.buf[:0]
	if cap(s.buf) > 16<<20 {
		s.buf = nil // do not keep one huge element's buffer for the whole file
	}
	s.stack = s.stack[:0]
	var (
		depth     int // open brackets (also beyond maxDepth)
		inStr     bool
		esc       bool
		tooBig    bool
		tooDeep   bool
		done      bool
		size      int
		deepStart int64
	)
	for !done {
		if s.br.Buffered() == 0 {
			if _, err := s.br.Peek(1); err != nil {
				if err == io.EOF {
					return nil, start, s.fatal(s.n, start, "truncated: the input ends inside conversation %d; the file was probably cut short", s.n)
				}
				return nil, start, s.ioErr(err)
			}
		}
		chunk, _ := s.br.Peek(s.br.Buffered())
		i := 0
	scan:
		for i < len(chunk) {
			if inStr {
				if esc {
					esc = false
					i++
					continue
				}
				j := bytes.IndexAny(chunk[i:], "\"\\")
				if j < 0 {
					i = len(chunk)
					break
				}
				i += j
				if chunk[i] == '\\' {
					esc = true
				} else {
					inStr = false
					if depth == 0 {
						i++
						done = true
						break scan
					}
				}
				i++
				continue
			}
			b := chunk[i]
			switch b {
			case '"':
				if scalar {
					done = true
					break scan
				}
				inStr = true
			case '{', '[':
				if scalar {
					done = true
					break scan
				}
				depth++
				if depth <= s.maxDepth {
					s.stack = append(s.stack, b)
				} else if !tooDeep {
					tooDeep = true
					deepStart = s.off + int64(i)
				}
			case '}', ']':
				if depth == 0 {
					done = true // end of a scalar element
					break scan
				}
				if depth <= s.maxDepth {
					open := s.stack[len(s.stack)-1]
					s.stack = s.stack[:len(s.stack)-1]
					if (open == '{') != (b == '}') {
						return nil, start, s.fatal(s.n, s.off+int64(i), "mismatched %s closing %s in conversation %d", describe(b), describe(open), s.n)
					}
				}
				depth--
				if depth == 0 {
					i++
					done = true
					break scan
				}
			case ',', ' ', '\t', '\n', '\r':
				if scalar {
					done = true
					break scan
				}
			}
			i++
		}
		size += i
		if !tooBig && size > s.maxBytes {
			tooBig = true
			s.buf = nil
		}
		if !tooBig {
			s.buf = append(s.buf, chunk[:i]...)
		}
		s.br.Discard(i)
		s.off += int64(i)
	}
	switch {
	case tooBig:
		return nil, start, &Error{File: s.file, Index: s.n, Offset: start + 1,
			Msg: fmt.Sprintf("larger than the limit of %s (Options.MaxElementBytes): %d bytes; skipped", mib(s.maxBytes), size)}
	case tooDeep:
		return nil, start, &Error{File: s.file, Index: s.n, Offset: start + 1,
			Msg: fmt.Sprintf("nested more than %d levels deep at byte %d (Options.MaxDepth); skipped", s.maxDepth, deepStart+1)}
	}
	return s.buf, start, nil
}

func mib(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// IsFatal reports whether an error from Reader.Next stops reading: false
// for io.EOF, nil, and an invalid conversation (a non-fatal *Error or a
// *conversation.RecordError), after which Next goes on with the next one.
func IsFatal(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Fatal
	}
	var re *conversation.RecordError
	if errors.As(err, &re) {
		return false
	}
	return err != nil && err != io.EOF
}
