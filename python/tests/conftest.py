"""Shared fixtures: small data sets and the `rbm` command line."""

import os
import pathlib

# scikit-learn skips its array-API input check (check_array_api_input, with
# the numpy namespace) unless scipy's array-API mode is on, and scipy reads
# this when it is first imported: set here, before anything imports it, so
# that parametrize_with_checks runs every check instead of skipping some.
os.environ["SCIPY_ARRAY_API"] = "1"

import numpy as np  # noqa: E402
import pytest


@pytest.fixture
def binary():
    """200 binary rows of 12 columns: two noisy patterns."""
    rng = np.random.RandomState(0)
    base = np.array([[1] * 6 + [0] * 6, [0] * 6 + [1] * 6], dtype=np.float32)
    x = base[rng.randint(0, 2, 200)]
    flip = rng.rand(*x.shape) < 0.1
    return np.where(flip, 1 - x, x).astype(np.float32)


@pytest.fixture
def rbm_bin():
    """The `rbm` binary, from $RBM_BIN (set by .ci/run). Missing is an error."""
    path = os.environ.get("RBM_BIN")
    if not path:
        pytest.fail(
            "RBM_BIN is not set: build the command line (cargo build --release --bin rbm) "
            "and point RBM_BIN at target/release/rbm"
        )
    path = pathlib.Path(path)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"RBM_BIN={path} is not an executable file")
    return path
