"""Restricted Boltzmann Machines with rectified hidden units, on Rust.

:class:`RBM` is a scikit-learn estimator, a drop-in for
:class:`sklearn.neural_network.BernoulliRBM`, over the library
``nrelu-rbm``. Models are ``.safetensors`` files shared with the ``rbm``
command line.
"""

from ._estimator import RBM

__all__ = ["RBM"]
__version__ = "0.1.0"
