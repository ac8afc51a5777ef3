#!/usr/bin/env python3
"""Joins the JSON lines of peer_timings (Rust) and numpy_kernels.py into the
markdown table printed by benches/peers/run.sh.

Both sides may have run several times (separate processes): numpy's
element-wise timings switch between a fast and a slow mode from one process
to the next (up to 1.6x apart for its Bernoulli pipeline), and ours move
with the host's load, so the table uses the fastest process median of each
kernel on each side alike, and lists all the process medians below it. The
affine lines (ratios paired inside one process) and our sgemm line (numpy
times its sgemm in one process) are the first process's.

usage: report.py RUST_JSONL NUMPY_JSONL
"""

import json
import sys

from jsonl import load, load_processes

# kernel -> (goal text, minimum ours/numpy ratio on the active path)
GOALS = {"sigmoid": ("≥ 2× numpy", 2.0),
         "bernoulli": ("≥ 10× numpy", 10.0),
         "bernoulli_f64": ("≥ 10× numpy", 10.0),
         "nrelu": ("≥ 10× numpy", 10.0),
         "nrelu_f64": ("≥ 10× numpy", 10.0)}
FUSED_GOAL = 1.05
ORDER = ["sigmoid", "softplus", "bernoulli", "bernoulli_f64", "nrelu", "nrelu_f64",
         "normal", "uniform", "sgemm", "affine_bernoulli"]
LABEL = {"sgemm": "sgemm 100×784·784×500",
         "bernoulli": "bernoulli (numpy float32: `rng.random(n, dtype=f32) < sigmoid`)",
         "bernoulli_f64": "bernoulli (numpy in float64, the plain expression: "
                            "`rng.random(n) < 1/(1+np.exp(-x))`, float64 uniforms)",
         "nrelu": "nrelu (numpy float32 normals)",
         "nrelu_f64": "nrelu (numpy in float64, the plain expression: float64 normals)",
         "uniform": "uniform f32 (bare random stream)",
         "affine_bernoulli": "affine+bias+Bernoulli 100×784·784×500"}
# numpy-only rows timed against one of our kernels
OURS = {"bernoulli_f64": "bernoulli", "nrelu_f64": "nrelu"}


def melem(d):
    return d["elements"] / d["median_ns"] * 1e3


