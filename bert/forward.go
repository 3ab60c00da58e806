package bert

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/kura-go/kura/internal/parallel"

	"github.com/kura-go/kura/internal/f32"
)

// workspace holds the activations of one packed chunk of sequences. Workers
// reuse workspaces, so steady-state encoding allocates nothing per token.
type workspace struct {
	x, qkv, ctx, tmp, inter []float32
	scores                  [][]float32 // one L×L buffer per attention goroutine
	offs                    []int
}

// workspacePool keeps workspaces between calls. Unlike a sync.Pool it is
// not emptied by garbage collections, so steady-state encoding does not
// reallocate its (megabyte-sized) buffers; it keeps at most GOMAXPROCS.
type workspacePool struct {
	mu   sync.Mutex
	free []*workspace
}

func (wp *workspacePool) get() *workspace {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	if n := len(wp.free); n > 0 {
		w := wp.free[n-1]
		wp.free = wp.free[:n-1]
		return w
	}
	return &workspace{}
}

func (wp *workspacePool) put(w *workspace) {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	if len(wp.free) < runtime.GOMAXPROCS(0) {
		wp.free = append(wp.free, w)
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n, n+n/2)
	}
	return s[:n]
}

// forward runs the encoder on seqs packed end to end, leaving the last hidden
// state of all tokens in w.x (row w.offs[i]+p is token p of sequence i).
//
// gw is the number of goroutines each matrix product (and the attention of
// the chunk's sequences) may use: 1 when other chunks run beside this one.
func (m *Model) forward(w *workspace, seqs [][]int32, gw int) {
	h, inter := m.cfg.HiddenSize, m.cfg.IntermediateSize
	w.offs = w.offs[:0]
	total, maxLen := 0, 0
	for _, s := range seqs {
		w.offs = append(w.offs, total)
		total += len(s)
		maxLen = max(maxLen, len(s))
	}
	w.offs = append(w.offs, total)
	w.x = grow(w.x, total*h)
	w.qkv = grow(w.qkv, total*3*h)
	w.ctx = grow(w.ctx, total*h)
	w.tmp = grow(w.tmp, total*h)
	w.inter = grow(w.inter, total*inter)
	for len(w.scores) < gw {
		w.scores = append(w.scores, nil)
	}
	for i := range gw {
		w.scores[i] = grow(w.scores[i], maxLen*maxLen)
	}
	eps := m.cfg.LayerNormEps
	if total == 0 {
		return
	}

	// Embeddings: word + token type 0, then + position; LayerNorm.
	typ := m.typeEmb[:h]
	for i, s := range seqs {
		for p, id := range s {
			row := w.x[(w.offs[i]+p)*h:][:h]
			we := m.wordEmb[int(id)*h:][:h]
			pe := m.posEmb[p*h:][:h]
			for j := range row {
				row[j] = (we[j] + typ[j]) + pe[j]
			}
			f32.LayerNorm(row, nil, nil, m.embLNG, m.embLNB, eps)
		}
	}

	for li := range m.layers {
		L := &m.layers[li]
		// q, k, v = x·Wᵀ + b, all three in one GEMM.
		for r := 0; r < total; r++ {
			copy(w.qkv[r*3*h:][:3*h], L.qkvB)
		}
		f32.GemmWorkers(gw, false, false, total, 3*h, h, 1, w.x, h, L.qkvW, 3*h, 1, w.qkv, 3*h)
		m.attentionAll(w, len(seqs), gw)
		// x = LayerNorm(ctx·Woᵀ + bo + x)
		f32.GemmWorkers(gw, false, false, total, h, h, 1, w.ctx, h, L.attnW, h, 0, w.tmp, h)
		for r := 0; r < total; r++ {
			f32.LayerNorm(w.x[r*h:][:h], w.tmp[r*h:][:h], L.attnB, L.ln1G, L.ln1B, eps)
		}
		// h = act(x·Wiᵀ + bi); the bias is added in the activation pass.
		f32.GemmWorkers(gw, false, false, total, inter, h, 1, w.x, h, L.interW, inter, 0, w.inter, inter)
		m.activate(w.inter[:total*inter], L.interB, gw)
		// x = LayerNorm(h·Wo2ᵀ + bo2 + x)
		f32.GemmWorkers(gw, false, false, total, h, inter, 1, w.inter, inter, L.outW, h, 0, w.tmp, h)
		for r := 0; r < total; r++ {
			f32.LayerNorm(w.x[r*h:][:h], w.tmp[r*h:][:h], L.outB, L.ln2G, L.ln2B, eps)
		}
	}
}

