package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/cluster/hdbscan"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/internal/procstat"
	"github.com/kura-go/kura/reduce"
	"github.com/kura-go/kura/vecfile"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() { register(newClusterCmd) }

type clusterFlags struct {
	in, out, probs, scores, tree string
	dims                         int
	spec                         cluster.Spec
	reduce                       preReduceFlags
}

func newClusterCmd() *cobra.Command {
	var f clusterFlags
	cmd := &cobra.Command{
		Use:   "cluster --in VECTORS --out LABELS",
		Short: "Cluster vectors (.npy or .f32) with HDBSCAN or K-means",
		Long: `cluster reads vectors from a .npy file (float32, float16 or float64, 2-D) or
a raw little-endian float32 file (.f32, with --dims), clusters them, and
writes one label per line (-1 = noise). A one-line summary goes to stderr.`,
		Example: `  # HDBSCAN with Kura's defaults (min_cluster_size 10)
  kura cluster --in embeddings.npy --out labels.txt

  # HDBSCAN with probabilities, outlier scores and the condensed tree
  kura cluster --in embeddings.npy --out labels.txt \
      --probabilities probs.txt --outlier-scores glosh.txt --tree tree.json \
      --min-cluster-size 15 --metric cosine

  # UMAP to 5 dimensions first (cosine, n_neighbors 50), as BERTopic does
  kura cluster --in embeddings.npy --out labels.txt \
      --reduce umap --reduce-dims 5 --reduce-metric cosine \
      --reduce-neighbors 50 --min-cluster-size 100 --min-samples 10

  # K-means with Kura's k = ceil(N/10)
  kura cluster --in vectors.f32 --dims 384 --out labels.txt \
      --algorithm kmeans --items-per-cluster 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runCluster(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.in, "in", "", "vectors: .npy (float32/float16/float64) or .f32 (raw float32, needs --dims)")
	fl.StringVar(&f.out, "out", "", "labels output, one integer per line (-1 = noise); - for stdout")
	fl.IntVar(&f.dims, "dims", 0, "vector dimension for .f32 input")
	fl.StringVar(&f.probs, "probabilities", "", "HDBSCAN membership probabilities output (one per line)")
	fl.StringVar(&f.scores, "outlier-scores", "", "HDBSCAN GLOSH outlier scores output (one per line)")
	fl.StringVar(&f.tree, "tree", "", "HDBSCAN condensed tree output (JSON)")
	addClusterSpecFlags(fl, &f.spec)
	f.reduce.add(fl)
	return cmd
}

// preReduceFlags are the flags of the reduction before clustering (kura
// cluster and kura loadtest): --reduce, --reduce-dims, --reduce-metric and
// --reduce-neighbors.
type preReduceFlags struct {
	spec   reduce.Spec
	metric string
}

func (r *preReduceFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&r.spec.Method, "reduce", reduce.MethodNone, "reduce the vectors before clustering: umap, pca or none (see docs/reduce.md for which to choose)")
	fl.IntVar(&r.spec.Dims, "reduce-dims", 5, "dimension after --reduce")
	fl.StringVar(&r.metric, "reduce-metric", "euclidean", "UMAP input distance: euclidean or cosine")
	fl.IntVar(&r.spec.NNeighbors, "reduce-neighbors", 0, "UMAP n_neighbors (0 = 15)")
}

// apply checks the reduction flags and puts them in s (seeded with s.Seed).
// Its errors are usage errors.
func (r *preReduceFlags) apply(s *cluster.Spec) error {
	m, err := reduce.ParseMetric(r.metric)
	if err != nil {
		return &usageError{err}
	}
	s.Reduce = r.spec
	s.Reduce.Metric, s.Reduce.Seed = m, uint64(s.Seed)
	if err := s.Reduce.Validate(); err != nil {
		return &usageError{err}
	}
	return nil
}

// addClusterSpecFlags adds the flags of a cluster.Spec, with kura
// cluster's defaults.
func addClusterSpecFlags(fl *pflag.FlagSet, s *cluster.Spec) {
	fl.StringVar(&s.Algorithm, "algorithm", "hdbscan", "hdbscan or kmeans")
	fl.IntVar(&s.MinClusterSize, "min-cluster-size", hdbscan.DefaultParams().MinClusterSize, "HDBSCAN min_cluster_size")
	fl.IntVar(&s.MinSamples, "min-samples", 0, "HDBSCAN min_samples (0 = min_cluster_size); neighbours other than the point itself")
	fl.Float64Var(&s.Epsilon, "cluster-selection-epsilon", 0, "HDBSCAN cluster_selection_epsilon")
	fl.Float64Var(&s.Alpha, "alpha", 1, "HDBSCAN alpha")
	fl.StringVar(&s.Method, "cluster-selection-method", "eom", "HDBSCAN selection: eom or leaf")
	fl.BoolVar(&s.AllowSingleCluster, "allow-single-cluster", false, "HDBSCAN allow_single_cluster")
	fl.IntVar(&s.MaxClusterSize, "max-cluster-size", 0, "HDBSCAN max_cluster_size (0 = no limit)")
	fl.StringVar(&s.Metric, "metric", "euclidean", "HDBSCAN metric: euclidean or cosine")
	fl.StringVar(&s.Search, "neighbor-search", hdbscan.SearchAuto, "HDBSCAN neighbour search: auto (approximate k-NN graph above 16 dims from 20,000 points, in up to 16 dims from 500,000), exact or approximate")
	fl.IntVar(&s.K, "k", 0, "K-means: number of clusters")
	fl.IntVar(&s.ItemsPerCluster, "items-per-cluster", 10, "K-means: k = ceil(N / items-per-cluster) when --k is 0 (Kura's rule)")
	fl.IntVar(&s.NInit, "n-init", 1, "K-means: restarts (lowest inertia wins)")
	fl.IntVar(&s.MaxIter, "max-iter", 300, "K-means: iterations (epochs for mini-batch)")
	fl.Float64Var(&s.Tol, "tol", 1e-4, "K-means: relative tolerance on centre shift")
	fl.Int64Var(&s.Seed, "seed", 42, "random seed (K-means; HDBSCAN's approximate neighbour search)")
	fl.IntVar(&s.MiniBatch, "mini-batch", 0, "K-means: mini-batch size (0 = full-batch Lloyd)")
}

// checkClusterFlags checks the flags before any work: a wrong setting, or
// outputs that would overwrite the input or each other, is a usage error.
func checkClusterFlags(f *clusterFlags) error {
	if f.in == "" || f.out == "" {
		return usageErrorf("--in and --out are required")
	}
	s := f.spec
	if s.Algorithm != "hdbscan" && s.Algorithm != "kmeans" {
		return usageErrorf("--algorithm must be hdbscan or kmeans, not %q", s.Algorithm)
	}
	if s.Algorithm == "kmeans" && s.K == 0 && s.ItemsPerCluster < 1 {
		return usageErrorf("--items-per-cluster must be at least 1, not %d", s.ItemsPerCluster)
	}
	if s.Algorithm == "kmeans" && (f.probs != "" || f.scores != "" || f.tree != "") {
		return usageErrorf("--probabilities, --outlier-scores and --tree need --algorithm hdbscan")
	}
	if s.Algorithm == "hdbscan" {
		if err := s.HDBSCAN().Validate(); err != nil {
			return &usageError{err}
		}
	}
	if err := f.reduce.apply(&f.spec); err != nil {
		return err
	}
	// Refuse outputs that would overwrite the input or each other, or that
	// could not be written, before the (possibly long) clustering.
	if err := outfile.CheckDistinct([]string{f.in}, []string{f.out, f.probs, f.scores, f.tree}); err != nil {
		return &usageError{err}
	}
	return nil
}

func runCluster(cmd *cobra.Command, f *clusterFlags) error {
	if err := checkClusterFlags(f); err != nil {
		return err
	}
	start := time.Now()
	x, n, d, err := vecfile.Read(f.in, f.dims)
	if err != nil {
		return err
	}
	res, err := cluster.Run(cmd.Context(), f.spec, x, n, d)
	if err != nil {
		return fmt.Errorf("clustering %s: %w", f.in, err) // Ctrl-C: "kura: interrupted: clustering v.npy"
	}
	if kr := res.KMeans; kr != nil {
		slog.Debug("kmeans", "k", f.spec.KMeans(n).K, "inertia", kr.Inertia, "iterations", kr.Iterations, "converged", kr.Converged)
	}
	if err := writeClusterOutputs(cmd.OutOrStdout(), f, res); err != nil {
		return err
	}
	clusters, noise := map[int]bool{}, 0
	for _, l := range res.Labels {
		if l < 0 {
			noise++
		} else {
			clusters[l] = true
		}
	}
	ps, _ := procstat.Read()
	dims := fmt.Sprintf("%d dims", d)
	if f.spec.Reduces() {
		dims = fmt.Sprintf("%d dims, reduced by %s from %d", f.spec.Reduce.Dims, f.spec.Reduce.Method, d)
	}
	// Peak memory in MiB, labelled so (it said "MB"), counts as the load
	// test writes them, within the terminal's width.
	fmt.Fprintln(cmd.ErrOrStderr(), human.Wrap(fmt.Sprintf("clustered %s points (%s) with %s: %s clusters, %s noise, %.3fs, peak memory %s",
		human.Thousands(n), dims, f.spec.Algorithm, human.Thousands(len(clusters)), human.Thousands(noise), time.Since(start).Seconds(), human.Bytes(float64(ps.PeakRSS))),
		terminalWidth(os.Stderr)))
	return nil
}

// writeClusterOutputs writes the labels and, for HDBSCAN, the outputs
// asked for. Every output is written to a temporary file and moved into
// place only when all of them are complete.
func writeClusterOutputs(stdout io.Writer, f *clusterFlags, res *cluster.Result) error {
	var outs []*outfile.File
	defer func() {
		for _, o := range outs {
			o.Abort()
		}
	}()
	add := func(o *outfile.File, err error) error {
		if o != nil {
			outs = append(outs, o)
		}
		return err
	}
	labels := res.Labels
	if err := add(writeLines(stdout, f.out, len(labels), func(i int) string { return strconv.Itoa(labels[i]) })); err != nil {
		return err
	}
	if hr := res.HDBSCAN; hr != nil {
		n := len(labels)
		if f.probs != "" {
			if err := add(writeLines(stdout, f.probs, n, func(i int) string { return strconv.FormatFloat(hr.Probabilities[i], 'g', -1, 64) })); err != nil {
				return err
			}
		}
		if f.scores != "" {
			if err := add(writeLines(stdout, f.scores, n, func(i int) string { return strconv.FormatFloat(hr.OutlierScores[i], 'g', -1, 64) })); err != nil {
				return err
			}
		}
		if f.tree != "" {
			if err := add(writeJSONFile(stdout, f.tree, treeJSON(hr.Tree))); err != nil {
				return err
			}
		}
	}
	for _, o := range outs {
		if err := o.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// condensedEdgeJSON is one condensed-tree row as the Python library names
// its fields; lambda_val is null where it is infinite (duplicate points).
type condensedEdgeJSON struct {
	Parent    int      `json:"parent"`
	Child     int      `json:"child"`
	LambdaVal *float64 `json:"lambda_val"`
	ChildSize int      `json:"child_size"`
}

func treeJSON(tree []hdbscan.CondensedEdge) []condensedEdgeJSON {
	out := make([]condensedEdgeJSON, len(tree))
	for i, e := range tree {
		out[i] = condensedEdgeJSON{Parent: e.Parent, Child: e.Child, ChildSize: e.Size}
		if !math.IsInf(e.Lambda, 0) {
			l := e.Lambda
			out[i].LambdaVal = &l
		}
	}
	return out
}

// output opens path for writing: stdout for "-" (the returned file is then
// nil), else an uncommitted file that is moved into place on Commit.
func output(stdout io.Writer, path string) (io.Writer, *outfile.File, error) {
	if path == "-" {
		return stdout, nil, nil
	}
	o, err := outfile.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return o, o, nil
}

// writeLines writes n lines produced by line to path (see output).
func writeLines(stdout io.Writer, path string, n int, line func(i int) string) (*outfile.File, error) {
	w, o, err := output(stdout, path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriter(w)
	for i := 0; i < n; i++ {
		bw.WriteString(line(i))
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return o, fmt.Errorf("write %s: %w", path, err)
	}
	return o, nil
}

// writeJSONFile writes v as JSON to path (see output).
func writeJSONFile(stdout io.Writer, path string, v any) (*outfile.File, error) {
	w, o, err := output(stdout, path)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return o, fmt.Errorf("write %s: %w", path, err)
	}
	return o, nil
}
