#!/usr/bin/env bash
# Side-by-side wall-clock timings of one forward and one reverse AIS job
# (784 visible x 500 hidden Bernoulli-Bernoulli RBM, 100 runs,
# default_schedule(1000); forward from the base-rate model, reverse from
# the data rows with no burn-in): ours (benches/probes/ais_timings.rs, one
# thread and all cores) and the same algorithms in numpy float32
# (numpy_ais.py, one BLAS thread and OpenBLAS's default), in one
# invocation, on the same inputs. Prints a
# markdown table; see docs/benchmarks.md. Also run at the end of run.sh.
#
# usage: bash benches/peers/run_ais.sh   (PEERS_KEEP=DIR keeps the raw JSON lines)
set -euo pipefail

# shellcheck source=benches/peers/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

echo "== ours: cargo run --release -p nrelu-rbm --example ais_timings" >&2
(cd "$root" && cargo run --release --quiet -p nrelu-rbm --example ais_timings) \
    >"$out/rust_ais.jsonl"

# The job is BLAS-bound: let OpenBLAS pick its own kernel
# (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, these commands only).
echo "== numpy: AIS, one BLAS thread" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${single[@]}" \
    "$py" "$here/numpy_ais.py" --label numpy >"$out/python_ais.jsonl"
echo "== numpy: AIS, default BLAS threads" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS -u MKL_NUM_THREADS \
    "$py" "$here/numpy_ais.py" --label numpy_default_threads >>"$out/python_ais.jsonl"

"$py" "$here/report_ais.py" "$out/rust_ais.jsonl" "$out/python_ais.jsonl"
