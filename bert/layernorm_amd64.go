//go:build amd64 && !purego

package bert

import "math"

//go:noescape
func lnSumAVX2(x, add, bias *float32, blocks int) float32

//go:noescape
func lnVarAVX2(x *float32, blocks int, mean float32) float32

//go:noescape
func lnApplyAVX2(x, gamma, beta *float32, blocks int, mean, inv float32)

// layerNorm sets x = LayerNorm(add + bias + x)·g + b, with the biased
// variance as in PyTorch; add and bias may be nil.
func layerNorm(x, add, bias, g, b []float32, eps float64) {
	n := len(x)
	if !useAVX2 || n%8 != 0 || n == 0 {
		layerNormGo(x, add, bias, g, b, eps)
		return
	}
	g, b = g[:n], b[:n]
	var pa, pb *float32
	if add != nil {
		add, bias = add[:n], bias[:n]
		pa, pb = &add[0], &bias[0]
	}
	sum := lnSumAVX2(&x[0], pa, pb, n/8)
	mean := sum / float32(n)
	ss := lnVarAVX2(&x[0], n/8, mean)
	inv := float32(1 / math.Sqrt(float64(ss)/float64(n)+eps))
	lnApplyAVX2(&x[0], &g[0], &b[0], n/8, mean, inv)
}
