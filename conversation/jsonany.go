package conversation

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/kura-go/kura/internal/jsonscan"
)

// MaxMetadataDepth is how deeply metadata values may nest: a value directly
// under metadata is at depth 0, the elements of a list or object at depth d
// are at depth d+1, and nothing may be deeper than this.
const MaxMetadataDepth = 64

// This file decodes metadata, the one free-form part of a record, in a single
// pass over its bytes: every byte is looked at a constant number of times
// whatever the nesting, the recursion stops at MaxMetadataDepth while
// decoding (a 100k-deep list fails after 65 levels, not after building
// 100k of them), and the path of a value (metadata.a[3].b) is kept as a stack
// of segments that is only turned into a string for an error.

// pathSeg is one step of a path below metadata: an object key, or a list
// index when isKey is false.
type pathSeg struct {
	key   string
	index int
	isKey bool
}

// metaPath is the path of a value below metadata, kept as a stack of steps
// and only turned into a string ("metadata.a[3].b") for an error.
type metaPath struct{ segs []pathSeg }

func (p *metaPath) push(s pathSeg) { p.segs = append(p.segs, s) }
func (p *metaPath) pop()           { p.segs = p.segs[:len(p.segs)-1] }

// maxPathKey is how much of a long key an error message shows.
const maxPathKey = 40

func (p *metaPath) String() string {
	var sb strings.Builder
	sb.WriteString("metadata")
	for _, s := range p.segs {
		if !s.isKey {
			sb.WriteByte('[')
			sb.WriteString(strconv.Itoa(s.index))
			sb.WriteByte(']')
			continue
		}
		sb.WriteByte('.')
		if len(s.key) > maxPathKey {
			sb.WriteString(s.key[:maxPathKey])
			sb.WriteString("…")
		} else {
			sb.WriteString(s.key)
		}
	}
	return sb.String()
}

func (p *metaPath) errf(format string, a ...any) *RecordError {
	return fieldErr(p.String(), format, a...)
}

// anyDecoder decodes the JSON value b.
type anyDecoder struct {
	b    []byte
	path metaPath
}

func (d *anyDecoder) errf(format string, a ...any) *RecordError {
	return d.path.errf(format, a...)
}

func (d *anyDecoder) syntax(e *jsonscan.SyntaxError) *RecordError {
	return d.errf("%s", e.Error())
}

// decodeMetadataObject decodes raw, which must be a JSON object, into a map
// and its keys in order.
func decodeMetadataObject(raw []byte) (map[string]any, []string, *RecordError) {
	d := anyDecoder{b: raw}
	i := jsonscan.SkipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, nil, fieldErr("metadata", "expected object, got %s", jsonscan.TypeName(raw[i:]))
	}
	m, keys, end, err := d.object(i, -1, true)
	if err != nil {
		return nil, nil, err
	}
	if serr := jsonscan.Trailing(raw, end); serr != nil {
		return nil, nil, d.syntax(serr)
	}
	return m, keys, nil
}

// value decodes the value at b[i] (after white space), at depth depth, and
// returns it with the index just after it.
func (d *anyDecoder) value(i, depth int) (any, int, *RecordError) {
	b := d.b
	i = jsonscan.SkipWS(b, i)
	if i >= len(b) {
		return nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Truncated: true})
	}
	switch b[i] {
	case '"':
		end, serr := jsonscan.SkipString(b, i)
		if serr != nil {
			return nil, 0, d.syntax(serr)
		}
		s, err := jsonscan.String(b[i:end])
		if err != nil {
			return nil, 0, d.errf("%v", err)
		}
		return s, end, nil
	case '{':
		m, _, end, err := d.object(i, depth, false)
		return m, end, err
	case '[':
		return d.list(i, depth)
	case ',', ':', '}', ']':
		return nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Msg: "expected a value, found " + jsonscan.DescribeByte(b, i)})
	}
	end := i
	for end < len(b) && !jsonscan.IsSpace(b[end]) && b[end] != ',' && b[end] != '}' && b[end] != ']' && b[end] != ':' {
		end++
	}
	tok := b[i:end]
	switch string(tok) {
	case "true":
		return true, end, nil
	case "false":
		return false, end, nil
	case "null":
		return nil, end, nil
	}
	if jsonscan.IsNumber(tok) {
		return json.Number(tok), end, nil
	}
	return nil, 0, d.errf("invalid JSON value %s", jsonscan.TypeName(tok))
}

// tooDeep is the error for an element that would sit below MaxMetadataDepth.
func (d *anyDecoder) tooDeep() *RecordError {
	return d.errf("nested more than %d levels deep", MaxMetadataDepth)
}

// object decodes the object at b[i] == '{'. Its members are at depth+1; top
// marks the metadata object itself, whose keys are returned in order.
func (d *anyDecoder) object(i, depth int, top bool) (map[string]any, []string, int, *RecordError) {
	b := d.b
	m := map[string]any{}
	var keys []string
	i = jsonscan.SkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return m, keys, i + 1, nil
	}
	for {
		if i >= len(b) {
			return nil, nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Truncated: true})
		}
		if b[i] != '"' {
			return nil, nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Msg: "expected a quoted field name, found " + jsonscan.DescribeByte(b, i)})
		}
		end, serr := jsonscan.SkipString(b, i)
		if serr != nil {
			return nil, nil, 0, d.syntax(serr)
		}
		key, kerr := jsonscan.String(b[i:end])
		if kerr != nil {
			return nil, nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Msg: kerr.Error()})
		}
		i = jsonscan.SkipWS(b, end)
		if i >= len(b) {
			return nil, nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Truncated: true})
		}
		if b[i] != ':' {
			return nil, nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Msg: "expected ':' after field name, found " + jsonscan.DescribeByte(b, i)})
		}
		d.path.push(pathSeg{key: key, isKey: true})
		if _, dup := m[key]; dup {
			return nil, nil, 0, d.errf("duplicate key")
		}
		if depth+1 > MaxMetadataDepth {
			return nil, nil, 0, d.tooDeep()
		}
		v, vend, err := d.value(i+1, depth+1)
		if err != nil {
			return nil, nil, 0, err
		}
		d.path.pop()
		m[key] = v
		if top {
			keys = append(keys, key)
		}
		i = jsonscan.SkipWS(b, vend)
		if i >= len(b) {
			return nil, nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Truncated: true})
		}
		switch b[i] {
		case ',':
			i = jsonscan.SkipWS(b, i+1)
		case '}':
			return m, keys, i + 1, nil
		default:
			return nil, nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Msg: "expected ',' or '}' after a field, found " + jsonscan.DescribeByte(b, i)})
		}
	}
}

// list decodes the list at b[i] == '['; its elements are at depth+1.
func (d *anyDecoder) list(i, depth int) ([]any, int, *RecordError) {
	b := d.b
	out := []any{}
	i = jsonscan.SkipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, i + 1, nil
	}
	for {
		d.path.push(pathSeg{index: len(out)})
		if depth+1 > MaxMetadataDepth {
			return nil, 0, d.tooDeep()
		}
		v, end, err := d.value(i, depth+1)
		if err != nil {
			return nil, 0, err
		}
		d.path.pop()
		out = append(out, v)
		i = jsonscan.SkipWS(b, end)
		if i >= len(b) {
			return nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Truncated: true})
		}
		switch b[i] {
		case ',':
			i = jsonscan.SkipWS(b, i+1)
		case ']':
			return out, i + 1, nil
		default:
			return nil, 0, d.syntax(&jsonscan.SyntaxError{Off: i, Msg: "expected ',' or ']' in a list, found " + jsonscan.DescribeByte(b, i)})
		}
	}
}
