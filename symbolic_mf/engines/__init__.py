"""Derivation engines: each derives closed forms from an activation's definition by a named method.

One module per method (``hermite``, ``polar``, ``bessel``, ``fourier``,
``laplace``, ``spherical``, ``gegenbauer``); every engine returns SymPy
objects and records the steps it took, so a derivation can be printed.
"""
