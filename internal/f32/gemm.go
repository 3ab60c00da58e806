package f32

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/kura-go/kura/internal/parallel"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, as
// BLAS sgemm does: op(A) is m×k (A, or Aᵀ when transA), op(B) is k×n (B, or
// Bᵀ when transB), C is m×n. lda, ldb and ldc are the row strides. When beta
// is zero C is not read (NaNs in it are overwritten).
//
// Large products are split over up to runtime.GOMAXPROCS goroutines; the
// result is bit-identical whatever the split. Gemm panics, as BLAS
// implementations do, if a dimension is negative, a stride is smaller than its
// row length or a slice is too short for the shape it describes.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(active, runtime.GOMAXPROCS(0), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmWorkers is Gemm with an explicit upper bound on the number of
// goroutines (workers <= 1 runs on the calling goroutine only). Callers that
// already run one Gemm per core use it to avoid oversubscription; the result
// is the same as Gemm's, bit for bit.
func GemmWorkers(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(active, workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// minMACsPerWorker is the smallest share of multiply-adds worth a goroutine
// (about 10 µs of work on one AVX2 core).
const minMACsPerWorker = 1 << 19

func checkMatrix(name string, rows, cols, ld, length int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("f32: Gemm: ld%s = %d is smaller than the row length %d", name, ld, cols))
	}
	if rows > 0 && cols > 0 && length < (rows-1)*ld+cols {
		panic(fmt.Sprintf("f32: Gemm: len(%s) = %d, need at least %d for %d×%d with stride %d", name, length, (rows-1)*ld+cols, rows, cols, ld))
	}
}

func gemm(im *impl, workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("f32: Gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	if transB {
		checkMatrix("b", n, k, ldb, len(b))
	} else {
		checkMatrix("b", k, n, ldb, len(b))
	}
	g := im.gemm
	packB := func(dst []float32, j0, p0, nb, kb int) []float32 {
		if transB {
			g.packGather(dst, b, ldb, j0, p0, nb, kb, g.nr, 1)
		} else {
			packCopy(dst, b, ldb, p0, j0, nb, kb, g.nr, 1)
		}
		return dst[:(nb+g.nr-1)/g.nr*g.nr*kb]
	}
	gemmWith(im, workers, transA, m, n, k, alpha, a, lda, packB, false, beta, c, ldc)
}

// bSource returns the packed kb×nb block of op(B) at rows [p0, p0+kb) and
// columns [j0, j0+nb) (j0 a multiple of nr, p0 of kc), in panels of nr
// columns, either packing it into dst or returning stored panels.
type bSource func(dst []float32, j0, p0, nb, kb int) []float32

