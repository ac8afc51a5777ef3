"""transform and score_samples over a Dask array, on a local cluster.

Transforming and scoring are independent per row, so a fitted RBM maps over
the row blocks of a Dask array with `map_blocks`: each worker receives the
estimator (pickled: the model file's bytes) and its blocks, and the result
equals the single-process one bit for bit. Training stays on one node
(docs/python.md explains why). The same code runs on a real cluster with
`Client("scheduler-address:8786")` in place of the LocalCluster.

usage: python python/examples/dask_transform.py
"""

import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

from nrelu_rbm import RBM


def transform_and_score(est, X):
    """Features and scores of the Dask array X, row block by row block."""
    H = X.map_blocks(
        est.transform,
        dtype=np.float32,
        chunks=(X.chunks[0], (est.n_components,)),
    )
    S = X.map_blocks(est.score_samples, dtype=np.float64, drop_axis=1)
    return H, S


def main(rows=4000, features=64, block=500):
    rng = np.random.RandomState(0)
    x = (rng.rand(rows, features) < 0.3).astype(np.float32)
    est = RBM(n_components=32, n_iter=5, random_state=0).fit(x)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        X = da.from_array(x, chunks=(block, features))
        H, S = transform_and_score(est, X)
        h, s = client.compute([H, S], sync=True)
    return est, x, h, s


if __name__ == "__main__":
    est, x, h, s = main()
    same = np.array_equal(h, est.transform(x)) and np.array_equal(s, est.score_samples(x))
    print(f"{len(x)} rows on two workers; equal to one process: {same}")
