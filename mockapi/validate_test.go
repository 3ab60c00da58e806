package mockapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// validate checks v against the JSON Schema s (both decoded with
// encoding/json) with santhosh-tekuri/jsonschema, independently of the
// generator, and returns the violations, each naming its JSON path (none
// when v conforms). The schemas are self-contained ($refs point into s).
func validate(s, v any) []string {
	const path = "$"
	c := jsonschema.NewCompiler()
	if draft4(s) {
		c.DefaultDraft(jsonschema.Draft4) // boolean exclusiveMinimum/Maximum, which the generator also honours
	}
	const id = "mem://schema.json"
	if err := c.AddResource(id, reencode(s)); err != nil {
		return []string{path + ": schema: " + err.Error()}
	}
	sch, err := c.Compile(id)
	if err != nil {
		return []string{path + ": schema: " + err.Error()}
	}
	err = sch.Validate(reencode(v))
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []string{path + ": " + err.Error()}
	}
	var out []string
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, path+"/"+joinLocation(e.InstanceLocation)+": "+e.Error())
			return
		}
		for _, c := range e.Causes {
			leaves(c)
		}
	}
	leaves(ve)
	return out
}

// draft4 reports whether the schema uses draft-04's boolean
// exclusiveMinimum/exclusiveMaximum anywhere.
func draft4(s any) bool {
	switch s := s.(type) {
	case map[string]any:
		for k, v := range s {
			if _, isBool := v.(bool); isBool && (k == "exclusiveMinimum" || k == "exclusiveMaximum") {
				return true
			}
			if draft4(v) {
				return true
			}
		}
	case []any:
		for _, v := range s {
			if draft4(v) {
				return true
			}
		}
	}
	return false
}

// reencode turns a value decoded by encoding/json into the library's
// representation (numbers as json.Number).
func reencode(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // values decoded from JSON always encode
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	return out
}

func joinLocation(loc []string) string {
	var b bytes.Buffer
	for i, l := range loc {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(l)
	}
	return b.String()
}

// The validator itself must reject what it should, or its silence proves nothing.
func TestValidatorRejects(t *testing.T) {
	schema := `{"type":"object","properties":{"a":{"type":"integer","minimum":1,"maximum":5},
		"b":{"anyOf":[{"type":"string","maxLength":3},{"type":"null"}]},"c":{"type":"array","items":{"enum":["x","y"]},"minItems":1,"uniqueItems":true},
		"d":{"$ref":"#/$defs/D"}},"required":["a","d"],"additionalProperties":false,"$defs":{"D":{"type":"number","exclusiveMaximum":1}}}`
	tests := []struct {
		doc  string
		errs int // 0: valid; else invalid
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
		if errs := validate(s, v); (len(errs) == 0) != (tt.errs == 0) {
			t.Errorf("validate(%s) = %q, want valid %v", tt.doc, errs, tt.errs == 0)
		}
	}
}
