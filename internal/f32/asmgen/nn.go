package main

// nnFile writes nn_amd64.s: the element-wise kernels of a transformer
// encoder (GELU with a bias, scaled softmax, LayerNorm with a residual add),
// eight floats at a time with AVX2 and FMA. The Go side (nn_amd64.go) runs
// them on whole blocks of eight and does the rest in Go.
func nnFile() {
	p("// Offsets in geluPolyTable: Coef [9][8]float32 at 0, then the constants.")
	defines("GELU_", geluConsts, 9*8*4)
	p("")
	geluBias("geluPolyAVX2")
	p("// Offsets in expConstTable.")
	defines("EXP_", expConsts, 0)
	p("")
	vmax("maxAVX2")
	expSum("expSumAVX2")
	lnSum("lnSumAVX2")
	lnVar("lnVarAVX2")
	lnApply("lnApplyAVX2")
}

// The constants of geluPolyTable and expConstTable, in field order, four
// bytes each (TestNNTableLayout in package f32 checks the Go structs).
var (
	geluConsts = []string{"ABSMASK", "UMAX", "INVSTEP", "SEVEN", "TWO", "ONE", "HALF", "SIGNMASK"}
	expConsts  = []string{"LOG2E", "LN2HI", "LN2LO", "XMIN", "C2", "C3", "C4", "C5", "C6", "C7", "ONE", "BIAS"}
)

func defines(prefix string, names []string, base int) {
	for i, n := range names {
		p("#define %s%s %d", prefix, n, base+4*i)
	}
}

// geluBias emits func name(x, bias *float32, blocks int, poly *geluPolyTable).
func geluBias(name string) {
	p("// func %s(x, bias *float32, blocks int, poly *geluPolyTable)", name)
	p("//")
	p("// For 8 floats at a time: v = x + bias; u = min(|v|, 6); interval")
	p("// i = min(int(u/0.75), 7); t = 2·(u/0.75 − i) − 1; g = Σ c[d][i]·t^d")
	p("// (Horner, coefficients picked per lane with VPERMPS); erf(v/√2) = sign(v)·g;")
	p("// x = 0.5·v + 0.5·v·erf(v/√2).")
	p("TEXT ·%s(SB), NOSPLIT, $0-32", name)
	p("\tMOVQ x+0(FP), DI")
	p("\tMOVQ bias+8(FP), SI")
	p("\tMOVQ blocks+16(FP), CX")
	p("\tMOVQ poly+24(FP), DX")
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", name)
	// Constants in Y15 down to Y8, in geluConsts order.
	for i, c := range geluConsts {
		op := "VBROADCASTSS"
		if c == "SEVEN" {
			op = "VPBROADCASTD"
		}
		p("\t%s GELU_%s(DX), Y%d", op, c, 15-i)
	}
	p("")
	p("%s_loop:", name)
	p("\tVMOVUPS (DI), Y0")
	p("\tVADDPS (SI), Y0, Y0")      // v
	p("\tVANDPS Y15, Y0, Y1")       // |v|
	p("\tVMINPS Y14, Y1, Y1")       // u
	p("\tVMULPS Y13, Y1, Y2")       // u/step
	p("\tVCVTTPS2DQ Y2, Y3")        // i
	p("\tVPMINSD Y12, Y3, Y3")      // min(i, 7)
	p("\tVCVTDQ2PS Y3, Y4")         //
	p("\tVSUBPS Y4, Y2, Y2")        // u/step − i
	p("\tVFMSUB213PS Y10, Y11, Y2") // t = 2·(…) − 1
	const degree = 8
	p("\tVPERMPS %d(DX), Y3, Y5", 32*degree)
	for d := degree - 1; d >= 0; d-- {
		p("\tVPERMPS %d(DX), Y3, Y6", 32*d)
		p("\tVFMADD213PS Y6, Y2, Y5")
	}
	p("\tVANDPS Y8, Y0, Y7") // sign(v)
	p("\tVXORPS Y7, Y5, Y5")
	p("\tVMULPS Y9, Y0, Y0") // 0.5·v
	p("\tVFMADD213PS Y0, Y0, Y5")
	p("\tVMOVUPS Y5, (DI)")
	p("\tADDQ $32, DI")
	p("\tADDQ $32, SI")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("\tVZEROUPPER")
	p("")
	p("%s_done:", name)
	p("\tRET")
	p("")
}

