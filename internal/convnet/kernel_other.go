//go:build !amd64 || purego

package convnet

var haveKernel, haveKernel512 = false, false

func kern6x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, load int) {
	panic("convnet: no micro-kernel on this platform")
}

func kern8x32(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, load int) {
	panic("convnet: no micro-kernel on this platform")
}