// activate sets each row of v (rows of len(bias)) to act(row + bias), on gw
// goroutines for large inputs.
func (m *Model) activate(v, bias []float32, gw int) {
	n := len(bias)
	rows := len(v) / n
	do := func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			row := v[r*n : (r+1)*n]
			switch m.cfg.HiddenAct {
			case "gelu":
				f32.BiasGELU(row, bias)
			default:
				for j := range row {
					row[j] += bias[j]
				}
				if m.cfg.HiddenAct == "relu" {
					relu(row)
				} else {
					geluTanh(row)
				}
			}
		}
	}
	if gw <= 1 || rows < 2*gw {
		do(0, rows)
		return
	}
	parallel.For(context.Background(), gw, 1, gw, func(_, g, _ int) { do(rows*g/gw, rows*(g+1)/gw) })
}

// attention computes the multi-head self-attention context of the n tokens
// starting at row off into w.ctx. Each head is two small GEMMs around a fused
// scale-and-softmax pass; only the sequence's own keys take part, which is
// what a padded batch computes after masking padded keys with float32 min.
func (m *Model) attention(w *workspace, scores []float32, off, n int) {
	h, d := m.cfg.HiddenSize, m.headDim
	ld := 3 * h
	scale := float32(1 / math.Sqrt(float64(d)))
	if n == 0 {
		return
	}
	s := scores[:n*n]
	for hd := 0; hd < m.cfg.NumAttentionHeads; hd++ {
		q := w.qkv[off*ld+hd*d:]
		k := w.qkv[off*ld+h+hd*d:]
		v := w.qkv[off*ld+2*h+hd*d:]
		f32.GemmWorkers(1, false, true, n, n, d, 1, q, ld, k, ld, 0, s, n)
		for i := 0; i < n; i++ {
			f32.ScaledSoftmax(s[i*n:][:n], scale)
		}
		f32.GemmWorkers(1, false, false, n, d, n, 1, s, n, v, ld, 0, w.ctx[off*h+hd*d:], h)
	}
}

// attentionAll runs attention for the chunk's nseq sequences on gw
// goroutines, sequences taken in turn from a shared counter; each goroutine
// has its own scores buffer.
func (m *Model) attentionAll(w *workspace, nseq, gw int) {
	parallel.For(context.Background(), nseq, 1, gw, func(g, lo, _ int) {
		m.attention(w, w.scores[g], w.offs[lo], w.offs[lo+1]-w.offs[lo])
	})
}

// Pooling selects how token vectors become one sentence vector.
type Pooling int

const (
	// MeanPooling averages the vectors of all tokens, [CLS] and [SEP] included.
	MeanPooling Pooling = iota
	// CLSPooling takes the vector of the first token.
	CLSPooling
)

// EmbedOptions controls Embed.
type EmbedOptions struct {
	// Threads is the number of goroutines; 0 means runtime.GOMAXPROCS(0).
	Threads int
	Pooling Pooling
	// Normalize L2-normalises each sentence vector.
	Normalize bool
	// ChunkTokens bounds the tokens run through the encoder at once per
	// goroutine (memory: about 4·(6·hidden + intermediate) bytes per token);
	// 0 means 2048.
	ChunkTokens int
}

// Check reports the first sequence that the model cannot run: a token id
// outside the vocabulary or a sequence longer than max_position_embeddings.
func (m *Model) Check(seqs [][]int32) error {
	for i, s := range seqs {
		if len(s) > m.cfg.MaxPositionEmbeddings {
			return fmt.Errorf("bert: sequence %d has %d tokens, more than max_position_embeddings %d", i, len(s), m.cfg.MaxPositionEmbeddings)
		}
		for p, id := range s {
			if id < 0 || int(id) >= m.cfg.VocabSize {
				return fmt.Errorf("bert: sequence %d, position %d: token id %d is outside the vocabulary (size %d)", i, p, id, m.cfg.VocabSize)
			}
		}
	}
	return nil
}

