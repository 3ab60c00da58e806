package conversation

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"unicode/utf8"

	"github.com/kura-go/kura/internal/jsonscan"
)

// RecordError is a problem with one record: the file, the 1-based JSONL line
// or Parquet row, the field (a path such as "messages[2].role", or "" for the
// whole record) and what was expected.
type RecordError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the problem as "FILE:LINE: field FIELD: MSG", leaving out the
// parts that are unknown.
func (e *RecordError) Error() string {
	var s string
	switch {
	case e.File != "" && e.Line > 0:
		s = fmt.Sprintf("%s:%d: ", e.File, e.Line)
	case e.File != "":
		s = e.File + ": "
	case e.Line > 0:
		s = fmt.Sprintf("line %d: ", e.Line)
	}
	if e.Field != "" {
		s += "field " + e.Field + ": "
	}
	return s + e.Msg
}

// roles are the message roles Kura accepts.
var roles = []string{"user", "assistant", "system", "tool"}

func validRole(r string) bool {
	for _, x := range roles {
		if r == x {
			return true
		}
	}
	return false
}

func checkText(field, s string) *RecordError {
	if !utf8.ValidString(s) {
		return fieldErr(field, "invalid UTF-8 in string")
	}
	return nil
}

func checkScore(field string, p *int) *RecordError {
	if p != nil && (*p < 1 || *p > 5) {
		return fieldErr(field, "expected integer 1..5 or null, got %d", *p)
	}
	return nil
}

// Validate checks a message: a set time, a known role and UTF-8 content.
func (m *Message) Validate() error { return asError(m.validate("")) }

func (m *Message) validate(path string) *RecordError {
	if m.CreatedAt.IsZero() {
		return fieldErr(path+"created_at", "expected a time, got none")
	}
	if !validRole(m.Role) {
		return fieldErr(path+"role", "expected one of user, assistant, system, tool, got %q", m.Role)
	}
	return checkText(path+"content", m.Content)
}

// Validate checks a conversation: non-empty chat_id, a set created_at, valid
// messages and metadata.
func (c *Conversation) Validate() error { return asError(c.validate()) }

func (c *Conversation) validate() *RecordError {
	if c.ChatID == "" {
		return fieldErr("chat_id", "expected non-empty string")
	}
	if err := checkText("chat_id", c.ChatID); err != nil {
		return err
	}
	if c.CreatedAt.IsZero() {
		return fieldErr("created_at", "expected a time, got none")
	}
	for i := range c.Messages {
		if err := c.Messages[i].validate(fmt.Sprintf("messages[%d].", i)); err != nil {
			return err
		}
	}
	return validateMetadata(c.Metadata)
}

// Validate checks a summary: non-empty chat_id, scores 1..5, finite
// embedding values and valid metadata.
func (s *ConversationSummary) Validate() error { return asError(s.validate()) }

func (s *ConversationSummary) validate() *RecordError {
	if s.ChatID == "" {
		return fieldErr("chat_id", "expected non-empty string")
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"chat_id", s.ChatID}, {"summary", s.Summary}} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	if err := checkScore("concerning_score", s.ConcerningScore); err != nil {
		return err
	}
	if err := checkScore("user_frustration", s.UserFrustration); err != nil {
		return err
	}
	for i, f := range s.Embedding {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fieldErr(fmt.Sprintf("embedding[%d]", i), "expected a finite number, got %v", f)
		}
	}
	return validateMetadata(s.Metadata)
}

// Validate checks a cluster: non-empty id and non-empty chat ids.
func (c *Cluster) Validate() error { return asError(c.validate()) }

func (c *Cluster) validate() *RecordError {
	if c.ID == "" {
		return fieldErr("id", "expected non-empty string")
	}
	for i, id := range c.ChatIDs {
		if id == "" {
			return fieldErr(fmt.Sprintf("chat_ids[%d]", i), "expected non-empty chat id")
		}
	}
	if c.ParentID != nil && *c.ParentID == "" {
		return fieldErr("parent_id", "expected non-empty string or null")
	}
	return nil
}

// Validate checks a projected cluster: the cluster, finite coordinates and a
// level of at least 0.
func (p *ProjectedCluster) Validate() error { return asError(p.validate()) }

func (p *ProjectedCluster) validate() *RecordError {
	if err := p.Cluster.validate(); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"x_coord", p.XCoord}, {"y_coord", p.YCoord}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fieldErr(f.name, "expected a finite number, got %v", f.v)
		}
	}
	if p.Level < 0 {
		return fieldErr("level", "expected integer >= 0, got %d", p.Level)
	}
	return nil
}

// validateMetadata checks that every metadata value is a JSON string,
// number, boolean, or a list or map of such values (Kura rejects null), nested
// at most MaxMetadataDepth levels.
func validateMetadata(m map[string]any) *RecordError {
	var p metaPath
	for k, v := range m {
		p.push(pathSeg{key: k, isKey: true})
		if err := checkValue(&p, v, 0); err != nil {
			return err
		}
		p.pop()
	}
	return nil
}

const metaWant = "expected string, number, boolean, list or object"

// checkValue checks v, found at path p and depth depth. The path is only
// rendered for an error, so the work per level does not grow with the depth.
func checkValue(p *metaPath, v any, depth int) *RecordError {
	if depth > MaxMetadataDepth {
		return p.errf("nested more than %d levels deep", MaxMetadataDepth)
	}
	switch v := v.(type) {
	case nil:
		return p.errf("%s, got null", metaWant)
	case string:
		if !utf8.ValidString(v) {
			return p.errf("invalid UTF-8 in string")
		}
		return nil
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return nil
	case json.Number:
		if !jsonscan.IsNumber([]byte(v)) {
			return p.errf("%s, got invalid number %q", metaWant, string(v))
		}
		return nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return p.errf("expected a finite number, got %v", v)
		}
		return nil
	case float32:
		return checkValue(p, float64(v), depth)
	case []any:
		for i, e := range v {
			p.push(pathSeg{index: i})
			if err := checkValue(p, e, depth+1); err != nil {
				return err
			}
			p.pop()
		}
		return nil
	case []string:
		for i, e := range v {
			p.push(pathSeg{index: i})
			if err := checkValue(p, e, depth+1); err != nil {
				return err
			}
			p.pop()
		}
		return nil
	case map[string]any:
		for k, e := range v {
			p.push(pathSeg{key: k, isKey: true})
			if err := checkValue(p, e, depth+1); err != nil {
				return err
			}
			p.pop()
		}
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			p.push(pathSeg{index: i})
			if err := checkValue(p, rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
			p.pop()
		}
		return nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return p.errf("%s, got a map with %s keys", metaWant, rv.Type().Key())
		}
		for it := rv.MapRange(); it.Next(); {
			p.push(pathSeg{key: it.Key().String(), isKey: true})
			if err := checkValue(p, it.Value().Interface(), depth+1); err != nil {
				return err
			}
			p.pop()
		}
		return nil
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return nil
	case reflect.Float32, reflect.Float64:
		return checkValue(p, rv.Float(), depth)
	}
	return p.errf("%s, got Go type %T", metaWant, v)
}

// validator is implemented by pointers to the record types.
type validator interface{ validate() *RecordError }
