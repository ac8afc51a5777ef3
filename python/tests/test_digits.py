"""The drop-in: scikit-learn's RBM digits example with RBM in place of
BernoulliRBM (python/examples/digits.py), with the example's parameters."""

import importlib.util
import pathlib

from sklearn.neural_network import BernoulliRBM

from nrelu_rbm import RBM

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "digits.py"


def load_example():
    spec = importlib.util.spec_from_file_location("digits_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bernoulli_units_within_a_point_of_bernoulli_rbm():
    example = load_example()
    split = example.data()
    theirs = example.accuracy(BernoulliRBM(random_state=0), split)
    ours = example.accuracy(RBM(random_state=0, hidden_unit="bernoulli"), split)
    assert theirs > 0.9  # the example works at all
    assert abs(ours - theirs) <= 0.01, (ours, theirs)


def test_nrelu_units_reach_bernoulli_rbm():
    """NReLU units with the estimator's defaults (the SSU mean) reach
    BernoulliRBM's accuracy on the example, with its random_state 0; read
    out as max(0, x) they fall well short (see docs/python.md)."""
    example = load_example()
    split = example.data()
    theirs = example.accuracy(BernoulliRBM(random_state=0), split)
    ours = example.accuracy(RBM(random_state=0), split)
    assert ours >= theirs, (ours, theirs)
    relu = example.accuracy(RBM(random_state=0, nrelu_mean="relu"), split)
    assert relu < theirs - 0.05, (relu, theirs)
