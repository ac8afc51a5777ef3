#!/usr/bin/env bash
# Side-by-side single-thread timings: our kernels (kernels/examples/peer_timings.rs)
# and their numpy equivalents (numpy_kernels.py), in one invocation, on the
# same inputs. Prints a markdown table; see docs/benchmarks.md.
#
# usage: bash benches/peers/run.sh       (PEERS_KEEP=DIR keeps the raw JSON lines)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
py="$venv/bin/python"

if [[ ! -x "$py" ]]; then
    echo "creating $venv" >&2
    python3 -m venv "$venv"
fi
# (Re)install when requirements.txt changed since the last install.
stamp="$venv/.requirements.installed"
if ! cmp -s "$here/requirements.txt" "$stamp"; then
    "$py" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi

out="${PEERS_KEEP:-$(mktemp -d)}"
mkdir -p "$out"
[[ -n "${PEERS_KEEP:-}" ]] || trap 'rm -rf "$out"' EXIT

echo "== ours: cargo run --release -p nrelu-rbm-kernels --example peer_timings" >&2
(cd "$root" && cargo run --release --quiet -p nrelu-rbm-kernels --example peer_timings) \
    >"$out/rust.jsonl"

single=(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1)
echo "== numpy: element-wise kernels" >&2
env "${single[@]}" "$py" "$here/numpy_kernels.py" --part elementwise >"$out/numpy.jsonl"
# The machine may set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE; let OpenBLAS pick
# its own kernel for the sgemm timing (this command only).
echo "== numpy: sgemm (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset)" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${single[@]}" \
    "$py" "$here/numpy_kernels.py" --part sgemm >>"$out/numpy.jsonl"

"$py" "$here/report.py" "$out/rust.jsonl" "$out/numpy.jsonl"
