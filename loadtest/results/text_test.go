package results

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/analysis"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

// The terminal report of two real runs (testdata/run.json: the default
// scales; testdata/repeat.json: --repeat 3), compared with golden files.
// At 80 columns no line is longer than 80 bytes, and the report without
// --details fits one screen with the lines kura loadtest prints before it.
func TestReportGolden(t *testing.T) {
	tests := []struct {
		name, input string
		opt         Options
		maxLines    int // 0 = no limit
	}{
		{"report80", "run.json", Options{Width: 80}, 30},
		{"report80_details", "run.json", Options{Width: 80, Details: true}, 0},
		{"report80_repeat", "repeat.json", Options{Width: 80}, 30},
		{"report60", "run.json", Options{Width: 60}, 0},
		{"report_wide", "run.json", Options{Width: 80, Wide: true}, 0},
		{"report160", "run.json", Options{Width: 160}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := loadtest.LoadResults(filepath.Join("testdata", tt.input))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			WriteReport(&out, r, tt.opt)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if !tt.opt.Wide {
				for i, l := range lines {
					if len(l) > tt.opt.Width {
						t.Errorf("line %d is %d bytes, wider than %d: %q", i+1, len(l), tt.opt.Width, l)
					}
				}
			}
			if tt.maxLines > 0 && len(lines) > tt.maxLines {
				t.Errorf("%d lines, more than %d", len(lines), tt.maxLines)
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("report differs from %s (-update to accept an intended change):\n%s", golden, out.String())
			}
		})
	}
}

// The Markdown report of a real run, compared with a golden file.
func TestMarkdownGolden(t *testing.T) {
	r, err := loadtest.LoadResults(filepath.Join("testdata", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	WriteMarkdown(&out, r)
	golden := filepath.Join("testdata", "report.md.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("Markdown differs from %s (-update to accept an intended change):\n%s", golden, out.String())
	}
	if !strings.Contains(out.String(), "| Scale | Time s |") || !strings.Contains(out.String(), "- **Memory**: ") {
		t.Errorf("no table or summary list:\n%s", out.String())
	}
}

func TestVerdictOf(t *testing.T) {
	tests := []struct {
		verdict string
		eff     float64
		want    string
	}{
		{"better than linear (sub-linear growth): good", 2.5, "better than linear (eff. 2.50)"},
		{"linear: grows in step with the data", 1, "linear (eff. 1.00)"},
		{"too small to judge (3.69 ms at the first scale, under 10 ms); see the fit", 0.2, "too small to judge (eff. 0.20)"},
		{"super-linear: the cluster stage grows as n^1.58 (CPU time power law 1.7e-06·n^1.58 (R²=0.986)); the total follows it at larger scales: concerning", 0.96,
			"super-linear: the cluster stage grows as n^1.58"},
		{"super-linear: working memory grows as n^1.20 (power law): concerning", 3, "super-linear: working memory grows as n^1.20"},
	}
	for _, tt := range tests {
		r := &loadtest.Results{Analysis: &analysis.Analysis{Ratios: []analysis.Ratio{{Metric: "total_time", Verdict: tt.verdict, Efficiency: tt.eff}}}}
		if got := verdictOf(r, "total_time"); got != tt.want {
			t.Errorf("verdictOf(%q) = %q, want %q", tt.verdict, got, tt.want)
		}
	}
}

// A --plan-for volume far beyond the scales gets its own warning in the
// summary, not only in the JSON: the target's note ("2.5×") must not be
// the only one a reader sees when they also planned for 10,000,000.
func TestSummaryShowsOtherVolumesNotes(t *testing.T) {
	r, err := loadtest.LoadResults(filepath.Join("testdata", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Planning == nil {
		t.Fatal("fixture without planning")
	}
	far := *r.Planning
	far.TargetConversations = 10000000
	far.Notes = append([]string{"the target is 5000× the largest scale measured (2,000): measure closer"}, r.Planning.Notes...)
	r.Plans = append(r.Plans, &far)
	var out bytes.Buffer
	WriteReport(&out, r, Options{Width: 80})
	text := strings.Join(strings.Fields(out.String()), " ")
	if !strings.Contains(text, "Note for 10,000,000: the target is 5000× the largest scale measured") {
		t.Errorf("the far volume's note is missing:\n%s", out.String())
	}
	for _, note := range r.Planning.Notes { // the target's notes once, not again under the other volume
		if n := strings.Count(text, strings.Join(strings.Fields(note), " ")); n != 1 {
			t.Errorf("note %q printed %d times", note, n)
		}
	}
}
