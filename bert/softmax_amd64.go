//go:build amd64 && !purego

package bert

import (
	"math"

	"github.com/kura-go/kura/internal/f32"
)

//go:noescape
func maxAVX2(x *float32, blocks int) float32

//go:noescape
func expSumAVX2(x *float32, blocks int, scale, shift float32, k *expConstTable) float32

// expConstTable holds the constants expSumAVX2 reads at fixed offsets.
type expConstTable struct {
	Log2e, Ln2hi, Ln2lo, XMin   float32
	C2, C3, C4, C5, C6, C7, One float32
	Bias                        int32
}

var expConsts = expConstTable{
	Log2e: 1.44269504088896341, Ln2hi: 0.693145751953125, Ln2lo: 1.428606765330187e-06, XMin: -87.33,
	C2: 1.0 / 2, C3: 1.0 / 6, C4: 1.0 / 24, C5: 1.0 / 120, C6: 1.0 / 720, C7: 1.0 / 5040, One: 1, Bias: 127,
}

// softmaxScaled replaces row by softmax(row·scale), scale > 0.
func softmaxScaled(row []float32, scale float32) {
	if !useAVX2 || len(row) < 8 {
		softmaxScaledGo(row, scale)
		return
	}
	nv := len(row) &^ 7
	mx := maxAVX2(&row[0], nv/8)
	for _, v := range row[nv:] {
		mx = max(mx, v)
	}
	if math.IsInf(float64(mx), 0) || mx != mx {
		softmaxScaledGo(row, scale)
		return
	}
	shift := -mx * scale
	sum := expSumAVX2(&row[0], nv/8, scale, shift, &expConsts)
	for i := nv; i < len(row); i++ {
		e := expNeg(min(row[i]*scale+shift, 0))
		row[i] = e
		sum += e
	}
	f32.Scale(1/sum, row)
}
