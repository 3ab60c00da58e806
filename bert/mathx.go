package bert

import "math"

// The exact (erf) GELU, the softmax and LayerNorm are internal/f32 kernels;
// these are the other activations a BERT config may name.

// geluTanh applies the tanh approximation of GELU (gelu_new) in place.
func geluTanh(v []float32) {
	const c = 0.7978845608028654 // √(2/π)
	for i, x := range v {
		xf := float64(x)
		v[i] = float32(0.5 * xf * (1 + math.Tanh(c*(xf+0.044715*xf*xf*xf))))
	}
}

func relu(v []float32) {
	for i, x := range v {
		if x < 0 {
			v[i] = 0
		}
	}
}
