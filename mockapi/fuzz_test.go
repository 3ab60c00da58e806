package mockapi

import (
	"encoding/json"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
)

// FuzzSchemaGenerator feeds arbitrary JSON Schemas to the example
// generator: JSON output or a *TooLargeError, never a panic, and memory
// bounded by the output cap whatever the schema asks for.
func FuzzSchemaGenerator(f *testing.F) {
	for _, s := range []string{`{"type":"object","properties":{"summary":{"type":"string"},"n":{"type":"integer","minimum":1,"maximum":5}},"required":["summary"]}`,
		`{"type":"array","minItems":3,"uniqueItems":true,"items":{"enum":["a","b"]}}`,
		`{"$defs":{"n":{"type":"object","properties":{"c":{"type":"array","items":{"$ref":"#/$defs/n"},"minItems":1}},"required":["c"]}},"$ref":"#/$defs/n"}`,
		`{"type":"string","minLength":100000000}`, `{"type":"array","minItems":50,"items":{"type":"array","minItems":50,"items":{"type":"array","minItems":50}}}`,
		`{"anyOf":[{"type":"null"},{"type":"number","multipleOf":0.001,"exclusiveMinimum":0}]}`, `{"allOf":[{"$ref":"#"}]}`} {
		f.Add([]byte(s), uint64(1))
	}
	f.Fuzz(func(t *testing.T, schema []byte, seed uint64) {
		root, err := decodeOrdered(schema)
		if err != nil {
			return
		}
		const limit = 1 << 20
		var out []byte
		var g *generator
		allocbound.Check(t, allocbound.PerByte(len(schema), 64, 48*limit), "schema", func() {
			g = newGenerator(root, seed, []string{"alpha", "beta"}, limit)
			out = g.generate(nil, root, "", 0, nil)
		})
		if g.err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("generated invalid JSON %.200q", out)
		}
	})
}
