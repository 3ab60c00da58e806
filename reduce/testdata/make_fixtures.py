#!/usr/bin/python3
"""Regenerates the small reference fixtures of package reduce (run from this folder with
Debian's /usr/bin/python3, which has numpy, scipy, scikit-learn and umap-learn 0.5.3).

blobs300_d5.npy        300 x 5 float32: 6 Gaussian blobs (numpy seed 3)
blobs300_d5.fuzzy.csv  umap-learn's fuzzy_simplicial_set (n_neighbors 15, euclidean) on the
                       exact k-NN graph: row,col,weight of every stored entry
blobs300_d5.sigma.csv  its sigmas and rhos (smooth_knn_dist): sigma,rho per line
blobs300_d5.pca3.csv   sklearn PCA(3, svd_solver="full").fit_transform scores
blobs300_d5.trust.txt  sklearn trustworthiness of the first 2 PCA scores, k = 5, 10, 15
                       (euclidean), and of the cosine variant with k = 10
"""
import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors
from umap.umap_ import fuzzy_simplicial_set, smooth_knn_dist

rng = np.random.default_rng(3)
centres = rng.uniform(-6, 6, size=(6, 5))
lab = rng.integers(0, 6, size=300)
X = (centres[lab] + rng.normal(size=(300, 5))).astype(np.float32)
np.save("blobs300_d5.npy", X)

k = 15
nn = NearestNeighbors(n_neighbors=k).fit(X.astype(np.float64))
dist, ind = nn.kneighbors(X.astype(np.float64))  # self first
dist = dist.astype(np.float32)
sig, rho = smooth_knn_dist(dist, float(k))
np.savetxt("blobs300_d5.sigma.csv", np.c_[sig, rho], delimiter=",", fmt="%.9g")
G, _, _ = fuzzy_simplicial_set(X, k, 0, "euclidean", knn_indices=ind, knn_dists=dist)
G = G.tocoo()
np.savetxt("blobs300_d5.fuzzy.csv", np.c_[G.row, G.col, G.data], delimiter=",", fmt=["%d", "%d", "%.9g"])

P = PCA(3, svd_solver="full").fit_transform(X.astype(np.float64))
np.savetxt("blobs300_d5.pca3.csv", P, delimiter=",", fmt="%.9g")
with open("blobs300_d5.trust.txt", "w") as f:
    for kk in (5, 10, 15):
        f.write(f"euclidean {kk} {trustworthiness(X.astype(np.float64), P[:, :2], n_neighbors=kk):.12f}\n")
    f.write(f"cosine 10 {trustworthiness(X.astype(np.float64), P[:, :2], n_neighbors=10, metric='cosine'):.12f}\n")
