from ._estimator import RBM as RBM

__all__ = ["RBM"]
__version__: str
