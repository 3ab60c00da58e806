package reduce

import "math"

// powf returns x^y for x > 0 in float32, with a relative error below
// about 2e-5 for |y| ≤ 2 over the normal float32 range (the SGD's squared
// distances and y = b or b − 1): x^y = 2^(y·log2 x), log2 of the mantissa and
// 2^frac by polynomials fitted on Chebyshev nodes (log2(1+t) = t·q(t),
// |error| < 9e-6; 2^f relative error < 4e-6). It is several times faster
// than math.Pow, which dominated the SGD; umap-learn computes these powers
// in float32 too. Subnormal x gives 0, +Inf gives +Inf.
func powf(x, y float32) float32 {
	bits := math.Float32bits(x)
	e := int32(bits>>23&0xff) - 127
	if e == -127 {
		return 0
	}
	if e == 128 {
		return float32(math.Inf(1))
	}
	t := math.Float32frombits(bits&(1<<23-1)|127<<23) - 1 // [0, 1)
	q := 1.4426832519538224 + t*(-0.7204423705223679+t*(0.46930168762404145+t*(-0.30338966827741676+t*(0.14643361536196625+t*-0.03459521140226069))))
	v := y * (float32(e) + t*q)
	if v < -126 {
		return 0
	}
	if v > 127 {
		return float32(math.Inf(1))
	}
	k := int32(v) // floor, without math.Floor's call
	if float32(k) > v {
		k--
	}
	f := v - float32(k) // [0, 1)
	p := 1.0000035971445629 + f*(0.6929695509319114+f*(0.24162132266296762+f*(0.05171773546010264+f*0.013683982893894992)))
	return math.Float32frombits(math.Float32bits(p) + uint32(k)<<23)
}