// vmax emits func name(x *float32, blocks int) float32: the maximum of
// 8·blocks floats (blocks ≥ 1).
func vmax(name string) {
	p("// func %s(x *float32, blocks int) float32", name)
	p("// Maximum of 8·blocks floats (blocks ≥ 1).")
	p("TEXT ·%s(SB), NOSPLIT, $0-20", name)
	p("\tMOVQ x+0(FP), DI")
	p("\tMOVQ blocks+8(FP), CX")
	p("\tVMOVUPS (DI), Y0")
	p("\tADDQ $32, DI")
	p("\tDECQ CX")
	p("\tJZ %s_reduce", name)
	p("")
	p("%s_loop:", name)
	p("\tVMAXPS (DI), Y0, Y0")
	p("\tADDQ $32, DI")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("")
	p("%s_reduce:", name)
	p("\tVEXTRACTF128 $1, Y0, X1")
	p("\tVMAXPS X1, X0, X0")
	p("\tVPERMILPS $0x4e, X0, X1")
	p("\tVMAXPS X1, X0, X0")
	p("\tVPERMILPS $0xb1, X0, X1")
	p("\tVMAXPS X1, X0, X0")
	p("\tVZEROUPPER")
	p("\tMOVSS X0, ret+16(FP)")
	p("\tRET")
	p("")
}

// expSum emits func name(x *float32, blocks int, scale, shift float32,
// k *expConstTable) float32.
func expSum(name string) {
	p("// func %s(x *float32, blocks int, scale, shift float32, k *expConstTable) float32", name)
	p("// Sets x[i] = e^(x[i]·scale + shift) for 8·blocks floats, where the argument")
	p("// must be ≤ 0 (shift = −scale·max), and returns the sum of the results.")
	p("// e^a = 2^n · e^r with n = round(a·log2e), r = a − n·ln2 (two-part ln2),")
	p("// e^r by its Taylor series to degree 7; a < XMIN gives 0.")
	p("TEXT ·%s(SB), NOSPLIT, $0-36", name)
	p("\tMOVQ x+0(FP), DI")
	p("\tMOVQ blocks+8(FP), CX")
	p("\tVBROADCASTSS scale+16(FP), Y15")
	p("\tVBROADCASTSS shift+20(FP), Y14")
	p("\tMOVQ k+24(FP), DX")
	p("\tVBROADCASTSS EXP_LOG2E(DX), Y13")
	p("\tVBROADCASTSS EXP_LN2HI(DX), Y12")
	p("\tVBROADCASTSS EXP_LN2LO(DX), Y11")
	p("\tVBROADCASTSS EXP_XMIN(DX), Y10")
	p("\tVBROADCASTSS EXP_ONE(DX), Y9")
	p("\tVPBROADCASTD EXP_BIAS(DX), Y8")
	p("\tVXORPS Y7, Y7, Y7 // sum")
	p("")
	p("%s_loop:", name)
	p("\tVMOVUPS (DI), Y0")
	p("\tVFMADD213PS Y14, Y15, Y0     // a = x·scale + shift")
	p("\tVCMPPS $0x0d, Y10, Y0, Y6    // keep = a >= XMIN (GE_OS)")
	p("\tVMAXPS Y10, Y0, Y0           // clamp so that 2^n stays a normal number")
	p("\tVMULPS Y13, Y0, Y1")
	p("\tVROUNDPS $0, Y1, Y1          // n = round(a·log2e)")
	p("\tVMOVAPS Y0, Y2")
	p("\tVFNMADD231PS Y12, Y1, Y2     // r = a − n·ln2hi")
	p("\tVFNMADD231PS Y11, Y1, Y2     // r −= n·ln2lo")
	// Horner from C7 down to C2, then twice ·r + 1.
	p("\tVBROADCASTSS EXP_C7(DX), Y3")
	for c := 6; c >= 2; c-- {
		p("\tVBROADCASTSS EXP_C%d(DX), Y4", c)
		p("\tVFMADD213PS Y4, Y2, Y3")
	}
	p("\tVFMADD213PS Y9, Y2, Y3       // · r + 1")
	p("\tVFMADD213PS Y9, Y2, Y3       // · r + 1  → e^r")
	p("\tVCVTPS2DQ Y1, Y1")
	p("\tVPADDD Y8, Y1, Y1")
	p("\tVPSLLD $23, Y1, Y1           // 2^n")
	p("\tVMULPS Y1, Y3, Y3")
	p("\tVANDPS Y6, Y3, Y3")
	p("\tVMOVUPS Y3, (DI)")
	p("\tVADDPS Y3, Y7, Y7")
	p("\tADDQ $32, DI")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("")
	hsumHADD(7, 1)
	p("\tVZEROUPPER")
	p("\tMOVSS X7, ret+32(FP)")
	p("\tRET")
	p("")
}

// hsumHADD reduces the 8 lanes of Yy into the low lane of Xy with two
// horizontal adds; Xt is clobbered.
func hsumHADD(y, t int) {
	p("\tVEXTRACTF128 $1, Y%d, X%d", y, t)
	p("\tVADDPS X%d, X%d, X%d", t, y, y)
	p("\tVHADDPS X%d, X%d, X%d", y, y, y)
	p("\tVHADDPS X%d, X%d, X%d", y, y, y)
}

