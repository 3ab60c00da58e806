// Package loadtest runs kura's load test: one scale after another, each in
// a fresh worker process (Runner; the worker side is RunWorker), so that a
// scale's peak memory is its own. A scale builds its data from the baseline
// (package scaledata), then runs the stages of measure.Pipeline — load,
// embed, cluster, write — measuring each (package measure), and scores the
// clusters against the ground truth. Run then analyses the scales and plans
// production (package analysis).
//
// Config is the run's settings, recorded in the results and sent to each
// worker as JSON on its stdin (ScaleJob); Results is the results document,
// versioned by SchemaVersion and described by schema.json and
// docs/loadtest-schema.md (EncodeJSON, LoadResults; SchemaID names the
// schema for a validator, as internal/schemacheck in the tests).
// Presenting the results is package report's; comparing two runs is package
// gate's.
//
// The embedder and the clusterer come through Toolkit: NewToolkit gives
// kura's, tests give small fakes.
package loadtest
