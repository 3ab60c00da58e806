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

// softmaxScaled replaces row by softmax(row·scale), scale > 0.
func softmaxScaled(row []float32, scale float32) { softmaxScaledGo(row, scale) }

// layerNorm sets x = LayerNorm(add + bias + x)·g + b; add and bias may be nil.
func layerNorm(x, add, bias, g, b []float32, eps float64) { layerNormGo(x, add, bias, g, b, eps) }
