package convnet

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Matrix products. On amd64 they run on hand-written micro-kernels
// (kernel_amd64.s) that read the operands in place: an 8×32 AVX-512 one
// where the CPU has AVX-512 and the product at least 32 columns, else a
// 6×16 AVX2+FMA one. Anywhere else, or built with -tags purego, they run on
// gonum's pure-Go Sgemm. The kernels earn their 230 lines: measured with
// BenchmarkGemm on the 2-core AMD EPYC (Zen 5) development machine, one
// goroutine, the products of one 8-photo shard of the 3,32,32 network
// (m×n×k, median of 3 runs, GFLOPS):
//
//	                                 gonum Sgemm   AVX2 kernel   AVX-512 kernel
//	forward, block 1   16×8192×27        21             69            177
//	forward, block 2   32×2048×144       21             80            215
//	forward, block 3   64×512×288        21            117            248
//	weights, block 2   32×144×2048       29             96            152
//	columns, block 2   144×2048×32       20             74            156
//	weights, block 4   64×576×128        24             97            154
//
// A training epoch at 3,32,32, num_layers=18 (BenchmarkTrain, both cores,
// median of 3 runs) does 871 photos per CPU-second on gonum's path, 2,243
// (2.6×) with the AVX2 kernel and 2,937 (3.4×) with the AVX-512 one; the
// rest of the time goes to im2col, batch norm, pooling and transposes.
//
// Each product runs on the calling goroutine: the network parallelises over
// shards of a mini-batch itself. gonum's Sgemm goes parallel once its
// output has 4 blocks of 64×64 or more, so on that path the output is cut
// into tiles of at most 64 rows and 192 columns (3 blocks).
//
// The weight gradient dZ·colᵀ is computed on the kernel path as its
// transpose, col·dZᵀ, so that the large operand (the im2col columns) is read
// in place and only the small one is transposed.
//
// Every path computes each output element from its own row and column
// only, in a fixed order, so a photo's prediction does not depend on the
// other photos of its batch. The two kernels do the same fused
// multiply-adds in the same order per element, so they give the same bits;
// gonum's path multiplies and adds separately and rounds differently.

var blas32 gonum.Implementation

const (
	tileRows = 64
	tileCols = 192
	kc       = 256 // k-block of the micro-kernel path: a 16-column panel of b is 16 KB
)

// scratch is one goroutine's buffers for the matrix products: the padded
// edges of the micro-kernel path and the transposed operands.
type scratch struct {
	a [8 * kc]float32
	b [kc * 32]float32
	c [8 * 32]float32
	t []float32
}

// floats returns n floats of the transpose buffer.
func (s *scratch) floats(n int) []float32 {
	if cap(s.t) < n {
		s.t = make([]float32, n)
	}
	return s.t[:n]
}

// kernelFunc is a micro-kernel: c[0:mr][0:nr] = (load ? c : 0) +
// a[0:mr][0:k]·b[0:k][0:nr].
type kernelFunc func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, load int)

