package main

import (
	"fmt"
	"log"
)

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
	kLoop(name, unroll, 4*mr, 4*nr, step)
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
	kLoop(name, unroll, 4*mr, 4*nrStride, step)
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
	done(name)
}

// kLoop emits the loop over k of a micro-kernel: unroll steps at a time,
// then one at a time, advancing the packed A (SI) and B (DI) panels by aStep
// and bStep bytes a step; it jumps to name_store when k (CX) is used up.
func kLoop(name string, unroll, aStep, bStep int, step func(u int)) {
	p("\tCMPQ CX, $%d", unroll)
	p("\tJLT %s_tail", name)
	p("%s_loop:", name)
	for u := 0; u < unroll; u++ {
		step(u)
	}
	p("\tADDQ $%d, SI", aStep*unroll)
	p("\tADDQ $%d, DI", bStep*unroll)
	p("\tSUBQ $%d, CX", unroll)
	p("\tCMPQ CX, $%d", unroll)
	p("\tJGE %s_loop", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_store", name)
	step(0)
	p("\tADDQ $%d, SI", aStep)
	p("\tADDQ $%d, DI", bStep)
	p("\tDECQ CX")
	p("\tJMP %s_tail", name)
}

// gemmFile writes gemm_amd64.s: the GEMM micro-kernels and the packing
// transpose.
func gemmFile() {
	kernel("kernAVX2_6x16", false, 6, 2, 4)
	kernel("kernAVX512_12x32", true, 12, 2, 4)
	edgeKernel("kernAVX512_12x32e", 12, 2, 2, 4)
	edgeKernel("kernAVX512_12x16e", 12, 1, 2, 4)
	gather4("gather4AVX")
}

// gather4 emits func name(dst, src *float32, ld, kb, w int, alpha float32):
// dst[p*w+r] = alpha·src[r*ld+p] for the four rows r < 4 and p < kb, the
// packing of a transposed operand. Eight columns at a time go through an
// in-register 4×8 transpose; the rest one column at a time.
func gather4(name string) {
	// Row r of src is at (SI)(rowOff[r]); column p of dst at (DI)(colOff[p%4])
	// for p < 4 and at (R11)(colOff[p%4]) for 4 <= p < 8.
	rowOff := []string{"(SI)", "(SI)(R12*1)", "(SI)(R12*2)", "(SI)(R13*1)"}
	colOff := []string{"", "(R9*1)", "(R9*2)", "(R10*1)"}
	p("// func %s(dst, src *float32, ld, kb, w int, alpha float32)", name)
	p("// Packs 4 rows of kb elements (row stride ld) into dst with stride w:")
	p("// dst[p*w+r] = alpha·src[r*ld+p] for r < 4, p < kb. 8 columns at a time go")
	p("// through an in-register 4×8 transpose.")
	p("TEXT ·%s(SB), NOSPLIT, $0-44", name)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ ld+16(FP), R12")
	p("\tMOVQ kb+24(FP), CX")
	p("\tMOVQ w+32(FP), R9")
	p("\tVBROADCASTSS alpha+40(FP), Y15")
	p("\tSHLQ $2, R12            // row stride in bytes")
	p("\tLEAQ (R12)(R12*2), R13  // 3 rows")
	p("\tSHLQ $2, R9             // panel stride in bytes")
	p("\tLEAQ (R9)(R9*2), R10    // 3·stride")
	p("\tMOVQ R9, R14")
	p("\tSHLQ $3, R14            // 8·stride")
	p("\tCMPQ CX, $8")
	p("\tJLT %s_tail", name)
	p("%s_loop:", name)
	for _, r := range rowOff {
		p("\tPREFETCHT0 512%s", r)
	}
	for i, r := range rowOff {
		p("\tVMULPS %s, Y15, Y%d", r, i)
	}
	// Rows 0..3 in Y0..Y3 become columns: unpack pairs, then shuffle.
	p("\tVUNPCKLPS Y1, Y0, Y4")
	p("\tVUNPCKHPS Y1, Y0, Y5")
	p("\tVUNPCKLPS Y3, Y2, Y6")
	p("\tVUNPCKHPS Y3, Y2, Y7")
	p("\tVSHUFPS $0x44, Y6, Y4, Y0")
	p("\tVSHUFPS $0xEE, Y6, Y4, Y1")
	p("\tVSHUFPS $0x44, Y7, Y5, Y2")
	p("\tVSHUFPS $0xEE, Y7, Y5, Y3")
	p("\tLEAQ (DI)(R9*4), R11")
	for i, c := range colOff {
		p("\tVMOVUPS X%d, (DI)%s", i, c)
	}
	for i, c := range colOff {
		p("\tVEXTRACTF128 $1, Y%d, (R11)%s", i, c)
	}
	p("\tADDQ $32, SI")
	p("\tADDQ R14, DI")
	p("\tSUBQ $8, CX")
	p("\tCMPQ CX, $8")
	p("\tJGE %s_loop", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_done", name)
	for i, r := range rowOff {
		p("\tVMULSS %s, X15, X%d", r, i)
	}
	for i := range rowOff {
		if i == 0 {
			p("\tVMOVSS X0, (DI)")
		} else {
			p("\tVMOVSS X%d, %d(DI)", i, 4*i)
		}
	}
	p("\tADDQ $4, SI")
	p("\tADDQ R9, DI")
	p("\tDECQ CX")
	p("\tJMP %s_tail", name)
	done(name)
}
