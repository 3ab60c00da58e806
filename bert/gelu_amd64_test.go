//go:build amd64 && !purego

package bert

import (
	"testing"
	"unsafe"
)

// TestGeluPolyLayout checks the offsets gelu_amd64.s reads.
func TestGeluPolyLayout(t *testing.T) {
	var p geluPolyTable
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"AbsMask", unsafe.Offsetof(p.AbsMask), 288}, {"UMax", unsafe.Offsetof(p.UMax), 292},
		{"InvStep", unsafe.Offsetof(p.InvStep), 296}, {"Seven", unsafe.Offsetof(p.Seven), 300},
		{"Two", unsafe.Offsetof(p.Two), 304}, {"One", unsafe.Offsetof(p.One), 308},
		{"Half", unsafe.Offsetof(p.Half), 312}, {"SignMask", unsafe.Offsetof(p.SignMask), 316},
	} {
		if c.got != c.want {
			t.Errorf("offset of %s = %d, gelu_amd64.s expects %d", c.name, c.got, c.want)
		}
	}
}

func TestExpConstsLayout(t *testing.T) {
	var k expConstTable
	if unsafe.Offsetof(k.C2) != 16 || unsafe.Offsetof(k.One) != 40 || unsafe.Offsetof(k.Bias) != 44 {
		t.Errorf("expConstTable layout does not match softmax_amd64.s")
	}
}
