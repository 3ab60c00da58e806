package openai

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestParseFloat32MatchesStrconv checks the fast parser bit for bit against
// strconv.ParseFloat(s, 32) on the ways servers format vector components:
// shortest float32 and float64 forms, fixed and exponent notation, and
// random decimals of every length.
func TestParseFloat32MatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(s string) {
		want, werr := strconv.ParseFloat(s, 32)
		got, err := parseFloat32(s)
		if (err != nil) != (werr != nil) || err == nil && math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("parseFloat32(%q) = %v (%08x), %v; strconv gives %v (%08x), %v",
				s, got, math.Float32bits(got), err, float32(want), math.Float32bits(float32(want)), werr)
		}
	}
	for _, s := range []string{"0", "-0", "0.0", "1", "-1", "0.5", "1e3", "1E-3", "1e+2", "123456789012345678901234",
		"0.000000000000000000000000000000000000000000001", "3.4028235e38", "3.4028236e38", "1e39", "1.17549435e-38",
		"1e-45", "7e-46", "0.30000001192092896", "16777217", "9007199254740993", "0.1", "-0.0123456789"} {
		check(s)
	}
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for i := 0; i < n; i++ {
		x := float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(12)-8)))
		check(strconv.FormatFloat(float64(x), 'g', -1, 32))
		check(strconv.FormatFloat(float64(x), 'g', -1, 64))
		check(strconv.FormatFloat(float64(x), 'f', r.IntN(12), 64))
		check(strconv.FormatFloat(float64(x), 'e', r.IntN(18), 64))
		// Near halfway points between adjacent float32s.
		next := math.Nextafter32(x, float32(math.Inf(1)))
		mid := (float64(x) + float64(next)) / 2
		check(strconv.FormatFloat(mid, 'g', -1, 64))
		check(strconv.FormatFloat(mid, 'e', 8+r.IntN(10), 64))
	}
}

func BenchmarkParseFloat32(b *testing.B) {
	s := "-0.012345678"
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			parseFloat32(s)
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for b.Loop() {
			strconv.ParseFloat(s, 32)
		}
	})
}
