package gate

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
	"github.com/kura-go/kura/loadtest"
)

// FuzzCompare feeds arbitrary results files to what --compare does with
// them: decode (loadtest.DecodeResults, as LoadResults and kura report
// read them), Check, then compare with itself and with a real run both
// ways and print the comparison: an error or a verdict, never a panic; a
// file with scales that passes Check never fails the gate against itself; memory
// bounded by the file.
func FuzzCompare(f *testing.F) {
	real, err := os.ReadFile("../results/testdata/run.json")
	if err != nil {
		f.Fatal(err)
	}
	base, err := loadtest.DecodeResults("run.json", real)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	if rep, err := os.ReadFile("../results/testdata/repeat.json"); err == nil {
		f.Add(rep)
	}
	s := string(real)
	f.Add([]byte(strings.Replace(s, `"total_wall_s": `, `"total_wall_s": -`, 1)))
	f.Add([]byte(strings.Replace(s, `"conversations": `, `"conversations": 0`, 1)))
	f.Add([]byte(strings.Replace(s, `"schema_version": `, `"schema_version": 9`, 1)))
	f.Add([]byte(strings.Replace(s, `"scales": [`, `"scales": [`+strings.Repeat(`{"scale":100,"conversations":100,"total_wall_s":1e308},`, 2000), 1)))
	f.Add([]byte(`{"schema_version":1,"scales":[{"scale":100,"conversations":100,"stages":{"embed":{"wall_s":1}},"metadata":` +
		strings.Repeat("[", 50000) + strings.Repeat("]", 50000) + `}]}`))
	f.Add([]byte(`{"schema_version":1,"scales":[{"scale":1,"conversations":1,"total_wall_s":0,"peak_rss_bytes":0,"repeat_wall_s":[1e-300,0]}]}`))
	f.Add([]byte(`{"schema_version":1,"config":{"scales":[` + strings.Repeat("1,", 100000) + `1]}}`))
	f.Add([]byte("not json"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var out bytes.Buffer
		allocbound.Check(t, allocbound.PerByte(len(doc), 64, 4<<20), "results file", func() {
			r, err := loadtest.DecodeResults("f.json", doc)
			if err != nil || Check(r) != nil {
				return
			}
			self := Compare(r, r, 0.2)
			self.Write(&out, "f.json")
			if self.Failed() && len(r.Scales) > 0 { // with no scale nothing is compared, which fails
				t.Fatalf("a results file fails the gate against itself: %v\n%s", self.Err(), out.String())
			}
			for _, c := range []*Comparison{Compare(r, base, 0.2), Compare(base, r, 0.2)} {
				c.Write(&out, "f.json")
				_ = c.Err()
			}
		})
	})
}
