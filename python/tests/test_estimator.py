"""fit, partial_fit, transform, gibbs, sample: behaviour and bad input."""

import re

import numpy as np
import pytest

import nrelu_rbm
from nrelu_rbm import RBM


def test_fit_returns_self_and_sets_attributes(binary):
    est = RBM(n_components=5, n_iter=3, random_state=0)
    assert est.fit(binary) is est
    assert est.components_.shape == (5, 12)
    assert est.intercept_hidden_.shape == (5,)
    assert est.intercept_visible_.shape == (12,)
    assert est.n_features_in_ == 12
    assert est.input_map_ is None  # the data is in [0, 1]
    assert est.components_.dtype == np.float32
    with pytest.raises(ValueError):
        est.components_[0, 0] = 1.0  # a read-only copy of the model's weights


def test_transform_dtypes_and_values(binary):
    est = RBM(n_components=4, n_iter=5, random_state=1, hidden_unit="bernoulli").fit(binary)
    h = est.transform(binary)
    assert h.dtype == np.float32 and h.shape == (200, 4)
    # σ(XW + c), from the fitted attributes.
    x = binary.astype(np.float64) @ est.components_.T.astype(np.float64) + est.intercept_hidden_
    np.testing.assert_allclose(h, 1 / (1 + np.exp(-x)), rtol=1e-5, atol=1e-6)
    # float64 is accepted and gives the float32 features of the same values.
    np.testing.assert_array_equal(est.transform(binary.astype(np.float64)), h)
    # Fortran order is converted, not refused.
    np.testing.assert_array_equal(est.transform(np.asfortranarray(binary)), h)
    np.testing.assert_array_equal(est.fit_transform(binary), h)


def _ssu_mean(x):
    """Σ_{i≥1} σ(x − i + ½) in float64."""
    i = np.arange(1, 200)
    return (1 / (1 + np.exp(-(x[..., None] - i + 0.5)))).sum(axis=-1)


@pytest.mark.parametrize("mean", ["ssu", "relu"])
def test_nrelu_features_follow_nrelu_mean(binary, mean):
    est = RBM(n_components=6, n_iter=5, random_state=2, nrelu_mean=mean).fit(binary)
    x = binary.astype(np.float64) @ est.components_.T.astype(np.float64) + est.intercept_hidden_
    want = _ssu_mean(x) if mean == "ssu" else np.maximum(x, 0)
    np.testing.assert_allclose(est.transform(binary), want, rtol=1e-5, atol=1e-5)


def test_nrelu_mean_is_the_default_ssu_and_only_for_nrelu_units(binary):
    assert RBM().nrelu_mean == "ssu"
    # The rule changes training as well as the features.
    ssu = RBM(n_components=4, n_iter=2, random_state=0).fit(binary)
    relu = RBM(n_components=4, n_iter=2, random_state=0, nrelu_mean="relu").fit(binary)
    assert not np.array_equal(ssu.components_, relu.components_)
    # Other units ignore it.
    a = RBM(n_components=4, n_iter=2, random_state=0, hidden_unit="bernoulli").fit(binary)
    b = RBM(n_components=4, n_iter=2, random_state=0, hidden_unit="bernoulli",
            nrelu_mean="relu").fit(binary)
    np.testing.assert_array_equal(a.components_, b.components_)


def test_c_contiguous_float32_is_not_copied(binary):
    est = RBM(n_components=3, n_iter=1, random_state=0).fit(binary)
    assert est._validate(binary, reset=False) is binary or np.shares_memory(
        est._validate(binary, reset=False), binary
    )


@pytest.mark.parametrize("unit", ["nrelu", "bernoulli", "ssu", "binomial:3"])
def test_units_train_and_reduce_reconstruction_error(binary, unit):
    est = RBM(n_components=4, n_iter=20, learning_rate=0.05, hidden_unit=unit, random_state=0)
    est.fit(binary)
    h = est.transform(binary)
    assert np.isfinite(h).all()
    if unit != "bernoulli":
        assert (h >= 0).all()