// gemmWith checks A and C, handles alpha, beta and the trivial cases, and
// splits the product over up to workers goroutines. packed says that packB
// returns stored panels (it does not use dst).
func gemmWith(im *impl, workers int, transA bool, m, n, k int, alpha float32, a []float32, lda int, packB bSource, packed bool, beta float32, c []float32, ldc int) {
	checkMatrix("c", m, n, ldc, len(c))
	if transA {
		checkMatrix("a", k, m, lda, len(a))
	} else {
		checkMatrix("a", m, k, lda, len(a))
	}
	if m == 0 || n == 0 {
		return
	}
	load := 1
	switch {
	case alpha == 0 || k == 0:
		scaleC(m, n, beta, c, ldc)
		return
	case beta == 0:
		load = 0 // the first k block overwrites C
	case beta != 1:
		scaleC(m, n, beta, c, ldc)
	}

	g := im.gemm
	macs := m * n * k
	if macs/n/k != m { // overflow: certainly large
		macs = int(^uint(0) >> 1)
	}
	w := min(workers, macs/minMACsPerWorker)
	tilesM, tilesN := (m+g.mr-1)/g.mr, (n+g.nr-1)/g.nr
	splitM := tilesM >= tilesN || tilesM >= w
	if splitM {
		w = min(w, tilesM)
	} else {
		w = min(w, tilesN)
	}
	if w <= 1 {
		g.serial(transA, m, n, k, alpha, a, lda, packB, packed, load, c, ldc)
		return
	}
	if splitM {
		npad := tilesN * g.nr
		var packPart func(i int) // packs worker i's share of op(B)
		if !packed && npad*k <= maxSharedB {
			// Pack op(B) once for all workers, each packing a share
			// of the panels before any starts computing.
			shared := sharedPool.Get().(*[]float32)
			*shared = alignedFloats(*shared, npad*k)
			full := *shared
			src := packB
			packPart = func(i int) {
				q0, q1 := tilesN*i/w, tilesN*(i+1)/w
				if q0 == q1 {
					return
				}
				j0, j1 := q0*g.nr, min(n, q1*g.nr)
				for p0 := 0; p0 < k; p0 += g.kc {
					kb := min(g.kc, k-p0)
					off := p0*npad + j0*kb
					src(full[off:off+(q1-q0)*g.nr*kb], j0, p0, j1-j0, kb)
				}
			}
			packB = func(_ []float32, j0, p0, nb, kb int) []float32 {
				off := p0*npad + j0*kb
				return full[off : off+(nb+g.nr-1)/g.nr*g.nr*kb]
			}
			packed = true
			defer sharedPool.Put(shared)
		}
		if packed {
			// Workers take chunks of rows as they become free, so a
			// core slowed by other work does not hold the rest back.
			// Chunks of at most mc rows, their number a multiple of
			// w so that equally fast workers finish together.
			nch := (tilesM + g.mc/g.mr - 1) / (g.mc / g.mr)
			nch = max(2*w, (nch+w-1)/w*w)
			chunk := (tilesM + nch - 1) / nch * g.mr
			if packPart != nil {
				// Every share of op(B) is packed before any worker
				// computes.
				parallel.For(context.Background(), w, 1, w, func(_, i, _ int) { packPart(i) })
			}
			parallel.For(context.Background(), m, chunk, w, func(_, i0, i1 int) {
				g.serial(transA, i1-i0, n, k, alpha, rowsFrom(a, transA, i0, lda), lda, packB, true, load, c[i0*ldc:], ldc)
			})
			return
		}
	}
	// Give each worker a contiguous run of whole register tiles. Splitting
	// only changes which goroutine computes a tile, never how: the k
	// blocking, and so the order of operations behind every element, is
	// the same.
	tiles := tilesM
	if !splitM {
		tiles = tilesN
	}
	parallel.For(context.Background(), w, 1, w, func(_, i, _ int) {
		t0, t1 := tiles*i/w, tiles*(i+1)/w
		switch {
		case t0 == t1:
		case splitM:
			i0, i1 := t0*g.mr, min(m, t1*g.mr)
			g.serial(transA, i1-i0, n, k, alpha, rowsFrom(a, transA, i0, lda), lda, packB, packed, load, c[i0*ldc:], ldc)
		default:
			j0, j1 := t0*g.nr, min(n, t1*g.nr)
			sub := func(dst []float32, jb, p0, nb, kb int) []float32 { return packB(dst, j0+jb, p0, nb, kb) }
			g.serial(transA, m, j1-j0, k, alpha, a, lda, sub, packed, load, c[j0:], ldc)
		}
	})
}

// rowsFrom returns op(A) from its row i0 on: A's row i0 on, or (transA,
// A stored k×m) A from its column i0 on.
func rowsFrom(a []float32, transA bool, i0, lda int) []float32 {
	if transA {
		return a[i0:]
	}
	return a[i0*lda:]
}

// maxSharedB caps the packed copy of B that workers share (in floats, 32 MiB);
// larger B are packed block by block by each worker.
const maxSharedB = 8 << 20

var sharedPool = sync.Pool{New: func() any { return new([]float32) }}

// scaleC computes C = beta·C (C = 0 when beta is zero, whatever C held).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(ci)
		} else {
			for j := range ci {
				ci[j] *= beta
			}
		}
	}
}

// packBuf holds one goroutine's packing buffers.
type packBuf struct{ a, b, tmp []float32 }

var packPool sync.Pool

// alignedFloats returns a slice of n float32s whose first element is 64-byte
// aligned, reusing buf when it is large enough.
func alignedFloats(buf []float32, n int) []float32 {
	if cap(buf) >= n && uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64 == 0 {
		return buf[:n]
	}
	raw := make([]float32, n+16)
	off := int((64 - uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%64) % 64 / 4)
	return raw[off : off+n : off+n]
}

// serial is the single-goroutine blocked GEMM: C = op(A)·op(B)·alpha + C·load
// (load 0 means C is overwritten by the first k block).
// packed says that packB returns stored panels, so no B buffer is needed.
func (g *gemmKernel) serial(transA bool, m, n, k int, alpha float32, a []float32, lda int, packB bSource, packed bool, load int, c []float32, ldc int) {
	mr, nr := g.mr, g.nr
	mcMax := min(g.mc, (m+mr-1)/mr*mr)
	ncMax := min(g.nc, (n+nr-1)/nr*nr)
	kcMax := min(g.kc, k)
	buf, _ := packPool.Get().(*packBuf)
	if buf == nil {
		buf = new(packBuf)
	}
	buf.a = alignedFloats(buf.a, mcMax*kcMax)
	var bbuf []float32
	if !packed {
		buf.b = alignedFloats(buf.b, ncMax*kcMax)
		bbuf = buf.b
	}
	buf.tmp = alignedFloats(buf.tmp, mr*nr)
	for jc := 0; jc < n; jc += g.nc {
		nb := min(g.nc, n-jc)
		for pc := 0; pc < k; pc += g.kc {
			kb := min(g.kc, k-pc)
			ld := load
			if pc > 0 {
				ld = 1
			}
			pb := packB(bbuf, jc, pc, nb, kb)
			for ic := 0; ic < m; ic += g.mc {
				mb := min(g.mc, m-ic)
				if transA {
					packCopy(buf.a, a, lda, pc, ic, mb, kb, mr, alpha)
				} else {
					g.packGather(buf.a, a, lda, ic, pc, mb, kb, mr, alpha)
				}
				g.macro(mb, nb, kb, buf.a, pb, c[ic*ldc+jc:], ldc, ld, buf.tmp)
			}
		}
	}
	packPool.Put(buf)
}

