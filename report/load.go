package report

import (
	"fmt"

	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/gate"
)

// Load reads results files (load_test_results_*.json) for Render. The first
// file that cannot be read stops it with an error naming the file.
func Load(paths []string) ([]Input, error) {
	var out []Input
	for _, p := range paths {
		res, err := loadtest.LoadResults(p)
		if err != nil {
			return nil, err
		}
		if err := checkMeasured(p, res); err != nil {
			return nil, err
		}
		out = append(out, Input{Path: p, Results: res})
	}
	return out, nil
}

// Decode reads the contents of a results file named name, with the same
// checks as Load (for callers that open files themselves, such as the
// kura serve dashboard).
func Decode(name string, data []byte) (*loadtest.Results, error) {
	res, err := loadtest.DecodeResults(name, data)
	if err != nil {
		return nil, err
	}
	if err := checkMeasured(name, res); err != nil {
		return nil, err
	}
	return res, nil
}

// checkMeasured refuses results with a number no measurement can have (a
// negative time), which would be drawn as if measured, naming the file,
// scale and field, as kura loadtest --compare does (gate.Check).
func checkMeasured(name string, res *loadtest.Results) error {
	if err := gate.Check(res); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Runs builds the chart model of decoded results (for pages that draw the
// charts themselves, such as the kura serve dashboard).
func Runs(inputs []Input) *Model {
	m := &Model{}
	for _, in := range inputs {
		m.Runs = append(m.Runs, NewRun(in.Path, in.Results))
	}
	labelRuns(m.Runs)
	return m
}

// WriteFile renders the inputs into the HTML file path, atomically (a
// failure leaves any earlier file at path as it was).
func WriteFile(path string, inputs []Input, opts Options) error {
	f, err := outfile.Create(path)
	if err != nil {
		return err
	}
	if err := Render(f, inputs, opts); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
