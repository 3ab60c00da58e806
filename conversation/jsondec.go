package conversation

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file decodes Kura's JSON records. A small scanner splits an object
// into its top-level fields (sub-slices of the line, no copying), so that
// every field is decoded on its own and an error names the field, unknown and
// duplicate keys are seen, and keys are matched case-sensitively as pydantic
// does.

type rawField struct {
	key string
	val []byte
}

// warnFunc receives a non-fatal finding about a field (unknown field, a
// derived field that does not match).
type warnFunc func(field, msg string)

func fieldErr(field, format string, a ...any) *RecordError {
	return &RecordError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// syntaxErr describes malformed JSON at a byte offset of the value scanned.
type syntaxErr struct {
	off       int
	truncated bool
	msg       string
}

func (e *syntaxErr) describe() string {
	if e.truncated {
		return "truncated JSON: input ends inside a value (expected a complete JSON object)"
	}
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.off+1, e.msg)
}

func describeByte(b []byte, i int) string {
	if i >= len(b) {
		return "end of input"
	}
	c := b[i]
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// skipString returns the index after the closing quote of the string that
// starts at b[i] == '"'.
func skipString(b []byte, i int) (int, *syntaxErr) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++
		case c < 0x20:
			return 0, &syntaxErr{off: j, msg: fmt.Sprintf("control character 0x%02x in string (must be escaped)", c)}
		}
	}
	return 0, &syntaxErr{off: len(b), truncated: true}
}

// skipValue returns the index just after the JSON value starting at b[i].
// Scalars are only delimited here; their contents are checked when decoded.
func skipValue(b []byte, i int) (int, *syntaxErr) {
	if i >= len(b) {
		return 0, &syntaxErr{off: i, truncated: true}
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, &syntaxErr{off: len(b), truncated: true}
	case ',', ':', '}', ']':
		return 0, &syntaxErr{off: i, msg: "expected a value, found " + describeByte(b, i)}
	default:
		j := i
		for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ':' {
			j++
		}
		return j, nil
	}
}

// scanObject splits the JSON object b into its fields.
func scanObject(b []byte, dst []rawField) ([]rawField, *syntaxErr) {
	i := skipWS(b, 0)
	if i >= len(b) {
		return dst, &syntaxErr{off: i, truncated: true}
	}
	if b[i] != '{' {
		return dst, &syntaxErr{off: i, msg: "expected '{' to start an object, found " + describeByte(b, i)}
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return dst, trailing(b, i+1)
	}
	for {
		if i >= len(b) {
			return dst, &syntaxErr{off: i, truncated: true}
		}
		if b[i] != '"' {
			return dst, &syntaxErr{off: i, msg: "expected a quoted field name, found " + describeByte(b, i)}
		}
		end, err := skipString(b, i)
		if err != nil {
			return dst, err
		}
		key, kerr := decodeString(b[i:end])
		if kerr != nil {
			return dst, &syntaxErr{off: i, msg: kerr.Error()}
		}
		i = skipWS(b, end)
		if i >= len(b) {
			return dst, &syntaxErr{off: i, truncated: true}
		}
		if b[i] != ':' {
			return dst, &syntaxErr{off: i, msg: "expected ':' after field name, found " + describeByte(b, i)}
		}
		i = skipWS(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return dst, err
		}
		dst = append(dst, rawField{key: key, val: b[i:vend]})
		i = skipWS(b, vend)
		if i >= len(b) {
			return dst, &syntaxErr{off: i, truncated: true}
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return dst, trailing(b, i+1)
		default:
			return dst, &syntaxErr{off: i, msg: "expected ',' or '}' after a field, found " + describeByte(b, i)}
		}
	}
}

func trailing(b []byte, i int) *syntaxErr {
	i = skipWS(b, i)
	if i < len(b) {
		return &syntaxErr{off: i, msg: "unexpected " + describeByte(b, i) + " after the end of the object (one record per line)"}
	}
	return nil
}

// scanArray splits the JSON array b into its elements.
func scanArray(b []byte, dst [][]byte) ([][]byte, *syntaxErr) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return dst, &syntaxErr{off: i, msg: "expected '['"}
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return dst, trailing(b, i+1)
	}
	for {
		end, err := skipValue(b, i)
		if err != nil {
			return dst, err
		}
		dst = append(dst, b[i:end])
		i = skipWS(b, end)
		if i >= len(b) {
			return dst, &syntaxErr{off: i, truncated: true}
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return dst, trailing(b, i+1)
		default:
			return dst, &syntaxErr{off: i, msg: "expected ',' or ']' in a list, found " + describeByte(b, i)}
		}
	}
}

