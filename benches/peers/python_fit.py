#!/usr/bin/env python3
"""fit at 784 visible x 500 hidden: nrelu_rbm.RBM against scikit-learn's
BernoulliRBM, with the same parameters, in the same process.

Both estimators get the same float32 data (N rows of binary pixels-like
values, seeded) and the same parameters: n_components=500, batch_size=100,
learning_rate=0.01, n_iter, random_state=0. Both train by PCD-1 without
momentum or weight decay (BernoulliRBM's only algorithm, and RBM's
defaults). RBM runs with Bernoulli hidden units (the model BernoulliRBM
trains) and with NReLU units (the default), read out by the SSU mean (the
default) and by max(0, x). One thread for each:
OMP/OPENBLAS/MKL_NUM_THREADS=1 (run_python.sh sets them) and n_jobs=None.

Prints one JSON object per estimator, then a markdown table with the
medians and the ratios. No assertion: the figure goes in
docs/benchmarks.md.

usage: python python_fit.py [--rows N] [--n-iter E] [--repeats R]
"""

import argparse
import json
import time

import numpy as np
from sklearn.neural_network import BernoulliRBM

from nrelu_rbm import RBM


def data(rows, visible=784, seed=0):
    rng = np.random.RandomState(seed)
    # Pixel-like rows: a fifth of the pixels on, with grey edges.
    x = rng.rand(rows, visible).astype(np.float32)
    return np.where(x < 0.2, 1.0, np.where(x < 0.25, 0.5, 0.0)).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--n-iter", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    x = data(args.rows)
    params = dict(n_components=500, batch_size=100, learning_rate=0.01, n_iter=args.n_iter, random_state=0)
    estimators = {
        "sklearn BernoulliRBM": lambda: BernoulliRBM(**params),
        "nrelu_rbm RBM, bernoulli hidden": lambda: RBM(hidden_unit="bernoulli", **params),
        "nrelu_rbm RBM, nrelu hidden": lambda: RBM(**params),
        "nrelu_rbm RBM, nrelu hidden, relu mean": lambda: RBM(nrelu_mean="relu", **params),
    }
    times = {name: [] for name in estimators}
    # Interleaved rounds, so that a slow spell of the host hits all alike.
    for _ in range(args.repeats):
        for name, make in estimators.items():
            est = make()
            t = time.perf_counter()
            est.fit(x)
            times[name].append(time.perf_counter() - t)
    medians = {name: float(np.median(t)) for name, t in times.items()}
    for name, t in times.items():
        print(json.dumps({"bench": "python_fit", "impl": name, "rows": args.rows, "n_iter": args.n_iter,
                          "median_s": medians[name], "samples_s": t}))
    base = medians["sklearn BernoulliRBM"]
    print()
    print(f"fit, {args.rows} x 784 float32 rows, 500 hidden, batch 100, PCD-1, {args.n_iter} epochs, one thread")
    print()
    print("| estimator | median fit (s) | BernoulliRBM ÷ this |")
    print("|---|---|---|")
    for name, m in medians.items():
        print(f"| {name} | {m:.3f} | {base / m:.2f}× |")


if __name__ == "__main__":
    main()
