#!/usr/bin/env python3
"""Prints the criterion medians of `cargo bench -p nrelu-rbm-kernels --bench
kernels` and `cargo bench -p nrelu-rbm --bench train` (read from
target/criterion/*/*/new/estimates.json) as the markdown tables used in
docs/benchmarks.md. Groups that were not run are left out.

usage: python3 benches/peers/criterion_table.py [TARGET_DIR]
"""

import glob
import json
import os
import sys

KERNELS = ["sigmoid", "softplus", "bernoulli", "normal", "nrelu", "ssu"]
PATHS = ["scalar", "portable", "avx2", "avx512"]
AFFINE = ["sgemm", "unpadded"] + [f"{g}/{s}" for s in ("bernoulli", "nrelu")
                      for g in ("unfused", "epilogue", "rowblock16", "rowblock32")]
TRAIN = ["cd1/nrelu", "cd1/bernoulli", "cd1_momentum/nrelu", "cd1_2threads/nrelu",
         "cd1_2threads_in_pool/nrelu", "five_sgemm"]


def fmt_time(ns):
    return f"{ns / 1e6:.2f} ms" if ns >= 1e6 else f"{ns / 1e3:.1f} µs"


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "target"
    rows = {}
    for f in glob.glob(os.path.join(target, "criterion", "*", "*", "new", "estimates.json")):
        est = json.load(open(f))["median"]
        bench = json.load(open(os.path.join(os.path.dirname(f), "benchmark.json")))
        rows[bench["full_id"]] = (est, bench["throughput"]["Elements"])
    ids = [f"kernels/{k}/{p}" for k in KERNELS for p in PATHS] + [f"affine/{a}" for a in AFFINE]
    if any(i in rows for i in ids):
        print("| id | median time | median Melem/s | 95% CI of the median, Melem/s |")
        print("| --- | ---: | ---: | --- |")
        for i in ids:
            if i not in rows:
                continue
            est, el = rows[i]
            med = est["point_estimate"]
            lo = est["confidence_interval"]["lower_bound"]
            hi = est["confidence_interval"]["upper_bound"]
            print(f"| `{i}` | {fmt_time(med)} | {el / med * 1e3:.1f} "
                  f"| {el / hi * 1e3:.1f} – {el / lo * 1e3:.1f} |")
    train = [f"train/{t}" for t in TRAIN if f"train/{t}" in rows]
    if train:
        if any(i in rows for i in ids):
            print()
        floor = rows.get("train/five_sgemm", (None, None))[0]
        print("| id | median time | 95% CI of the median | rows/s | ÷ `train/five_sgemm` |")
        print("| --- | ---: | --- | ---: | ---: |")
        for i in train:
            est, el = rows[i]
            med = est["point_estimate"]
            lo = est["confidence_interval"]["lower_bound"]
            hi = est["confidence_interval"]["upper_bound"]
            ratio = f"{med / floor['point_estimate']:.3f}" if floor else ""
            print(f"| `{i}` | {fmt_time(med)} | {fmt_time(lo)} – {fmt_time(hi)} "
                  f"| {el / med * 1e9:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
