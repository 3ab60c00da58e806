// Package loadtest measures what kura's embedding and clustering pipeline
// costs as the data grows: memory, time, storage and API money per scale,
// with the scaling analysis and production planning of Kura's load testing
// guide.
//
// A run takes a baseline (a Kura checkpoint, or the built-in sample corpus)
// and makes one dataset per scale: a stratified subsample below the
// baseline's size, and above it the baseline plus new, distinct records
// recombined within each ground-truth cluster (see BuildDataset), built by
// the worker itself. Each scale
// runs in a fresh worker process (Runner.Worker; the worker side is
// RunWorker), so that its peak memory is its own, and is measured stage by
// stage: load, embed, cluster, write (see RunScale). Analyze compares the
// first and last scales (efficiency = conversation ratio / metric ratio) and
// fits power laws and lines over all scales by least squares; Plan turns the
// fits into RAM, time and money for a target volume. WriteReport, WriteFiles
// (JSON and CSV) and Compare (the regression gate) present the results. The
// JSON layout is versioned (SchemaVersion) and described by schema.json and
// docs/loadtest-schema.md.
//
// The package depends on the rest of kura only through Toolkit, whose
// implementations cmd/kura wires in.
package loadtest
