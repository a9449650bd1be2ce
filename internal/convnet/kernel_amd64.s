//go:build !purego

#include "textflag.h"

// func kern6x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, load int)
//
// c[0:6][0:16] = (load ? c : 0) + a[0:6][0:k] · b[0:k][0:16]
// with a, b and c row-major and lda, ldb, ldc their row strides in
// elements. Twelve YMM accumulators hold the 6×16 block; each step of k
// loads one row of b (two YMM), broadcasts six elements of a and does
// twelve fused multiply-adds.
TEXT ·kern6x16(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R10
	MOVQ load+56(FP), R11
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, R10
	LEAQ (R8)(R8*2), R12 // 3·lda
	LEAQ (SI)(R8*4), R13 // row 4 of a

	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15

	TESTQ CX, CX
	JEQ   store

loop:
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VBROADCASTSS (SI), Y2
	VFMADD231PS  Y0, Y2, Y4
	VFMADD231PS  Y1, Y2, Y5
	VBROADCASTSS (SI)(R8*1), Y3
	VFMADD231PS  Y0, Y3, Y6
	VFMADD231PS  Y1, Y3, Y7
	VBROADCASTSS (SI)(R8*2), Y2
	VFMADD231PS  Y0, Y2, Y8
	VFMADD231PS  Y1, Y2, Y9
	VBROADCASTSS (SI)(R12*1), Y3
	VFMADD231PS  Y0, Y3, Y10
	VFMADD231PS  Y1, Y3, Y11
	VBROADCASTSS (R13), Y2
	VFMADD231PS  Y0, Y2, Y12
	VFMADD231PS  Y1, Y2, Y13
	VBROADCASTSS (R13)(R8*1), Y3
	VFMADD231PS  Y0, Y3, Y14
	VFMADD231PS  Y1, Y3, Y15
	ADDQ         $4, SI
	ADDQ         $4, R13
	ADDQ         R9, DI
	DECQ         CX
	JNZ          loop

store:
	TESTQ R11, R11
	JEQ   put
	VADDPS (DX), Y4, Y4
	VADDPS 32(DX), Y5, Y5
	ADDQ   R10, DX
	VADDPS (DX), Y6, Y6
	VADDPS 32(DX), Y7, Y7
	ADDQ   R10, DX
	VADDPS (DX), Y8, Y8
	VADDPS 32(DX), Y9, Y9
	ADDQ   R10, DX
	VADDPS (DX), Y10, Y10
	VADDPS 32(DX), Y11, Y11
	ADDQ   R10, DX
	VADDPS (DX), Y12, Y12
	VADDPS 32(DX), Y13, Y13
	ADDQ   R10, DX
	VADDPS (DX), Y14, Y14
	VADDPS 32(DX), Y15, Y15
	MOVQ   c+40(FP), DX

put:
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R10, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ    R10, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ    R10, DX
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	ADDQ    R10, DX
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	ADDQ    R10, DX
	VMOVUPS Y14, (DX)
	VMOVUPS Y15, 32(DX)
	VZEROUPPER
	RET
