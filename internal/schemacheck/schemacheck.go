// Package schemacheck checks JSON documents against a JSON Schema with
// santhosh-tekuri/jsonschema: the load test's results against
// loadtest.SchemaJSON, in tests.
//
// It is a package of its own so that only what checks documents links the
// validator: its package init compiles the meta-schema of every JSON Schema
// draft (10-14 ms, 1.7 MB), which every kura command paid at start-up while
// the kura binary linked it for a check only tests make.
package schemacheck

import (
	"bytes"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validate checks doc against schema (a JSON Schema document whose $id, if
// any, is id) and returns every violation, each naming its JSON path.
func Validate(schema []byte, id string, doc []byte) error {
	s, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, s); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("does not match the schema: %w", err)
	}
	return nil
}
