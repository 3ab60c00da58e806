//go:build amd64 && !purego

#include "textflag.h"

// func maxAVX2(x *float32, blocks int) float32
// Maximum of 8·blocks floats (blocks ≥ 1).
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ blocks+8(FP), CX
	VMOVUPS (DI), Y0
	ADDQ $32, DI
	DECQ CX
	JZ reduce

maxloop:
	VMAXPS (DI), Y0, Y0
	ADDQ $32, DI
	DECQ CX
	JNZ maxloop

reduce:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+16(FP)
	RET

// Offsets in expConsts.
#define LOG2E 0
#define LN2HI 4
#define LN2LO 8
#define XMIN 12
#define C2 16
#define C3 20
#define C4 24
#define C5 28
#define C6 32
#define C7 36
#define ONE 40
#define BIAS 44

// func expSumAVX2(x *float32, blocks int, scale, shift float32, k *expConsts) float32
// Sets x[i] = e^(x[i]·scale + shift) for 8·blocks floats, where the argument
// must be ≤ 0 (shift = −scale·max), and returns the sum of the results.
// e^a = 2^n · e^r with n = round(a·log2e), r = a − n·ln2 (two-part ln2),
// e^r by its Taylor series to degree 7; a < XMIN gives 0.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), DI
	MOVQ blocks+8(FP), CX
	VBROADCASTSS scale+16(FP), Y15
	VBROADCASTSS shift+20(FP), Y14
	MOVQ k+24(FP), DX
	VBROADCASTSS LOG2E(DX), Y13
	VBROADCASTSS LN2HI(DX), Y12
	VBROADCASTSS LN2LO(DX), Y11
	VBROADCASTSS XMIN(DX), Y10
	VBROADCASTSS ONE(DX), Y9
	VPBROADCASTD BIAS(DX), Y8
	VXORPS Y7, Y7, Y7 // sum

exploop:
	VMOVUPS (DI), Y0
	VFMADD213PS Y14, Y15, Y0     // a = x·scale + shift
	VCMPPS $0x0d, Y10, Y0, Y6    // keep = a >= XMIN (GE_OS)
	VMAXPS Y10, Y0, Y0           // clamp so that 2^n stays a normal number
	VMULPS Y13, Y0, Y1
	VROUNDPS $0, Y1, Y1          // n = round(a·log2e)
	VMOVAPS Y0, Y2
	VFNMADD231PS Y12, Y1, Y2     // r = a − n·ln2hi
	VFNMADD231PS Y11, Y1, Y2     // r −= n·ln2lo
	VBROADCASTSS C7(DX), Y3
	VBROADCASTSS C6(DX), Y4
	VFMADD213PS Y4, Y2, Y3
	VBROADCASTSS C5(DX), Y4
	VFMADD213PS Y4, Y2, Y3
	VBROADCASTSS C4(DX), Y4
	VFMADD213PS Y4, Y2, Y3
	VBROADCASTSS C3(DX), Y4
	VFMADD213PS Y4, Y2, Y3
	VBROADCASTSS C2(DX), Y4
	VFMADD213PS Y4, Y2, Y3
	VFMADD213PS Y9, Y2, Y3       // · r + 1
	VFMADD213PS Y9, Y2, Y3       // · r + 1  → e^r
	VCVTPS2DQ Y1, Y1
	VPADDD Y8, Y1, Y1
	VPSLLD $23, Y1, Y1           // 2^n
	VMULPS Y1, Y3, Y3
	VANDPS Y6, Y3, Y3
	VMOVUPS Y3, (DI)
	VADDPS Y3, Y7, Y7
	ADDQ $32, DI
	DECQ CX
	JNZ exploop

	VEXTRACTF128 $1, Y7, X1
	VADDPS X1, X7, X7
	VHADDPS X7, X7, X7
	VHADDPS X7, X7, X7
	VZEROUPPER
	MOVSS X7, ret+32(FP)
	RET