def test_same_random_state_same_bits_any_n_jobs(binary):
    a = RBM(n_components=6, n_iter=4, random_state=3, n_jobs=1).fit(binary)
    b = RBM(n_components=6, n_iter=4, random_state=3, n_jobs=2).fit(binary)
    np.testing.assert_array_equal(a.components_, b.components_)
    c = RBM(n_components=6, n_iter=4, random_state=4).fit(binary)
    assert not np.array_equal(a.components_, c.components_)


@pytest.mark.parametrize("sampling", ["cd-1", "cd-3", "pcd-1", "pcd-2"])
def test_samplers_and_momentum(binary, sampling):
    est = RBM(
        n_components=4, n_iter=2, sampling=sampling, momentum=0.5, weight_decay=1e-4, random_state=0
    )
    assert np.isfinite(est.fit(binary).components_).all()


@pytest.mark.parametrize("centering", [True, 0.1])
def test_centering_changes_training_and_stays_finite(binary, centering):
    plain = RBM(n_components=4, n_iter=2, random_state=0).fit(binary)
    centred = RBM(n_components=4, n_iter=2, random_state=0, centering=centering).fit(binary)
    assert np.isfinite(centred.components_).all()
    assert not np.array_equal(plain.components_, centred.components_)


@pytest.mark.parametrize("centering", [0.0, 1.5, float("nan"), "yes"])
def test_bad_centering_is_a_value_error(binary, centering):
    with pytest.raises(ValueError, match="centering"):
        RBM(n_components=4, centering=centering).fit(binary)


def test_partial_fit(binary):
    est = RBM(n_components=4, batch_size=20, random_state=0)
    est.partial_fit(binary[:100])
    w1 = est.components_.copy()
    est.partial_fit(binary[100:])
    assert not np.array_equal(w1, est.components_)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(binary[:, :5])


def test_gaussian_visible_units_store_a_standardisation():
    rng = np.random.RandomState(0)
    x = (rng.randn(100, 5) * 3 + 10).astype(np.float32)
    est = RBM(n_components=3, visible_unit="gaussian", learning_rate=0.01, random_state=0).fit(x)
    mean, std = est.input_map_
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(std, x.std(axis=0), rtol=1e-4)
    assert not hasattr(est, "score_samples")  # pseudo-likelihood needs Bernoulli visible units


def test_bernoulli_data_outside_unit_interval_gets_a_range_map():
    rng = np.random.RandomState(0)
    x = rng.rand(50, 3).astype(np.float32)
    x[:, 1] = x[:, 1] * 10 - 2  # column 1 leaves [0, 1]
    est = RBM(n_components=2, random_state=0).fit(x)
    mean, std = est.input_map_
    assert mean[0] == 0 and std[0] == 1 and mean[2] == 0 and std[2] == 1
    assert mean[1] == x[:, 1].min() and std[1] == np.float32(x[:, 1].max() - x[:, 1].min())


def test_gibbs_and_sample(binary):
    est = RBM(n_components=4, n_iter=5, random_state=0).fit(binary)
    v = est.gibbs(binary[:7])
    assert v.shape == (7, 12) and set(np.unique(v)) <= {0.0, 1.0}
    s = est.sample(9, steps=5, random_state=1)
    assert s.shape == (9, 12) and set(np.unique(s)) <= {0.0, 1.0}
    np.testing.assert_array_equal(s, est.sample(9, steps=5, random_state=1))


# -- bad input: ValueError with the library's one-line message ---------------


def test_nan_names_row_and_column(binary):
    est = RBM(n_components=3, n_iter=1, random_state=0).fit(binary)
    x = binary.copy()
    x[1, 2] = np.nan
    msg = "the data has a non-finite value (NaN) at row 2, column 3 (both from 1)"
    for call in (est.transform, est.score_samples, RBM(n_components=2).fit):
        with pytest.raises(ValueError, match=re.escape(msg)):
            call(x)
    x[1, 2] = np.inf
    with pytest.raises(ValueError, match=re.escape("non-finite value (inf) at row 2, column 3")):
        est.transform(x)


