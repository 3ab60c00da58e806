//go:build ignore

// gen_amd64.go writes gemm_amd64.s, the GEMM micro-kernels. Run it with
// `go generate` (see impl_amd64.go) after changing a tile shape.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// kernel emits func name(k int, a, b, c *float32, ldc int, load int) for an
// mr×(nv·lanes) register tile. AVX-512 kernels multiply by A through
// embedded broadcasts; AVX2 kernels broadcast A into a register first.
func kernel(name string, avx512 bool, mr, nv, unroll int) {
	lanes, reg, vbytes := 8, "Y", 32
	first := 4 // Y0,Y1 hold B, Y2,Y3 broadcasts of A
	if avx512 {
		lanes, reg, vbytes = 16, "Z", 64
		first = 32 - mr*nv
	}
	nr := nv * lanes
	acc := func(r, v int) string { return fmt.Sprintf("%s%d", reg, first+r*nv+v) }
	if first+mr*nv > 32 || (!avx512 && first+mr*nv > 16) || (avx512 && first < nv) {
		log.Fatalf("%s: %d×%d tile does not fit in the registers", name, mr, nr)
	}
	p("// func %s(k int, a, b, c *float32, ldc int, load int)", name)
	p("// %d×%d tile: C = A·B (load == 0) or C += A·B, A packed k×%d, B packed k×%d.", mr, nr, mr, nr)
	p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	p("\tMOVQ k+0(FP), CX")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ b+16(FP), DI")
	p("\tMOVQ c+24(FP), DX")
	p("\tMOVQ ldc+32(FP), R8")
	p("\tMOVQ load+40(FP), R9")
	p("\tSHLQ $2, R8")
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			if avx512 {
				p("\tVPXORD %s, %s, %s", acc(r, v), acc(r, v), acc(r, v))
			} else {
				p("\tVXORPS %s, %s, %s", acc(r, v), acc(r, v), acc(r, v))
			}
		}
	}
	step := func(u int) {
		ao, bo := 4*mr*u, 4*nr*u
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %d(DI), %s%d", bo+v*vbytes, reg, v)
		}
		for r := 0; r < mr; r++ {
			if avx512 {
				for v := 0; v < nv; v++ {
					p("\tVFMADD231PS.BCST %d(SI), %s%d, %s", ao+4*r, reg, v, acc(r, v))
				}
			} else {
				br := fmt.Sprintf("Y%d", 2+r%2)
				p("\tVBROADCASTSS %d(SI), %s", ao+4*r, br)
				for v := 0; v < nv; v++ {
					p("\tVFMADD231PS Y%d, %s, %s", v, br, acc(r, v))
				}
			}
		}
	}
	p("\tCMPQ CX, $%d", unroll)
	p("\tJLT %s_tail", name)
	p("%s_loop:", name)
	for u := 0; u < unroll; u++ {
		step(u)
	}
	p("\tADDQ $%d, SI", 4*mr*unroll)
	p("\tADDQ $%d, DI", 4*nr*unroll)
	p("\tSUBQ $%d, CX", unroll)
	p("\tCMPQ CX, $%d", unroll)
	p("\tJGE %s_loop", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_store", name)
	step(0)
	p("\tADDQ $%d, SI", 4*mr)
	p("\tADDQ $%d, DI", 4*nr)
	p("\tDECQ CX")
	p("\tJMP %s_tail", name)
	p("%s_store:", name)
	p("\tTESTQ R9, R9")
	p("\tJEQ %s_overwrite", name)
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			p("\tVADDPS %d(DX), %s, %s", v*vbytes, acc(r, v), acc(r, v))
			p("\tVMOVUPS %s, %d(DX)", acc(r, v), v*vbytes)
		}
		if r < mr-1 {
			p("\tADDQ R8, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("%s_overwrite:", name)
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %s, %d(DX)", acc(r, v), v*vbytes)
		}
		if r < mr-1 {
			p("\tADDQ R8, DX")
		}
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// edgeKernel emits func name(k int, a, b, c *float32, ldc int, load int,
// rows, cols int) for the AVX-512 edge tiles: it multiplies an mr-row A
// panel by the first nv·16 columns of a B panel packed 16·nvStride wide,
// and writes only rows < rows and columns < cols of C (1 <= rows <= mr,
// 16·(nv-1) < cols <= 16·nv), masking the last vector. Each element is
// computed exactly as the full-tile kernel computes it.
func edgeKernel(name string, mr, nv, nvStride, unroll int) {
	first := 32 - mr*nv
	acc := func(r, v int) string { return fmt.Sprintf("Z%d", first+r*nv+v) }
	if first < 3 {
		log.Fatalf("%s: tile does not fit", name)
	}
	nrStride := 16 * nvStride
	p("// func %s(k int, a, b, c *float32, ldc int, load int, rows, cols int)", name)
	p("// Edge tile: %d×%d computed from B packed %d wide; stores rows < rows, columns < cols.", mr, 16*nv, nrStride)
	p("TEXT ·%s(SB), NOSPLIT, $0-64", name)
	p("\tMOVQ k+0(FP), CX")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ b+16(FP), DI")
	p("\tMOVQ c+24(FP), DX")
	p("\tMOVQ ldc+32(FP), R8")
	p("\tMOVQ load+40(FP), R9")
	p("\tMOVQ rows+48(FP), R10")
	p("\tMOVQ cols+56(FP), AX")
	p("\tSHLQ $2, R8")
	// Mask for the last vector: cols - 16·(nv-1) lanes.
	if nv > 1 {
		p("\tSUBQ $%d, AX", 16*(nv-1))
	}
	p("\tMOVQ $1, BX")
	p("\tMOVQ AX, CX")
	p("\tSHLQ CX, BX")
	p("\tDECQ BX")
	p("\tKMOVW BX, K1")
	p("\tMOVQ k+0(FP), CX")
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			p("\tVPXORD %s, %s, %s", acc(r, v), acc(r, v), acc(r, v))
		}
	}
	step := func(u int) {
		ao, bo := 4*mr*u, 4*nrStride*u
		for v := 0; v < nv; v++ {
			p("\tVMOVUPS %d(DI), Z%d", bo+v*64, v)
		}
		for r := 0; r < mr; r++ {
			for v := 0; v < nv; v++ {
				p("\tVFMADD231PS.BCST %d(SI), Z%d, %s", ao+4*r, v, acc(r, v))
			}
		}
	}
	p("\tCMPQ CX, $%d", unroll)
	p("\tJLT %s_tail", name)
	p("%s_loop:", name)
	for u := 0; u < unroll; u++ {
		step(u)
	}
	p("\tADDQ $%d, SI", 4*mr*unroll)
	p("\tADDQ $%d, DI", 4*nrStride*unroll)
	p("\tSUBQ $%d, CX", unroll)
	p("\tCMPQ CX, $%d", unroll)
	p("\tJGE %s_loop", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_store", name)
	step(0)
	p("\tADDQ $%d, SI", 4*mr)
	p("\tADDQ $%d, DI", 4*nrStride)
	p("\tDECQ CX")
	p("\tJMP %s_tail", name)
	p("%s_store:", name)
	p("\tTESTQ R9, R9")
	p("\tJEQ %s_overwrite", name)
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			if v < nv-1 {
				p("\tVADDPS %d(DX), %s, %s", v*64, acc(r, v), acc(r, v))
				p("\tVMOVUPS %s, %d(DX)", acc(r, v), v*64)
			} else {
				p("\tVMOVUPS.Z %d(DX), K1, Z2", v*64)
				p("\tVADDPS Z2, %s, %s", acc(r, v), acc(r, v))
				p("\tVMOVUPS %s, K1, %d(DX)", acc(r, v), v*64)
			}
		}
		if r < mr-1 {
			p("\tDECQ R10")
			p("\tJEQ %s_done", name)
			p("\tADDQ R8, DX")
		}
	}
	p("\tJMP %s_done", name)
	p("%s_overwrite:", name)
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			if v < nv-1 {
				p("\tVMOVUPS %s, %d(DX)", acc(r, v), v*64)
			} else {
				p("\tVMOVUPS %s, K1, %d(DX)", acc(r, v), v*64)
			}
		}
		if r < mr-1 {
			p("\tDECQ R10")
			p("\tJEQ %s_done", name)
			p("\tADDQ R8, DX")
		}
	}
	p("%s_done:", name)
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// vec4 emits func name(a, b *float32, ldb, n int, out *float32): out[j] =
// Dot(a, b_j) or SqDist(a, b_j) for the four rows b_j = b[j*ldb:], with
// the same accumulators, chunking and final reduction as dotAVX512 and
// sqDistAVX512 in vec_amd64.s, so the results are bit-identical to four
// separate calls.
func vec4(name string, sq bool) {
	rows := []string{"DI", "R10", "R11", "R12"}
	acc := func(j, u int) string { return fmt.Sprintf("Z%d", 4+4*j+u) }
	p("// func %s(a, b *float32, ldb, n int, out *float32)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	p("\tMOVQ a+0(FP), SI")
	p("\tMOVQ b+8(FP), DI")
	p("\tMOVQ ldb+16(FP), R8")
	p("\tMOVQ n+24(FP), CX")
	p("\tSHLQ $2, R8")
	p("\tLEAQ (DI)(R8*1), R10")
	p("\tLEAQ (R10)(R8*1), R11")
	p("\tLEAQ (R11)(R8*1), R12")
	for j := 0; j < 4; j++ {
		for u := 0; u < 4; u++ {
			p("\tVPXORD %s, %s, %s", acc(j, u), acc(j, u), acc(j, u))
		}
	}
	term := func(j, u, areg int, mem string) {
		if sq {
			p("\tVSUBPS %s, Z%d, Z%d", mem, areg, 20+u)
			p("\tVFMADD231PS Z%d, Z%d, %s", 20+u, 20+u, acc(j, u))
		} else {
			p("\tVFMADD231PS %s, Z%d, %s", mem, areg, acc(j, u))
		}
	}
	adv := func(bytes int) {
		p("\tADDQ $%d, SI", bytes)
		for _, r := range rows {
			p("\tADDQ $%d, %s", bytes, r)
		}
	}
	p("\tCMPQ CX, $64")
	p("\tJLT %s_16", name)
	p("%s_64:", name)
	for u := 0; u < 4; u++ {
		p("\tVMOVUPS %d(SI), Z%d", 64*u, u)
	}
	for j, r := range rows {
		for u := 0; u < 4; u++ {
			term(j, u, u, fmt.Sprintf("%d(%s)", 64*u, r))
		}
	}
	adv(256)
	p("\tSUBQ $64, CX")
	p("\tCMPQ CX, $64")
	p("\tJGE %s_64", name)
	p("%s_16:", name)
	p("\tCMPQ CX, $16")
	p("\tJLT %s_tail", name)
	p("\tVMOVUPS (SI), Z0")
	for j, r := range rows {
		term(j, 0, 0, fmt.Sprintf("(%s)", r))
	}
	adv(64)
	p("\tSUBQ $16, CX")
	p("\tJMP %s_16", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_sum", name)
	p("\tMOVL $1, AX")
	p("\tSHLL CX, AX")
	p("\tDECL AX")
	p("\tKMOVW AX, K1")
	p("\tVMOVUPS.Z (SI), K1, Z0")
	for j, r := range rows {
		p("\tVMOVUPS.Z (%s), K1, Z24", r)
		if sq {
			p("\tVSUBPS Z24, Z0, Z24")
			p("\tVFMADD231PS Z24, Z24, %s", acc(j, 1))
		} else {
			p("\tVFMADD231PS Z24, Z0, %s", acc(j, 1))
		}
	}
	p("%s_sum:", name)
	p("\tMOVQ out+32(FP), DX")
	for j := 0; j < 4; j++ {
		p("\tVADDPS %s, %s, Z0", acc(j, 1), acc(j, 0))
		p("\tVADDPS %s, %s, Z2", acc(j, 3), acc(j, 2))
		p("\tVADDPS Z2, Z0, Z0")
		p("\tVEXTRACTF64X4 $1, Z0, Y1")
		p("\tVADDPS Y1, Y0, Y0")
		p("\tVEXTRACTF128 $1, Y0, X1")
		p("\tVADDPS X1, X0, X0")
		p("\tVMOVHLPS X0, X0, X1")
		p("\tVADDPS X1, X0, X0")
		p("\tVMOVSHDUP X0, X1")
		p("\tVADDSS X1, X0, X0")
		p("\tVMOVSS X0, %d(DX)", 4*j)
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// vec2 emits func name(a, b *float32, ldb, n int, out *float32) for AVX2:
// out[j] = Dot(a, b_j) or SqDist(a, b_j) for the two rows b_j = b[j*ldb:],
// bit-identical to dotAVX2 and sqDistAVX2 in vec_amd64.s.
func vec2(name string, sq bool) {
	rows := []string{"DI", "R10"}
	acc := func(j, u int) string { return fmt.Sprintf("Y%d", 4*j+u) }
	p("// func %s(a, b *float32, ldb, n int, out *float32)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	p("\tMOVQ a+0(FP), SI")
	p("\tMOVQ b+8(FP), DI")
	p("\tMOVQ ldb+16(FP), R8")
	p("\tMOVQ n+24(FP), CX")
	p("\tSHLQ $2, R8")
	p("\tLEAQ (DI)(R8*1), R10")
	for j := 0; j < 2; j++ {
		for u := 0; u < 4; u++ {
			p("\tVXORPS %s, %s, %s", acc(j, u), acc(j, u), acc(j, u))
		}
	}
	term := func(j, u int, mem string) {
		if sq {
			p("\tVSUBPS %s, Y%d, Y%d", mem, 8+u, 12+u)
			p("\tVFMADD231PS Y%d, Y%d, %s", 12+u, 12+u, acc(j, u))
		} else {
			p("\tVFMADD231PS %s, Y%d, %s", mem, 8+u, acc(j, u))
		}
	}
	adv := func(bytes int) {
		p("\tADDQ $%d, SI", bytes)
		for _, r := range rows {
			p("\tADDQ $%d, %s", bytes, r)
		}
	}
	p("\tCMPQ CX, $32")
	p("\tJLT %s_8", name)
	p("%s_32:", name)
	for u := 0; u < 4; u++ {
		p("\tVMOVUPS %d(SI), Y%d", 32*u, 8+u)
	}
	for j, r := range rows {
		for u := 0; u < 4; u++ {
			term(j, u, fmt.Sprintf("%d(%s)", 32*u, r))
		}
	}
	adv(128)
	p("\tSUBQ $32, CX")
	p("\tCMPQ CX, $32")
	p("\tJGE %s_32", name)
	p("%s_8:", name)
	p("\tCMPQ CX, $8")
	p("\tJLT %s_sum", name)
	p("\tVMOVUPS (SI), Y8")
	for j, r := range rows {
		term(j, 0, fmt.Sprintf("(%s)", r))
	}
	adv(32)
	p("\tSUBQ $8, CX")
	p("\tJMP %s_8", name)
	p("%s_sum:", name)
	for j := 0; j < 2; j++ {
		a0, a1, a2, a3 := 4*j, 4*j+1, 4*j+2, 4*j+3
		p("\tVADDPS Y%d, Y%d, Y%d", a1, a0, a0)
		p("\tVADDPS Y%d, Y%d, Y%d", a3, a2, a2)
		p("\tVADDPS Y%d, Y%d, Y%d", a2, a0, a0)
		p("\tVEXTRACTF128 $1, Y%d, X%d", a0, a1)
		p("\tVADDPS X%d, X%d, X%d", a1, a0, a0)
		p("\tVMOVHLPS X%d, X%d, X%d", a0, a0, a1)
		p("\tVADDPS X%d, X%d, X%d", a1, a0, a0)
		p("\tVMOVSHDUP X%d, X%d", a0, a1)
		p("\tVADDSS X%d, X%d, X%d", a1, a0, a0)
	}
	p("%s_1:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_done", name)
	p("\tVMOVSS (SI), X8")
	for j, r := range rows {
		if sq {
			p("\tVSUBSS (%s), X8, X9", r)
			p("\tVFMADD231SS X9, X9, X%d", 4*j)
		} else {
			p("\tVFMADD231SS (%s), X8, X%d", r, 4*j)
		}
	}
	adv(4)
	p("\tDECQ CX")
	p("\tJMP %s_1", name)
	p("%s_done:", name)
	p("\tMOVQ out+32(FP), DX")
	p("\tVMOVSS X0, (DX)")
	p("\tVMOVSS X4, 4(DX)")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

func main() {
	p("// Code generated by gen_amd64.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !purego")
	p("")
	p(`#include "textflag.h"`)
	p("")
	kernel("kernAVX2_6x16", false, 6, 2, 4)
	kernel("kernAVX512_12x32", true, 12, 2, 4)
	edgeKernel("kernAVX512_12x32e", 12, 2, 2, 4)
	edgeKernel("kernAVX512_12x16e", 12, 1, 2, 4)
	vec4("dot4AVX512", false)
	vec4("sqDist4AVX512", true)
	vec2("dot2AVX2", false)
	vec2("sqDist2AVX2", true)
	if err := os.WriteFile("gemm_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
