// Package reduce maps high-dimensional vectors to a few dimensions before
// clustering or for a 2-D map: UMAP, as umap-learn computes it, and PCA by
// randomised SVD. Spec names a reduction ("umap", "pca" or "none" with a
// dimension) for the command line and the load test; EmbeddingQuality
// scores a result (trustworthiness and k-NN recall).
//
// # UMAP
//
// The steps and constants are umap-learn's (0.5), each checked against it on
// fixtures in testdata:
//
//   - k-NN graph: package knn (random-projection trees + NN-descent, exact
//     below 2,048 rows), NNeighbors−1 neighbours besides the point itself;
//   - fuzzy simplicial set: rho_i = distance to the nearest neighbour,
//     sigma_i by binary search so that Σ_j exp(−(d_ij − rho_i)/sigma_i) =
//     log2(NNeighbors) (smooth_knn_dist: 64 steps, tolerance 1e-5, floor
//     1e-3 × the mean distance), memberships symmetrised by the fuzzy union
//     a + b − a·b; edges below max/epochs dropped;
//   - a, b of the low-dimensional curve 1/(1 + a·d^(2b)) fitted to MinDist
//     and Spread by Levenberg–Marquardt, as find_ab_params;
//   - initialisation: the eigenvectors 2..NComponents+1 of the normalised
//     Laplacian (Chebyshev-filtered subspace iteration, residual tolerance
//     1e-4), scaled to a largest coordinate of 10 plus N(0, 1e-4) noise, then
//     every coordinate rescaled to [0, 10]. umap-learn lays out a
//     disconnected graph component by component; here a disconnected graph,
//     n above UMAPParams.SpectralMaxN or an eigensolver that does not
//     converge falls back to the PCA initialisation (umap-learn's "pca"
//     init: principal-component scores scaled the same way);
//   - SGD: 500 epochs up to 10,000 rows, else 200; edge i→j sampled every
//     max(w)/w epochs with NegativeSampleRate negative samples per sample;
//     learning rate decaying linearly from 1; gradients clipped to ±4.
//
// One deliberate difference: umap-learn's parallel SGD (Hogwild) is not
// reproducible. Here each epoch reads the previous epoch's positions and
// each vertex's update, with its own random stream seeded by (Seed, epoch,
// vertex), is written to a second buffer, so the result depends on the seed
// and not on the number of workers (see optimize). Because umap-learn's
// reference is stochastic, UMAP is judged by quality scores (trustworthiness,
// k-NN recall, separation of known groups) against R's uwot, not by
// coordinates.
//
// Memory is O(n·(NNeighbors + NComponents)): the graph, its sampling
// schedule and two copies of the embedding; nothing is n×n.
//
// # PCA
//
// PCA centres the rows and projects them on the leading right singular
// vectors from a randomised SVD (Halko, Martinsson and Tropp 2011) whose
// products with the data use internal/f32's GEMM, the small dense
// factorisations gonum's. Results match scikit-learn's PCA up to float32
// rounding when the sketch captures the spectrum (see PCAParams).
package reduce
