package bert

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kura-go/kura/bert/wordpiece"
	"github.com/kura-go/kura/internal/procstat"
)

// miniLMConfig is the shape of sentence-transformers/all-MiniLM-L6-v2.
var miniLMConfig = Config{ModelType: "bert", VocabSize: 30522, HiddenSize: 384, NumHiddenLayers: 6,
	NumAttentionHeads: 12, IntermediateSize: 1536, MaxPositionEmbeddings: 512, TypeVocabSize: 2,
	LayerNormEps: 1e-12, HiddenAct: "gelu"}

// randomModel builds a model of shape cfg with random weights (speed does not
// depend on the values).
func randomModel(tb testing.TB, cfg Config, seed uint64) *Model {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	m, err := build(cfg, func(name string) ([]float32, []int, bool, error) {
		shape := shapeFor(cfg, name)
		if strings.HasSuffix(name, "word_embeddings.weight") {
			shape = []int{cfg.VocabSize, cfg.HiddenSize}
		}
		n := product(shape)
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(r.NormFloat64() * 0.05)
		}
		if strings.Contains(name, "LayerNorm.weight") {
			for i := range data {
				data[i] += 1
			}
		}
		return data, shape, true, nil
	}, "random")
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// benchWords is a small English vocabulary for synthetic summary sentences.
var benchWords = strings.Fields(`the user asked assistant for help with debugging python script that parses json
logs and suggested using streaming parser error recovery conversation about planning trip to japan budget hotels
trains itinerary recipe vegetarian lasagna ingredients oven temperature customer complained billing subscription
refund policy cancellation email draft formal tone manager promotion career advice interview questions resume
kubernetes deployment failing memory limits pods restart database migration postgres index performance query
slow writing poem about autumn leaves melancholy explain quantum entanglement simple terms student homework
calculus derivative integral machine learning model overfitting regularization dataset validation split,
translate paragraph into spanish grammar corrections summarize article climate policy carbon emissions.`)

// benchSentences returns n token sequences of sentences of 15–40 words.
func benchSentences(tb testing.TB, n int, seed uint64) [][]int32 {
	tb.Helper()
	tok, err := wordpiece.Load(fixture)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([][]int32, n)
	var sb strings.Builder
	for i := range out {
		sb.Reset()
		words := 15 + r.IntN(26)
		for w := 0; w < words; w++ {
			if w > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(benchWords[r.IntN(len(benchWords))])
		}
		sb.WriteByte('.')
		out[i], _ = tok.Encode(sb.String(), 256)
	}
	return out
}

// BenchmarkMiniLM measures sentence embeddings with a random-weight model of
// all-MiniLM-L6-v2's shape, in batches of 32 sentences of 15–40 words, and
// reports sentences/s and the ratio to ONNX Runtime's 155 sentences/s
// (2 threads, measured on the project's 2-core machine), and the process CPU
// time per sentence.
func BenchmarkMiniLM(b *testing.B) {
	m := randomModel(b, miniLMConfig, 1)
	batches := make([][][]int32, 16)
	tokens := 0
	for i := range batches {
		batches[i] = benchSentences(b, 32, uint64(i))
		for _, s := range batches[i] {
			tokens += len(s)
		}
	}
	b.Logf("%.1f tokens per sentence on average", float64(tokens)/float64(32*len(batches)))
	ctx := context.Background()
	for _, threads := range []int{0, 1} {
		name := "threads=all"
		if threads == 1 {
			name = "threads=1"
		}
		b.Run(name, func(b *testing.B) {
			o := EmbedOptions{Normalize: true, Threads: threads}
			cpu0, err := procstat.Read()
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for i := 0; b.Loop(); i++ {
				if _, err := m.Embed(ctx, batches[i%len(batches)], o); err != nil {
					b.Fatal(err)
				}
				n += 32
			}
			cpu1, err := procstat.Read()
			if err != nil {
				b.Fatal(err)
			}
			sps := float64(n) / b.Elapsed().Seconds()
			b.ReportMetric(sps, "sentences/s")
			b.ReportMetric(sps/155, "x_onnxruntime")
			// CPU time per sentence is less sensitive than wall time to other
			// processes on a shared machine.
			b.ReportMetric(float64((cpu1.CPU-cpu0.CPU).Microseconds())/1000/float64(n), "cpu-ms/sentence")
		})
	}
}
