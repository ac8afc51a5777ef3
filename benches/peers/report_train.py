#!/usr/bin/env python3
"""Joins the JSON lines of benches/probes/train_timings.rs (Rust) and
numpy_train.py (numpy, scikit-learn) into the markdown tables printed by
benches/peers/run_train.sh.

usage: report_train.py RUST_JSONL PYTHON_JSONL
"""

import sys

from jsonl import load

STEP_GOAL = 1.08  # one-thread CD-1 step <= 1.08x the five bare sgemm
THREADS_GOAL = 1.8  # two threads >= 1.8x the one-thread throughput
LABEL = {
    "ours": "ours (`Trainer::step`)",
    "numpy": "numpy, plain CD-1",
    "sklearn_partial_fit": "scikit-learn `BernoulliRBM.partial_fit`",
    "sklearn_fit_step": "scikit-learn `BernoulliRBM._fit` (the per-batch step of `fit`)",
}
ORDER = ["ours", "numpy", "sklearn_partial_fit", "sklearn_fit_step"]
FINGERPRINTS = ("batch_fingerprint", "weights_fingerprint", "hidden_bias_fingerprint")


def ms(ns):
    return f"{ns / 1e6:.2f}"


def main():
    rinfo, rust = load(sys.argv[1])
    pinfo, peers = load(sys.argv[2])
    rows = rust + peers
    ours = {d["hidden"]: d for d in rust if d["bench"] == "cd1"}
    steps = sorted((d for d in rows if d["bench"] == "cd1"),
                   key=lambda d: (ORDER.index(d["impl"]), d["hidden"]))
    five = {d["impl"]: d for d in rows if d["bench"] == "five_sgemm"}

    print("One training step, 784 visible × 500 hidden, batch 100, Bernoulli visible "
          "units, one thread (median ms per step; ratios from the same run):")
    print()
    print("| implementation | hidden | algorithm | dtype | ms per step | its five sgemm, ms "
          "| step ÷ five sgemm | peer time ÷ ours (same hidden units) |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: |")
    for d in steps:
        impl = d["impl"]
        algo = d.get("algorithm", "CD-1")
        dtype = d.get("dtype", "float32")
        five_ms = ms(d["five_sgemm_ns"]) if "five_sgemm_ns" in d else ""
        vs_five = f"{d['vs_five_sgemm']:.3f}" if "vs_five_sgemm" in d else ""
        o = ours.get(d["hidden"])
        vs_ours = "1" if impl == "ours" else (
            f"{d['median_ns'] / o['median_ns']:.2f}" if o else "")
        print(f"| {LABEL.get(impl, impl)} | {d['hidden']} | {algo} | {dtype} "
              f"| {ms(d['median_ns'])} | {five_ms} | {vs_five} | {vs_ours} |")

    print()
    print(f"Goal: one-thread CD-1 step ≤ {STEP_GOAL}× the five bare sgemm (ours; "
          "medians of the same interleaved rounds):")
    print()
    print("| hidden | step ms | five sgemm ms | ratio | goal | met? |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    goal_rows = sorted(ours.items()) + [
        (f"{d['hidden']}, momentum 0.5 + decay 1e-4", d)
        for d in rust if d["bench"] == "cd1_momentum"]
    for hidden, d in goal_rows:
        r = d["vs_five_sgemm"]
        met = "**met**" if r <= STEP_GOAL else f"**not met** (+{(r - 1) * 100:.1f}% over the products)"
        print(f"| {hidden} | {ms(d['median_ns'])} | {ms(d['five_sgemm_ns'])} | {r:.3f}× "
              f"| ≤ {STEP_GOAL}× | {met} |")
    how = {"cd1_2threads": "each block inside one `Trainer::in_pool` call, as `train` runs",
           "cd1_2threads_per_call": "each step called from outside the pool"}
    for bench, text in how.items():
        two = next((d for d in rust if d["bench"] == bench), None)
        if not two:
            continue
        r = two["speedup"]
        met = "**met**" if r >= THREADS_GOAL else "**not met**"
        goal = f" (goal ≥ {THREADS_GOAL}×): {met}" if bench == "cd1_2threads" else ""
        paired = ""
        if "paired_speedup_median" in two:
            paired = (f" Each round's own pair of blocks: median {two['paired_speedup_median']:.2f}×, "
                      f"range {two['paired_speedup_min']:.2f}–{two['paired_speedup_max']:.2f}×.")
        if "round_core_to_core_ns" in two:
            lat = two["round_core_to_core_ns"]
            near = two["paired_speedup_median_near_cores"]
            near = f"{near:.2f}×" if near is not None else "none"
            paired += (f" Core-to-core round trip around each two-thread block: "
                       f"{min(lat):.0f}–{max(lat):.0f} ns; {two['rounds_far_cores']} of "
                       f"{len(lat)} rounds above 250 ns (the host running the two vCPUs far "
                       f"apart); median of the other rounds' own ratios: {near}.")
        print()
        print(f"- Two threads, {text} ({two['hidden']} hidden units; {two['blocks']} alternating "
              f"blocks of {two['steps_per_block']} steps on one and on two threads): "
              f"{ms(two['median_ns'])} ms per step vs {ms(two['one_thread_ns'])} ms on one "
              f"thread: {r:.2f}× the one-thread throughput{goal}.{paired}")
    copies = next((d for d in rust if d["bench"] == "cd1_2copies"), None)
    if copies:
        print()
        print(f"- The machine's ceiling for this work: two independent one-thread trainers "
              f"stepping at the same time ({copies['blocks']} blocks of "
              f"{copies['steps_per_block']} steps, alternating with one-thread blocks): "
              f"{copies['speedup']:.2f}× the one-thread throughput together "
              f"({ms(copies['one_thread_ns'])} ms per step alone).")
    if "ours" in five and "numpy" in five:
        r = five["ours"]["median_ns"] / five["numpy"]["median_ns"]
        print()
        print(f"- Five bare products: ours (product family; own AVX-512 kernel for the batch products) {ms(five['ours']['median_ns'])} ms, "
              f"numpy (OpenBLAS) {ms(five['numpy']['median_ns'])} ms, ours ÷ numpy {r:.2f}.")

    print()
    p0 = next((i for i in pinfo if i["info"] == "python"), None)
    same = p0 is not None and all(rinfo[0][k] == i[k] for i in pinfo if i["info"] == "python"
                                  for k in FINGERPRINTS)
    print(f"- Same batch and initial parameters on both sides (fingerprints): "
          f"{'yes' if same else 'NO'}")
    print(f"- ours: kernel path {rinfo[0]['active_path']}, {rinfo[0]['threads']} thread, "
          f"{rinfo[0]['rounds']} interleaved rounds")
    for i in pinfo:
        if i["info"] == "python":
            print(f"- numpy {i['numpy']} (Python {i['python']}), part {i['part']}: "
                  f"env `{i['env']}`, BLAS `{i['blas']}`")
        elif i["info"] == "sklearn":
            print(f"- scikit-learn {i['sklearn']}: float32 input; `partial_fit` computes in "
                  f"{i['partial_fit_dtype']}, `fit` (and its `_fit` step) in {i['fit_dtype']}; "
                  f"BLAS libraries loaded `{i['blas']}`")


if __name__ == "__main__":
    main()
