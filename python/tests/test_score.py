"""score_samples: the exact pseudo-log-likelihood, per row."""

import numpy as np
import pytest

from nrelu_rbm import RBM


@pytest.mark.parametrize("unit", ["bernoulli", "ssu", "binomial:3"])
def test_mean_is_the_library_pseudo_log_likelihood(binary, unit):
    est = RBM(n_components=4, n_iter=10, learning_rate=0.05, hidden_unit=unit, random_state=0)
    est.fit(binary)
    s = est.score_samples(binary)
    assert s.shape == (200,) and s.dtype == np.float64 and (s <= 0).all()
    library = est._core.library_pseudo_log_likelihood(binary)
    assert s.mean() == pytest.approx(library, rel=1e-12)


def test_brute_force_for_bernoulli_units():
    """Σ_i log p(v_i | v_−i) from the free energy, written out in numpy."""
    rng = np.random.RandomState(2)
    x = (rng.rand(30, 5) < 0.4).astype(np.float32)
    est = RBM(n_components=3, n_iter=5, hidden_unit="bernoulli", random_state=0).fit(x)
    w = est.components_.T.astype(np.float64)
    b = est.intercept_visible_.astype(np.float64)
    c = est.intercept_hidden_.astype(np.float64)

    def free_energy(v):
        return -(v @ b) - np.logaddexp(0, v @ w + c).sum(axis=-1)

    v = x.astype(np.float64)
    expected = np.zeros(len(v))
    for i in range(v.shape[1]):
        flipped = v.copy()
        flipped[:, i] = 1 - flipped[:, i]
        # log σ(F(flipped) − F(v))
        expected -= np.logaddexp(0, -(free_energy(flipped) - free_energy(v)))
    np.testing.assert_allclose(est.score_samples(x), expected, rtol=1e-10)


def test_nrelu_is_scored_as_the_stepped_sigmoid_model(binary, tmp_path):
    est = RBM(n_components=4, n_iter=5, random_state=0).fit(binary)
    s = est.score_samples(binary)
    assert np.isfinite(s).all() and (s <= 0).all()


def test_deterministic_order_and_subset_invariant(binary):
    est = RBM(n_components=5, n_iter=5, random_state=0).fit(binary)
    s = est.score_samples(binary)
    np.testing.assert_array_equal(s, est.score_samples(binary))
    perm = np.random.RandomState(0).permutation(len(binary))
    np.testing.assert_array_equal(est.score_samples(binary[perm]), s[perm])
    for lo, hi in [(0, 1), (3, 40), (150, 200)]:
        np.testing.assert_array_equal(est.score_samples(binary[lo:hi]), s[lo:hi])