// Embed returns one pooled vector of length Dims() per sequence of token ids
// ([CLS] … [SEP], already truncated). Sequences are sorted by length and
// split into chunks of similar cost that run in parallel; each sequence's
// result depends only on its own tokens.
func (m *Model) Embed(ctx context.Context, seqs [][]int32, o EmbedOptions) ([][]float32, error) {
	h := m.cfg.HiddenSize
	flat := make([]float32, len(seqs)*h)
	out := make([][]float32, len(seqs))
	for i := range out {
		out[i] = flat[i*h : (i+1)*h : (i+1)*h]
	}
	err := m.run(ctx, seqs, o, func(w *workspace, idx []int, chunk [][]int32) {
		for j, i := range idx {
			pool(out[i], w.x[w.offs[j]*h:w.offs[j+1]*h], h, o.Pooling, o.Normalize)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// HiddenStates returns the last hidden state of each sequence, len(seq)×Dims()
// values row-major per sequence.
func (m *Model) HiddenStates(ctx context.Context, seqs [][]int32, threads int) ([][]float32, error) {
	h := m.cfg.HiddenSize
	out := make([][]float32, len(seqs))
	err := m.run(ctx, seqs, EmbedOptions{Threads: threads}, func(w *workspace, idx []int, chunk [][]int32) {
		for j, i := range idx {
			out[i] = append([]float32(nil), w.x[w.offs[j]*h:w.offs[j+1]*h]...)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func pool(dst, x []float32, h int, p Pooling, normalize bool) {
	n := len(x) / h
	switch {
	case n == 0:
		clear(dst)
	case p == CLSPooling:
		copy(dst, x[:h])
	default:
		for j := 0; j < h; j++ {
			var s float64
			for r := 0; r < n; r++ {
				s += float64(x[r*h+j])
			}
			dst[j] = float32(s / float64(n))
		}
	}
	if normalize {
		var ss float64
		for _, v := range dst {
			ss += float64(v) * float64(v)
		}
		inv := 1 / math.Max(math.Sqrt(ss), 1e-12)
		for j, v := range dst {
			dst[j] = float32(float64(v) * inv)
		}
	}
}

// run sorts seqs by length, cuts them into chunks and runs the chunks on
// o.Threads goroutines, calling done with each chunk's workspace, the
// original indices of its sequences, and the sequences.
func (m *Model) run(ctx context.Context, seqs [][]int32, o EmbedOptions, done func(w *workspace, idx []int, chunk [][]int32)) error {
	if err := m.Check(seqs); err != nil {
		return err
	}
	if len(seqs) == 0 {
		return nil
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	maxTok := o.ChunkTokens
	if maxTok <= 0 {
		maxTok = 2048
	}
	order := make([]int, len(seqs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(seqs[order[a]]) < len(seqs[order[b]]) })

	// Cost of a sequence of n tokens: the dense layers grow with n, attention with n².
	h, inter := float64(m.cfg.HiddenSize), float64(m.cfg.IntermediateSize)
	cost := func(n int) float64 { return float64(n) * (4*h*h + 2*h*inter + 2*float64(n)*h) }
	var totalCost float64
	totalTok := 0
	for _, s := range seqs {
		totalCost += cost(len(s))
		totalTok += len(s)
	}
	nChunks := (totalTok + maxTok - 1) / maxTok
	nChunks = max(threads, (nChunks+threads-1)/threads*threads)
	nChunks = min(nChunks, len(seqs))
	// Cut the sorted order into nChunks runs of about equal cost.
	var chunks [][]int
	target := totalCost / float64(nChunks)
	var acc float64
	start := 0
	for k, i := range order {
		acc += cost(len(seqs[i]))
		remaining := len(order) - k - 1
		if (acc >= target*float64(len(chunks)+1) && len(chunks) < nChunks-1) || remaining == 0 {
			chunks = append(chunks, order[start:k+1])
			start = k + 1
		}
	}

	workers := min(threads, len(chunks))
	gw := max(1, threads/workers) // goroutines inside each chunk when chunks are fewer than threads
	// Each worker takes the next chunk when free, with a workspace of its own.
	ws := make([]*workspace, workers)
	batches := make([][][]int32, workers)
	defer func() {
		for _, w := range ws {
			if w != nil {
				m.pool.put(w)
			}
		}
	}()
	return parallel.For(ctx, len(chunks), 1, workers, func(wi, c, _ int) {
		if ws[wi] == nil {
			ws[wi] = m.pool.get()
		}
		idx := chunks[c]
		batch := batches[wi][:0]
		for _, i := range idx {
			batch = append(batch, seqs[i])
		}
		batches[wi] = batch
		m.forward(ws[wi], batch, gw)
		done(ws[wi], idx, batch)
	})
}
