# Sourced by run.sh and run_train.sh: creates benches/peers/.venv and
# (re)installs requirements.txt when it changed since the last install.
# Sets $here (this folder), $root (the workspace) and $py (the venv python).
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
