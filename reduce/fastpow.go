package reduce

import "math"

// powPos returns x^y for x > 0 with a relative error below about 1e-6 over
// the range the SGD uses (x a squared distance, y = b or b − 1, |y·log2 x| <
// 1000), several times faster than math.Pow: x^y = 2^(y·log2 x) with
// log2 from the exponent bits and an odd series in (m−1)/(m+1), and 2^f from
// its Taylor series on [−½, ½].
func powPos(x, y float64) float64 {
	bits := math.Float64bits(x)
	e := int64(bits>>52&0x7ff) - 1023
	if e == -1023 || e == 1024 { // zero, subnormal, Inf or NaN: rare, exact path
		return math.Pow(x, y)
	}
	m := math.Float64frombits(bits&(1<<52-1) | 1023<<52) // [1, 2)
	if m > math.Sqrt2 {
		m /= 2
		e++
	}
	t := (m - 1) / (m + 1) // |t| < 0.172
	t2 := t * t
	ln := 2 * t * (1 + t2*(1.0/3+t2*(1.0/5+t2*(1.0/7+t2*(1.0/9)))))
	l := float64(e) + ln*math.Log2E
	v := y * l
	if v < -1020 {
		return 0
	}
	if v > 1020 {
		return math.Inf(1)
	}
	k := math.Floor(v + 0.5)
	f := (v - k) * math.Ln2 // |f| ≤ ln2/2
	p := 1 + f*(1+f*(1.0/2+f*(1.0/6+f*(1.0/24+f*(1.0/120+f*(1.0/720+f*(1.0/5040)))))))
	return math.Float64frombits(math.Float64bits(p) + uint64(int64(k))<<52)
}
