#!/usr/bin/env bash
# Side-by-side single-thread timings of one RBM training step (784 visible x
# 500 hidden, batch 100): ours (benches/probes/train_timings.rs), plain numpy
# float32 CD-1 and scikit-learn's BernoulliRBM (numpy_train.py), in one
# invocation, on the same batch and initial parameters. Prints markdown
# tables; see docs/benchmarks.md. Also run at the end of run.sh.
#
# usage: bash benches/peers/run_train.sh   (PEERS_KEEP=DIR keeps the raw JSON lines)
set -euo pipefail

# shellcheck source=benches/peers/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

echo "== ours: cargo run --release -p nrelu-rbm --example train_timings" >&2
(cd "$root" && cargo run --release --quiet -p nrelu-rbm --example train_timings) \
    >"$out/rust_train.jsonl"

# One BLAS thread; the whole step is BLAS-bound, so let OpenBLAS pick its own
# kernel (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, these commands only).
echo "== numpy: float32 CD-1 step and its five products" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${single[@]}" \
    "$py" "$here/numpy_train.py" --part numpy >"$out/python_train.jsonl"
echo "== scikit-learn: BernoulliRBM partial_fit and _fit" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${single[@]}" \
    "$py" "$here/numpy_train.py" --part sklearn >>"$out/python_train.jsonl"

"$py" "$here/report_train.py" "$out/rust_train.jsonl" "$out/python_train.jsonl"
