#!/usr/bin/env python3
"""Joins the JSON lines of benches/probes/ais_timings.rs (Rust) and numpy_ais.py
(numpy) into the markdown tables printed by benches/peers/run_ais.sh: one
per job, forward AIS ("ais") and reverse AIS ("reverse_ais").

usage: report_ais.py RUST_JSONL PYTHON_JSONL
"""

import sys

from jsonl import load

GOAL = 3.0  # ours at least 3x faster than numpy on this machine
FINGERPRINTS = ("weights_fingerprint", "visible_bias_fingerprint",
                "hidden_bias_fingerprint", "base_bias_fingerprint", "data_fingerprint")


def s(ns):
    return f"{ns / 1e9:.3f}"


def job_tables(bench, title, r0, rust, peers):
    ours = sorted((d for d in rust if d["bench"] == bench), key=lambda d: d["threads"])
    numpy = {d["impl"]: d for d in peers if d["bench"] == bench}
    if not ours:
        return
    one, allc = ours[0], ours[-1]
    runs_betas = r0["runs"] * r0["betas"]

    print(f"{title}: {r0['runs']} runs × {r0['betas']} temperatures "
          f"(`default_schedule({r0['betas']})`), 784 visible × 500 hidden Bernoulli units, "
          f"median wall time of {r0['rounds']} calls (ours) and of the numpy rounds:")
    print()
    print("| implementation | threads | s per job | run-temperatures/s | log Z (this run) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for d in ours:
        print(f"| ours (`likelihood::{bench}`) | {d['threads']} | {s(d['median_ns'])} "
              f"| {runs_betas / d['median_ns'] * 1e9:,.0f} | {d['log_z']:.2f} |")
    for key, label in (("numpy", "numpy float32, 1 BLAS thread"),
                       ("numpy_default_threads", "numpy float32, default BLAS threads")):
        d = numpy.get(key)
        if d:
            print(f"| {label} | {d['threads']} (BLAS) | {s(d['median_ns'])} "
                  f"| {runs_betas / d['median_ns'] * 1e9:,.0f} | {d['log_z']:.2f} |")

    print()
    print(f"Speed-up (numpy time ÷ ours), goal ≥ {GOAL:g}×:")
    print()
    print("| comparison | numpy s | ours s | ratio | met? |")
    print("| --- | ---: | ---: | ---: | --- |")
    pairs = [("ours 1 thread vs numpy 1 BLAS thread (like with like)", "numpy", one)]
    if allc is not one:
        pairs.append((f"ours {allc['threads']} threads vs numpy default BLAS threads "
                      "(like with like)", "numpy_default_threads", allc))
        pairs.append((f"ours {allc['threads']} threads vs numpy 1 BLAS thread",
                      "numpy", allc))
    for label, key, o in pairs:
        d = numpy.get(key)
        if not d:
            continue
        r = d["median_ns"] / o["median_ns"]
        met = "**met**" if r >= GOAL else f"**not met** ({r / GOAL:.2f} of the goal)"
        print(f"| {label} | {s(d['median_ns'])} | {s(o['median_ns'])} | {r:.2f}× | {met} |")
    print()


def main():
    rinfo, rust = load(sys.argv[1])
    pinfo, peers = load(sys.argv[2])
    r0 = rinfo[0]
    job_tables("ais", "Forward AIS, one job", r0, rust, peers)
    job_tables("reverse_ais", "Reverse AIS, one job (runs started from the data, no burn-in)",
               r0, rust, peers)

    same = all(r0[k] == i[k] for i in pinfo for k in FINGERPRINTS)
    print(f"- Same model, base-rate biases and data on both sides (fingerprints): "
          f"{'yes' if same else 'NO'}")
    print(f"- ours: kernel path {r0['active_path']}, {r0['cores']} cores")
    for i in pinfo:
        print(f"- {i['impl']}: numpy {i['numpy']} (Python {i['python']}), "
              f"env `{i['env']}`, BLAS `{i['blas']}`")


if __name__ == "__main__":
    main()
