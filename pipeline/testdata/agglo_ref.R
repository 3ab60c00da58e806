# Reference for pipeline's average linkage: R's hclust(method = "average")
# on the cosine distance (1 - cos) of 40 seeded random unit vectors in 6
# dimensions, cut into k = 1..12 groups with cutree.
# Run: Rscript agglo_ref.R > agglo_ref.json
set.seed(7)
n <- 40; d <- 6
x <- matrix(rnorm(n * d), n, d)
x <- x / sqrt(rowSums(x^2))
dm <- as.dist(1 - x %*% t(x))
h <- hclust(dm, method = "average")
cuts <- sapply(1:12, function(k) paste(cutree(h, k = k) - 1, collapse = ","))
rows <- apply(x, 1, function(r) paste(sprintf("%.17g", r), collapse = ","))
cat("{\"vectors\":[", paste0("[", rows, "]", collapse = ","), "],\n")
cat("\"heights\":[", paste(sprintf("%.17g", sort(h$height)), collapse = ","), "],\n")
cat("\"cuts\":[", paste0("[", cuts, "]", collapse = ","), "]}\n")
