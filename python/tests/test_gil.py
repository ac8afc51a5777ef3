"""The GIL is released while fit, transform and score_samples run.

A worker thread makes the call while the main thread spins in a Python
loop and records the longest gap between two of its iterations. A call
that holds the GIL stops every other Python thread for its whole length,
so the longest gap is at least the call's duration; a call that releases
it leaves the main thread running, and its longest gap is a scheduling
hiccup, far shorter than the call. The test takes "released" to mean a
longest gap under half the call's duration. The companion test shows that
the detector sees a call that holds the GIL: a catastrophic regular
expression, which CPython's `re` engine matches without releasing it.
"""

import re
import threading
import time

import numpy as np
import pytest

from nrelu_rbm import RBM


def longest_gap_and_duration(call):
    """The main thread's longest pause while `call()` runs on a worker
    thread, and the call's duration, in seconds."""
    window = {}

    def worker():
        start = time.perf_counter()
        call()
        window["duration"] = time.perf_counter() - start

    t = threading.Thread(target=worker)
    last = time.perf_counter()
    longest = 0.0
    t.start()
    while t.is_alive():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    t.join()
    return longest, window["duration"]


def releases_the_gil(call):
    gap, duration = longest_gap_and_duration(call)
    return gap < duration / 2, (gap, duration)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    return (rng.rand(4000, 256) < 0.3).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(data):
    return RBM(n_components=200, n_iter=1, batch_size=50, random_state=0).fit(data[:500])


def test_fit_releases_the_gil(data):
    est = RBM(n_components=200, n_iter=2, batch_size=50, random_state=0)
    released, times = releases_the_gil(lambda: est.fit(data))
    assert released, times


def test_transform_releases_the_gil(fitted, data):
    big = np.tile(data, (4, 1))
    released, times = releases_the_gil(lambda: fitted.transform(big))
    assert released, times


def test_score_samples_releases_the_gil(fitted, data):
    released, times = releases_the_gil(lambda: fitted.score_samples(data[:200]))
    assert released, times


def test_the_detector_sees_a_call_that_holds_the_gil():
    # (a+)+$ on a run of a's followed by a b backtracks through 2^n ways to
    # split the run, all inside one call into the regex engine.
    pattern, text = re.compile(r"(a+)+$"), "a" * 20 + "b"
    released, times = releases_the_gil(lambda: pattern.match(text))
    assert not released, times
