"""Type stubs of :class:`nrelu_rbm.RBM`."""

import os
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin

_F32 = npt.NDArray[np.float32]
_RandomState = int | np.random.RandomState | None

class RBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    n_components: int
    learning_rate: float
    batch_size: int
    n_iter: int
    verbose: int
    random_state: _RandomState
    hidden_unit: str
    nrelu_mean: str
    visible_unit: str
    momentum: float
    weight_decay: float
    sampling: str
    centering: bool | float
    n_jobs: int | None
    n_features_in_: int
    feature_names_in_: npt.NDArray[np.object_]
    random_state_: np.random.RandomState
    def __init__(
        self,
        n_components: int = 256,
        *,
        learning_rate: float = 0.1,
        batch_size: int = 10,
        n_iter: int = 10,
        verbose: int = 0,
        random_state: _RandomState = None,
        hidden_unit: str = "nrelu",
        nrelu_mean: str = "ssu",
        visible_unit: str = "bernoulli",
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        sampling: str = "pcd-1",
        centering: bool | float = False,
        n_jobs: int | None = None,
    ) -> None: ...
    @property
    def components_(self) -> _F32: ...
    @property
    def intercept_hidden_(self) -> _F32: ...
    @property
    def intercept_visible_(self) -> _F32: ...
    @property
    def input_map_(self) -> tuple[_F32, _F32] | None: ...
    def fit(self, X: npt.ArrayLike, y: Any = None) -> RBM: ...
    def partial_fit(self, X: npt.ArrayLike, y: Any = None) -> RBM: ...
    def transform(self, X: npt.ArrayLike) -> _F32: ...
    def fit_transform(self, X: npt.ArrayLike, y: Any = None, **fit_params: Any) -> _F32: ...
    def score_samples(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def gibbs(self, v: npt.ArrayLike) -> _F32: ...
    def sample(self, n_samples: int, steps: int = 100, random_state: _RandomState = None) -> _F32: ...
    def save(self, path: str | os.PathLike[str]) -> None: ...
    @classmethod
    def load(cls, path: str | os.PathLike[str], **params: Any) -> RBM: ...