// macro multiplies a packed mb×kb block of A by a packed kb×nb block of B
// into C, one register tile at a time.
func (g *gemmKernel) macro(mb, nb, kb int, ap, bp, c []float32, ldc, load int, tmp []float32) {
	mr, nr := g.mr, g.nr
	for jr := 0; jr < nb; jr += nr {
		nw := min(nr, nb-jr)
		pb := &bp[jr*kb]
		for ir := 0; ir < mb; ir += mr {
			mh := min(mr, mb-ir)
			pa := &ap[ir*kb]
			if mh == mr && nw == nr {
				g.kern(kb, pa, pb, &c[ir*ldc+jr], ldc, load)
				continue
			}
			if g.kernEdge != nil {
				g.kernEdge(kb, pa, pb, &c[ir*ldc+jr], ldc, load, mh, nw)
				continue
			}
			// Edge tile: compute the full tile into tmp, then add the
			// part that exists. C + acc is what the kernel does too, so
			// edge and interior elements round alike.
			g.kern(kb, pa, pb, &tmp[0], nr, 0)
			for i := range mh {
				row := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+nw]
				t := tmp[i*nr : i*nr+nw]
				if load != 0 {
					for j := range row {
						row[j] += t[j]
					}
				} else {
					copy(row, t)
				}
			}
		}
	}
}

// packGather packs rows [r0, r0+rows) × columns [p0, p0+kb) of the row-major
// matrix src into panels of w rows: panel q holds element (r, p) at
// dst[q*w*kb + p*w + r], scaled by alpha; missing rows of the last panel are
// zero. It packs A (not transposed) and Bᵀ (B transposed).
func (g *gemmKernel) packGather(dst, src []float32, ld, r0, p0, rows, kb, w int, alpha float32) {
	for q := 0; q < rows; q += w {
		h := min(w, rows-q)
		pan := dst[q*kb : q*kb+w*kb]
		r := 0
		if g.gather4 != nil {
			// Rows r..r+3 of the panel exist in src (r+4 <= h) and
			// pan holds the w·kb elements written.
			for ; r+4 <= h; r += 4 {
				g.gather4(&pan[r], &src[(r0+q+r)*ld+p0], ld, kb, w, alpha)
			}
			if r < h && h >= 4 {
				// The last 1-3 rows: repack the last four (the
				// overlap is rewritten with the same values).
				g.gather4(&pan[h-4], &src[(r0+q+h-4)*ld+p0], ld, kb, w, alpha)
				r = h
			}
		}
		for ; r < h; r++ {
			s := src[(r0+q+r)*ld+p0 : (r0+q+r)*ld+p0+kb]
			if alpha == 1 {
				for p, v := range s {
					pan[p*w+r] = v
				}
			} else {
				for p, v := range s {
					pan[p*w+r] = alpha * v
				}
			}
		}
		if g.gather4 != nil && kb <= len(zeros) {
			// Zero padding four rows at a time: a row stride of 0
			// reads the zero row four times.
			for ; r+4 <= w; r += 4 {
				g.gather4(&pan[r], &zeros[0], 0, kb, w, 1)
			}
		}
		for ; r < w; r++ {
			for p := 0; p < kb; p++ {
				pan[p*w+r] = 0
			}
		}
	}
}

// zeros is a row of zeros that packGather copies for padding.
var zeros [1024]float32

// packCopy packs columns [c0, c0+cols) × rows [p0, p0+kb) of the row-major
// matrix src into panels of w columns: panel q holds element (p, c) at
// dst[q*w*kb + p*w + c], scaled by alpha, zero-padded. It packs Aᵀ (A
// transposed) and B (not transposed).
func packCopy(dst, src []float32, ld, p0, c0, cols, kb, w int, alpha float32) {
	for q := 0; q < cols; q += w {
		h := min(w, cols-q)
		pan := dst[q*kb : q*kb+w*kb]
		for p := 0; p < kb; p++ {
			d := pan[p*w : p*w+w]
			s := src[(p0+p)*ld+c0+q : (p0+p)*ld+c0+q+h]
			if alpha == 1 {
				copy(d, s)
			} else {
				for i, v := range s {
					d[i] = alpha * v
				}
			}
			clear(d[h:])
		}
	}
}
