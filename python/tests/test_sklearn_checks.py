"""scikit-learn's own estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from nrelu_rbm import RBM

ESTIMATORS = [
    RBM(),
    RBM(hidden_unit="bernoulli"),
    RBM(hidden_unit="ssu", sampling="cd-1", momentum=0.5, weight_decay=1e-4, n_jobs=2),
    RBM(hidden_unit="binomial:4", sampling="pcd-2"),
    RBM(visible_unit="gaussian", learning_rate=0.01),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
