package report

import (
	"github.com/kura-go/kura/loadtest"
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
		out = append(out, Input{Path: p, Results: res})
	}
	return out, nil
}