def main():
    rinfo, rust_procs = load_processes(sys.argv[1])
    ninfo, numpy = load(sys.argv[2])
    active = rinfo[0]["active_path"]
    # Our element-wise kernels: the fastest process median of each (kernel,
    # path), as for numpy. The sgemm line (numpy times its sgemm in one
    # process) and the affine lines (ratios paired inside one process) are
    # those of the first process.
    first_process_only = {"sgemm", "affine_epilogue"}
    ours_runs = {}
    for rows in rust_procs:
        for d in rows:
            if "strategy" not in d and d["kernel"] not in first_process_only:
                ours_runs.setdefault((d["kernel"], d["path"]), []).append(d)
    rust = [min(v, key=lambda d: d["median_ns"]) for v in ours_runs.values()]
    rust += [d for d in rust_procs[0]
             if "strategy" in d or d["kernel"] in first_process_only]
    runs = {}
    for d in numpy:
        runs.setdefault(d["kernel"], []).append(d)
    npy = {k: min(v, key=lambda d: d["median_ns"]) for k, v in runs.items()}
    # affine: the default schedule is what Kernels::product runs with an epilogue
    fused = {(d["sampler"], d["strategy"]): d for d in rust if "strategy" in d}
    epilogue = {d["sampler"]: d for d in rust if d["kernel"] == "affine_epilogue"}
    ours_active, ours_best = {}, {}
    for d in rust:
        k = d["kernel"]
        if k == "affine_epilogue":
            continue
        if "strategy" in d:
            if d["strategy"] != "default":
                continue
            k = "affine_" + d["sampler"]
        if d["path"] == active:
            ours_active[k] = d
        if k not in ours_best or melem(d) > melem(ours_best[k]):
            ours_best[k] = d

    print(f"| kernel | ours, active path ({active}) Melem/s | ours, fastest path Melem/s "
          "| numpy Melem/s | ours/numpy (active) | goal | met? |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for k in ORDER:
        ours = OURS.get(k, k)
        if ours not in ours_active or k not in npy:
            continue
        a, b, n = ours_active[ours], ours_best[ours], npy[k]
        ratio = melem(a) / melem(n)
        goal, met = "", ""
        if k in GOALS:
            goal, need = GOALS[k]
            if ratio >= need:
                met = "**met**"
            else:
                met = f"**not met** ({ratio / need:.2f} of the goal)"
                best_ratio = melem(b) / melem(n)
                if b["path"] != active and best_ratio >= need:
                    met += f"; met on {b['path']} ({best_ratio:.2f}×)"
        print(f"| {LABEL.get(k, k)} | {melem(a):.1f} | {melem(b):.1f} ({b['path']}) "
              f"| {melem(n):.1f} | {ratio:.2f}× | {goal} | {met} |")
    for sampler, name in (("bernoulli", "Bernoulli"), ("nrelu", "NReLU")):
        d = fused.get((sampler, "default"))
        if not d:
            continue
        r = d["vs_sgemm"]
        met = "**met**" if r <= FUSED_GOAL else f"**not met** (+{(r - 1) * 100:.1f}% over sgemm)"
        print(f"| fused affine+{name} ÷ bare sgemm (ours, default strategy "
              f"{rinfo[0].get('default_strategy', '?')}, paired) "
              f"| {d['median_ns'] / 1e3:.0f} µs ÷ {d['sgemm_ns'] / 1e3:.0f} µs "
              f"| | | {r:.3f}× | ≤ {FUSED_GOAL}× | {met} |")

    for sampler, name in (("bernoulli", "Bernoulli"), ("nrelu", "NReLU")):
        d = epilogue.get(sampler)
        if d:
            print(f"| fused affine+{name} ÷ its own unpadded product (the epilogue's cost; "
                  f"paired) | {d['median_ns'] / 1e3:.0f} µs ÷ {d['product_ns'] / 1e3:.0f} µs "
                  f"| | | {d['vs_product']:.3f}× | | |")

    print()
    print("The fused strategies compute the last `batch % 16` rows with the small-row "
          "kernel instead of a padded 16-row sgemm tile (an unpadded `Product::new`), "
          "so they can take less time than the bare sgemm; the rows ÷ its own unpadded "
          "product show what the bias, activation and sampling cost on top.")
    print()
    print("Affine strategies (ours, active path; each fused median paired with a bare "
          "sgemm median timed in alternating samples):")
    print()
    print("| sampler | strategy | fused µs | paired sgemm µs | fused ÷ sgemm |")
    print("| --- | --- | ---: | ---: | ---: |")
    for (s, g), d in fused.items():
        name = f"default ({rinfo[0].get('default_strategy', '?')})" if g == "default" else g
        print(f"| {s} | {name} | {d['median_ns'] / 1e3:.0f} | {d['sgemm_ns'] / 1e3:.0f} "
              f"| {d['vs_sgemm']:.3f} |")
    print()
    for s in sorted({s for s, _ in fused}):
        best = min((d for (s2, g), d in fused.items() if s2 == s and g != "default"),
                   key=lambda d: d["median_ns"])
        print(f"- Fastest strategy for {s} (lowest fused median): {best['strategy']} "
              f"({best['median_ns'] / 1e3:.0f} µs, {best['vs_sgemm']:.3f}× its paired sgemm).")

    print()
    print(f"- ours Melem/s ({active}): fastest of the {len(rinfo)} process medians (the sgemm "
          "and affine rows: the first process); all process medians: " + "; ".join(f"{k} " + ", ".join(f"{melem(d):.0f}" for d in v)
                                  for (k, p), v in ours_runs.items() if p == active))
    print(f"- numpy Melem/s: fastest of the process medians; all process medians: "
          + "; ".join(f"{k} " + ", ".join(f"{melem(d):.0f}" for d in v)
                      for k, v in runs.items()))
    same = [rinfo[0]["preacts_fingerprint"] == i["preacts_fingerprint"]
            and rinfo[0]["affine_fingerprint"] == i["affine_fingerprint"] for i in ninfo]
    print(f"- Same inputs on both sides (fingerprints): {'yes' if all(same) else 'NO'}")
    for i in {(i["part"], json.dumps(i["env"], sort_keys=True)): i for i in ninfo}.values():
        print(f"- numpy {i['numpy']} (Python {i['python']}), part {i['part']}: env `{i['env']}`")
        if i.get("blas") is not None:
            print(f"- BLAS for the numpy sgemm: `{i['blas']}`")


if __name__ == "__main__":
    main()
