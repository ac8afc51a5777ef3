# Sourced by run.sh, run_train.sh and run_ais.sh: creates benches/peers/.venv
# and (re)installs requirements.txt when it changed since the last install.
# Sets $here (this folder), $root (the workspace), $py (the venv python),
# $out (PEERS_KEEP, or a temporary folder removed on exit, for the raw JSON
# lines) and $single (the environment for one BLAS/OpenMP thread).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
# numpy_train.py imports numpy_kernels.py; leave no __pycache__ behind.
export PYTHONDONTWRITEBYTECODE=1
py="$venv/bin/python"

if [[ ! -x "$py" ]]; then
    echo "creating $venv" >&2
    python3 -m venv "$venv"
fi
stamp="$venv/.requirements.installed"
if ! cmp -s "$here/requirements.txt" "$stamp"; then
    "$py" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi

out="${PEERS_KEEP:-$(mktemp -d)}"
mkdir -p "$out"
[[ -n "${PEERS_KEEP:-}" ]] || trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2034 # used by the scripts that source this file
single=(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1)