// kindOf names the JSON type of a raw value for error messages.
func kindOf(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "list"
	case 't', 'f':
		return "boolean " + string(raw)
	case 'n':
		return "null"
	}
	if isNumber(raw) {
		return "number " + string(raw)
	}
	if len(raw) > 20 {
		raw = raw[:20]
	}
	return fmt.Sprintf("invalid token %q", raw)
}

func isNull(raw []byte) bool { return string(raw) == "null" }

// isNumber reports whether b is a JSON number.
func isNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(b)
}

// decodeString decodes a JSON string literal.
func decodeString(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", fmt.Errorf("expected string, got %s", kindOf(raw))
	}
	simple := true
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' || c == '"' || c < 0x20 {
			simple = false
			break
		}
	}
	if simple {
		return string(raw[1 : len(raw)-1]), nil
	}
	return unquote(raw[1 : len(raw)-1])
}

// unquote decodes the body of a JSON string with escapes. Lone UTF-16
// surrogates become U+FFFD, as in encoding/json.
func unquote(b []byte) (string, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return "", fmt.Errorf("invalid string: unescaped '\"' at byte %d", i+2)
		case c < 0x20:
			return "", fmt.Errorf("invalid string: control character 0x%02x (must be escaped)", c)
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return "", errors.New("invalid string: ends with a backslash")
		}
		e := b[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i)
			if !ok {
				return "", errors.New("invalid string: \\u must be followed by 4 hex digits")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
					r2, ok = hex4(b, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", fmt.Errorf("invalid string: unknown escape \\%c", e)
		}
	}
	return string(out), nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func decStr(field string, raw []byte) (string, *RecordError) {
	s, err := decodeString(raw)
	if err != nil {
		return "", fieldErr(field, "%v", err)
	}
	return s, nil
}

func decOptStr(field string, raw []byte) (*string, *RecordError) {
	if isNull(raw) {
		return nil, nil
	}
	s, err := decodeString(raw)
	if err != nil {
		return nil, fieldErr(field, "expected string or null, got %s", kindOf(raw))
	}
	return &s, nil
}

// decStrList decodes a list of strings; null gives nil when nullable.
func decStrList(field string, raw []byte, nullable bool) ([]string, *RecordError) {
	if isNull(raw) && nullable {
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '[' {
		want := "list of strings"
		if nullable {
			want += " or null"
		}
		return nil, fieldErr(field, "expected %s, got %s", want, kindOf(raw))
	}
	elems, serr := scanArray(raw, nil)
	if serr != nil {
		return nil, fieldErr(field, "%s", serr.describe())
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		s, err := decodeString(e)
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("%s[%d]", field, i), "%v", err)
		}
		out[i] = s
	}
	return out, nil
}

func decFloat(field string, raw []byte) (float64, *RecordError) {
	if !isNumber(raw) {
		return 0, fieldErr(field, "expected number, got %s", kindOf(raw))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return 0, fieldErr(field, "number %s out of range for float64", raw)
	}
	return f, nil
}

func decInt(field string, raw []byte) (int, *RecordError) {
	if !isNumber(raw) {
		return 0, fieldErr(field, "expected integer, got %s", kindOf(raw))
	}
	if n, err := strconv.ParseInt(string(raw), 10, 0); err == nil {
		return int(n), nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fieldErr(field, "expected integer, got number %s", raw)
	}
	return int(f), nil
}

