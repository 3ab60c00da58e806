//go:build amd64 && !purego

package f32

import "math"

// Assembly in nn_amd64.s (written by asmgen): each works on whole blocks of
// eight floats, blocks >= 1 unless stated.

// geluPolyAVX2 sets x[i] = GELU(x[i] + bias[i]) for 8·blocks elements
// (blocks >= 0) with the piecewise polynomial of geluPoly.
//
//go:noescape
func geluPolyAVX2(x, bias *float32, blocks int, poly *geluPolyTable)

//go:noescape
func maxAVX2(x *float32, blocks int) float32

//go:noescape
func expSumAVX2(x *float32, blocks int, scale, shift float32, k *expConstTable) float32

//go:noescape
func lnSumAVX2(x, add, bias *float32, blocks int) float32

//go:noescape
func lnVarAVX2(x *float32, blocks int, mean float32) float32

//go:noescape
func lnApplyAVX2(x, gamma, beta *float32, blocks int, mean, inv float32)

var geluPoly = buildGeluPoly()

// expConstTable holds the constants expSumAVX2 reads at fixed offsets
// (asmgen's expConsts), the same as expNeg's.
type expConstTable struct {
	Log2e, Ln2hi, Ln2lo, XMin   float32
	C2, C3, C4, C5, C6, C7, One float32
	Bias                        int32
}

var expConsts = expConstTable{
	Log2e: 1.44269504088896341, Ln2hi: 0.693145751953125, Ln2lo: 1.428606765330187e-06, XMin: -87.33,
	C2: 1.0 / 2, C3: 1.0 / 6, C4: 1.0 / 24, C5: 1.0 / 120, C6: 1.0 / 720, C7: 1.0 / 5040, One: 1, Bias: 127,
}

// biasGELUAVX2 runs the polynomial GELU on whole blocks of eight and the
// portable table GELU on the rest.
func biasGELUAVX2(x, bias []float32) {
	n := len(x) &^ 7
	if n > 0 {
		geluPolyAVX2(&x[0], &bias[0], n/8, &geluPoly)
	}
	biasGELUGeneric(x[n:], bias[n:])
}

// softmaxAVX2 vectorises the maximum and the exponentials of whole blocks of
// eight; rows shorter than eight and rows with an infinite or NaN maximum
// take the portable path.
func softmaxAVX2(row []float32, scale float32) {
	if len(row) < 8 {
		softmaxGeneric(row, scale)
		return
	}
	nv := len(row) &^ 7
	mx := maxAVX2(&row[0], nv/8)
	for _, v := range row[nv:] {
		mx = max(mx, v)
	}
	if math.IsInf(float64(mx), 0) || mx != mx {
		softmaxGeneric(row, scale)
		return
	}
	shift := -mx * scale
	sum := expSumAVX2(&row[0], nv/8, scale, shift, &expConsts)
	for i := nv; i < len(row); i++ {
		e := expNeg(min(row[i]*scale+shift, 0))
		row[i] = e
		sum += e
	}
	Scale(1/sum, row)
}

// layerNormAVX2 vectorises rows whose length is a multiple of eight (float32
// sums); other lengths take the portable path.
func layerNormAVX2(x, add, bias, g, b []float32, eps float64) {
	n := len(x)
	if n%8 != 0 {
		layerNormGeneric(x, add, bias, g, b, eps)
		return
	}
	var pa, pb *float32
	if add != nil {
		pa, pb = &add[0], &bias[0]
	}
	sum := lnSumAVX2(&x[0], pa, pb, n/8)
	mean := sum / float32(n)
	ss := lnVarAVX2(&x[0], n/8, mean)
	inv := float32(1 / math.Sqrt(float64(ss)/float64(n)+eps))
	lnApplyAVX2(&x[0], &g[0], &b[0], n/8, mean, inv)
}
