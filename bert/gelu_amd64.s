//go:build amd64 && !purego

#include "textflag.h"

// Offsets in geluPolyTable: coef[9][8]float32 at 0, then the constants.
#define ABSMASK 288
#define UMAX 292
#define INVSTEP 296
#define SEVEN 300
#define TWO 304
#define ONE 308
#define HALF 312
#define SIGNMASK 316

// func geluBiasAVX2(x, bias *float32, blocks int, poly *geluPolyTable)
//
// For 8 floats at a time: v = x + bias; u = min(|v|, 6); interval
// i = min(int(u/0.75), 7); t = 2·(u/0.75 − i) − 1; g = Σ c[d][i]·t^d
// (Horner, coefficients picked per lane with VPERMPS); erf(v/√2) = sign(v)·g;
// x = 0.5·v + 0.5·v·erf(v/√2).
TEXT ·geluBiasAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ bias+8(FP), SI
	MOVQ blocks+16(FP), CX
	MOVQ poly+24(FP), DX
	TESTQ CX, CX
	JZ done
	VBROADCASTSS ABSMASK(DX), Y15
	VBROADCASTSS UMAX(DX), Y14
	VBROADCASTSS INVSTEP(DX), Y13
	VPBROADCASTD SEVEN(DX), Y12
	VBROADCASTSS TWO(DX), Y11
	VBROADCASTSS ONE(DX), Y10
	VBROADCASTSS HALF(DX), Y9
	VBROADCASTSS SIGNMASK(DX), Y8

loop:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VANDPS Y15, Y0, Y1
	VMINPS Y14, Y1, Y1
	VMULPS Y13, Y1, Y2
	VCVTTPS2DQ Y2, Y3
	VPMINSD Y12, Y3, Y3
	VCVTDQ2PS Y3, Y4
	VSUBPS Y4, Y2, Y2
	VFMSUB213PS Y10, Y11, Y2
	VPERMPS 256(DX), Y3, Y5
	VPERMPS 224(DX), Y3, Y6
	VFMADD213PS Y6, Y2, Y5
	VPERMPS 192(DX), Y3, Y6
	VFMADD213PS Y6, Y2, Y5
	VPERMPS 160(DX), Y3, Y6
	VFMADD213PS Y6, Y2, Y5
	VPERMPS 128(DX), Y3, Y6
	VFMADD213PS Y6, Y2, Y5
	VPERMPS 96(DX), Y3, Y6
	VFMADD213PS Y6, Y2, Y5
	VPERMPS 64(DX), Y3, Y6
	VFMADD213PS Y6, Y2, Y5
	VPERMPS 32(DX), Y3, Y6
	VFMADD213PS Y6, Y2, Y5
	VPERMPS 0(DX), Y3, Y6
	VFMADD213PS Y6, Y2, Y5
	VANDPS Y8, Y0, Y7
	VXORPS Y7, Y5, Y5
	VMULPS Y9, Y0, Y0
	VFMADD213PS Y0, Y0, Y5
	VMOVUPS Y5, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ loop
	VZEROUPPER

done:
	RET
