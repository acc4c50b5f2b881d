"""Export: paper-ready LaTeX and numerically stable NumPy / JAX / C kernels.

>>> from symbolic_mf.export import family_parameters, evaluate_kernel
>>> round(float(evaluate_kernel(family_parameters(1, 1, 0), 1.0)), 15)
0.5
"""

from .family import evaluate_kernel, evaluate_nngp, family_parameters, ntk_parameters

__all__ = ["family_parameters", "ntk_parameters", "evaluate_kernel", "evaluate_nngp"]
