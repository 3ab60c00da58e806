//go:build amd64 && !purego

package f32

import (
	"testing"
	"unsafe"
)

// TestNNTableLayout checks that the constants of geluPolyTable and
// expConstTable sit where nn_amd64.s reads them: asmgen numbers them four
// bytes apart in field order, after the 288-byte coefficient array for GELU.
func TestNNTableLayout(t *testing.T) {
	var p geluPolyTable
	var k expConstTable
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"AbsMask", unsafe.Offsetof(p.AbsMask), 288}, {"UMax", unsafe.Offsetof(p.UMax), 292},
		{"InvStep", unsafe.Offsetof(p.InvStep), 296}, {"Seven", unsafe.Offsetof(p.Seven), 300},
		{"Two", unsafe.Offsetof(p.Two), 304}, {"One", unsafe.Offsetof(p.One), 308},
		{"Half", unsafe.Offsetof(p.Half), 312}, {"SignMask", unsafe.Offsetof(p.SignMask), 316},
		{"Log2e", unsafe.Offsetof(k.Log2e), 0}, {"Ln2hi", unsafe.Offsetof(k.Ln2hi), 4},
		{"Ln2lo", unsafe.Offsetof(k.Ln2lo), 8}, {"XMin", unsafe.Offsetof(k.XMin), 12},
		{"C2", unsafe.Offsetof(k.C2), 16}, {"C7", unsafe.Offsetof(k.C7), 36},
		{"One", unsafe.Offsetof(k.One), 40}, {"Bias", unsafe.Offsetof(k.Bias), 44},
	} {
		if c.got != c.want {
			t.Errorf("offset of %s = %d, nn_amd64.s expects %d", c.name, c.got, c.want)
		}
	}
}
