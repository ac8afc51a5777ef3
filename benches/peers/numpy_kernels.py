#!/usr/bin/env python3
"""numpy timings for the side-by-side comparison in benches/peers/run.sh.

Times (median of repetitions, time.perf_counter, float32 except the two
`_f64` rows, one thread) the numpy equivalents of the kernels timed by
kernels/benches/probes/peer_timings.rs, on the same data: the inputs are built
from the integer hash documented in kernels/benches/support/mod.rs and
reproduced here bit for bit (the "info" line prints the same fingerprints as
the Rust side).

Prints one JSON object per line:
{"kernel": .., "path": "numpy", "median_ns": .., "elements": ..}

--part elementwise: sigmoid, softplus, bernoulli, nrelu, normal, uniform, and
  bernoulli_f64 / nrelu_f64 (the plain textbook expressions, with numpy's
  default float64 uniforms and normals).
--part sgemm: x @ w, and x @ w + b -> sigmoid -> Bernoulli (100x784 . 784x500);
  also reports the BLAS library and kernel numpy uses (threadpoolctl).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

N = 50_000
BATCH, N_IN, N_OUT = 100, 784, 500
SAMPLES = 51
SAMPLE_S = 1e-3
M32 = np.uint64(0xFFFF_FFFF)


def unit(s, i):
    """U(s, i) of kernels/benches/support/mod.rs, as float64 (exact)."""
    i = np.asarray(i, dtype=np.uint64)

    def mul(a, c):
        return (a * np.uint64(c)) & M32

    h = mul(i, 0x9E37_79B1) ^ np.uint64((s * 0x85EB_CA77) & 0xFFFF_FFFF)
    h ^= h >> np.uint64(16)
    h = mul(h, 0x045D_9F3B)
    h ^= h >> np.uint64(16)
    h = mul(h, 0x045D_9F3B)
    h ^= h >> np.uint64(16)
    return (h >> np.uint64(8)).astype(np.float64) * (1.0 / 16_777_216.0)


def mixed_preacts(n):
    i = np.arange(n, dtype=np.uint64)
    u = unit(0, i)
    sign = np.where(unit(1, i) < 0.5, 1.0, -1.0)
    r = i % np.uint64(16)
    x = np.where(r == 5, sign * (84.0 + 8.0 * u),
                 np.where(r == 11, sign * (92.0 + 908.0 * u), 16.0 * u - 8.0))
    return x.astype(np.float32)


def affine_inputs():
    x = unit(2, np.arange(BATCH * N_IN)).astype(np.float32).reshape(BATCH, N_IN)
    w = (0.1 * (unit(3, np.arange(N_IN * N_OUT)) - 0.5)).astype(np.float32)
    b = (unit(4, np.arange(N_OUT)) - 0.5).astype(np.float32)
    return x, w.reshape(N_IN, N_OUT), b


def fingerprint(a):
    return int(np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
               .astype(np.uint64).sum())


def timeit(f):
    """Median seconds per call: each sample runs enough calls for ~1 ms."""
    for _ in range(3):
        f()
    t = time.perf_counter()
    f()
    once = max(time.perf_counter() - t, 1e-9)
    reps = int(min(max(SAMPLE_S / once, 1), 10_000))
    samples = []
    for _ in range(SAMPLES):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        samples.append((time.perf_counter() - t) / reps)
    samples.sort()
    return samples[len(samples) // 2]


def line(kernel, seconds, elements, **extra):
    d = {"kernel": kernel, "path": "numpy", "median_ns": round(seconds * 1e9),
         "elements": elements}
    d.update(extra)
    print(json.dumps(d), flush=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def elementwise(rng):
    x = mixed_preacts(N)
    cases = {
        "sigmoid": lambda: sigmoid(x),
        "softplus": lambda: np.logaddexp(0, x),
        "bernoulli": lambda: rng.random(N, dtype=np.float32) < sigmoid(x),
        "nrelu": lambda: np.maximum(
            0, x + np.sqrt(sigmoid(x)) * rng.standard_normal(N, dtype=np.float32)),
        "normal": lambda: rng.standard_normal(N, dtype=np.float32),
        "uniform": lambda: rng.random(N, dtype=np.float32),
        # The plain textbook expressions with numpy's defaults: float64
        # uniforms and normals (numpy's default), slower than the float32
        # variants above, which stay the main comparison.
        "bernoulli_f64": lambda: rng.random(N) < 1 / (1 + np.exp(-x)),
        "nrelu_f64": lambda: np.maximum(
            0, x + np.sqrt(sigmoid(x)) * rng.standard_normal(N)),
    }
    for name, f in cases.items():
        y = f()
        allowed = (np.float32, np.bool_) + ((np.float64,) if name.endswith("_f64") else ())
        assert y.dtype in allowed, (name, y.dtype)
        line(name, timeit(f), N)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: d.get(k) for k in ("internal_api", "version", "architecture",
                                   "num_threads", "threading_layer")}
            for d in threadpool_info() if d.get("user_api") == "blas"]


def sgemm(rng):
    x, w, b = affine_inputs()

    def fused():
        p = sigmoid(x @ w + b)
        return rng.random(p.shape, dtype=np.float32) < p

    assert (x @ w).dtype == np.float32 and fused().dtype == np.bool_
    elements = BATCH * N_OUT
    line("sgemm", timeit(lambda: x @ w), elements)
    line("affine_bernoulli", timeit(fused), elements)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["elementwise", "sgemm", "all"], default="all")
    args = ap.parse_args()
    np.seterr(over="ignore")  # exp(-x) overflows to inf for x < -88.7, as intended
    rng = np.random.default_rng(0x5EED)
    x = mixed_preacts(N)
    ax, aw, ab = affine_inputs()
    info = {"info": "numpy", "part": args.part, "numpy": np.__version__,
            "python": sys.version.split()[0],
            "preacts_fingerprint": fingerprint(x),
            "affine_fingerprint": [fingerprint(ax), fingerprint(aw), fingerprint(ab)],
            "env": {k: os.environ.get(k) for k in (
                "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}
    if args.part in ("sgemm", "all"):
        info["blas"] = blas_info()
    print(json.dumps(info), flush=True)
    if args.part in ("elementwise", "all"):
        elementwise(rng)
    if args.part in ("sgemm", "all"):
        sgemm(rng)


if __name__ == "__main__":
    main()