// sgemm sets c = a·b, or adds a·b to c when add is true; a is m×k, b k×n,
// c m×n, row-major with row strides lda, ldb and ldc.
func sgemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, add bool, sc *scratch) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !add {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if !haveKernel {
		beta := float32(0)
		if add {
			beta = 1
		}
		for i := 0; i < m; i += tileRows {
			mi := min(tileRows, m-i)
			for j := 0; j < n; j += tileCols {
				nj := min(tileCols, n-j)
				blas32.Sgemm(blas.NoTrans, blas.NoTrans, mi, nj, k, 1, a[i*lda:], lda, b[j:], ldb, beta, c[i*ldc+j:], ldc)
			}
		}
		return
	}
	// The AVX-512 kernel where there are at least 32 columns, else the
	// AVX2 one. Both compute each element in the same order.
	mr, nr, kern := 6, 16, kernelFunc(kern6x16)
	if haveKernel512 && n >= 32 {
		mr, nr, kern = 8, 32, kern8x32
	}
	if sc == nil {
		sc = new(scratch)
	}
	tmpA, tmpB, tmpC := sc.a[:mr*kc], sc.b[:kc*nr], sc.c[:mr*nr]
	mFull := m - m%mr
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		load := 0
		if add || p0 > 0 {
			load = 1
		}
		// The last rows of a, if fewer than mr, padded with zero rows.
		if rest := m - mFull; rest > 0 {
			clear(tmpA[:mr*kb])
			for r := range rest {
				copy(tmpA[r*kb:(r+1)*kb], a[(mFull+r)*lda+p0:])
			}
		}
		for j := 0; j < n; j += nr {
			nj := min(nr, n-j)
			bp, bld := b[p0*ldb+j:], ldb
			if nj < nr { // the last columns of b, padded with zeros
				for p := range kb {
					row := tmpB[p*nr : p*nr+nr]
					copy(row, b[(p0+p)*ldb+j:(p0+p)*ldb+j+nj])
					clear(row[nj:])
				}
				bp, bld = tmpB, nr
			} else {
				_ = bp[(kb-1)*bld+nr-1]
			}
			for i := 0; i < m; i += mr {
				ap, ald := a[i*lda+p0:], lda
				if i >= mFull {
					ap, ald = tmpA, kb
				} else {
					_ = ap[(mr-1)*ald+kb-1]
				}
				if i < mFull && nj == nr {
					_ = c[i*ldc+j+(mr-1)*ldc+nr-1]
					kern(kb, &ap[0], ald, &bp[0], bld, &c[i*ldc+j], ldc, load)
					continue
				}
				mi := min(mr, m-i)
				if load == 1 {
					for r := range mi {
						copy(tmpC[r*nr:r*nr+nj], c[(i+r)*ldc+j:])
					}
				}
				kern(kb, &ap[0], ald, &bp[0], bld, &tmpC[0], nr, load)
				for r := range mi {
					copy(c[(i+r)*ldc+j:(i+r)*ldc+j+nj], tmpC[r*nr:])
				}
			}
		}
	}
}

// mulNN sets c = a·b (or adds it, when add is true), where a is m×k, b is
// k×n and c is m×n, all row-major and dense.
func mulNN(m, n, k int, a, b, c []float32, add bool, sc *scratch) {
	sgemm(m, n, k, a, k, b, n, c, n, add, sc)
}

// mulNT adds a·bᵀ to c, where a is m×k, b is n×k and c is m×n.
func mulNT(m, n, k int, a, b, c []float32, sc *scratch) {
	if k == 0 {
		return
	}
	if !haveKernel {
		for i := 0; i < m; i += tileRows {
			mi := min(tileRows, m-i)
			for j := 0; j < n; j += tileCols {
				nj := min(tileCols, n-j)
				blas32.Sgemm(blas.NoTrans, blas.Trans, mi, nj, k, 1, a[i*k:], k, b[j*k:], k, 1, c[i*n+j:], n)
			}
		}
		return
	}
	// cᵀ = b·aᵀ: b is read in place, aᵀ (k×m, m small) and cᵀ are scratch.
	if sc == nil {
		sc = new(scratch)
	}
	t := sc.floats(k*m + n*m)
	at, ct := t[:k*m], t[k*m:]
	transpose(a, m, k, at)
	sgemm(n, m, k, b, k, at, m, ct, m, false, sc)
	for j := range n {
		for i := range m {
			c[i*n+j] += ct[j*m+i]
		}
	}
}

// mulTN sets c = aᵀ·b, where a is k×m, b is k×n and c is m×n.
func mulTN(m, n, k int, a, b, c []float32, sc *scratch) {
	if k == 0 {
		clear(c[:m*n])
		return
	}
	if !haveKernel {
		for i := 0; i < m; i += tileRows {
			mi := min(tileRows, m-i)
			for j := 0; j < n; j += tileCols {
				nj := min(tileCols, n-j)
				blas32.Sgemm(blas.Trans, blas.NoTrans, mi, nj, k, 1, a[i:], m, b[j:], n, 0, c[i*n+j:], n)
			}
		}
		return
	}
	if sc == nil {
		sc = new(scratch)
	}
	at := sc.floats(k * m)
	transpose(a, k, m, at)
	sgemm(m, n, k, at, k, b, n, c, n, false, sc)
}

// transpose writes the r×c matrix x as its c×r transpose to dst, in
// 16×16 tiles so that both sides stay in cache.
func transpose(x []float32, r, c int, dst []float32) {
	const t = 16
	for i0 := 0; i0 < r; i0 += t {
		i1 := min(i0+t, r)
		for j0 := 0; j0 < c; j0 += t {
			j1 := min(j0+t, c)
			for i := i0; i < i1; i++ {
				for j, v := range x[i*c+j0 : i*c+j1] {
					dst[(j0+j)*r+i] = v
				}
			}
		}
	}
}