func decOptInt(field string, raw []byte) (*int, *RecordError) {
	if isNull(raw) {
		return nil, nil
	}
	if !isNumber(raw) {
		return nil, fieldErr(field, "expected integer or null, got %s", kindOf(raw))
	}
	n, err := decInt(field, raw)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func decFloatList(field string, raw []byte) ([]float64, *RecordError) {
	if isNull(raw) {
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fieldErr(field, "expected list of numbers or null, got %s", kindOf(raw))
	}
	elems, serr := scanArray(raw, nil)
	if serr != nil {
		return nil, fieldErr(field, "%s", serr.describe())
	}
	out := make([]float64, len(elems))
	for i, e := range elems {
		f, err := decFloat(fmt.Sprintf("%s[%d]", field, i), e)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func decTime(field string, raw []byte) (Time, *RecordError) {
	s, err := decodeString(raw)
	if err != nil {
		return Time{}, fieldErr(field, "expected ISO-8601 time string, got %s", kindOf(raw))
	}
	t, err := ParseTime(s)
	if err != nil {
		return Time{}, fieldErr(field, "%v (expected e.g. 2025-06-12T11:04:56.965428 or with +00:00)", err)
	}
	return t, nil
}

// fieldSet tracks which known fields of a record were seen.
type fieldSet uint32

// fieldMask returns the set of the positions of names in fields. An unknown
// name is a programming error: it panics when the package is initialised.
func fieldMask(fields []string, names ...string) fieldSet {
	var m fieldSet
	for _, n := range names {
		i := slices.Index(fields, n)
		if i < 0 {
			panic("conversation: unknown field " + n)
		}
		m |= 1 << i
	}
	return m
}

// splitRecord splits a line into fields, turning syntax errors into record
// errors.
func splitRecord(b []byte) ([]rawField, *RecordError) {
	fields, serr := scanObject(b, make([]rawField, 0, 12))
	if serr != nil {
		return nil, &RecordError{Msg: serr.describe()}
	}
	return fields, nil
}

// lookup finds the bit of key in names, or -1.
func lookup(names []string, key string) int {
	for i, n := range names {
		if n == key {
			return i
		}
	}
	return -1
}

// walk calls set for each known field of the object b and warn for unknown
// ones; it reports duplicate known fields and missing required ones. prefix
// is the path of the object inside the record ("" for the record itself).
func walk(b []byte, prefix string, names []string, required fieldSet, warn warnFunc, set func(i int, raw []byte) *RecordError) *RecordError {
	fields, err := splitRecord(b)
	if err != nil {
		err.Field = prefix
		return err
	}
	path := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	var seen fieldSet
	for _, f := range fields {
		i := lookup(names, f.key)
		if i < 0 {
			if warn != nil {
				warn(path(f.key), "unknown field ignored")
			}
			continue
		}
		if seen&(1<<i) != 0 {
			return fieldErr(path(f.key), "duplicate field")
		}
		seen |= 1 << i
		if err := set(i, f.val); err != nil {
			return err
		}
	}
	if missing := required &^ seen; missing != 0 {
		for i, n := range names {
			if missing&(1<<i) != 0 {
				return fieldErr(path(n), "required field missing")
			}
		}
	}
	return nil
}

var messageFields = []string{"created_at", "role", "content"}

func (m *Message) decodeJSON(b []byte, path string, warn warnFunc) *RecordError {
	return walk(b, path, messageFields, 0b111, warn, func(i int, raw []byte) *RecordError {
		var err *RecordError
		switch i {
		case 0:
			m.CreatedAt, err = decTime(path+".created_at", raw)
		case 1:
			m.Role, err = decStr(path+".role", raw)
		case 2:
			m.Content, err = decStr(path+".content", raw)
		}
		return err
	})
}

var (
	conversationFields   = []string{"chat_id", "created_at", "messages", "metadata"}
	conversationRequired = fieldMask(conversationFields, "chat_id", "created_at", "messages")
)

func (c *Conversation) decodeJSON(b []byte, warn warnFunc) *RecordError {
	*c = Conversation{}
	return walk(b, "", conversationFields, conversationRequired, warn, func(i int, raw []byte) *RecordError {
		var err *RecordError
		switch i {
		case 0:
			c.ChatID, err = decStr("chat_id", raw)
		case 1:
			c.CreatedAt, err = decTime("created_at", raw)
		case 2:
			if len(raw) == 0 || raw[0] != '[' {
				return fieldErr("messages", "expected list of messages, got %s", kindOf(raw))
			}
			elems, serr := scanArray(raw, nil)
			if serr != nil {
				return fieldErr("messages", "%s", serr.describe())
			}
			c.Messages = make([]Message, len(elems))
			for k, e := range elems {
				path := fmt.Sprintf("messages[%d]", k)
				if len(e) == 0 || e[0] != '{' {
					return fieldErr(path, "expected message object, got %s", kindOf(e))
				}
				if err := c.Messages[k].decodeJSON(e, path, warn); err != nil {
					return err
				}
			}
		case 3:
			c.Metadata, c.metaKeys, err = decMetadata(raw)
		}
		return err
	})
}

func decMetadata(raw []byte) (map[string]any, []string, *RecordError) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, nil, fieldErr("metadata", "expected object, got %s", kindOf(raw))
	}
	return decodeMetadataObject(raw)
}

var (
	summaryFields = []string{"summary", "request", "topic", "languages", "task", "concerning_score",
		"user_frustration", "assistant_errors", "chat_id", "metadata", "embedding"}
	summaryRequired = fieldMask(summaryFields, "summary", "chat_id")
)

func (s *ConversationSummary) decodeJSON(b []byte, warn warnFunc) *RecordError {
	*s = ConversationSummary{}
	return walk(b, "", summaryFields, summaryRequired, warn, func(i int, raw []byte) *RecordError {
		var err *RecordError
		switch i {
		case 0:
			s.Summary, err = decStr("summary", raw)
		case 1:
			s.Request, err = decOptStr("request", raw)
		case 2:
			s.Topic, err = decOptStr("topic", raw)
		case 3:
			s.Languages, err = decStrList("languages", raw, true)
		case 4:
			s.Task, err = decOptStr("task", raw)
		case 5:
			s.ConcerningScore, err = decOptInt("concerning_score", raw)
		case 6:
			s.UserFrustration, err = decOptInt("user_frustration", raw)
		case 7:
			s.AssistantErrors, err = decStrList("assistant_errors", raw, true)
		case 8:
			s.ChatID, err = decStr("chat_id", raw)
		case 9:
			s.Metadata, s.metaKeys, err = decMetadata(raw)
		case 10:
			s.Embedding, err = decFloatList("embedding", raw)
		}
		return err
	})
}

var (
	clusterFields = []string{"id", "name", "description", "slug", "chat_ids", "parent_id", "count",
		"x_coord", "y_coord", "level"}
	clusterRequired   = fieldMask(clusterFields, "id", "name", "description", "chat_ids")
	projectedRequired = clusterRequired | fieldMask(clusterFields, "x_coord", "y_coord", "level")
)

// decodeJSON decodes a cluster; when p is non-nil the projected fields are
// decoded into it too.
func (c *Cluster) decodeJSON(b []byte, warn warnFunc) *RecordError {
	return decodeCluster(b, c, nil, warn)
}

func (p *ProjectedCluster) decodeJSON(b []byte, warn warnFunc) *RecordError {
	return decodeCluster(b, &p.Cluster, p, warn)
}

func decodeCluster(b []byte, c *Cluster, p *ProjectedCluster, warn warnFunc) *RecordError {
	*c = Cluster{}
	names := clusterFields[:7]
	required := clusterRequired
	if p != nil {
		p.XCoord, p.YCoord, p.Level = 0, 0, 0
		names = clusterFields
		required = projectedRequired
	}
	count := -1
	err := walk(b, "", names, required, warn, func(i int, raw []byte) *RecordError {
		var err *RecordError
		switch i {
		case 0:
			c.ID, err = decStr("id", raw)
		case 1:
			c.Name, err = decStr("name", raw)
		case 2:
			c.Description, err = decStr("description", raw)
		case 3:
			c.Slug, err = decStr("slug", raw)
		case 4:
			c.ChatIDs, err = decStrList("chat_ids", raw, false)
		case 5:
			c.ParentID, err = decOptStr("parent_id", raw)
		case 6:
			// Derived; ignored, but a mismatch is worth a warning.
			if n, e := decInt("count", raw); e == nil {
				count = n
			} else if warn != nil {
				warn("count", "ignored: "+e.Msg)
			}
		case 7:
			p.XCoord, err = decFloat("x_coord", raw)
		case 8:
			p.YCoord, err = decFloat("y_coord", raw)
		case 9:
			p.Level, err = decInt("level", raw)
		}
		return err
	})
	if err == nil && count >= 0 && count != len(c.ChatIDs) && warn != nil {
		warn("count", fmt.Sprintf("is %d but chat_ids has %d entries; count is derived and ignored", count, len(c.ChatIDs)))
	}
	return err
}
