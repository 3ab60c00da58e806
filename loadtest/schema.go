package loadtest

import _ "embed"

// SchemaJSON is the JSON Schema (draft 2020-12) of the results file,
// described in words in docs/loadtest-schema.md.
//
//go:embed schema.json
var SchemaJSON []byte

// SchemaID is SchemaJSON's $id. Tests check results against the schema with
// internal/schemacheck (schemacheck.Validate(SchemaJSON, SchemaID, doc));
// any JSON Schema 2020-12 validator does.
const SchemaID = "https://github.com/kura-go/kura/loadtest/schema.json"
