#!/usr/bin/env bash
# Side-by-side single-thread timings, in one invocation, on the same inputs:
# 1. our kernels (kernels/benches/probes/peer_timings.rs) and their numpy
#    equivalents (numpy_kernels.py);
# 2. one RBM training step: ours, plain numpy CD-1 and scikit-learn's
#    BernoulliRBM (run_train.sh, also runnable alone);
# 3. one AIS job: ours (one thread and all cores) and the same algorithm in
#    numpy (run_ais.sh, also runnable alone).
# Prints markdown tables; see docs/benchmarks.md.
#
# usage: bash benches/peers/run.sh   (PEERS_KEEP=DIR keeps the raw JSON lines;
#        PEERS_NUMPY_RUNS=N and PEERS_OURS_RUNS=N set the element-wise
#        processes of each side, default 3)
set -euo pipefail

# shellcheck source=benches/peers/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

# Both sides' element-wise speeds vary from one process to the next (numpy
# has a fast and a slow mode; ours moves with the host's load), so each
# side runs in several processes and report.py keeps the fastest process
# median of each kernel, on both sides alike.
ours_runs="${PEERS_OURS_RUNS:-3}"
echo "== ours: cargo run --release -p nrelu-rbm-kernels --example peer_timings ($ours_runs processes)" >&2
(cd "$root" && cargo build --release --quiet -p nrelu-rbm-kernels --example peer_timings)
: >"$out/rust.jsonl"
for _ in $(seq "$ours_runs"); do
    (cd "$root" && cargo run --release --quiet -p nrelu-rbm-kernels --example peer_timings) \
        >>"$out/rust.jsonl"
done

runs="${PEERS_NUMPY_RUNS:-3}"
echo "== numpy: element-wise kernels ($runs processes)" >&2
: >"$out/numpy.jsonl"
for _ in $(seq "$runs"); do
    env "${single[@]}" "$py" "$here/numpy_kernels.py" --part elementwise >>"$out/numpy.jsonl"
done
# The machine may set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE; let OpenBLAS pick
# its own kernel for the sgemm timing (this command only).
echo "== numpy: sgemm (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset)" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${single[@]}" \
    "$py" "$here/numpy_kernels.py" --part sgemm >>"$out/numpy.jsonl"

"$py" "$here/report.py" "$out/rust.jsonl" "$out/numpy.jsonl"

echo
echo "== training step (run_train.sh)" >&2
bash "$here/run_train.sh"

echo
echo "== AIS (run_ais.sh)" >&2
bash "$here/run_ais.sh"
