package conversation

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/kura-go/kura/internal/jsonscan"
)

// This file writes records the way pydantic's model_dump_json does (Kura's
// checkpoint format): compact separators, fields in declaration order,
// strings with only '"', '\\' and control characters escaped (non-ASCII,
// '<', '>', '&', U+2028 and U+2029 are written as is), and floats in the
// shortest round-trip form laid out as Rust's ryu crate does ("1.0",
// "0.00001", "1e-6", "1e16").

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 bytes are written
// as U+FFFD (validation rejects them on input).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

func appendStringList(b []byte, l []string, nullable bool) []byte {
	if l == nil && nullable {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendOptInt(b []byte, n *int) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*n), 10)
}

// appendFloat writes f as pydantic does (serde_json with ryu): the shortest
// digits that round-trip, in fixed notation when the decimal exponent is
// between -5 and 16, always with a fraction or exponent so that it reads back
// as a float. NaN and infinities are written as null, as pydantic does by
// default.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		b = append(b, '-')
	}
	// e is d[.ddd]e±XX
	ei := 0
	for e[ei] != 'e' {
		ei++
	}
	mant := e[:ei]
	exp, _ := strconv.Atoi(string(e[ei+1:]))
	digits := make([]byte, 0, 20)
	digits = append(digits, mant[0])
	if len(mant) > 2 {
		digits = append(digits, mant[2:]...)
	}
	n := len(digits)
	kk := exp + 1 // value = 0.digits * 10^kk
	switch {
	case n <= kk && kk <= 16:
		b = append(b, digits...)
		for i := n; i < kk; i++ {
			b = append(b, '0')
		}
		b = append(b, '.', '0')
	case 0 < kk && kk <= 16:
		b = append(b, digits[:kk]...)
		b = append(b, '.')
		b = append(b, digits[kk:]...)
	case -5 < kk && kk <= 0:
		b = append(b, '0', '.')
		for i := kk; i < 0; i++ {
			b = append(b, '0')
		}
		b = append(b, digits...)
	default:
		b = append(b, digits[0])
		if n > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		b = strconv.AppendInt(b, int64(kk-1), 10)
	}
	return b
}

// appendValue writes a metadata value.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case json.Number:
		if jsonscan.IsNumber([]byte(v)) {
			return append(b, v...)
		}
		return appendString(b, string(v))
	case float64:
		return appendFloat(b, v)
	case float32:
		return appendFloat(b, float64(v))
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	case []string:
		return appendStringList(b, v, true)
	case map[string]any:
		return appendMap(b, v, nil)
	}
	// Other slices, maps and numeric kinds via reflection.
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, rv.Index(i).Interface())
		}
		return append(b, ']')
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			m := make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				m[it.Key().String()] = it.Value().Interface()
			}
			return appendMap(b, m, nil)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, rv.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return appendFloat(b, rv.Float())
	case reflect.String:
		return appendString(b, rv.String())
	case reflect.Bool:
		return strconv.AppendBool(b, rv.Bool())
	}
	// Anything else goes through encoding/json; validation reports types
	// that are not JSON scalars, lists or maps before a record is written.
	js, err := json.Marshal(v)
	if err != nil {
		return appendString(b, fmt.Sprint(v))
	}
	return append(b, js...)
}

// appendMap writes m with the keys in order first (those still present),
// then the remaining keys sorted.
func appendMap(b []byte, m map[string]any, order []string) []byte {
	if m == nil {
		return append(b, '{', '}')
	}
	b = append(b, '{')
	first := true
	written := 0
	for _, k := range order {
		v, ok := m[k]
		if !ok {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, v)
		written++
	}
	if written < len(m) {
		rest := make([]string, 0, len(m)-written)
		for k := range m {
			if written == 0 || !slices.Contains(order, k) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, k)
			b = append(b, ':')
			b = appendValue(b, m[k])
		}
	}
	return append(b, '}')
}

func (m *Message) appendJSON(b []byte) []byte {
	b = append(b, `{"created_at":"`...)
	b = m.CreatedAt.appendText(b)
	b = append(b, `","role":`...)
	b = appendString(b, m.Role)
	b = append(b, `,"content":`...)
	b = appendString(b, m.Content)
	return append(b, '}')
}

func (c *Conversation) appendJSON(b []byte) []byte {
	b = append(b, `{"chat_id":`...)
	b = appendString(b, c.ChatID)
	b = append(b, `,"created_at":"`...)
	b = c.CreatedAt.appendText(b)
	b = append(b, `","messages":[`...)
	for i := range c.Messages {
		if i > 0 {
			b = append(b, ',')
		}
		b = c.Messages[i].appendJSON(b)
	}
	b = append(b, `],"metadata":`...)
	b = appendMap(b, c.Metadata, c.metaKeys)
	return append(b, '}')
}

func (s *ConversationSummary) appendJSON(b []byte) []byte {
	b = append(b, `{"summary":`...)
	b = appendString(b, s.Summary)
	b = append(b, `,"request":`...)
	b = appendOptString(b, s.Request)
	b = append(b, `,"topic":`...)
	b = appendOptString(b, s.Topic)
	b = append(b, `,"languages":`...)
	b = appendStringList(b, s.Languages, true)
	b = append(b, `,"task":`...)
	b = appendOptString(b, s.Task)
	b = append(b, `,"concerning_score":`...)
	b = appendOptInt(b, s.ConcerningScore)
	b = append(b, `,"user_frustration":`...)
	b = appendOptInt(b, s.UserFrustration)
	b = append(b, `,"assistant_errors":`...)
	b = appendStringList(b, s.AssistantErrors, true)
	b = append(b, `,"chat_id":`...)
	b = appendString(b, s.ChatID)
	b = append(b, `,"metadata":`...)
	b = appendMap(b, s.Metadata, s.metaKeys)
	b = append(b, `,"embedding":`...)
	if s.Embedding == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, f := range s.Embedding {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, f)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendFields writes the cluster's fields without braces or count.
func (c *Cluster) appendFields(b []byte) []byte {
	b = append(b, `"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, c.Name)
	b = append(b, `,"description":`...)
	b = appendString(b, c.Description)
	b = append(b, `,"slug":`...)
	b = appendString(b, c.Slug)
	b = append(b, `,"chat_ids":`...)
	b = appendStringList(b, c.ChatIDs, false)
	b = append(b, `,"parent_id":`...)
	return appendOptString(b, c.ParentID)
}

func (c *Cluster) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = c.appendFields(b)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(len(c.ChatIDs)), 10)
	return append(b, '}')
}

func (p *ProjectedCluster) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = p.Cluster.appendFields(b)
	b = append(b, `,"x_coord":`...)
	b = appendFloat(b, p.XCoord)
	b = append(b, `,"y_coord":`...)
	b = appendFloat(b, p.YCoord)
	b = append(b, `,"level":`...)
	b = strconv.AppendInt(b, int64(p.Level), 10)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(len(p.ChatIDs)), 10)
	return append(b, '}')
}
