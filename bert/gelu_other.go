//go:build !amd64 || purego

package bert

const useAVX2 = false

// geluBias sets x[i] = GELU(x[i] + bias[i]) (exact, erf form).
func geluBias(x, bias []float32) {
	bias = bias[:len(x)]
	for i := range x {
		x[i] += bias[i]
	}
	geluErf(x)
}
