package loadtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/kura-go/kura/internal/httpapi"
	"github.com/kura-go/kura/loadtest/analysis"
	"github.com/kura-go/kura/loadtest/fit"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/loadtest/scaledata"
)

// SchemaVersion is the version of the results JSON layout described in
// docs/loadtest-schema.md and schema.json. It changes when a field is
// removed or changes meaning; adding a field does not change it.
const SchemaVersion = 2

// Results is everything a load test run produced; it is written as
// load_test_results_YYYYMMDD_HHMMSS.json.
type Results struct {
	SchemaVersion int             `json:"schema_version"`
	StartedAt     time.Time       `json:"started_at"`
	FinishedAt    time.Time       `json:"finished_at"`
	Config        Config          `json:"config"`
	Environment   Environment     `json:"environment"`
	Baseline      scaledata.Info  `json:"baseline"`
	Scales        []measure.Scale `json:"scales"`
	Failures      []Failure       `json:"failures"`
	Skipped       []Skipped       `json:"skipped"`
	// Interrupted is true when the run was cancelled (Ctrl-C) before all
	// scales ran.
	Interrupted bool `json:"interrupted"`
	// Incomplete is true in the file rewritten after each scale while the
	// run goes on: a run killed before its end leaves the scales it
	// completed, marked so. Absent (false) in the final file.
	Incomplete bool               `json:"incomplete,omitempty"`
	Analysis   *analysis.Analysis `json:"analysis"` // null with fewer than two successful scales
	Planning   *analysis.Planning `json:"planning"` // null with fewer than two successful scales
	// Plans is the planning for each --plan-for volume, in order.
	Plans []*analysis.Planning `json:"plans,omitempty"`
}

// VectorDType is how the run stored its vectors, float32 or float16: as the
// last completed scale recorded it, else as configured (float32 when the
// file predates the option).
func (r *Results) VectorDType() string {
	if len(r.Scales) > 0 {
		return r.Scales[len(r.Scales)-1].Storage.DType()
	}
	if r.Config.VectorDType != "" {
		return r.Config.VectorDType
	}
	return "float32"
}

// Environment describes the machine and the kura build that ran the test.
type Environment struct {
	KuraVersion   string `json:"kura_version"`
	KuraCommit    string `json:"kura_commit"`
	GoVersion     string `json:"go_version"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
	CPUModel      string `json:"cpu_model"`
	Cores         int    `json:"cores"`
	GOMAXPROCS    int    `json:"gomaxprocs"`
	TotalMemBytes int64  `json:"total_memory_bytes"`
	Hostname      string `json:"hostname"`
}

// Failure records a scale that did not complete.
type Failure struct {
	Scale int    `json:"scale"`
	Kind  string `json:"kind"` // "error", "timeout" or "interrupted"
	Error string `json:"error"`
}

// Why says in words what stopped the scale, for the reports: its error,
// except for an interrupted scale, whose error is only the context's
// ("context canceled") and says less than that.
func (f Failure) Why() string {
	if f.Kind == "interrupted" {
		return "stopped part way by an interrupt (Ctrl-C or a signal)"
	}
	return f.Error
}

// Skipped records a scale that was not run, and why.
type Skipped struct {
	Scale  int    `json:"scale"`
	Reason string `json:"reason"`
}

// EncodeJSON writes the results as indented JSON. Non-finite numbers (an
// efficiency of a zero metric) are written as null.
func EncodeJSON(w io.Writer, r *Results) error {
	b, err := json.Marshal(sanitize(r))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// sanitize replaces NaN and ±Inf, which JSON cannot hold, by marshalling
// through a generic tree, and redacts secrets in the base URL.
func sanitize(r *Results) any {
	c := *r
	// Credentials in the base URL stay out of the results file.
	if c.Config.Embedder.BaseURL != "" {
		c.Config.Embedder.BaseURL = httpapi.RedactURL(c.Config.Embedder.BaseURL)
	}
	if c.Config.LLM != nil && c.Config.LLM.BaseURL != "" {
		l := *c.Config.LLM
		l.BaseURL = httpapi.RedactURL(l.BaseURL)
		c.Config.LLM = &l
	}
	if r.Analysis != nil {
		a := *r.Analysis
		a.Ratios = append([]analysis.Ratio(nil), a.Ratios...)
		for i := range a.Ratios {
			a.Ratios[i].Ratio = finite(a.Ratios[i].Ratio)
			a.Ratios[i].Efficiency = finite(a.Ratios[i].Efficiency)
		}
		fits := make([]*fit.Fit, len(a.Fits))
		for i, f := range a.Fits {
			g := *f
			g.PowerA, g.PowerB, g.PowerR2 = finite(g.PowerA), finite(g.PowerB), finite(g.PowerR2)
			g.Intercept, g.Slope, g.LinearR2 = finite(g.Intercept), finite(g.Slope), finite(g.LinearR2)
			g.OffsetC, g.OffsetD, g.OffsetE, g.OffsetR2 = finite(g.OffsetC), finite(g.OffsetD), finite(g.OffsetE), finite(g.OffsetR2)
			g.Exponent = finite(g.Exponent)
			fits[i] = &g
		}
		a.Fits = fits
		c.Analysis = &a
	}
	return &c
}

// finite maps NaN and infinities to 0; the verdict says the value was not
// measurable.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// LoadResults reads a results JSON file written by report.WriteFiles.
func LoadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeResults(path, b)
}

// DecodeResults reads the contents of a results file named name (for
// errors): what LoadResults, --compare and kura report read.
func DecodeResults(name string, b []byte) (*Results, error) {
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		// Go's type errors name the field (Results.scales.total_wall_s);
		// syntax errors get their line and column.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(b, se.Offset)
			return nil, fmt.Errorf("%s: not a load test results file (line %d, column %d): %w", name, line, col, err)
		}
		return nil, fmt.Errorf("%s: not a load test results file: %w", name, err)
	}
	if r.SchemaVersion < 1 || r.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d; this kura reads version %d", name, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// lineCol returns the 1-based line and column of byte offset off in b.
func lineCol(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}
