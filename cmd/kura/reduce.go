package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/internal/procstat"
	"github.com/kura-go/kura/internal/progress"
	"github.com/kura-go/kura/reduce"
	"github.com/kura-go/kura/vecfile"
	"github.com/spf13/cobra"
)

func init() { register(newReduceCmd) }

type reduceFlags struct {
	in, out, method, metric, init string
	dims, components              int
	up                            reduce.UMAPParams
}

func newReduceCmd() *cobra.Command {
	f := reduceFlags{up: reduce.DefaultUMAPParams()}
	cmd := &cobra.Command{
		Use:   "reduce --in VECTORS --out REDUCED",
		Short: "Reduce vectors to a few dimensions with UMAP or PCA",
		Long: `reduce reads vectors from a .npy file (float32, float16 or float64, 2-D) or
a raw little-endian float32 file (.f32, with --dims) and writes their UMAP
embedding or their principal-component scores as a float32 .npy (or .f32)
matrix, one row per input row. A float32 input file is memory-mapped, not
copied; a float16 one is read into memory as float32 (twice the file's size).

UMAP follows umap-learn (n_neighbors 15, min_dist 0.1, spectral
initialisation, 500 epochs up to 10,000 rows, else 200) on an approximate
k-nearest-neighbour graph; the result is the same for a seed whatever
--workers is. PCA centres the data and uses a randomised SVD.`,
		Example: `  # UMAP to 5 dimensions before clustering (as BERTopic does)
  kura reduce --in embeddings.npy --out reduced.npy \
      --components 5 --metric cosine

  # A 2-D map
  kura reduce --in embeddings.npy --out map.npy --components 2

  # PCA to 50 dimensions
  kura reduce --in embeddings.npy --out pca50.npy --method pca --components 50`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runReduce(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.in, "in", "", "vectors: .npy (float32/float16/float64) or .f32 (raw float32, needs --dims)")
	fl.StringVar(&f.out, "out", "", "output vectors: .npy or .f32 (float32)")
	fl.IntVar(&f.dims, "dims", 0, "vector dimension for .f32 input")
	fl.StringVar(&f.method, "method", reduce.MethodUMAP, "umap or pca")
	fl.IntVar(&f.components, "components", 5, "output dimension (UMAP: 1 to 64)")
	fl.StringVar(&f.metric, "metric", "euclidean", "UMAP input distance: euclidean or cosine")
	fl.IntVar(&f.up.NNeighbors, "n-neighbors", f.up.NNeighbors, "UMAP n_neighbors (the point itself included)")
	fl.Float64Var(&f.up.MinDist, "min-dist", f.up.MinDist, "UMAP min_dist")
	fl.Float64Var(&f.up.Spread, "spread", f.up.Spread, "UMAP spread")
	fl.IntVar(&f.up.Epochs, "epochs", 0, "UMAP epochs (0 = 500 up to 10,000 rows, else 200)")
	fl.StringVar(&f.up.Init, "init", reduce.InitSpectral, "UMAP initialisation: spectral, pca or random")
	fl.BoolVar(&f.up.ExactKNN, "exact-knn", false, "UMAP: brute-force k-NN graph (O(n²)) instead of NN-descent")
	fl.Uint64Var(&f.up.Seed, "seed", f.up.Seed, "random seed")
	fl.IntVar(&f.up.Workers, "workers", 0, "goroutines (0 = all CPUs); the result does not depend on it")
	return cmd
}

func runReduce(cmd *cobra.Command, f *reduceFlags) error {
	if f.in == "" || f.out == "" {
		return usageErrorf("--in and --out are required")
	}
	if f.method != reduce.MethodUMAP && f.method != reduce.MethodPCA {
		return usageErrorf("--method must be umap or pca, not %q", f.method)
	}
	m, err := reduce.ParseMetric(f.metric)
	if err != nil {
		return &usageError{err}
	}
	f.up.Metric, f.up.NComponents = m, f.components
	if f.method == reduce.MethodUMAP {
		if err := checkUMAPFlags(f); err != nil {
			return err
		}
		if err := f.up.Validate(); err != nil {
			return &usageError{err}
		}
	} else if f.components < 1 {
		return usageErrorf("--components must be at least 1, not %d", f.components)
	}
	if _, err := vecfile.FormatOf(f.out); err != nil {
		return &usageError{err}
	}
	if err := outfile.CheckDistinct([]string{f.in}, []string{f.out}); err != nil {
		return &usageError{err}
	}
	start := time.Now()
	mx, err := vecfile.Open(f.in, f.dims)
	if err != nil {
		return err
	}
	defer mx.Close()
	n, d := mx.Rows, mx.Cols
	if f.method == reduce.MethodPCA && f.components > min(n, d) {
		return usageErrorf("--components %d: PCA of %d×%d vectors gives at most %d", f.components, n, d, min(n, d))
	}
	ctx := cmd.Context()
	var out []float32
	switch f.method {
	case reduce.MethodUMAP:
		var bar *progress.Bar
		f.up.Progress = func(done, total int) {
			if bar == nil {
				bar = progress.New(cmd.ErrOrStderr(), "umap", int64(total), stderrIsTerminal())
			}
			bar.Add(1)
		}
		out, err = reduce.UMAP(ctx, mx.Data, n, d, f.up)
	case reduce.MethodPCA:
		out, err = reduce.PCA(ctx, mx.Data, n, d, reduce.PCAParams{NComponents: f.components, Seed: f.up.Seed, Workers: f.up.Workers})
	}
	if err != nil {
		if errors.Is(err, reduce.ErrInvalidInput) {
			return fmt.Errorf("%s: %w", f.in, err)
		}
		return err
	}
	if err := vecfile.Write(f.out, out, n, f.components); err != nil {
		return err
	}
	ps, _ := procstat.Read()
	fmt.Fprintln(cmd.ErrOrStderr(), human.Wrap(fmt.Sprintf("reduced %s vectors from %d to %d dimensions with %s: %.3fs, peak memory %s",
		human.Thousands(n), d, f.components, f.method, time.Since(start).Seconds(), human.Bytes(float64(ps.PeakRSS))),
		terminalWidth(os.Stderr)))
	return nil
}

// checkUMAPFlags names the flag of a UMAP parameter out of range (the
// parameters' own check names their Go fields: "UMAP NComponents must be
// between 1 and 64").
func checkUMAPFlags(f *reduceFlags) error {
	p := f.up
	switch {
	case f.components < 1 || f.components > reduce.MaxDims:
		return usageErrorf("--components must be between 1 and %d for UMAP, not %d", reduce.MaxDims, f.components)
	case p.NNeighbors < 2:
		return usageErrorf("--n-neighbors must be at least 2, not %d", p.NNeighbors)
	case !(p.Spread > 0) || math.IsInf(p.Spread, 0):
		return usageErrorf("--spread must be positive, not %g", p.Spread)
	case !(p.MinDist >= 0) || p.MinDist > p.Spread:
		return usageErrorf("--min-dist must be between 0 and --spread (%g), not %g", p.Spread, p.MinDist)
	case p.Epochs < 0:
		return usageErrorf("--epochs must be 0 (automatic) or more, not %d", p.Epochs)
	case p.Init != reduce.InitSpectral && p.Init != reduce.InitPCA && p.Init != reduce.InitRandom:
		return usageErrorf("--init must be spectral, pca or random, not %q", p.Init)
	}
	return nil
}
