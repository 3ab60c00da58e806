// Package hdbscan implements HDBSCAN* clustering with the semantics of the
// Python hdbscan library 0.8.x (the library Kura uses), never storing an
// n×n matrix: memory is O(n·d + n).
//
// The algorithm, step by step, as the library does it:
//
//   - core distance of a point: the Euclidean distance to its
//     MinSamples-th nearest other point (the library asks its k-NN query for
//     min_samples+1 neighbours, the point itself included);
//   - mutual reachability: max(core(a), core(b), d(a,b)/Alpha);
//   - minimum spanning tree by Prim's algorithm from point 0, in the
//     library's order (see below), then single linkage;
//   - condensed tree: walking down the dendrogram, a child with fewer than
//     MinClusterSize points does not form a cluster: its points leave the
//     parent at lambda = 1/distance of the split;
//   - stability of a cluster: sum over its rows of (lambda − lambda_birth)·size;
//   - selection: "eom" keeps a cluster unless its children's summed
//     stability is strictly larger (the root only with AllowSingleCluster,
//     clusters larger than MaxClusterSize never); "leaf" takes the leaves;
//     Epsilon (cluster_selection_epsilon) then replaces clusters born below
//     that distance by their ancestor born above it;
//   - labels: each point belongs to its nearest selected ancestor, or is
//     noise (-1); clusters are numbered in the order of their condensed-tree
//     ids;
//   - probabilities: lambda of the point's row / largest lambda among the
//     rows of its cluster (capped at 1); outlier scores (GLOSH):
//     (death − lambda)/death with the library's death propagation (its
//     loop over rows sorted by parent, which we sort stably where the
//     library's NumPy argsort is not);
//     persistence: stability / (size · largest lambda in the tree).
//
// # Ties
//
// Mutual-reachability distances have many exact ties (every edge whose
// weight is a core distance shares it with the point's other neighbours).
// The order in which tied merges happen decides whether a boundary point
// joins a cluster or is noise, so Cluster follows the library's generic
// algorithm exactly: Prim's algorithm starts at point 0, adds the remaining
// point with the smallest distance to the tree (the lowest index among
// equals), records each edge as (previously added point, new point), and
// the edges are sorted by weight, stably (NumPy's default argsort does not
// promise stability; the reference fixtures agree with the stable order,
// and the reverse order of tied edges changes their labels). As a consequence, and as in the
// library, permuting the rows can move a few tie-bound boundary points
// between a cluster and noise; without ties the partition does not depend
// on the row order. The number of workers never changes the result.
//
// # Metrics
//
// "euclidean" is the default. "cosine" is 1 − cos(a, b), as in the
// library (which computes it with scikit-learn's pairwise cosine
// distances): rows are scaled to unit length (an all-zero row is an error),
// for which 1 − cos = ||a − b||²/2, a monotone function of the Euclidean
// distance. The tree is built on the Euclidean distances of the unit rows
// (with Alpha replaced by √Alpha) and the weights are then mapped to cosine
// distances, so lambdas, stabilities and Epsilon are in cosine units. On
// unit-length input, cosine and euclidean give the same partition whenever
// the selection does not depend on the lambda scale (it usually does not,
// but EOM compares sums of lambda differences, which the squaring changes).
//
// # Mapping to other implementations
//
// scikit-learn's sklearn.cluster.HDBSCAN counts the point itself in
// min_samples: sklearn min_samples = MinSamples + 1, min_cluster_size =
// MinClusterSize, cluster_selection_epsilon = Epsilon, alpha = Alpha,
// cluster_selection_method = Method, allow_single_cluster =
// AllowSingleCluster, max_cluster_size = MaxClusterSize.
//
// R's dbscan::hdbscan(x, minPts) ties both parameters to one number and
// counts the point itself: minPts = MinSamples + 1 and min_cluster_size =
// minPts, i.e. R's minPts = m corresponds to MinClusterSize = m,
// MinSamples = m − 1. R condenses small ("runt") children at splits
// differently from the Python library, so on data with such children R's
// labels can differ from Python's and ours; elsewhere they agree (checked
// by the fixtures' provenance on blobs2k_d10: R with minPts = 10 gives the
// MinClusterSize 10, MinSamples 9 partition).
//
// # Edge cases
//
// n = 0, d = 0, a data length other than n·d, NaN or ±Inf values,
// MinClusterSize < 2, Alpha ≤ 0 and unknown Method or Metric are errors
// wrapping ErrInvalidInput. n = 1 gives one noise point. MinSamples ≥ n is
// clamped to n − 1 (as the library does). Fewer than MinClusterSize points,
// or all points identical, give all noise unless AllowSingleCluster
// allows the root. A point with more than MinSamples exact copies has core
// distance 0, so it leaves the tree at lambda = +Inf: probability 1 and
// outlier score 0, as in the library.
//
// # Performance
//
// Both paths compute exactly the library's Prim order (tested edge by edge
// against a transcription of the library's generic algorithm, including on
// data with many exact ties) and differ only in how they find distances.
//
// High dimensions (d > 16): core distances by a blocked all-pairs pass
// (128×128 tiles of f32.SqDistBlock, in parallel over row blocks); then
// Prim's algorithm on the fly, whose per-step update of the distance-to-
// tree array streams through the remaining rows (kept packed in index
// order) with f32.SqDists, in parallel chunks, skipping points that cannot
// improve (current distance at most max(core(new), core(point))).
//
// Low dimensions (d ≤ 16): a KD-tree gives the k nearest neighbours (core
// distances and a 24-neighbour list per point). Prim's next point is the
// smaller of two candidates. Pairs where one point is in the other's list
// are tracked per remaining point (its smallest such weight to the tree,
// lowered through the lists and reverse lists as points join). Every other
// pair weighs at least B = max(core, distance to the 24th neighbour/alpha)
// at both ends; those are found by KD-tree searches that run only when
// their lower bound ranks before the list candidate, from a heap of
// sources: each tree point, or, once a KD-tree node has no remaining point,
// the node as a whole (one dual-tree search instead of one per point). Node
// boxes shrink to their remaining points as Prim proceeds. Searches that
// become due together run in parallel. The last n/16 points are finished
// with the update-all step above.
//
// # Approximate path (high dimensions, many points)
//
// The exact high-dimensional path costs O(n²·d): 1.4 s at 10,000 × 384,
// but minutes at 100,000. Params.Search chooses: "exact", "approximate",
// or "auto" (the default), which takes the approximate path above 16
// dimensions from 20,000 points and in up to 16 dimensions from 500,000
// points (the exact KD-tree path took 67 s of CPU at 1,000,000 × 5, the
// graph path 28 s). The approximate path:
//
//   - builds a k-NN graph with K = max(30, 2·MinSamples): above 16
//     dimensions by random-projection forest and NN-descent (package knn,
//     seeded by Params.Seed), else exactly with the KD-tree; core distances
//     are the distances to the MinSamples-th listed neighbour, so never
//     below the exact ones;
//   - if the graph is not connected, joins its components by Borůvka
//     rounds: each component's shortest mutual-reachability edge to another
//     component, found exactly when that costs at most 4·10⁹ multiply-adds
//     (points outside the largest component against all points), otherwise
//     from an all-pairs comparison of 2,048 points spread over the
//     components, improved by walking the graph from both ends;
//   - runs Prim's algorithm on the graph plus those edges in the exact
//     paths' order (from point 0, lowest index among equal weights, edges
//     recorded as (previous point, new point)), so tied merges nest as they
//     do there; then the same condensed tree, selection and scores.
//
// The tree is a minimum spanning tree of the graph, not of all pairs: an
// exact MST edge between two points that are not among each other's K
// nearest neighbours is replaced by a path through the graph. Labels are
// compared with the exact path's (adjusted Rand index) in approx_test.go:
// 0.97–1.0 on the reference fixtures, about 0.99 on blobs and on
// hash-embedded sample conversations; docs/PERFORMANCE.md has the figures.
// Memory is O(n·K): the graph, its float64 distances and a reverse index
// (about 40·K bytes per point), and the data is not copied (except for
// cosine, which normalises a copy as the exact path does).
//
// Memory is O(n·d + n) in both exact paths (the low-dimensional path keeps about
// 550 bytes per point; the high-dimensional one a packed copy of the
// data). Large groups of identical points in low dimensions degrade the
// KD-tree towards quadratic time. Distance kernels are internal/f32's,
// which use SIMD where available. Cancellation of ctx is checked between
// blocks of the k-NN pass and every few thousand Prim steps.
package hdbscan
