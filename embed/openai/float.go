package openai

import (
	"math"
	"strconv"
)

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat32 converts a JSON number (already checked against JSON's
// grammar) to the nearest float32, exactly as strconv.ParseFloat(s, 32)
// does, but several times faster for the short decimals embeddings come as.
//
// Fast path (Clinger): when the decimal mantissa m < 2^53 and the exponent
// |e| <= 22, m and 10^|e| are exact float64s, so m*10^e or m/10^|e| is the
// correctly rounded float64 of the decimal. Rounding that float64 again to
// float32 gives the correctly rounded float32 unless the float64 is exactly
// halfway between two float32s (no float32 halfway point can lie strictly
// between the decimal and its nearest float64, as halfway points are
// float64s themselves); that case, and anything outside float32's normal
// range, goes to strconv.
func parseFloat32(s string) (float32, error) {
	var m uint64
	digits, e := 0, 0
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if m == 0 && s[i] == '0' {
			continue // leading zeros carry no digits
		}
		if digits >= 19 {
			return slow(s)
		}
		m = m*10 + uint64(s[i]-'0')
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if m == 0 && s[i] == '0' {
				e--
				continue
			}
			if digits >= 19 {
				return slow(s)
			}
			m = m*10 + uint64(s[i]-'0')
			digits++
			e--
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		x := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if x > 1000 {
				return slow(s)
			}
			x = x*10 + int(s[i]-'0')
		}
		if eneg {
			x = -x
		}
		e += x
	}
	if i != len(s) {
		return slow(s)
	}
	if m == 0 {
		if neg {
			return float32(math.Copysign(0, -1)), nil
		}
		return 0, nil
	}
	if m >= 1<<53 || e < -22 || e > 22 {
		return slow(s)
	}
	f := float64(m)
	if e < 0 {
		f /= pow10[-e]
	} else {
		f *= pow10[e]
	}
	// Halfway between two float32s: the low 29 of float64's 52 mantissa
	// bits are exactly 1 followed by zeros.
	if math.Float64bits(f)&(1<<29-1) == 1<<28 || f < 0x1p-126 || f > math.MaxFloat32 {
		return slow(s)
	}
	if neg {
		f = -f
	}
	return float32(f), nil
}

func slow(s string) (float32, error) {
	f, err := strconv.ParseFloat(s, 32)
	return float32(f), err
}
