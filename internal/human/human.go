// Package human formats numbers for people: sizes in binary units, counts
// with thousands separators, durations and dollar amounts, as kura's
// reports print them.
package human

import (
	"fmt"
	"strconv"
	"strings"
)

// Bytes formats a size in binary units, labelled as such (1 MiB = 2^20
// bytes).
func Bytes(v float64) string {
	switch {
	case v >= 1<<40:
		return fmt.Sprintf("%.1f TiB", v/(1<<40))
	case v >= 1<<30:
		return fmt.Sprintf("%.1f GiB", v/(1<<30))
	case v >= 10<<20:
		return fmt.Sprintf("%.0f MiB", v/(1<<20))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.0f KiB", v/(1<<10))
	default:
		return fmt.Sprintf("%.0f bytes", v)
	}
}

// Thousands formats n with a comma every three digits: 10000 is "10,000".
func Thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && c != '-' && (len(s)-i)%3 == 0 && !(i == 1 && s[0] == '-') {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Count formats n with thousands separators and the noun in the number
// n takes: Count(1, "request", "requests") is "1 request", Count(1200,
// ...) "1,200 requests".
func Count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Thousands(int(n)) + " " + many
}

// Duration formats seconds in the largest unit that keeps a readable
// number: "4.80s", "95s", "12.5 min", "3.1 h".
func Duration(s float64) string {
	switch {
	case s < 10:
		return fmt.Sprintf("%.2fs", s)
	case s < 120:
		return fmt.Sprintf("%.0fs", s)
	case s < 7200:
		return fmt.Sprintf("%.1f min", s/60)
	default:
		return fmt.Sprintf("%.1f h", s/3600)
	}
}

// Seconds formats seconds as a bare number, with three decimals below 10 s
// and one above.
func Seconds(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// USD formats a dollar amount without the sign: "0" for nothing, six
// decimals below a tenth of a cent, else four.
func USD(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 0.001:
		return fmt.Sprintf("%.6f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}
