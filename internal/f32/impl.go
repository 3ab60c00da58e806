package f32

import (
	"fmt"
	"os"
	"unsafe"
)

// ISA identifies a kernel set by the instruction set it is written for.
type ISA uint8

const (
	// Portable is the Go code, compiled for every architecture.
	Portable ISA = iota
	// AVX2 is amd64 assembly for AVX2 with FMA.
	AVX2
	// AVX512 is amd64 assembly for AVX-512 (F, DQ, BW, VL); where no
	// AVX-512 kernel exists for an operation it uses the AVX2 one.
	AVX512
)

func (i ISA) String() string {
	switch i {
	case Portable:
		return "portable"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("ISA(%d)", uint8(i))
}

// impl is one set of kernels. The slices passed to dot, sqDist and axpy are
// non-empty and of equal length (checked by the exported wrappers), and so
// are those passed to the transformer kernels (see nn.go).
type impl struct {
	isa    ISA
	dot    func(a, b []float32) float32
	sqDist func(a, b []float32) float32
	axpy   func(alpha float32, x, y []float32)
	gemm   *gemmKernel
	// dotRows and sqDistRows, if not nil, compute rows results at once,
	// out[j] = dot(a[:n], b[j*ldb:j*ldb+n]) (or sqDist) for j < rows,
	// bit-identical to separate calls of dot (sqDist). n >= 1.
	rows                int
	dotRows, sqDistRows func(a, b *float32, ldb, n int, out *float32)
	// biasGELU, softmax and layerNorm implement BiasGELU, ScaledSoftmax
	// and LayerNorm.
	biasGELU  func(x, bias []float32)
	softmax   func(x []float32, scale float32)
	layerNorm func(x, add, bias, gamma, beta []float32, eps float64)
}

// gemmKernel describes a GEMM micro-kernel and the cache blocking the driver
// uses around it.
type gemmKernel struct {
	mr, nr     int // register tile: mr rows × nr columns of C
	mc, kc, nc int // cache blocks: mc rows of A × kc, kc × nc columns of B
	// kern computes the mr×nr tile C = acc (load == 0) or C += acc
	// (load != 0), where acc = Σ_p a[p*mr+i]·b[p*nr+j] over p < k, from
	// a packed A micro-panel (k×mr) and B micro-panel (k×nr).
	kern func(k int, a, b, c *float32, ldc int, load int)
	// kernEdge, if not nil, computes a partial tile straight into C: like
	// kern but only rows < rows and columns < cols are stored, and every
	// stored element is computed exactly as kern would compute it.
	kernEdge func(k int, a, b, c *float32, ldc int, load int, rows, cols int)
	// gather4, if not nil, packs four rows at once for packGather:
	// dst[p*w+r] = alpha·src[r*ld+p] for r < 4, p < kb.
	gather4 func(dst, src *float32, ld, kb, w int, alpha float32)
}

// portable is the pure-Go implementation, available everywhere.
var portable = &impl{
	isa:       Portable,
	dot:       dotGeneric,
	sqDist:    sqDistGeneric,
	axpy:      axpyGeneric,
	gemm:      &gemmKernel{mr: 4, nr: 4, mc: 64, kc: 256, nc: 1024, kern: kernGeneric},
	biasGELU:  biasGELUGeneric,
	softmax:   softmaxGeneric,
	layerNorm: layerNormGeneric,
}

// impls lists the implementations this CPU can run, best first; the last is
// always portable.
var impls = append(append([]*impl(nil), archImpls...), portable)

// active is the implementation the exported functions use. Tests switch it
// to exercise every path.
var active = defaultImpl()

// noAsmEnv is the environment variable that forces the portable path.
const noAsmEnv = "KURA_F32_NOASM"

func defaultImpl() *impl {
	if v := os.Getenv(noAsmEnv); v != "" && v != "0" {
		return portable
	}
	return impls[0]
}

// Implementation returns the instruction set of the kernels in use:
// AVX512, AVX2 or Portable.
func Implementation() ISA { return active.isa }

func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func sqDistGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// kernGeneric is the portable 4×4 micro-kernel.
func kernGeneric(k int, pa, pb, pc *float32, ldc int, load int) {
	a := unsafe.Slice(pa, 4*k)
	b := unsafe.Slice(pb, 4*k)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		ap := a[4*p : 4*p+4 : 4*p+4]
		bp := b[4*p : 4*p+4 : 4*p+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		// Explicit float32 conversions keep compilers from fusing
		// multiply-adds, so every architecture rounds the same way.
		c00 += float32(a0 * b0)
		c01 += float32(a0 * b1)
		c02 += float32(a0 * b2)
		c03 += float32(a0 * b3)
		c10 += float32(a1 * b0)
		c11 += float32(a1 * b1)
		c12 += float32(a1 * b2)
		c13 += float32(a1 * b3)
		c20 += float32(a2 * b0)
		c21 += float32(a2 * b1)
		c22 += float32(a2 * b2)
		c23 += float32(a2 * b3)
		c30 += float32(a3 * b0)
		c31 += float32(a3 * b1)
		c32 += float32(a3 * b2)
		c33 += float32(a3 * b3)
	}
	c := unsafe.Slice(pc, 3*ldc+4)
	r0 := c[0:4:4]
	r1 := c[ldc : ldc+4 : ldc+4]
	r2 := c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r3 := c[3*ldc : 3*ldc+4 : 3*ldc+4]
	if load != 0 {
		c00 += r0[0]
		c01 += r0[1]
		c02 += r0[2]
		c03 += r0[3]
		c10 += r1[0]
		c11 += r1[1]
		c12 += r1[2]
		c13 += r1[3]
		c20 += r2[0]
		c21 += r2[1]
		c22 += r2[2]
		c23 += r2[3]
		c30 += r3[0]
		c31 += r3[1]
		c32 += r3[2]
		c33 += r3[3]
	}
	r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
	r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	r2[0], r2[1], r2[2], r2[3] = c20, c21, c22, c23
	r3[0], r3[1], r3[2], r3[3] = c30, c31, c32, c33
}
