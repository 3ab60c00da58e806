//go:build amd64 && !purego

#include "textflag.h"

// func lnSumAVX2(x, add, bias *float32, blocks int) float32
// If add is not nil, x[i] = (add[i] + bias[i]) + x[i]. Returns Σ x[i] over
// 8·blocks floats, summed in two 8-lane accumulators.
TEXT ·lnSumAVX2(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), DI
	MOVQ add+8(FP), SI
	MOVQ bias+16(FP), DX
	MOVQ blocks+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	TESTQ SI, SI
	JZ plain

addloop:
	VMOVUPS (SI), Y2
	VADDPS (DX), Y2, Y2
	VADDPS (DI), Y2, Y2
	VMOVUPS Y2, (DI)
	VADDPS Y2, Y0, Y0
	VMOVAPS Y1, Y3
	VMOVAPS Y0, Y1
	VMOVAPS Y3, Y0
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ addloop
	JMP reduce

plain:
	VADDPS (DI), Y0, Y0
	VMOVAPS Y1, Y3
	VMOVAPS Y0, Y1
	VMOVAPS Y3, Y0
	ADDQ $32, DI
	DECQ CX
	JNZ plain

reduce:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func lnVarAVX2(x *float32, blocks int, mean float32) float32
// Returns Σ (x[i] − mean)² over 8·blocks floats.
TEXT ·lnVarAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ blocks+8(FP), CX
	VBROADCASTSS mean+16(FP), Y4
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

varloop:
	VMOVUPS (DI), Y2
	VSUBPS Y4, Y2, Y2
	VFMADD231PS Y2, Y2, Y0
	VMOVAPS Y1, Y3
	VMOVAPS Y0, Y1
	VMOVAPS Y3, Y0
	ADDQ $32, DI
	DECQ CX
	JNZ varloop

	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func lnApplyAVX2(x, gamma, beta *float32, blocks int, mean, inv float32)
// x[i] = ((x[i] − mean)·inv)·gamma[i] + beta[i] over 8·blocks floats.
TEXT ·lnApplyAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), DI
	MOVQ gamma+8(FP), SI
	MOVQ beta+16(FP), DX
	MOVQ blocks+24(FP), CX
	VBROADCASTSS mean+32(FP), Y4
	VBROADCASTSS inv+36(FP), Y5

applyloop:
	VMOVUPS (DI), Y0
	VSUBPS Y4, Y0, Y0
	VMULPS Y5, Y0, Y0
	VMOVUPS (DX), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ applyloop
	VZEROUPPER
	RET
