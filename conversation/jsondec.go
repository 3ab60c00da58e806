package conversation

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/kura-go/kura/internal/jsonscan"
)

// This file decodes Kura's JSON records. The scanner of package jsonscan splits an object
// into its top-level fields (sub-slices of the line, no copying), so that
// every field is decoded on its own and an error names the field, unknown and
// duplicate keys are seen, and keys are matched case-sensitively as pydantic
// does.

// warnFunc receives a non-fatal finding about a field (unknown field, a
// derived field that does not match).
type warnFunc func(field, msg string)

func fieldErr(field, format string, a ...any) *RecordError {
	return &RecordError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

func decStr(field string, raw []byte) (string, *RecordError) {
	s, err := jsonscan.String(raw)
	if err != nil {
		return "", fieldErr(field, "%v", err)
	}
	return s, nil
}

func decOptStr(field string, raw []byte) (*string, *RecordError) {
	if jsonscan.IsNull(raw) {
		return nil, nil
	}
	s, err := jsonscan.String(raw)
	if err != nil {
		return nil, fieldErr(field, "expected string or null, got %s", jsonscan.TypeName(raw))
	}
	return &s, nil
}

// decStrList decodes a list of strings; null gives nil when nullable.
func decStrList(field string, raw []byte, nullable bool) ([]string, *RecordError) {
	if jsonscan.IsNull(raw) && nullable {
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '[' {
		want := "list of strings"
		if nullable {
			want += " or null"
		}
		return nil, fieldErr(field, "expected %s, got %s", want, jsonscan.TypeName(raw))
	}
	elems, serr := jsonscan.Array(raw, nil)
	if serr != nil {
		return nil, fieldErr(field, "%s", serr.Error())
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		s, err := jsonscan.String(e)
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("%s[%d]", field, i), "%v", err)
		}
		out[i] = s
	}
	return out, nil
}

func decFloat(field string, raw []byte) (float64, *RecordError) {
	if !jsonscan.IsNumber(raw) {
		return 0, fieldErr(field, "expected number, got %s", jsonscan.TypeName(raw))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return 0, fieldErr(field, "number %s out of range for float64", raw)
	}
	return f, nil
}

func decInt(field string, raw []byte) (int, *RecordError) {
	if !jsonscan.IsNumber(raw) {
		return 0, fieldErr(field, "expected integer, got %s", jsonscan.TypeName(raw))
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
	if jsonscan.IsNull(raw) {
		return nil, nil
	}
	if !jsonscan.IsNumber(raw) {
		return nil, fieldErr(field, "expected integer or null, got %s", jsonscan.TypeName(raw))
	}
	n, err := decInt(field, raw)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func decFloatList(field string, raw []byte) ([]float64, *RecordError) {
	if jsonscan.IsNull(raw) {
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fieldErr(field, "expected list of numbers or null, got %s", jsonscan.TypeName(raw))
	}
	elems, serr := jsonscan.Array(raw, nil)
	if serr != nil {
		return nil, fieldErr(field, "%s", serr.Error())
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
	s, err := jsonscan.String(raw)
	if err != nil {
		return Time{}, fieldErr(field, "expected ISO-8601 time string, got %s", jsonscan.TypeName(raw))
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
func splitRecord(b []byte) ([]jsonscan.Field, *RecordError) {
	fields, serr := jsonscan.Object(b, make([]jsonscan.Field, 0, 12))
	if serr != nil {
		if serr.After {
			serr.Msg = "unexpected " + jsonscan.DescribeByte(b, serr.Off) + " after the end of the object (one record per line)"
		}
		return nil, &RecordError{Msg: serr.Error()}
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
		i := lookup(names, f.Key)
		if i < 0 {
			if warn != nil {
				warn(path(f.Key), "unknown field ignored")
			}
			continue
		}
		if seen&(1<<i) != 0 {
			return fieldErr(path(f.Key), "duplicate field")
		}
		seen |= 1 << i
		if err := set(i, f.Val); err != nil {
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
				return fieldErr("messages", "expected list of messages, got %s", jsonscan.TypeName(raw))
			}
			elems, serr := jsonscan.Array(raw, nil)
			if serr != nil {
				return fieldErr("messages", "%s", serr.Error())
			}
			c.Messages = make([]Message, len(elems))
			for k, e := range elems {
				path := fmt.Sprintf("messages[%d]", k)
				if len(e) == 0 || e[0] != '{' {
					return fieldErr(path, "expected message object, got %s", jsonscan.TypeName(e))
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
		return nil, nil, fieldErr("metadata", "expected object, got %s", jsonscan.TypeName(raw))
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
