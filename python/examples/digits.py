"""scikit-learn's example "Restricted Boltzmann Machine features for digit
classification", with nrelu_rbm.RBM in place of BernoulliRBM.

The data, pipeline and parameters are the example's own (learning_rate
0.06, n_iter 10, n_components 100, random_state 0; logistic regression with
newton-cg and C 6000); only the estimator class changes. One exception, the
same for every estimator: the logistic regression keeps newton-cg's default
tolerance, since with the example's tol=1 the scikit-learn pinned in
python/requirements-dev.txt stops newton-cg before its first iteration
(chance accuracy, for BernoulliRBM as for raw pixels). Prints a markdown
table of the test accuracy of each estimator, for the example's
random_state 0 or, with --seeds N, for random_state 0 .. N-1.

usage: python python/examples/digits.py [--seeds N]
"""

import argparse

import numpy as np
from scipy.ndimage import convolve
from sklearn import datasets, linear_model
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import minmax_scale

from nrelu_rbm import RBM


def nudge_dataset(X, Y):
    """The example's data: the digits and their 1-pixel shifts (5x)."""
    direction_vectors = [
        [[0, 1, 0], [0, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 1], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 0], [0, 1, 0]],
    ]

    def shift(x, w):
        return convolve(x.reshape((8, 8)), mode="constant", weights=w).ravel()

    X = np.concatenate([X] + [np.apply_along_axis(shift, 1, X, vector) for vector in direction_vectors])
    Y = np.concatenate([Y for _ in range(5)], axis=0)
    return X, Y


def data():
    """The example's train/test split."""
    X, y = datasets.load_digits(return_X_y=True)
    X = np.asarray(X, "float32")
    X, Y = nudge_dataset(X, y)
    X = minmax_scale(X, feature_range=(0, 1))  # 0-1 scaling
    return train_test_split(X, Y, test_size=0.2, random_state=0)


def accuracy(rbm, split):
    """The example's pipeline with `rbm` and its parameters; test accuracy."""
    X_train, X_test, Y_train, Y_test = split
    logistic = linear_model.LogisticRegression(solver="newton-cg")
    rbm = clone(rbm)
    classifier = Pipeline(steps=[("rbm", rbm), ("logistic", logistic)])
    rbm.learning_rate = 0.06
    rbm.n_iter = 10
    rbm.n_components = 100
    logistic.C = 6000
    classifier.fit(X_train, Y_train)
    return float((classifier.predict(X_test) == Y_test).mean())


def estimators(seed):
    """The estimators compared, all with random_state `seed`."""
    return {
        "sklearn BernoulliRBM": BernoulliRBM(random_state=seed),
        "RBM() (nrelu, SSU mean)": RBM(random_state=seed),
        "RBM(nrelu_mean='relu')": RBM(random_state=seed, nrelu_mean="relu"),
        "RBM(hidden_unit='bernoulli')": RBM(random_state=seed, hidden_unit="bernoulli"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1,
                        help="random_state 0 .. SEEDS-1 (default 1: the example's random_state 0)")
    seeds = range(parser.parse_args().seeds)
    split = data()
    names = list(estimators(0))
    print("| random_state | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    table = []
    for seed in seeds:
        row = [accuracy(est, split) for est in estimators(seed).values()]
        table.append(row)
        print(f"| {seed} | " + " | ".join(f"{a:.2%}" for a in row) + " |", flush=True)
    if len(table) > 1:
        mean = np.mean(table, axis=0)
        print("| mean | " + " | ".join(f"{a:.2%}" for a in mean) + " |")


if __name__ == "__main__":
    main()
