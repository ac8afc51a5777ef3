"""Plots docs/img/statistics.png from docs/img/statistics_curves.csv.

Regenerate (from the repository root):

    cargo run --release -p nrelu-rbm-proptests --example statistics_curves > docs/img/statistics_curves.csv
    python3 -m venv /tmp/plotvenv && /tmp/plotvenv/bin/pip install matplotlib
    /tmp/plotvenv/bin/python docs/img/plot_statistics.py
"""

import csv
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
rows = list(csv.DictReader(open(HERE / "statistics_curves.csv")))
col = {k: [float(r[k]) for r in rows] for k in rows[0]}
x = col["x"]

fig, ax = plt.subplots(2, 2, figsize=(12, 8.5), constrained_layout=True)

a = ax[0][0]
a.plot(x, col["softplus"], "k-", lw=2.5, label="softplus(x) = log(1+e^x)")
a.plot(x, col["ssu_mean"], "C1--", lw=2, label="SSU mean  Σ σ(x−i+½)")
a.plot(x, col["nrelu_mean"], "C0-", lw=1.5, label="NReLU mean  E max(0, x+√σ(x) z)")
a.plot(x, col["relu"], "C2:", lw=1.5, label="max(0, x) (noise-free NReLU)")
a.set_title("Means")
a.set_xlabel("x (total input)")
a.legend(loc="upper left")
a.grid(alpha=0.3)

a = ax[0][1]
a.plot(x, col["sigma"], "k-", lw=2.5, label="σ(x) (NReLU noise variance)")
a.plot(x, col["ssu_var"], "C1--", lw=2, label="SSU variance  Σ σ_i(1−σ_i)")
a.plot(x, col["nrelu_var"], "C0-", lw=1.5, label="NReLU output variance (after rectification)")
a.set_title("Variances")
a.set_xlabel("x (total input)")
a.legend(loc="upper left")
a.grid(alpha=0.3)

a = ax[1][0]
a.plot(x, col["w1"], "k-", lw=2.5, label="W1(NReLU, SSU)")
a.plot(x, col["w1_lattice"], "C0--", lw=2, label="lattice part  W1(NReLU, round NReLU) = E|h − round h|")
a.plot(x, col["w1_shape"], "C3-.", lw=2, label="shape part  W1(round NReLU, SSU)")
a.axhline(0.25, color="grey", lw=0.8, ls=":")
a.set_title("Wasserstein-1 distance between the two laws (exact, f64)")
a.set_xlabel("x (total input)")
a.set_ylim(0.0, 0.6)
a.legend(loc="upper right", fontsize=9)
a.grid(alpha=0.3)

a = ax[1][1]
a.semilogy(x, [abs(v) for v in col["mean_error"]], "C1-", lw=2, label="|Σ σ(x−i+½) − softplus(x)|  (≤ 0.010578)")
a.semilogy(x, [abs(v) for v in col["var_error"]], "C4--", lw=2, label="|Σ σ_i(1−σ_i) − σ(x)|  (≤ 0.004132)")
a.axhline(3.36e-8, color="grey", lw=0.8, ls=":")
a.text(x[0], 4.5e-8, "Poisson-summation ripple 3.4e-8", color="grey")
a.set_ylim(1e-9, 2.0)
a.set_title("Deterministic errors of the stepped-sigmoid sums")
a.set_xlabel("x (total input)")
a.legend(loc="upper right")
a.grid(alpha=0.3, which="both")

fig.suptitle("NReLU max(0, x + N(0, σ(x))) against the stepped sigmoid unit Σ_i Bernoulli(σ(x − i + ½))")
fig.savefig(HERE / "statistics.png", dpi=90)
print("wrote", HERE / "statistics.png")
