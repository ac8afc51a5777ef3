#!/usr/bin/env python3
"""Peer timings of one RBM training step for benches/peers/run_train.sh.

The workload is that of benches/probes/train_timings.rs and benches/train.rs
(see benches/support/mod.rs): 784 visible x 500 hidden units, one
mini-batch of 100 rows, learning rate 0.01, one thread. The batch X, the
initial weights W (784 x 500) and the hidden bias c are rebuilt bit for bit
from the integer hash of kernels/benches/support/mod.rs (numpy_kernels.py);
the visible bias b starts at 0. The "info" line prints the same fingerprints
as the Rust side.

--part numpy: a plain numpy float32 CD-1 step, Bernoulli visible units and
  Bernoulli hidden units (and, for the NReLU comparison, NReLU hidden units):
      h0 = sigmoid(X @ W + c)          (NReLU: max(0, X @ W + c))
      hs = sample(h0)                   (NReLU: max(0, x + sqrt(sigmoid(x)) z))
      v1 = sigmoid(hs @ W.T + b)
      h1 = sigmoid(v1 @ W + c)          (NReLU: max(0, v1 @ W + c))
      W += lr/B (X.T @ h0 - v1.T @ h1);  b += lr/B sum(X - v1);  c += lr/B sum(h0 - h1)
  plus the squared reconstruction error sum((X - v1)^2) that our step also
  returns; timed in rounds alternating with the five bare products of the
  step (X@W, H@W.T, V@W, X.T@H, G -= V.T@H), as the Rust timer does.
--part sklearn: scikit-learn's BernoulliRBM (n_components=500,
  batch_size=100, learning_rate=0.01): `partial_fit` on the float32 batch,
  and `_fit`, the per-batch step that `fit` loops over, on a model that
  `fit` made float32. Reports the dtype each one computes in.

Prints one JSON object per line:
{"bench": "cd1" | "five_sgemm", "hidden": .., "impl": .., "median_ns": .., ...}
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from numpy_kernels import affine_inputs, blas_info, fingerprint, unit

BATCH, VISIBLE, HIDDEN = 100, 784, 500
LR = np.float32(0.01)
ROUNDS = 51
REPS = 4
WARM_UP = 5
F32 = np.float32


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def median_ns(samples):
    samples = sorted(samples)
    return round(samples[len(samples) // 2] * 1e9)


def rounds(fns):
    """Median nanoseconds per call of each of `fns`. Each round takes one
    sample of each: one untimed call (its buffers back in cache), then REPS
    timed calls; as benches/probes/train_timings.rs does."""
    for f in fns:
        for _ in range(WARM_UP):
            f()
    times = [[] for _ in fns]
    for _ in range(ROUNDS):
        for f, t in zip(fns, times):
            f()
            start = time.perf_counter()
            for _ in range(REPS):
                f()
            t.append((time.perf_counter() - start) / REPS)
    return [median_ns(t) for t in times]


def line(**d):
    print(json.dumps(d), flush=True)


class Cd1:
    """A float32 model and one CD-1 step on the fixed batch."""

    def __init__(self, hidden, rng):
        self.X, w, c = affine_inputs()
        self.W, self.c = w.copy(), c.copy()
        self.b = np.zeros(VISIBLE, dtype=F32)
        self.hidden = hidden
        self.rng = rng

    def up_mean(self, x):
        return sigmoid(x) if self.hidden == "bernoulli" else np.maximum(F32(0), x)

    def up_sample(self, x):
        if self.hidden == "bernoulli":
            p = sigmoid(x)
            return p, (self.rng.random(p.shape, dtype=F32) < p).astype(F32)
        z = self.rng.standard_normal(x.shape, dtype=F32)
        return np.maximum(F32(0), x), np.maximum(F32(0), x + np.sqrt(sigmoid(x)) * z)

    def step(self):
        X, W, b, c = self.X, self.W, self.b, self.c
        h0, hs = self.up_sample(X @ W + c)
        v1 = sigmoid(hs @ W.T + b)
        h1 = self.up_mean(v1 @ W + c)
        s = LR / F32(X.shape[0])
        W += s * (X.T @ h0 - v1.T @ h1)
        b += s * (X - v1).sum(axis=0)
        c += s * (h0 - h1).sum(axis=0)
        for a in (h0, hs, v1, h1, W, b, c):
            assert a.dtype == F32, a.dtype
        return float(((X - v1) ** 2).sum())


class FiveSgemm:
    """The five bare products of a CD-1 step (stand-in operands in [0, 1))."""

    def __init__(self):
        self.X, self.W, _ = affine_inputs()
        self.H = unit(5, np.arange(BATCH * HIDDEN)).astype(F32).reshape(BATCH, HIDDEN)
        self.V = unit(6, np.arange(BATCH * VISIBLE)).astype(F32).reshape(BATCH, VISIBLE)

    def run(self):
        X, W, H, V = self.X, self.W, self.H, self.V
        X @ W
        H @ W.T
        V @ W
        g = X.T @ H
        g -= V.T @ H
        assert g.dtype == F32
        return g


def part_numpy():
    rng = np.random.default_rng(0x5EED)
    bern, nrelu, five = Cd1("bernoulli", rng), Cd1("nrelu", rng), FiveSgemm()
    t_five, t_bern, t_nrelu = rounds([five.run, bern.step, nrelu.step])
    line(bench="five_sgemm", hidden=None, impl="numpy", median_ns=t_five, dtype="float32")
    for hidden, t in (("bernoulli", t_bern), ("nrelu", t_nrelu)):
        line(bench="cd1", hidden=hidden, impl="numpy", median_ns=t, dtype="float32",
             algorithm="CD-1", five_sgemm_ns=t_five, vs_five_sgemm=round(t / t_five, 4))


def part_sklearn():
    import sklearn
    from sklearn.neural_network import BernoulliRBM

    X, w, c = affine_inputs()
    common = dict(n_components=HIDDEN, batch_size=BATCH, learning_rate=0.01, random_state=0)

    # partial_fit: initialise on the first call, then start from our weights.
    online = BernoulliRBM(**common)
    online.partial_fit(X)
    online.components_ = np.asarray(w.T, dtype=online.components_.dtype, order="F")
    online.intercept_hidden_ = c.astype(online.intercept_hidden_.dtype)
    online.intercept_visible_[:] = 0
    online_dtype = str(online.components_.dtype)

    # fit keeps float32 input in float32; time its per-batch step `_fit`.
    batch = BernoulliRBM(n_iter=1, **common).fit(X)
    batch.components_ = np.asarray(w.T, dtype=batch.components_.dtype, order="F")
    batch.intercept_hidden_ = c.astype(batch.intercept_hidden_.dtype)
    batch.intercept_visible_[:] = 0
    batch_dtype = str(batch.components_.dtype)
    rng = np.random.RandomState(0)

    line(info="sklearn", sklearn=sklearn.__version__, input_dtype=str(X.dtype),
         partial_fit_dtype=online_dtype, fit_dtype=batch_dtype, blas=blas_info())
    t_online, t_batch = rounds([lambda: online.partial_fit(X),
                                lambda: batch._fit(X, rng)])
    assert str(online.components_.dtype) == online_dtype
    assert str(batch.components_.dtype) == batch_dtype
    line(bench="cd1", hidden="bernoulli", impl="sklearn_partial_fit", median_ns=t_online,
         dtype=online_dtype, algorithm="PCD-1")
    line(bench="cd1", hidden="bernoulli", impl="sklearn_fit_step", median_ns=t_batch,
         dtype=batch_dtype, algorithm="PCD-1")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["numpy", "sklearn", "all"], default="all")
    args = ap.parse_args()
    np.seterr(over="ignore")
    x, w, c = affine_inputs()
    line(info="python", part=args.part, numpy=np.__version__,
         python=sys.version.split()[0], batch_fingerprint=fingerprint(x),
         weights_fingerprint=fingerprint(w), hidden_bias_fingerprint=fingerprint(c),
         env={k: os.environ.get(k) for k in (
             "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
         blas=blas_info())
    if args.part in ("numpy", "all"):
        part_numpy()
    if args.part in ("sklearn", "all"):
        part_sklearn()


if __name__ == "__main__":
    main()
