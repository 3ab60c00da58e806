# Reference prediction intervals for loadtest/fit (relative noise), numpy + scipy.
# Run: python3 interval_ref.py (numpy and scipy; /usr/bin/python3 on Debian).
FLOOR = 0.05  # fit.NoiseFloor: below 50 ms the noise stops shrinking with the time
import numpy as np, scipy.stats as st
def band(z, y, params, relative, z0, level=0.90):
    X = np.column_stack([np.ones_like(z), z])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    yhat = X @ beta
    scale = np.maximum(y, FLOOR) if relative else np.ones_like(y)
    df = len(y) - params
    s2 = np.sum(((y - yhat) / scale) ** 2) / df
    A = np.linalg.inv(X.T @ X)
    cov = A @ X.T @ np.diag(s2 * scale**2) @ X @ A   # sandwich
    g = np.array([1.0, z0])
    c = g @ beta
    own = s2 * (max(c, FLOOR)**2 if relative else 1.0)
    h = st.t.ppf(0.5 + level / 2, df) * np.sqrt(own + g @ cov @ g)
    return c, h
def nlogn(n, y, n0):
    c, h = band(n * np.log(n), y, 2, True, n0 * np.log(n0))
    return max(c - h, 0), c + h
def offset(n, y, n0, minE, level=0.90):
    df = len(y) - 3
    cands = []
    for k in range(int(round(minE * 100)), 301):
        e = k / 100
        X = np.column_stack([np.ones_like(n), n**e])
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        r = (y - X @ beta) / np.maximum(y, FLOOR)
        cands.append((e, np.sum(r * r)))
    best = min(s for _, s in cands)
    bound = best * (1 + st.f.ppf(level, 1, df) / df)
    lo, hi = np.inf, -np.inf
    for e, s in cands:
        if s > bound:
            continue
        c, h = band(n**e, y, 3, True, n0**e)
        lo, hi = min(lo, c - h), max(hi, c + h)
    return lo, hi
n = np.array([100, 250, 500, 1000, 2000.0])
y = np.array([0.047, 0.021, 0.095, 0.293, 0.646])
print("nlogn", repr(nlogn(n, y, 10000)))
print("offset_power", repr(offset(n, y, 10000, 1)))
# a quadratic stage with +-3% noise: the exact HDBSCAN case (exponent held at >= 2)
y2 = (0.03 + 2e-7 * n**2) * np.array([1.03, 0.97, 1.02, 0.98, 1.01])
print("y2", repr(list(y2)))
print("offset_power_min2", repr(offset(n, y2, 10000, 2)))
print("offset_power_min2_100k", repr(offset(n, y2, 100000, 2)))
