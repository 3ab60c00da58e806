package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Error is a problem with an export file: the file, the 1-based index of
// the conversation in the top-level array (0 when the problem is not about
// one conversation), the 1-based byte offset where that conversation (or the
// problem) starts, the field (a path such as "chat_messages[2].sender") and
// what was expected.
//
// A Fatal error stops reading (the file's structure is broken or cannot be
// read); any other names one conversation, which is skipped, and reading
// can go on with the next.
type Error struct {
	File   string
	Index  int
	Offset int64
	Field  string
	Msg    string
	Fatal  bool
}

// Error formats the problem as
// "FILE: conversation N (byte B): field F: MSG", leaving out unknown parts.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	switch {
	case e.Index > 0 && e.Offset > 0:
		fmt.Fprintf(&b, "conversation %d (byte %d): ", e.Index, e.Offset)
	case e.Index > 0:
		fmt.Fprintf(&b, "conversation %d: ", e.Index)
	case e.Offset > 0:
		fmt.Fprintf(&b, "byte %d: ", e.Offset)
	}
	if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// fieldError is a problem with one field of a conversation, before the file
// and position are known.
type fieldError struct {
	field string
	msg   string
}

func (e *fieldError) Error() string {
	if e.field == "" {
		return e.msg
	}
	return "field " + e.field + ": " + e.msg
}

func ferr(field, format string, a ...any) *fieldError {
	return &fieldError{field: field, msg: fmt.Sprintf(format, a...)}
}

// jsonError turns an error of encoding/json into a field error with the
// field's path and the JSON type expected and found.
func jsonError(err error) *fieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return ferr(te.Field, "expected %s, got %s", jsonType(te.Type), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return ferr("", "invalid JSON at byte %d of the conversation: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	return ferr("", "%s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonType names the JSON type that decodes into t.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.String()
}
