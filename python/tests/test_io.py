"""Model files and pickling: the same format as the command line, bit for bit."""

import pickle
import subprocess

import numpy as np
import pytest

from nrelu_rbm import RBM


def run(*args):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.parametrize(
    "unit, mean", [("nrelu", "ssu"), ("nrelu", "relu"), ("binomial:2", "ssu")]
)
def test_save_load_round_trip_is_bit_identical(binary, tmp_path, unit, mean):
    est = RBM(n_components=5, n_iter=3, hidden_unit=unit, nrelu_mean=mean, random_state=0)
    est.fit(binary)
    est.save(tmp_path / "a.safetensors")
    back = RBM.load(tmp_path / "a.safetensors")
    assert (back.n_components, back.hidden_unit, back.visible_unit) == (5, unit, "bernoulli")
    # The file says how NReLU units are read out (other units: the default).
    assert back.nrelu_mean == (mean if unit == "nrelu" else "relu")
    np.testing.assert_array_equal(back.transform(binary), est.transform(binary))
    np.testing.assert_array_equal(back.components_, est.components_)
    back.save(tmp_path / "b.safetensors")
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


def test_pickle_round_trip_is_bit_identical(binary, tmp_path):
    x = binary * 3 - 1  # outside [0, 1]: the model stores an input map
    est = RBM(n_components=5, n_iter=3, random_state=0).fit(x)
    back = pickle.loads(pickle.dumps(est))
    assert back.get_params() == est.get_params()
    np.testing.assert_array_equal(back.transform(x), est.transform(x))
    np.testing.assert_array_equal(back.score_samples(x), est.score_samples(x))
    for a, b in zip(back.input_map_, est.input_map_):
        np.testing.assert_array_equal(a, b)
    # The pickle holds the model file's bytes.
    est.save(tmp_path / "m.safetensors")
    assert est.__getstate__()["_core"] == (tmp_path / "m.safetensors").read_bytes()


def test_load_errors_are_value_errors(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="invalid model"):
        RBM.load(bad)
    with pytest.raises(ValueError, match="missing.safetensors"):
        RBM.load(tmp_path / "missing.safetensors")


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_python_model_in_rbm_transform(binary, tmp_path, rbm_bin, scale):
    """A model trained here gives the same features in `rbm transform`."""
    x = np.ascontiguousarray(binary * scale, dtype=np.float32)
    est = RBM(n_components=6, n_iter=3, random_state=0).fit(x)
    assert (est.input_map_ is None) == (scale == 1.0)
    est.save(tmp_path / "m.safetensors")
    np.save(tmp_path / "x.npy", x)
    run(rbm_bin, "transform", "-q", "--model", tmp_path / "m.safetensors",
        "--data", tmp_path / "x.npy", "--out", tmp_path / "h.npy")
    cli = np.load(tmp_path / "h.npy")
    assert cli.dtype == np.float32
    np.testing.assert_array_equal(cli, est.transform(x))


@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_cli_model_in_python(binary, tmp_path, rbm_bin, visible):
    """A model trained by `rbm train` gives the same features here."""
    np.save(tmp_path / "x.npy", binary)
    run(rbm_bin, "train", "-q", "--data", tmp_path / "x.npy", "--visible", visible,
        "--hidden", 7, "--epochs", 2, "--threads", 1, "--out", tmp_path / "m.safetensors")
    run(rbm_bin, "transform", "-q", "--model", tmp_path / "m.safetensors",
        "--data", tmp_path / "x.npy", "--out", tmp_path / "h.npy")
    est = RBM.load(tmp_path / "m.safetensors")
    assert (est.n_components, est.visible_unit, est.hidden_unit) == (7, visible, "nrelu")
    assert est.nrelu_mean == "relu"  # rbm train's default, read from the file
    np.testing.assert_array_equal(est.transform(binary), np.load(tmp_path / "h.npy"))


def test_cli_model_on_embedded_digits(tmp_path, rbm_bin):
    """The digits model stores the map x / 16, which transform applies."""
    from sklearn.datasets import load_digits

    x = load_digits().data.astype(np.float32)
    run(rbm_bin, "train", "-q", "--hidden", 20, "--epochs", 1, "--out", tmp_path / "m.safetensors")
    np.save(tmp_path / "x.npy", x)
    run(rbm_bin, "transform", "-q", "--model", tmp_path / "m.safetensors",
        "--data", tmp_path / "x.npy", "--out", tmp_path / "h.npy")
    est = RBM.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(est.input_map_[1], np.full(64, 16, dtype=np.float32))
    np.testing.assert_array_equal(est.transform(x), np.load(tmp_path / "h.npy"))


@pytest.mark.parametrize(
    "centering, mean, flags",
    [
        (False, "relu", []),
        (True, "relu", ["--centering"]),
        (0.1, "relu", ["--centering", "0.1"]),
        (False, "ssu", ["--nrelu-mean", "ssu"]),
    ],
)
def test_same_model_as_rbm_train(binary, tmp_path, rbm_bin, centering, mean, flags):
    """fit with rbm train's parameters writes rbm train's model, byte for byte."""
    np.save(tmp_path / "x.npy", binary)
    run(rbm_bin, "train", "-q", "--data", tmp_path / "x.npy", "--hidden", 5, "--epochs", 3,
        "--batch", 20, "--lr", 0.05, "--momentum", 0.5, "--weight-decay", 0.0001,
        "--cd", 1, "--seed", 9, *flags, "--out", tmp_path / "cli.safetensors")
    est = RBM(n_components=5, n_iter=3, batch_size=20, learning_rate=0.05, momentum=0.5,
              weight_decay=0.0001, sampling="cd-1", random_state=9, n_jobs=-1,
              centering=centering, nrelu_mean=mean).fit(binary)
    est.save(tmp_path / "py.safetensors")
    assert (tmp_path / "py.safetensors").read_bytes() == (tmp_path / "cli.safetensors").read_bytes()
