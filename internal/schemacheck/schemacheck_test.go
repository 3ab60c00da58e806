package schemacheck

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	const id = "https://example.com/s.json"
	schema := []byte(`{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"` + id + `",
		"type":"object","required":["n"],"properties":{"n":{"type":"integer","minimum":1}},"additionalProperties":false}`)
	tests := []struct {
		name, schema, doc, wantErr string
	}{
		{"valid", string(schema), `{"n": 3}`, ""},
		{"missing field", string(schema), `{}`, "missing property 'n'"},
		{"out of range, names the path", string(schema), `{"n": 0}`, "/n"},
		{"extra field", string(schema), `{"n": 1, "x": 2}`, "additional properties 'x' not allowed"},
		{"not JSON", string(schema), `{"n": `, "not JSON"},
		{"schema not JSON", `{"type":`, `{}`, "schema:"},
		{"schema invalid", `{"$id":"` + id + `","type":"whatever"}`, `{}`, "schema:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate([]byte(tt.schema), id, []byte(tt.doc))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
