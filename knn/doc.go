// Package knn finds the k nearest neighbours of every row of a matrix, by
// brute force or approximately, for UMAP and for HDBSCAN on
// high-dimensional data.
//
// # Exact search
//
// With Params.Exact (or fewer than Params.ExactBelow points, 2048 by
// default) every pair of rows is compared: blocks of 64 query rows run in
// parallel, each against the data in tiles that stay in cache, with
// internal/f32's kernels (SqDistBlock for Euclidean, a GEMM of dot products
// for Cosine). Each point keeps a bounded heap of its K best neighbours,
// ordered by (distance, index), so ties go to the lower index. Time
// O(n²·d), memory O(n·K).
//
// # Approximate search
//
// As pynndescent (and so umap-learn) does:
//
//   - a random-projection forest: each tree splits the points by random
//     hyperplanes (the bisector of two random points for Euclidean, the
//     plane between their directions for Cosine) until a part has at most
//     LeafSize points; every pair in a leaf is offered to both points'
//     heaps. Trees are built a few at a time and dropped after use.
//   - points still short of K neighbours get random ones;
//   - NN-descent: each iteration samples, per point, up to MaxCandidates
//     "new" neighbours (entries not yet joined) and "old" ones, forward and
//     reverse, by a hash of the pair, the seed and the iteration; then the
//     local join compares every new candidate with every other candidate
//     of the same point and offers each pair to both heaps. It stops after
//     Iterations rounds, or when a round changes at most Delta·n·K entries.
//
// Defaults follow umap-learn's choices scaled for speed: Trees =
// min(32, 5 + round(√n/20)), LeafSize = max(30, 2K) (at most 256),
// MaxCandidates = min(60, max(2K, 20)), Iterations = max(5, round(log₂ n)),
// Delta = 0.001. The package tests hold recall@15 ≥ 0.9 against the exact
// search on seeded Gaussian blobs and on hash-embedded sample conversations
// (see knn_test.go for the figures and data).
//
// Memory is O(n·K): the heaps (9 bytes per entry), two candidate lists of
// MaxCandidates int32 per point, the leaves of the trees being joined
// (8 bytes per point per tree, one tree per worker at a time) and the
// buffered proposals of one round: 16 tasks of 16 points (local join) or
// of about 64 points (leaves), so at most ~1,000 points' proposals,
// whatever n. Nothing is n×n, and the data is read in place, never copied.
//
// # Determinism and parallelism
//
// The work is cut into tasks whose boundaries depend only on n and the
// parameters. In a round, tasks run in parallel on a frozen graph and sort
// their proposals by target; then each target partition applies its
// proposals in task order. Hence the same data, Seed and Params give the
// same Graph whatever Workers is. Cancelling ctx stops the work between
// tasks; Build then returns ctx.Err().
package knn
