//go:build amd64 && !purego

#include "textflag.h"

// func gather4AVX(dst, src *float32, ld, kb, w int, alpha float32)
// Packs 4 rows of kb elements (row stride ld) into dst with stride w:
// dst[p*w+r] = alpha·src[r*ld+p] for r < 4, p < kb. 8 columns at a time go
// through an in-register 4×8 transpose.
TEXT ·gather4AVX(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R12
	MOVQ kb+24(FP), CX
	MOVQ w+32(FP), R9
	VBROADCASTSS alpha+40(FP), Y15
	SHLQ $2, R12            // row stride in bytes
	LEAQ (R12)(R12*2), R13  // 3 rows
	SHLQ $2, R9             // panel stride in bytes
	LEAQ (R9)(R9*2), R10    // 3·stride
	MOVQ R9, R14
	SHLQ $3, R14            // 8·stride
	CMPQ CX, $8
	JLT g4tail
g4loop:
	PREFETCHT0 512(SI)
	PREFETCHT0 512(SI)(R12*1)
	PREFETCHT0 512(SI)(R12*2)
	PREFETCHT0 512(SI)(R13*1)
	VMULPS (SI), Y15, Y0
	VMULPS (SI)(R12*1), Y15, Y1
	VMULPS (SI)(R12*2), Y15, Y2
	VMULPS (SI)(R13*1), Y15, Y3
	VUNPCKLPS Y1, Y0, Y4
	VUNPCKHPS Y1, Y0, Y5
	VUNPCKLPS Y3, Y2, Y6
	VUNPCKHPS Y3, Y2, Y7
	VSHUFPS $0x44, Y6, Y4, Y0
	VSHUFPS $0xEE, Y6, Y4, Y1
	VSHUFPS $0x44, Y7, Y5, Y2
	VSHUFPS $0xEE, Y7, Y5, Y3
	LEAQ (DI)(R9*4), R11
	VMOVUPS X0, (DI)
	VMOVUPS X1, (DI)(R9*1)
	VMOVUPS X2, (DI)(R9*2)
	VMOVUPS X3, (DI)(R10*1)
	VEXTRACTF128 $1, Y0, (R11)
	VEXTRACTF128 $1, Y1, (R11)(R9*1)
	VEXTRACTF128 $1, Y2, (R11)(R9*2)
	VEXTRACTF128 $1, Y3, (R11)(R10*1)
	ADDQ $32, SI
	ADDQ R14, DI
	SUBQ $8, CX
	CMPQ CX, $8
	JGE g4loop
g4tail:
	TESTQ CX, CX
	JEQ g4done
	VMULSS (SI), X15, X0
	VMULSS (SI)(R12*1), X15, X1
	VMULSS (SI)(R12*2), X15, X2
	VMULSS (SI)(R13*1), X15, X3
	VMOVSS X0, (DI)
	VMOVSS X1, 4(DI)
	VMOVSS X2, 8(DI)
	VMOVSS X3, 12(DI)
	ADDQ $4, SI
	ADDQ R9, DI
	DECQ CX
	JMP g4tail
g4done:
	VZEROUPPER
	RET
