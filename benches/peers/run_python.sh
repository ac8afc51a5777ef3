#!/usr/bin/env bash
# fit at 784 x 500: the Python package's RBM against scikit-learn's
# BernoulliRBM in one process, one thread each (python_fit.py). Installs
# ./python into the peers' venv (benches/peers/.venv) first.
#
# usage: bash benches/peers/run_python.sh [python_fit.py options]
set -euo pipefail

# shellcheck source=benches/peers/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

echo "== pip install ./python (into $venv)" >&2
(cd "$root" && CARGO_TARGET_DIR="$root/target" "$py" -m pip install --quiet \
    --disable-pip-version-check ./python)
env "${single[@]}" "$py" "$here/python_fit.py" "$@"
