"""transform and score_samples over a Dask array on a local two-worker
cluster equal the single-process results (python/examples/dask_transform.py)."""

import importlib.util
import pathlib

import numpy as np

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "dask_transform.py"


def test_dask_map_blocks_equals_single_process():
    spec = importlib.util.spec_from_file_location("dask_transform", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    est, x, h, s = example.main(rows=1200, features=16, block=300)
    assert h.dtype == np.float32 and h.shape == (1200, 32)
    np.testing.assert_array_equal(h, est.transform(x))
    np.testing.assert_array_equal(s, est.score_samples(x))
