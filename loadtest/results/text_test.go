package results

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/loadtest"
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
