package loadtest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// SchemaJSON is the JSON Schema (draft 2020-12) of the results file. It uses
// only type, properties, required, additionalProperties (boolean), items,
// enum, minimum, const, anyOf and local $ref, which ValidateJSON implements.
//
//go:embed schema.json
var SchemaJSON []byte

// ValidateJSON checks a results document against SchemaJSON and returns
// every violation, each naming its JSON path.
func ValidateJSON(doc []byte) error {
	var schema map[string]any
	if err := json.Unmarshal(SchemaJSON, &schema); err != nil {
		return fmt.Errorf("schema.json: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("results: not JSON: %w", err)
	}
	s := &schemaValidator{root: schema}
	s.check("$", v, schema)
	if len(s.errs) > 0 {
		sort.Strings(s.errs)
		return fmt.Errorf("results do not match schema: %s", strings.Join(s.errs, "; "))
	}
	return nil
}

type schemaValidator struct {
	root map[string]any
	errs []string
}

func (s *schemaValidator) fail(path, format string, a ...any) {
	s.errs = append(s.errs, path+": "+fmt.Sprintf(format, a...))
}

func (s *schemaValidator) resolve(ref string) map[string]any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = s.root
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	m, _ := cur.(map[string]any)
	return m
}

func (s *schemaValidator) check(path string, v any, sch map[string]any) {
	if ref, ok := sch["$ref"].(string); ok {
		target := s.resolve(ref)
		if target == nil {
			s.fail(path, "schema reference %s not found", ref)
			return
		}
		sch = target
	}
	if alts, ok := sch["anyOf"].([]any); ok {
		var branchErrs []string
		matched := false
		for _, b := range alts {
			bs, _ := b.(map[string]any)
			sub := &schemaValidator{root: s.root}
			sub.check(path, v, bs)
			if len(sub.errs) == 0 {
				matched = true
				break
			}
			branchErrs = append(branchErrs, sub.errs...)
		}
		if !matched {
			s.fail(path, "matches no alternative: %s", strings.Join(branchErrs, "; "))
		}
	}
	if t, ok := sch["type"]; ok && !typeMatches(v, t) {
		s.fail(path, "is %s, want %v", jsonType(v), t)
		return
	}
	if c, ok := sch["const"]; ok && !equalJSON(v, c) {
		s.fail(path, "is %v, want %v", v, c)
	}
	if e, ok := sch["enum"].([]any); ok {
		found := false
		for _, x := range e {
			if equalJSON(v, x) {
				found = true
			}
		}
		if !found {
			s.fail(path, "is %v, want one of %v", v, e)
		}
	}
	if minV, ok := sch["minimum"].(float64); ok {
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil && f < minV {
				s.fail(path, "is %v, want >= %v", f, minV)
			}
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := sch["properties"].(map[string]any)
		if req, ok := sch["required"].([]any); ok {
			for _, r := range req {
				if _, present := x[r.(string)]; !present {
					s.fail(path, "missing required field %q", r)
				}
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				s.check(path+"."+k, x[k], ps)
			} else if ap, ok := sch["additionalProperties"].(bool); ok && !ap {
				s.fail(path, "unexpected field %q", k)
			}
		}
	case []any:
		if is, ok := sch["items"].(map[string]any); ok {
			for i, e := range x {
				s.check(fmt.Sprintf("%s[%d]", path, i), e, is)
			}
		}
	}
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && !strings.ContainsAny(string(x), ".eE") {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeMatches(v any, t any) bool {
	got := jsonType(v)
	ok := func(want string) bool {
		return want == got || want == "number" && got == "integer"
	}
	switch w := t.(type) {
	case string:
		return ok(w)
	case []any:
		for _, x := range w {
			if s, _ := x.(string); ok(s) {
				return true
			}
		}
	}
	return false
}

func equalJSON(a, b any) bool {
	if n, ok := a.(json.Number); ok {
		f, err := n.Float64()
		g, ok2 := b.(float64)
		return err == nil && ok2 && f == g
	}
	return a == b
}
