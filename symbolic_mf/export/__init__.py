"""Export: paper-ready LaTeX and numerically stable NumPy / JAX / C kernels.

* :mod:`~symbolic_mf.export.latex` -- identities, expressions, derivations to LaTeX / Markdown;
* :mod:`~symbolic_mf.export.printers` -- any SymPy expression (Gamma, 2F1, acos, ...) to
  NumPy/SciPy, JAX (jit-safe) and C;
* :mod:`~symbolic_mf.export.family` / :mod:`~symbolic_mf.export.codegen` -- the
  alpha-homogeneous family's NNGP and NTK kernels, accurate to a few ulp over all of
  [-1, 1], as self-contained NumPy / JAX modules, a C pair, or the neural-tangents triple.

>>> from symbolic_mf.export import family_parameters, evaluate_kernel
>>> round(float(evaluate_kernel(family_parameters(1, 1, 0), 1.0)), 15)
0.5
"""

from .codegen import c_source, jax_module_source, load_module, numpy_module_source, stax_triple
from .family import evaluate_kernel, evaluate_nngp, family_kernel_expr, family_parameters, ntk_parameters
from .latex import derivation_latex, derivation_markdown, identity_latex, to_latex

__all__ = ["family_parameters", "ntk_parameters", "evaluate_kernel", "evaluate_nngp", "family_kernel_expr",
           "numpy_module_source", "jax_module_source", "c_source", "stax_triple", "load_module",
           "to_latex", "identity_latex", "derivation_latex", "derivation_markdown"]
