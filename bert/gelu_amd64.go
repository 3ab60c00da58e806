//go:build amd64 && !purego

package bert

import (
	"golang.org/x/sys/cpu"

	"github.com/kura-go/kura/internal/f32"
)

// geluBiasAVX2 sets x[i] = GELU(x[i] + bias[i]) for the first len(x)/8·8
// elements, with the piecewise polynomial of geluPoly (gelu_amd64.s).
//
//go:noescape
func geluBiasAVX2(x, bias *float32, blocks int, poly *geluPolyTable)

// useAVX2 follows internal/f32: the assembly runs when f32 uses its assembly
// kernels (KURA_F32_NOASM unset) and the CPU has AVX2 and FMA.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && f32.Implementation() != f32.Portable

// geluBias sets x[i] = GELU(x[i] + bias[i]) (exact, erf form).
func geluBias(x, bias []float32) {
	bias = bias[:len(x)]
	n := 0
	if useAVX2 && len(x) >= 8 {
		n = len(x) &^ 7
		geluBiasAVX2(&x[0], &bias[0], n/8, &geluPoly)
	}
	for i := n; i < len(x); i++ {
		x[i] += bias[i]
	}
	geluErf(x[n:])
}
