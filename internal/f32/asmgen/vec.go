package main

import "fmt"

// vecFile writes vec_amd64.s: Dot, SqDist and Axpy, and the multi-row Dot
// and SqDist that Dots, SqDists and SqDistBlock use. The one-row and
// multi-row kernels come from the same code, so they have the same
// accumulators, chunking and final reduction and give the same bits.
func vecFile() {
	for _, isa := range []struct {
		suffix string
		avx512 bool
		rows   int
	}{{"AVX2", false, 2}, {"AVX512", true, 4}} {
		emit := vecAVX2
		if isa.avx512 {
			emit = vecAVX512
		}
		emit("dot"+isa.suffix, false, 1)
		emit("sqDist"+isa.suffix, true, 1)
		emit(fmt.Sprintf("dot%d%s", isa.rows, isa.suffix), false, isa.rows)
		emit(fmt.Sprintf("sqDist%d%s", isa.rows, isa.suffix), true, isa.rows)
		axpy("axpy"+isa.suffix, isa.avx512)
	}
}

// rowRegs are the pointers to the rows of b in the vector kernels.
var rowRegs = []string{"DI", "R10", "R11", "R12"}

// vecHeader emits the TEXT line and argument loads of a vector kernel:
// func name(a, b *float32, n int) float32 for one row, or
// func name(a, b *float32, ldb, n int, out *float32) for rows > 1, with a in
// SI, the rows of b in rowRegs and n in CX.
func vecHeader(name string, rows int) {
	if rows == 1 {
		p("// func %s(a, b *float32, n int) float32", name)
		p("TEXT ·%s(SB), NOSPLIT, $0-28", name)
		p("\tMOVQ a+0(FP), SI")
		p("\tMOVQ b+8(FP), DI")
		p("\tMOVQ n+16(FP), CX")
		return
	}
	p("// func %s(a, b *float32, ldb, n int, out *float32)", name)
	p("// out[j] = the result for row j of b (b + j·ldb), j < %d.", rows)
	p("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	p("\tMOVQ a+0(FP), SI")
	p("\tMOVQ b+8(FP), DI")
	p("\tMOVQ ldb+16(FP), R8")
	p("\tMOVQ n+24(FP), CX")
	p("\tSHLQ $2, R8")
	for j := 1; j < rows; j++ {
		p("\tLEAQ (%s)(R8*1), %s", rowRegs[j-1], rowRegs[j])
	}
}

// advance moves a and the rows of b on by bytes.
func advance(rows, bytes int) {
	p("\tADDQ $%d, SI", bytes)
	for _, r := range rowRegs[:rows] {
		p("\tADDQ $%d, %s", bytes, r)
	}
}

// vecAVX512 emits Dot (sq false) or SqDist (sq true) of a against rows rows
// of b: four 16-lane accumulators per row over chunks of 64, then chunks of
// 16, then a masked tail into the second accumulator; the four are summed
// pairwise and reduced across lanes.
func vecAVX512(name string, sq bool, rows int) {
	acc := func(j, u int) string { return fmt.Sprintf("Z%d", 4+4*j+u) }
	vecHeader(name, rows)
	for j := 0; j < rows; j++ {
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
	p("\tCMPQ CX, $64")
	p("\tJLT %s_16", name)
	p("%s_64:", name)
	for u := 0; u < 4; u++ {
		p("\tVMOVUPS %d(SI), Z%d", 64*u, u)
	}
	for j, r := range rowRegs[:rows] {
		for u := 0; u < 4; u++ {
			term(j, u, u, fmt.Sprintf("%d(%s)", 64*u, r))
		}
	}
	advance(rows, 256)
	p("\tSUBQ $64, CX")
	p("\tCMPQ CX, $64")
	p("\tJGE %s_64", name)
	p("%s_16:", name)
	p("\tCMPQ CX, $16")
	p("\tJLT %s_tail", name)
	p("\tVMOVUPS (SI), Z0")
	for j, r := range rowRegs[:rows] {
		term(j, 0, 0, fmt.Sprintf("(%s)", r))
	}
	advance(rows, 64)
	p("\tSUBQ $16, CX")
	p("\tJMP %s_16", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_sum", name)
	maskK1("CX")
	p("\tVMOVUPS.Z (SI), K1, Z0")
	for j, r := range rowRegs[:rows] {
		p("\tVMOVUPS.Z (%s), K1, Z24", r)
		if sq {
			p("\tVSUBPS Z24, Z0, Z24")
			p("\tVFMADD231PS Z24, Z24, %s", acc(j, 1))
		} else {
			p("\tVFMADD231PS Z24, Z0, %s", acc(j, 1))
		}
	}
	p("%s_sum:", name)
	if rows > 1 {
		p("\tMOVQ out+32(FP), DX")
	}
	for j := 0; j < rows; j++ {
		p("\tVADDPS %s, %s, Z0", acc(j, 1), acc(j, 0))
		p("\tVADDPS %s, %s, Z2", acc(j, 3), acc(j, 2))
		p("\tVADDPS Z2, Z0, Z0")
		p("\tVEXTRACTF64X4 $1, Z0, Y1")
		p("\tVADDPS Y1, Y0, Y0")
		hsumY(0, 1)
		storeResult(rows, j, 0)
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// vecAVX2 emits Dot (sq false) or SqDist (sq true) of a against rows rows of
// b: four 8-lane accumulators per row over chunks of 32, then chunks of 8;
// the four are summed pairwise and reduced across lanes, and the last n mod 8
// elements are added one at a time.
func vecAVX2(name string, sq bool, rows int) {
	acc := func(j, u int) string { return fmt.Sprintf("Y%d", 4*j+u) }
	vecHeader(name, rows)
	for j := 0; j < rows; j++ {
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
	p("\tCMPQ CX, $32")
	p("\tJLT %s_8", name)
	p("%s_32:", name)
	for u := 0; u < 4; u++ {
		p("\tVMOVUPS %d(SI), Y%d", 32*u, 8+u)
	}
	for j, r := range rowRegs[:rows] {
		for u := 0; u < 4; u++ {
			term(j, u, fmt.Sprintf("%d(%s)", 32*u, r))
		}
	}
	advance(rows, 128)
	p("\tSUBQ $32, CX")
	p("\tCMPQ CX, $32")
	p("\tJGE %s_32", name)
	p("%s_8:", name)
	p("\tCMPQ CX, $8")
	p("\tJLT %s_sum", name)
	p("\tVMOVUPS (SI), Y8")
	for j, r := range rowRegs[:rows] {
		term(j, 0, fmt.Sprintf("(%s)", r))
	}
	advance(rows, 32)
	p("\tSUBQ $8, CX")
	p("\tJMP %s_8", name)
	p("%s_sum:", name)
	for j := 0; j < rows; j++ {
		a0, a1, a2, a3 := 4*j, 4*j+1, 4*j+2, 4*j+3
		p("\tVADDPS Y%d, Y%d, Y%d", a1, a0, a0)
		p("\tVADDPS Y%d, Y%d, Y%d", a3, a2, a2)
		p("\tVADDPS Y%d, Y%d, Y%d", a2, a0, a0)
		hsumY(a0, a1)
	}
	p("%s_1:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_done", name)
	p("\tVMOVSS (SI), X8")
	for j, r := range rowRegs[:rows] {
		if sq {
			p("\tVSUBSS (%s), X8, X9", r)
			p("\tVFMADD231SS X9, X9, X%d", 4*j)
		} else {
			p("\tVFMADD231SS (%s), X8, X%d", r, 4*j)
		}
	}
	advance(rows, 4)
	p("\tDECQ CX")
	p("\tJMP %s_1", name)
	p("%s_done:", name)
	if rows > 1 {
		p("\tMOVQ out+32(FP), DX")
	}
	for j := 0; j < rows; j++ {
		storeResult(rows, j, 4*j)
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// storeResult stores the low lane of Xx as the result for row j: the
// return value of a one-row kernel, out[j] (out in DX) otherwise.
func storeResult(rows, j, x int) {
	if rows == 1 {
		p("\tVMOVSS X%d, ret+24(FP)", x)
		return
	}
	if j == 0 {
		p("\tVMOVSS X%d, (DX)", x)
	} else {
		p("\tVMOVSS X%d, %d(DX)", x, 4*j)
	}
}

// hsumY reduces the 8 lanes of Yy into the low lane of Xy, pairwise (the
// upper half onto the lower, then pairs, then neighbours); Xt is clobbered.
func hsumY(y, t int) {
	p("\tVEXTRACTF128 $1, Y%d, X%d", y, t)
	p("\tVADDPS X%d, X%d, X%d", t, y, y)
	hsumX(y, t)
}

// hsumX reduces the 4 lanes of Xx into its low lane; Xt is clobbered.
func hsumX(x, t int) {
	p("\tVMOVHLPS X%d, X%d, X%d", x, x, t)
	p("\tVADDPS X%d, X%d, X%d", t, x, x)
	p("\tVMOVSHDUP X%d, X%d", x, t)
	p("\tVADDSS X%d, X%d, X%d", t, x, x)
}

// maskK1 sets K1 to the low n lanes, n (< 16) in register reg.
func maskK1(reg string) {
	p("\tMOVL $1, AX")
	p("\tSHLL %s, AX", reg)
	p("\tDECL AX")
	p("\tKMOVW AX, K1")
}

// axpy emits func name(alpha float32, x, y *float32, n int): y += alpha·x,
// four vectors at a time, then one vector at a time, then the tail (masked
// for AVX-512, one element at a time for AVX2).
func axpy(name string, avx512 bool) {
	reg, vbytes, lanes := "Y", 32, 8
	if avx512 {
		reg, vbytes, lanes = "Z", 64, 16
	}
	p("// func %s(alpha float32, x, y *float32, n int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-32", name)
	p("\tVBROADCASTSS alpha+0(FP), %s0", reg)
	p("\tMOVQ x+8(FP), SI")
	p("\tMOVQ y+16(FP), DI")
	p("\tMOVQ n+24(FP), CX")
	p("\tCMPQ CX, $%d", 4*lanes)
	p("\tJLT %s_1v", name)
	p("%s_4v:", name)
	for u := 0; u < 4; u++ {
		p("\tVMOVUPS %s, %s%d", mem(u*vbytes, "DI"), reg, 1+u)
	}
	for u := 0; u < 4; u++ {
		p("\tVFMADD231PS %s, %s0, %s%d", mem(u*vbytes, "SI"), reg, reg, 1+u)
	}
	for u := 0; u < 4; u++ {
		p("\tVMOVUPS %s%d, %s", reg, 1+u, mem(u*vbytes, "DI"))
	}
	p("\tADDQ $%d, SI", 4*vbytes)
	p("\tADDQ $%d, DI", 4*vbytes)
	p("\tSUBQ $%d, CX", 4*lanes)
	p("\tCMPQ CX, $%d", 4*lanes)
	p("\tJGE %s_4v", name)
	p("%s_1v:", name)
	p("\tCMPQ CX, $%d", lanes)
	p("\tJLT %s_tail", name)
	p("\tVMOVUPS (DI), %s1", reg)
	p("\tVFMADD231PS (SI), %s0, %s1", reg, reg)
	p("\tVMOVUPS %s1, (DI)", reg)
	p("\tADDQ $%d, SI", vbytes)
	p("\tADDQ $%d, DI", vbytes)
	p("\tSUBQ $%d, CX", lanes)
	p("\tJMP %s_1v", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJEQ %s_done", name)
	if avx512 {
		maskK1("CX")
		p("\tVMOVUPS.Z (DI), K1, Z1")
		p("\tVMOVUPS.Z (SI), K1, Z2")
		p("\tVFMADD231PS Z2, Z0, Z1")
		p("\tVMOVUPS Z1, K1, (DI)")
	} else {
		p("\tVMOVSS (DI), X1")
		p("\tVFMADD231SS (SI), X0, X1")
		p("\tVMOVSS X1, (DI)")
		p("\tADDQ $4, SI")
		p("\tADDQ $4, DI")
		p("\tDECQ CX")
		p("\tJMP %s_tail", name)
	}
	done(name)
}

// mem is the operand off(base), written (base) when off is 0.
func mem(off int, base string) string {
	if off == 0 {
		return "(" + base + ")"
	}
	return fmt.Sprintf("%d(%s)", off, base)
}
