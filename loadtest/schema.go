package loadtest

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaJSON is the JSON Schema (draft 2020-12) of the results file,
// described in words in docs/loadtest-schema.md.
//
//go:embed schema.json
var SchemaJSON []byte

// ValidateJSON checks a results document against SchemaJSON and returns
// every violation, each naming its JSON path.
func ValidateJSON(doc []byte) error {
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
	if err != nil {
		return fmt.Errorf("schema.json: %w", err)
	}
	const id = "https://github.com/kura-go/kura/loadtest/schema.json" // its $id
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, schema); err != nil {
		return fmt.Errorf("schema.json: %w", err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		return fmt.Errorf("schema.json: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("results: not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("results do not match schema: %w", err)
	}
	return nil
}
