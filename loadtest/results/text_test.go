package results

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/human"
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

// With several volumes far beyond the scales, the warning of what that
// means is given once in full; each other volume's note names only its
// distance and the scales to add, so that the summary stays about a
// screen; and a volume's interval line fits 80 columns.
func TestSummaryFarVolumesWarnedOnce(t *testing.T) {
	r, err := loadtest.LoadResults(filepath.Join("testdata", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	plan := func(n int) *analysis.Planning {
		g := analysis.Goal{Conversations: n, Monthly: 50000, PriceModel: "text-embedding-3-small"}
		return analysis.Plan(r.Scales, r.Analysis, g)
	}
	r.Planning = plan(100000)
	r.Plans = []*analysis.Planning{plan(10000000), plan(1000000)}
	var out bytes.Buffer
	writeSummary(&out, r, false)
	lines := strings.Split(strings.TrimRight(human.Wrap(out.String(), 80), "\n"), "\n")
	text := strings.Join(strings.Fields(out.String()), " ")
	if n := strings.Count(text, "a growth law fitted over the small scales can be off"); n != 1 {
		t.Errorf("the far-extrapolation warning is given %d times, want once:\n%s", n, out.String())
	}
	for _, q := range r.Plans {
		scales, ok := q.FarExtrapolation(r.Analysis, q.Notes[0])
		want := fmt.Sprintf("Note for %s (%.0f× the largest scale) likewise: measure closer with --scales %s",
			human.Thousands(q.TargetConversations), q.Extrapolation, scales)
		if !ok || !strings.Contains(text, want) {
			t.Errorf("summary lacks %q (far %v):\n%s", want, ok, out.String())
		}
	}
	r.Plans[0].TimeForTargetLowS, r.Plans[0].TimeForTargetHighS = 1794, 4314 // 29.9 min-71.9 min, as a 10M plan gave
	out.Reset()
	writeSummary(&out, r, false)
	lines = strings.Split(strings.TrimRight(human.Wrap(out.String(), 80), "\n"), "\n")
	for _, q := range r.Plans {
		iv := planIntervalShort(q)
		if !strings.Contains(strings.Join(lines, "\n"), "  "+iv+"\n") {
			t.Errorf("interval %q is not on one line at 80 columns:\n%s", iv, strings.Join(lines, "\n"))
		}
	}
	if len(lines) > 22 {
		t.Errorf("summary of 3 volumes is %d lines at 80 columns:\n%s", len(lines), strings.Join(lines, "\n"))
	}
}
