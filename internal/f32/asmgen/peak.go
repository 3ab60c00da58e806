package main

// peakFile writes peak_amd64.s: loops of independent FMAs that measure a
// core's FMA throughput, the ceiling BenchmarkPeak reads the GEMM figures
// against.
func peakFile() {
	peak("fmaPeakAVX512", "Z", 16)
	peak("fmaPeakAVX2", "Y", 8)
}

// peak emits func name(n int): n iterations of 12 independent FMAs on
// lanes-wide registers.
func peak(name, reg string, lanes int) {
	p("// func %s(n int)", name)
	p("// n iterations of 12 independent %d-lane FMAs.", lanes)
	p("TEXT ·%s(SB), NOSPLIT, $0-8", name)
	p("\tMOVQ n+0(FP), CX")
	zero := "VXORPS"
	if reg == "Z" {
		zero = "VPXORD"
	}
	p("\t%s %s0, %s0, %s0", zero, reg, reg, reg)
	p("\t%s %s1, %s1, %s1", zero, reg, reg, reg)
	p("%s_loop:", name)
	for r := 2; r < 14; r++ {
		p("\tVFMADD231PS %s1, %s0, %s%d", reg, reg, reg, r)
	}
	p("\tDECQ CX")
	p("\tJNE %s_loop", name)
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}
