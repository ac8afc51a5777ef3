#!/usr/bin/env python3
"""numpy peer of one forward and one reverse AIS job, for benches/peers/run_ais.sh.

The job is that of benches/probes/ais_timings.rs and benches/ais.rs, with inputs
rebuilt bit for bit from the integer hash of kernels/benches/support/mod.rs
(numpy_kernels.py): a Bernoulli-Bernoulli RBM, 784 visible x 500 hidden,
W[k, j] = 0.1 (U(3, k*500 + j) - 0.5), c[j] = U(4, j) - 0.5,
b[i] = U(7, i) - 0.5; the base-rate model of 100 binary rows
d[r, i] = [U(2, r*784 + i) < 0.05 + 0.9 U(8, i)] (logit of the column mean
smoothed by a pseudo-count of 1, as likelihood::base_rate_bias); 100 runs
on default_schedule(1000).

The algorithm is Salakhutdinov & Murray's AIS, as likelihood::ais runs it,
in numpy float32 with the batch of runs as the rows of the products:

    v ~ Bernoulli(sigmoid(b_A));  log_w = 0 (float64);  beta' = 0
    for beta in schedule:
        x = v @ W + c
        log_w += (beta - beta') v @ (b - b_A)
               + sum_j [softplus(beta x_j) - softplus(beta' x_j)]   (np.logaddexp)
        if beta == 1: break
        h ~ Bernoulli(sigmoid(beta x))
        v ~ Bernoulli(sigmoid(beta (h @ W.T + b) + (1 - beta) b_A))
        beta' = beta
    log Z = log Z_A + log mean exp(log_w)

Our ais() computes the softplus difference by two-point Gauss-Legendre
quadrature (two sigmoids per element instead of two softplus): the same
number of transcendental evaluations per element, and more accurate.

Reverse AIS (Burda, Grosse & Salakhutdinov 2015), as likelihood::reverse_ais
runs it on this model (no layer can be enumerated, so the runs start from
the data; no burn-in sweeps, as benches/probes/ais_timings.rs sets):

    v = data[r mod 100] for run r;  log_w = 0;  path = reversed(schedule) + [0]
    for k in 1 .. len(path):
        beta', beta = path[k-1], path[k]
        x = v @ W + c
        log_w += (beta - beta') v @ (b - b_A)
               + sum_j [softplus(beta x_j) - softplus(beta' x_j)]
        if k == len(path) - 1: break
        h ~ Bernoulli(sigmoid(beta x))
        v ~ Bernoulli(sigmoid(beta (h @ W.T + b) + (1 - beta) b_A))
    log Z = log Z_A - log mean exp(log_w)

Each of ROUNDS rounds times one job; prints the median. BLAS threads are set
by the environment (run_ais.sh runs it once with one thread and once with
OpenBLAS's default). Prints one JSON object per line:
{"info": "python", ..} then {"bench": "ais", "impl": "numpy", ...} and
{"bench": "reverse_ais", ...}.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from numpy_kernels import affine_inputs, blas_info, fingerprint, unit

RUNS, BETAS, VISIBLE, HIDDEN = 100, 1000, 784, 500
ROUNDS = 5
F32 = np.float32


def default_schedule(n):
    """likelihood::default_schedule, with the same float64 arithmetic."""
    n = max(n, 3)
    a = max(round(n * 500.0 / 14_500.0), 1)
    b = max(round(n * 4000.0 / 14_500.0), 1)
    c = n - a - b

    def seg(lo, hi, k):
        return [lo + (hi - lo) * i / k for i in range(1, k + 1)]

    return seg(0.0, 0.5, a) + seg(0.5, 0.9, b) + seg(0.9, 1.0, c)


def workload():
    x, w, c = affine_inputs()
    b = (unit(7, np.arange(VISIBLE)) - 0.5).astype(F32)
    p = 0.05 + 0.9 * unit(8, np.arange(VISIBLE))
    data = (x.astype(np.float64) < p).astype(F32)
    mean = (data.astype(np.float64).sum(axis=0) + 0.5) / (data.shape[0] + 1.0)
    base = np.log(mean / (1.0 - mean)).astype(F32)
    return w, b, c, base, data


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.logaddexp(F32(0), x)


def walk(W, b, c, base, v, path, rng):
    """The runs' log weights along the inverse temperatures `path` from the
    visible states `v` (forward: 0 then the schedule; reverse: the schedule
    backwards then 0)."""
    log_w = np.zeros(v.shape[0])
    db = b - base
    for k in range(1, len(path)):
        beta_prev, beta = path[k - 1], path[k]
        x = v @ W + c
        hid = (softplus(F32(beta) * x) - softplus(F32(beta_prev) * x)).sum(axis=1)
        log_w += (beta - beta_prev) * (v @ db).astype(np.float64) + hid.astype(np.float64)
        if k == len(path) - 1:
            break
        h = (rng.random(x.shape, dtype=F32) < sigmoid(F32(beta) * x)).astype(F32)
        pre = F32(beta) * (h @ W.T + b) + F32(1.0 - beta) * base
        v = (rng.random(pre.shape, dtype=F32) < sigmoid(pre)).astype(F32)
    for a in (v, x, h, pre):
        assert a.dtype == F32, a.dtype
    return log_w


def log_mean_exp(a):
    m = a.max()
    return m + float(np.log(np.exp(a - m).mean()))


def log_z_base(base):
    return float(np.logaddexp(0.0, base.astype(np.float64)).sum()) + HIDDEN * np.log(2.0)


def ais(W, b, c, base, betas, data, rng):
    v = (rng.random((RUNS, VISIBLE), dtype=F32) < sigmoid(base)).astype(F32)
    return log_z_base(base) + log_mean_exp(walk(W, b, c, base, v, [0.0] + betas, rng))


def reverse_ais(W, b, c, base, betas, data, rng):
    v = data[np.arange(RUNS) % data.shape[0]]
    path = betas[::-1] + [0.0]
    return log_z_base(base) - log_mean_exp(walk(W, b, c, base, v, path, rng))


def line(**d):
    print(json.dumps(d), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", default="numpy", help="the impl field of the result line")
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    args = ap.parse_args()
    np.seterr(over="ignore")
    w, b, c, base, data = workload()
    betas = default_schedule(BETAS)
    info = blas_info()
    line(info="python", impl=args.label, numpy=np.__version__,
         python=sys.version.split()[0], weights_fingerprint=fingerprint(w),
         visible_bias_fingerprint=fingerprint(b), hidden_bias_fingerprint=fingerprint(c),
         base_bias_fingerprint=fingerprint(base), data_fingerprint=fingerprint(data),
         env={k: os.environ.get(k) for k in (
             "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
         blas=info)
    threads = info[0]["num_threads"] if info else None
    rng = np.random.default_rng(0x5EED)
    jobs = (("ais", ais), ("reverse_ais", reverse_ais))
    log_z = {name: f(w, b, c, base, betas, data, rng) for name, f in jobs}  # warm-up
    times = {name: [] for name, _ in jobs}
    for _ in range(args.rounds):
        for name, f in jobs:
            start = time.perf_counter()
            f(w, b, c, base, betas, data, rng)
            times[name].append(time.perf_counter() - start)
    for name, _ in jobs:
        t = sorted(times[name])
        line(bench=name, impl=args.label, threads=threads,
             median_ns=round(t[len(t) // 2] * 1e9), log_z=round(log_z[name], 4),
             dtype="float32")


if __name__ == "__main__":
    main()