// swapAcc exchanges the two LayerNorm accumulators Y0 and Y1, so that
// successive blocks alternate between them.
func swapAcc() {
	p("\tVMOVAPS Y1, Y3")
	p("\tVMOVAPS Y0, Y1")
	p("\tVMOVAPS Y3, Y0")
}

// lnSum emits func name(x, add, bias *float32, blocks int) float32.
func lnSum(name string) {
	p("// func %s(x, add, bias *float32, blocks int) float32", name)
	p("// If add is not nil, x[i] = (add[i] + bias[i]) + x[i]. Returns Σ x[i] over")
	p("// 8·blocks floats, summed in two 8-lane accumulators.")
	p("TEXT ·%s(SB), NOSPLIT, $0-36", name)
	p("\tMOVQ x+0(FP), DI")
	p("\tMOVQ add+8(FP), SI")
	p("\tMOVQ bias+16(FP), DX")
	p("\tMOVQ blocks+24(FP), CX")
	p("\tVXORPS Y0, Y0, Y0")
	p("\tVXORPS Y1, Y1, Y1")
	p("\tTESTQ SI, SI")
	p("\tJZ %s_plain", name)
	p("")
	p("%s_add:", name)
	p("\tVMOVUPS (SI), Y2")
	p("\tVADDPS (DX), Y2, Y2")
	p("\tVADDPS (DI), Y2, Y2")
	p("\tVMOVUPS Y2, (DI)")
	p("\tVADDPS Y2, Y0, Y0")
	swapAcc()
	p("\tADDQ $32, DI")
	p("\tADDQ $32, SI")
	p("\tADDQ $32, DX")
	p("\tDECQ CX")
	p("\tJNZ %s_add", name)
	p("\tJMP %s_reduce", name)
	p("")
	p("%s_plain:", name)
	p("\tVADDPS (DI), Y0, Y0")
	swapAcc()
	p("\tADDQ $32, DI")
	p("\tDECQ CX")
	p("\tJNZ %s_plain", name)
	p("")
	p("%s_reduce:", name)
	lnReturn(32)
}

// lnReturn adds the accumulators Y0 and Y1, reduces them and returns the
// sum, the result at ret+off(FP).
func lnReturn(off int) {
	p("\tVADDPS Y1, Y0, Y0")
	hsumHADD(0, 1)
	p("\tVZEROUPPER")
	p("\tMOVSS X0, ret+%d(FP)", off)
	p("\tRET")
	p("")
}

// lnVar emits func name(x *float32, blocks int, mean float32) float32.
func lnVar(name string) {
	p("// func %s(x *float32, blocks int, mean float32) float32", name)
	p("// Returns Σ (x[i] − mean)² over 8·blocks floats.")
	p("TEXT ·%s(SB), NOSPLIT, $0-28", name)
	p("\tMOVQ x+0(FP), DI")
	p("\tMOVQ blocks+8(FP), CX")
	p("\tVBROADCASTSS mean+16(FP), Y4")
	p("\tVXORPS Y0, Y0, Y0")
	p("\tVXORPS Y1, Y1, Y1")
	p("")
	p("%s_loop:", name)
	p("\tVMOVUPS (DI), Y2")
	p("\tVSUBPS Y4, Y2, Y2")
	p("\tVFMADD231PS Y2, Y2, Y0")
	swapAcc()
	p("\tADDQ $32, DI")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("")
	lnReturn(24)
}

// lnApply emits func name(x, gamma, beta *float32, blocks int, mean, inv float32).
func lnApply(name string) {
	p("// func %s(x, gamma, beta *float32, blocks int, mean, inv float32)", name)
	p("// x[i] = ((x[i] − mean)·inv)·gamma[i] + beta[i] over 8·blocks floats.")
	p("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	p("\tMOVQ x+0(FP), DI")
	p("\tMOVQ gamma+8(FP), SI")
	p("\tMOVQ beta+16(FP), DX")
	p("\tMOVQ blocks+24(FP), CX")
	p("\tVBROADCASTSS mean+32(FP), Y4")
	p("\tVBROADCASTSS inv+36(FP), Y5")
	p("")
	p("%s_loop:", name)
	p("\tVMOVUPS (DI), Y0")
	p("\tVSUBPS Y4, Y0, Y0")
	p("\tVMULPS Y5, Y0, Y0")
	p("\tVMOVUPS (DX), Y1")
	p("\tVFMADD231PS (SI), Y0, Y1")
	p("\tVMOVUPS Y1, (DI)")
	p("\tADDQ $32, DI")
	p("\tADDQ $32, SI")
	p("\tADDQ $32, DX")
	p("\tDECQ CX")
	p("\tJNZ %s_loop", name)
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}
