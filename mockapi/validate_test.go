package mockapi

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// validate checks v against schema s (decoded with encoding/json into
// map[string]any etc.) and returns every violation found. It is written
// independently of the generator and covers the keywords the generator
// claims to honour, plus additionalProperties.
func validate(root, s any, v any, path string) []string {
	sch, ok := s.(map[string]any)
	if !ok {
		if b, isBool := s.(bool); isBool && !b {
			return []string{path + ": schema false accepts nothing"}
		}
		return nil
	}
	var errs []string
	fail := func(format string, a ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, a...)) }
	if ref, ok := sch["$ref"].(string); ok {
		target := root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := target.(map[string]any)
			target = m[part]
		}
		if target == nil {
			fail("unresolvable $ref %q", ref)
		} else {
			errs = append(errs, validate(root, target, v, path)...)
		}
	}
	if c, ok := sch["const"]; ok && !reflect.DeepEqual(c, v) {
		fail("%v is not the const %v", v, c)
	}
	if e, ok := sch["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || reflect.DeepEqual(x, v)
		}
		if !found {
			fail("%v not in enum %v", v, e)
		}
	}
	if all, ok := sch["allOf"].([]any); ok {
		for _, b := range all {
			errs = append(errs, validate(root, b, v, path)...)
		}
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		if alt, ok := sch[kw].([]any); ok {
			matches := 0
			for _, b := range alt {
				if len(validate(root, b, v, path)) == 0 {
					matches++
				}
			}
			if matches == 0 || kw == "oneOf" && matches > 1 {
				fail("%s: %d branches match", kw, matches)
			}
		}
	}
	if t, ok := sch["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		okType := false
		for _, name := range types {
			okType = okType || hasType(v, name)
		}
		if !okType {
			fail("%#v is not of type %v", v, t)
			return errs
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := sch["properties"].(map[string]any)
		if req, ok := sch["required"].([]any); ok {
			for _, k := range req {
				if _, ok := v[k.(string)]; !ok {
					fail("missing required property %q", k)
				}
			}
		}
		for k, x := range v {
			if ps, ok := props[k]; ok {
				errs = append(errs, validate(root, ps, x, path+"."+k)...)
			} else if ap, ok := sch["additionalProperties"]; ok && ap == false {
				fail("additional property %q", k)
			}
		}
	case []any:
		if n, ok := sch["minItems"].(float64); ok && float64(len(v)) < n {
			fail("%d items, fewer than minItems %v", len(v), n)
		}
		if n, ok := sch["maxItems"].(float64); ok && float64(len(v)) > n {
			fail("%d items, more than maxItems %v", len(v), n)
		}
		prefix, _ := sch["prefixItems"].([]any)
		for i, x := range v {
			p := fmt.Sprintf("%s[%d]", path, i)
			if i < len(prefix) {
				errs = append(errs, validate(root, prefix[i], x, p)...)
			} else if items, ok := sch["items"]; ok {
				errs = append(errs, validate(root, items, x, p)...)
			}
		}
		if u, ok := sch["uniqueItems"].(bool); ok && u {
			for i := range v {
				for j := i + 1; j < len(v); j++ {
					if reflect.DeepEqual(v[i], v[j]) {
						fail("items %d and %d are equal", i, j)
					}
				}
			}
		}
	case float64:
		if m, ok := sch["minimum"].(float64); ok && v < m {
			fail("%v < minimum %v", v, m)
		}
		if m, ok := sch["maximum"].(float64); ok && v > m {
			fail("%v > maximum %v", v, m)
		}
		if ex, _ := sch["exclusiveMinimum"].(bool); ex && v <= sch["minimum"].(float64) {
			fail("%v <= exclusive minimum %v", v, sch["minimum"])
		}
		if ex, _ := sch["exclusiveMaximum"].(bool); ex && v >= sch["maximum"].(float64) {
			fail("%v >= exclusive maximum %v", v, sch["maximum"])
		}
		if m, ok := sch["exclusiveMinimum"].(float64); ok && v <= m {
			fail("%v <= exclusiveMinimum %v", v, m)
		}
		if m, ok := sch["exclusiveMaximum"].(float64); ok && v >= m {
			fail("%v >= exclusiveMaximum %v", v, m)
		}
		if m, ok := sch["multipleOf"].(float64); ok {
			if q := v / m; math.Abs(q-math.Round(q)) > 1e-9 {
				fail("%v is not a multiple of %v", v, m)
			}
		}
	case string:
		n := utf8.RuneCountInString(v)
		if m, ok := sch["minLength"].(float64); ok && float64(n) < m {
			fail("%q shorter than minLength %v", v, m)
		}
		if m, ok := sch["maxLength"].(float64); ok && float64(n) > m {
			fail("%q longer than maxLength %v", v, m)
		}
		switch sch["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				fail("%q is not a date-time", v)
			}
		case "uuid":
			if len(v) != 36 || strings.Count(v, "-") != 4 {
				fail("%q is not a uuid", v)
			}
		}
	}
	return errs
}

func hasType(v any, name string) bool {
	switch name {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// The validator itself must reject what it should, or its silence proves nothing.
func TestValidatorRejects(t *testing.T) {
	schema := `{"type":"object","properties":{"a":{"type":"integer","minimum":1,"maximum":5},
		"b":{"anyOf":[{"type":"string","maxLength":3},{"type":"null"}]},"c":{"type":"array","items":{"enum":["x","y"]},"minItems":1,"uniqueItems":true},
		"d":{"$ref":"#/$defs/D"}},"required":["a","d"],"additionalProperties":false,"$defs":{"D":{"type":"number","exclusiveMaximum":1}}}`
	tests := []struct {
		doc  string
		errs int
	}{
		{`{"a":3,"b":null,"c":["x"],"d":0.5}`, 0},
		{`{"a":3.5,"d":0.5}`, 1},
		{`{"a":6,"d":0.5}`, 1},
		{`{"a":1,"b":"long","d":0.5}`, 1},
		{`{"a":1,"c":[],"d":0.5}`, 1},
		{`{"a":1,"c":["x","x"],"d":0.5}`, 1},
		{`{"a":1,"c":["z"],"d":0.5}`, 1},
		{`{"a":1,"d":1}`, 1},
		{`{"a":1}`, 1},
		{`{"a":1,"d":0,"e":1}`, 1},
	}
	var s any
	if err := json.Unmarshal([]byte(schema), &s); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		var v any
		if err := json.Unmarshal([]byte(tt.doc), &v); err != nil {
			t.Fatal(err)
		}
		if errs := validate(s, s, v, "$"); len(errs) != tt.errs {
			t.Errorf("validate(%s) = %q, want %d errors", tt.doc, errs, tt.errs)
		}
	}
}
