"""The scikit-learn estimator :class:`RBM` over the Rust core."""

from __future__ import annotations

import numbers
import os

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ._core import CENTERING_RATE, Model

_SEED_MAX = 2**63 - 1


def _seed(random_state):
    """A 64-bit seed: the integer itself, else a draw from the generator."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state) % 2**64
    return int(check_random_state(random_state).randint(0, _SEED_MAX, dtype=np.int64))


def _threads(n_jobs):
    """joblib's n_jobs as the core's thread count (0 = all cores)."""
    if n_jobs is None:
        return 1
    if not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"invalid n_jobs = {n_jobs!r}: expected None, -1 or a non-zero integer")
    if n_jobs == -1:
        return 0
    if n_jobs < -1:
        return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    return int(n_jobs)


def _centering_rate(centering):
    """The estimator's ``centering`` as the core's rate (None = off)."""
    if centering is False or centering is None:
        return None
    if centering is True:
        return CENTERING_RATE
    if isinstance(centering, numbers.Real) and not isinstance(centering, bool):
        return float(centering)
    raise ValueError(f"invalid centering = {centering!r}: expected True, False or a rate in (0, 1]")


def _positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"invalid {name} = {value!r}: must be an integer >= 1")
    return int(value)


class RBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Restricted Boltzmann Machine with rectified or binary hidden units.

    A drop-in for :class:`sklearn.neural_network.BernoulliRBM` (same
    parameter names, defaults and meanings) on the Rust library
    ``nrelu-rbm``, with the hidden units of Nair & Hinton (2010): noisy
    rectified linear (NReLU, the default), stepped sigmoid (SSU), binomial
    and Bernoulli units, and Bernoulli or Gaussian visible units.

    Training is contrastive divergence (CD-k) or persistent contrastive
    divergence (PCD-k, the default as in BernoulliRBM) with mini-batches,
    momentum and L2 weight decay. The same ``random_state`` gives the same
    model bit for bit, for any ``n_jobs``.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units.
    learning_rate : float, default=0.1
        Learning rate of the weight updates. As in BernoulliRBM the
        gradient is averaged over the mini-batch.
    batch_size : int, default=10
        Rows per mini-batch.
    n_iter : int, default=10
        Passes over the training data.
    verbose : int, default=0
        If non-zero, print each pass's reconstruction error after fitting.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights and of every random stream of
        training. An integer is used as the library's 64-bit seed as it is
        (as ``rbm train --seed``).
    hidden_unit : str, default="nrelu"
        ``"nrelu"``, ``"bernoulli"``, ``"ssu"`` or ``"binomial:K"``.
    nrelu_mean : str, default="ssu"
        The mean of an NReLU unit at total input x, used both as the hidden
        statistic of the learning rule and as the features ``transform``
        returns (samples are max(0, x + N(0, σ(x))) either way, with σ(x)
        the noise *variance*). ``"ssu"``: Σ_{i≥1} σ(x − i + ½), the mean
        of the stepped sigmoid unit that NReLU approximates, graded where
        x < 0 as BernoulliRBM's σ(x) is, so a unit whose input is below zero
        on every row still learns.
        ``"relu"``: max(0, x), the noise-free unit of Nair & Hinton, under
        which zero-bias stacks are exactly intensity-equivariant (the
        default of ``rbm train``). Used only with ``hidden_unit="nrelu"``;
        stored in the model file.
    visible_unit : str, default="bernoulli"
        ``"bernoulli"`` (data in [0, 1], read as probabilities) or
        ``"gaussian"`` (data standardised to zero mean and unit variance).
    momentum : float, default=0.0
        Momentum in [0, 1).
    weight_decay : float, default=0.0
        L2 weight decay on the weights.
    sampling : str, default="pcd-1"
        ``"cd-K"`` or ``"pcd-K"``: K Gibbs steps from the data or on
        persistent chains.
    centering : bool or float, default=False
        Centring (Melchior, Fischer & Wiskott, JMLR 2016): the gradient is
        taken with the visible and hidden units' sliding means subtracted,
        which makes training steadier. ``True`` uses the library's default
        rate of the sliding averages (0.01), a float in (0, 1] sets it. The
        fitted parameters are the standard ones either way.
    n_jobs : int or None, default=None
        Threads used by ``fit`` and ``partial_fit``: None means 1, -1 all
        cores. The result does not depend on it. ``transform`` and
        ``score_samples`` run on the calling thread and release the GIL, so
        threads or Dask workers can share the rows (see ``docs/python.md``).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features), float32
        Weight matrix (a read-only copy of the model's weights).
    intercept_hidden_ : ndarray of shape (n_components,), float32
        Biases of the hidden units.
    intercept_visible_ : ndarray of shape (n_features,), float32
        Biases of the visible units.
    input_map_ : tuple of two ndarrays (mean, std) or None
        The stored input map x → (x − mean) / std, if any.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit``, when they were strings.
    random_state_ : RandomState
        The generator that ``gibbs`` and ``sample`` draw their seeds from.

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : the estimator this one replaces.

    Notes
    -----
    Input is float32; C-contiguous float32 arrays are read in place, other
    arrays (float64, integers, Fortran order) are converted once. Features
    are float32.

    The model stores an input map, applied to every later input (and by
    ``rbm transform`` to the same file), in two cases, as ``rbm train``
    does for the data it maps: for Gaussian visible units it standardises
    each column to zero mean and unit variance; for Bernoulli visible units
    it is needed only when the training data leaves [0, 1], and then maps
    column j's range [min(0, min_j), max(1, max_j)] onto [0, 1] (columns
    already in [0, 1] pass unchanged). Data in [0, 1], as BernoulliRBM
    expects, gets no map. ``input_map_`` shows it.

    Errors of the library (a NaN at a given row and column, an unknown unit
    name, a parameter out of range) raise ``ValueError`` with its one-line
    message; a wrong number of features raises scikit-learn's message.

    Examples
    --------
    >>> import numpy as np
    >>> from nrelu_rbm import RBM
    >>> X = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)
    >>> model = RBM(n_components=2, random_state=0).fit(X)
    >>> model.transform(X).shape
    (4, 2)
    """

    def __init__(
        self,
        n_components=256,
        *,
        learning_rate=0.1,
        batch_size=10,
        n_iter=10,
        verbose=0,
        random_state=None,
        hidden_unit="nrelu",
        nrelu_mean="ssu",
        visible_unit="bernoulli",
        momentum=0.0,
        weight_decay=0.0,
        sampling="pcd-1",
        centering=False,
        n_jobs=None,
    ):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.hidden_unit = hidden_unit
        self.nrelu_mean = nrelu_mean
        self.visible_unit = visible_unit
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.sampling = sampling
        self.centering = centering
        self.n_jobs = n_jobs

    # -- fitted attributes, read from the core ---------------------------

    @property
    def components_(self):
        """Weight matrix of shape (n_components, n_features)."""
        return self._read_only(self._fitted_core().weights.T)

    @property
    def intercept_hidden_(self):
        """Biases of the hidden units, shape (n_components,)."""
        return self._read_only(self._fitted_core().hidden_bias)

    @property
    def intercept_visible_(self):
        """Biases of the visible units, shape (n_features,)."""
        return self._read_only(self._fitted_core().visible_bias)

    @property
    def input_map_(self):
        """The stored input map ``(mean, std)``: x → (x − mean) / std, or None."""
        return self._fitted_core().input_map

    @property
    def _n_features_out(self):
        return self._fitted_core().n_hidden

    def _fitted_core(self):
        core = self.__dict__.get("_core")
        if core is None:
            raise AttributeError("this RBM is not fitted yet; call fit or load a model")
        return core

    @staticmethod
    def _read_only(a):
        a = np.ascontiguousarray(a)
        a.flags.writeable = False
        return a

    # -- input ------------------------------------------------------------

    def _validate(self, X, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=(np.float32, np.float64),
            order="C",
            ensure_all_finite=False,
        )
        # A no-op for C-contiguous float32 input: the core reads it in place.
        return np.ascontiguousarray(X, dtype=np.float32)

    def _params(self, seed):
        return {
            "batch_size": _positive_int("batch_size", self.batch_size),
            "learning_rate": float(self.learning_rate),
            "momentum": float(self.momentum),
            "weight_decay": float(self.weight_decay),
            "sampling": str(self.sampling),
            "centering": _centering_rate(self.centering),
            "seed": seed,
            "threads": _threads(self.n_jobs),
        }

    def _new_core(self, n_features, seed):
        names = (self.hidden_unit, self.visible_unit, self.nrelu_mean)
        if not all(isinstance(name, str) for name in names):
            raise ValueError(
                "hidden_unit, visible_unit and nrelu_mean must be names (strings)"
            )
        # The mean rule applies to NReLU units only; another unit gets the
        # library's default, unless the name is unknown, which the library
        # then refuses in its own words.
        mean = self.nrelu_mean
        if self.hidden_unit != "nrelu" and mean in ("relu", "ssu"):
            mean = "relu"
        return Model(
            n_features,
            _positive_int("n_components", self.n_components),
            self.visible_unit,
            self.hidden_unit,
            mean,
            seed,
        )

    @staticmethod
    def _model_params(core):
        """The parameters that `core`, a model (or its file), holds itself."""
        return {
            "n_components": core.n_hidden,
            "hidden_unit": core.hidden,
            "nrelu_mean": core.nrelu_mean,
            "visible_unit": core.visible,
        }

    def _check_same_model(self, core):
        """Refuse parameters that describe another model than `core`'s
        (changed with set_params since the model was made or loaded)."""
        model = self._model_params(core)
        if core.hidden != "nrelu":
            del model["nrelu_mean"]  # other units ignore it
        for name, theirs in model.items():
            ours = getattr(self, name)
            if ours != theirs:
                raise ValueError(
                    f"partial_fit continues the fitted model, whose {name} is "
                    f"{theirs!r}, not {ours!r}: call fit to start a new model"
                )

    @staticmethod
    def _set_input_map(core, X):
        core.set_input_map(X, "standardize" if core.visible == "gaussian" else "range")

    # -- training ---------------------------------------------------------

    def fit(self, X, y=None):
        """Fit the model to the data X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data: in [0, 1] for Bernoulli visible units,
            standardised for Gaussian ones.
        y : None
            Ignored.

        Returns
        -------
        self : RBM
            The fitted model.
        """
        X = self._validate(X, reset=True)
        n_iter = _positive_int("n_iter", self.n_iter)
        self.random_state_ = check_random_state(self.random_state)
        seed = _seed(self.random_state)
        params = self._params(seed)
        core = self._new_core(X.shape[1], seed)
        self._set_input_map(core, X)
        core.init_visible_bias(X)
        errors = core.fit(X, n_iter, params)
        self._core = core
        self._base_seed = seed
        self._partial_fit_calls = 0
        if self.verbose:
            for i, e in enumerate(errors, 1):
                print(f"[{type(self).__name__}] Iteration {i}, reconstruction error = {e:.6f}")
        return self

    def partial_fit(self, X, y=None):
        """Fit the model to one more part of the data.

        One update per mini-batch of ``batch_size`` rows of X, in order.
        Momentum and persistent chains carry over from one call to the
        next (not across pickling or ``save``). The first call creates the
        model, with visible biases from X's column means.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : RBM
            The fitted model.
        """
        first = self.__dict__.get("_core") is None
        X = self._validate(X, reset=first)
        if first:
            self.random_state_ = check_random_state(self.random_state)
            self._base_seed = _seed(self.random_state)
            self._partial_fit_calls = 0
            core = self._new_core(X.shape[1], self._base_seed)
            self._set_input_map(core, X)
            core.init_visible_bias(X)
            self._core = core
        else:
            self._check_same_model(self._core)
        # One trainer serves successive calls, drawing on from its streams
        # (seeded like fit's, or from random_state for a loaded model).
        if "_base_seed" not in self.__dict__:
            self._base_seed = _seed(self.random_state)
        error = self._core.partial_fit(X, self._params(self._base_seed))
        self._partial_fit_calls = self.__dict__.get("_partial_fit_calls", 0) + 1
        if self.verbose:
            print(f"[{type(self).__name__}] partial_fit {self._partial_fit_calls}, reconstruction error = {error:.6f}")
        return self

    # -- inference --------------------------------------------------------

    def transform(self, X):
        """Noise-free hidden features of X.

        For a model trained by ``fit`` or read by ``load`` these are
        exactly the float32 values ``rbm transform`` writes (the model's
        input map, if it stores one, then the hidden means).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data, float32 (read in place when C-contiguous) or float64.

        Returns
        -------
        h : ndarray of shape (n_samples, n_components), float32
            For NReLU units the SSU mean Σ_{i≥1} σ(x − i + ½) or max(0, x),
            as ``nrelu_mean`` says; σ(x) for Bernoulli units, K σ(x) for
            binomial and the SSU mean for stepped sigmoid units, with
            x = X W + c.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self._core.transform(X)

    @available_if(lambda self: self.visible_unit == "bernoulli")
    def score_samples(self, X):
        """Exact pseudo-log-likelihood of each row.

        Σ_i log p(v_i | v_−i), every coordinate summed, in float64:
        deterministic, and each row's score depends on that row only
        (unlike BernoulliRBM's, which flips one random coordinate and
        scales by n_features). Rows in between 0 and 1 get the same formula
        with v_i replaced by 1 − v_i. NReLU units are scored as the stepped
        sigmoid units they approximate. Only Bernoulli visible units have
        it (the method is absent for ``visible_unit="gaussian"``). Rows go
        through the model's input map first, if it has one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        scores : ndarray of shape (n_samples,), float64
            The pseudo-log-likelihood of each row (<= 0).
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self._core.score_samples(X)

    def gibbs(self, v):
        """One Gibbs step from the visible states v.

        Parameters
        ----------
        v : array-like of shape (n_samples, n_features)
            Visible states to start from.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features), float32
            Visible samples after one step v → h → v.
        """
        check_is_fitted(self)
        v = self._validate(v, reset=False)
        rng = self._rng()
        return self._core.gibbs(v, _seed(rng), _seed(rng))

    def sample(self, n_samples, steps=100, random_state=None):
        """Draw visible samples by Gibbs sampling.

        Chains start from p(v | h = 0) and take ``steps`` Gibbs steps.

        Parameters
        ----------
        n_samples : int
            Number of chains (rows returned).
        steps : int, default=100
            Gibbs steps per chain.
        random_state : int, RandomState instance or None, default=None
            Seed of the chains; None draws one from ``random_state_``.

        Returns
        -------
        v : ndarray of shape (n_samples, n_features), float32
            The chains' visible states.
        """
        check_is_fitted(self)
        n_samples = _positive_int("n_samples", n_samples)
        if not isinstance(steps, numbers.Integral) or steps < 0:
            raise ValueError(f"invalid steps = {steps!r}: must be an integer >= 0")
        seed = _seed(self._rng() if random_state is None else random_state)
        return self._core.sample(n_samples, int(steps), seed)

    def _rng(self):
        if getattr(self, "random_state_", None) is None:
            self.random_state_ = check_random_state(self.random_state)
        return self.random_state_

    # -- files and pickling -------------------------------------------------

    def save(self, path):
        """Write the model as a ``.safetensors`` file, as ``rbm train`` does.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (atomically).
        """
        self._fitted_core().save(os.fspath(path))

    @classmethod
    def load(cls, path, **params):
        """Read a model file written by ``save`` or by ``rbm train``.

        Parameters
        ----------
        path : str or os.PathLike
            A single-model ``.safetensors`` file.
        **params
            Further estimator parameters (``learning_rate``, ...) for
            later training; the units and ``n_components`` come from the
            file.

        Returns
        -------
        model : RBM
            A fitted estimator.
        """
        core = Model.load(os.fspath(path))
        from_file = cls._model_params(core)
        clash = sorted(set(from_file) & set(params))
        if clash:
            raise ValueError(
                f"RBM.load takes {', '.join(clash)} from the file; give only the "
                "training parameters"
            )
        est = cls(**from_file, **params)
        est._core = core
        est.n_features_in_ = core.n_visible
        est.random_state_ = check_random_state(est.random_state)
        return est

    def __getstate__(self):
        # A copy: the base class may hand back the instance's own __dict__.
        state = dict(super().__getstate__())
        core = state.get("_core")
        if core is not None:
            # The model travels in the same format as its file.
            state["_core"] = core.to_bytes()
        return state

    def __setstate__(self, state):
        core = state.get("_core")
        if isinstance(core, bytes):
            state = dict(state, _core=Model.from_bytes(core))
        super().__setstate__(state)

    def __sklearn_is_fitted__(self):
        return self.__dict__.get("_core") is not None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