def test_wrong_shape_and_dtype(binary):
    est = RBM(n_components=3, n_iter=1, random_state=0).fit(binary)
    with pytest.raises(ValueError, match="12 features"):
        est.transform(binary[:, :11])
    with pytest.raises(ValueError):
        est.transform(binary[0])  # 1-D
    with pytest.raises(ValueError):
        est.transform(binary.astype(np.complex64))
    with pytest.raises(ValueError):
        est.transform(np.full((2, 12), "a"))
    with pytest.raises(ValueError):
        est.transform(np.zeros((0, 12), dtype=np.float32))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden_unit": "relu"}, "unknown unit 'relu' (valid units: bernoulli, nrelu, ssu, binomial:K)"),
        ({"hidden_unit": "binomial:0"}, "unit 'binomial:0': K must be in 1..="),
        ({"nrelu_mean": "softplus"}, "unknown NReLU mean 'softplus' (valid means: relu, ssu)"),
        (
            {"hidden_unit": "bernoulli", "nrelu_mean": "max"},
            "unknown NReLU mean 'max' (valid means: relu, ssu)",
        ),
        ({"visible_unit": "poisson"}, "invalid visible unit = poisson: expected bernoulli or gaussian"),
        ({"sampling": "gibbs"}, "invalid sampling = gibbs: expected cd-K or pcd-K"),
        ({"momentum": 1.0}, "invalid momentum = 1: must be in [0, 1)"),
        ({"learning_rate": -1.0}, "invalid lr = -1: must be finite and > 0"),
        ({"n_components": 0}, "invalid n_components = 0"),
        ({"n_jobs": 0}, "invalid n_jobs = 0"),
    ],
)
def test_bad_parameters(binary, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        RBM(**params).fit(binary)


def test_divergence_is_a_value_error():
    x = np.random.RandomState(0).rand(40, 6).astype(np.float32)
    with pytest.raises(ValueError, match="diverged"):
        RBM(n_components=3, learning_rate=1e30, sampling="cd-1", random_state=0).fit(x)


def test_a_panic_becomes_an_exception():
    with pytest.raises(RuntimeError, match="internal error in nrelu_rbm .*a deliberate panic"):
        nrelu_rbm._core._panic_for_test()


def test_unfitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RBM().transform(np.zeros((1, 3), dtype=np.float32))
    assert not hasattr(RBM(), "components_")


def test_partial_fit_after_fit_and_after_load(binary, tmp_path):
    est = RBM(n_components=4, n_iter=2, random_state=0).fit(binary)
    w = est.components_.copy()
    est.partial_fit(binary[:50])
    assert not np.array_equal(w, est.components_)
    est.save(tmp_path / "m.safetensors")
    loaded = RBM.load(tmp_path / "m.safetensors", random_state=1)
    loaded.partial_fit(binary[50:100])
    assert not np.array_equal(est.components_, loaded.components_)


@pytest.mark.parametrize(
    "name, value",
    [("hidden_unit", "bernoulli"), ("nrelu_mean", "relu"), ("n_components", 5),
     ("visible_unit", "gaussian")],
)
def test_partial_fit_refuses_parameters_of_another_model(binary, name, value):
    est = RBM(n_components=4, n_iter=1, random_state=0).fit(binary)
    est.set_params(**{name: value})
    with pytest.raises(ValueError, match=f"partial_fit continues the fitted model, whose {name} is"):
        est.partial_fit(binary)
    # fit starts a new model with the new parameters (a small step, which
    # Gaussian visible units need).
    est.set_params(learning_rate=0.001)
    est.fit(binary)
    est.partial_fit(binary)
    assert getattr(est, name) == value


def test_nrelu_mean_is_not_checked_for_other_units(binary):
    est = RBM(n_components=4, n_iter=1, random_state=0, hidden_unit="bernoulli").fit(binary)
    est.set_params(nrelu_mean="relu")  # no effect on Bernoulli units
    est.partial_fit(binary)


def test_load_refuses_the_parameters_the_file_holds(binary, tmp_path):
    RBM(n_components=4, n_iter=1, random_state=0).fit(binary).save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="RBM.load takes hidden_unit, nrelu_mean from the file"):
        RBM.load(tmp_path / "m.safetensors", nrelu_mean="relu", hidden_unit="nrelu")
    assert RBM.load(tmp_path / "m.safetensors", learning_rate=0.5).learning_rate == 0.5
