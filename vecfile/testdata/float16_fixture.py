#!/usr/bin/python3
"""Writes the float16 reference files of vecfile's tests with numpy.

Run from this directory with Debian's python3 (numpy 1.24 was used):
    /usr/bin/python3 float16_fixture.py

f16_input.npy    512 x 8 float32 values to convert: specials (zeros, the
                 largest half, values that round to it, the smallest
                 subnormal, halfway cases in the normal and subnormal
                 ranges, values that underflow to zero, NaN, +-Inf),
                 exact ties between neighbouring halves (ties to even),
                 and normal values from 1e-8 to 1e4 and unit-vector
                 components. Nothing that overflows (|x| >= 65520): numpy
                 makes those +-Inf, vecfile refuses them.
f16_numpy.npy    np.save of f16_input.astype('<f2'): numpy's rounding and
                 the header bytes numpy writes for '<f2'.
f16_widened.npy  f16_numpy's values widened back with astype('<f4').
"""
import numpy as np

rng = np.random.default_rng(20261205)
rows, cols = 512, 8
n = rows * cols

special = np.array([
    0.0, -0.0, 1.0, -1.0, 65504.0, -65504.0, 65519.99, -65519.0,
    65500.0, 2.0**-24, -(2.0**-24), 2.0**-25, 2.0**-25 * 1.5, 2.0**-26,
    2.0**-14, 2.0**-14 - 2.0**-25, 1e-45, -1e-45, 1.0 + 2.0**-11,
    1.0 + 3 * 2.0**-11, 2048.0 + 1.0, 2048.0 + 3.0, 0.1, 1 / 3.0,
    np.nan, np.inf, -np.inf,
], dtype=np.float32)

# Exact midpoints between neighbouring finite halves, normal and subnormal:
# round half to even decides every one of them.
bits = rng.integers(0, 0x7bff, size=600, dtype=np.uint16)
lo = bits.view(np.float16).astype(np.float32)
hi = (bits + 1).view(np.float16).astype(np.float32)
ties = ((lo.astype(np.float64) + hi.astype(np.float64)) / 2).astype(np.float32)
ties *= np.where(rng.random(ties.size) < 0.5, -1, 1).astype(np.float32)
sub_bits = rng.integers(0, 0x3ff, size=100, dtype=np.uint16)
sub_lo = sub_bits.view(np.float16).astype(np.float64)
sub_hi = (sub_bits + 1).view(np.float16).astype(np.float64)
sub_ties = ((sub_lo + sub_hi) / 2).astype(np.float32)

# Normal values over the range, and components of unit vectors (what
# embeddings hold).
k = n - special.size - ties.size - sub_ties.size - 2 * 384
scales = 10.0 ** rng.uniform(-8, 4, size=k)
wide = (rng.standard_normal(k) * scales).astype(np.float32)
unit = rng.standard_normal((2, 384))
unit /= np.linalg.norm(unit, axis=1, keepdims=True)

x = np.concatenate([special, ties, sub_ties, wide, unit.ravel().astype(np.float32)])
assert x.size == n, x.size
x = x[rng.permutation(n)].astype('<f4').reshape(rows, cols)
assert not (np.abs(x[np.isfinite(x)]) >= 65520).any()

h = x.astype('<f2')
np.save('f16_input.npy', x)
np.save('f16_numpy.npy', h)
np.save('f16_widened.npy', h.astype('<f4'))
