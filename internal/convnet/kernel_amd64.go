//go:build !purego

package convnet

import "golang.org/x/sys/cpu"

// haveKernel says the AVX2+FMA micro-kernel can run on this CPU, and
// haveKernel512 the AVX-512 one.
var (
	haveKernel    = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	haveKernel512 = haveKernel && cpu.X86.HasAVX512F
)

// kern6x16 sets c[0:6][0:16] to a[0:6][0:k]·b[0:k][0:16], plus c's
// previous contents when load is 1. Strides are in elements.
//
//go:noescape
func kern6x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, load int)

// kern8x32 is kern6x16 on 8 rows and 32 columns, with AVX-512.
//
//go:noescape
func kern8x32(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, load int)
