"""The parameters of the search: T's Cholesky factor and the level-1 covariance's free elements.

The relative covariances T = D / sigma2 (level 2) and Phi = Omega / sigma2 (level 1) are what the
profiled likelihood depends on. The optimiser searches over x = (theta, phi): theta is the lower
triangle of L with T = L L' (so that T stays positive semi-definite, as in lme4) and phi the free
elements of Phi's upper triangle other than the one fixed at 1 (its scale goes into sigma2).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._validation import LemmaError
from .cells import CellStats


@dataclass
class Level1Spec:
    """Which elements of the level-1 covariance Phi are free (upper triangle order)."""

    m: int                   # number of level-1 columns
    free: np.ndarray         # indices (into the upper triangle) of estimated elements
    scale_index: int         # the element fixed at 1 (absorbed by sigma2)


@functools.cache
def _tril(q: int):
    """np.tril_indices(q), kept: the engine asks for it at every evaluation."""
    return np.tril_indices(q)


@functools.cache
def _triu(m: int):
    """np.triu_indices(m), kept."""
    return np.triu_indices(m)


@functools.cache
def _upper_weights(m: int):
    """How often each upper-triangle element of an m x m symmetric matrix counts in z' Omega z:
    once on the diagonal, twice off it."""
    iu = _triu(m)
    return np.where(iu[0] == iu[1], 1.0, 2.0)


def n_theta(q: int) -> int:
    """The number of elements of theta: the lower triangle of a q x q matrix."""
    return q * (q + 1) // 2


def theta_to_T(theta, q):
    """T = L L', L lower triangular with theta below and on its diagonal."""
    L = np.zeros((q, q))
    L[_tril(q)] = theta
    return L @ L.T


def phi_matrix(phi_free, spec: Level1Spec):
    """Full upper-triangle vector of Phi from its free elements (scale element = 1)."""
    full = np.zeros(spec.m * (spec.m + 1) // 2)
    others = [i for i in spec.free if i != spec.scale_index]
    full[spec.scale_index] = 1.0
    full[others] = phi_free
    return full


@functools.cache
def _off_diagonal(q: int):
    """The positions in _tril(q) of the elements off the diagonal, and their (i, j)."""
    i, j = _tril(q)
    k = np.flatnonzero(i != j)
    return k, i[k], j[k]


@functools.cache
def _diagonal(q: int):
    """The positions in _tril(q) (and in theta) of the diagonal of L."""
    i, j = _tril(q)
    return np.flatnonzero(i == j)


def _unpack(stats: CellStats, x, spec: Level1Spec | None):
    """The Cholesky factor L, T = L L' and Phi (upper triangle, or None) at x = (theta, level-1 parameters)."""
    q = stats.q
    nt = n_theta(q)
    L = np.zeros((q, q))
    L[_tril(q)] = x[:nt]
    return L, L @ L.T, None if spec is None else phi_matrix(x[nt:], spec)


def level1_spec(stats: CellStats, names: list) -> Level1Spec:
    """Decide which level-1 variance parameters are estimable from the data."""
    m = len(names)
    iu = _triu(m)
    structural_zero = np.all(stats.Q == 0, axis=0)
    free = np.flatnonzero(~structural_zero)
    diag_positions = [i for i, (a, b) in enumerate(zip(*iu)) if a == b and i in set(free)]
    if not diag_positions:
        raise ValueError("no estimable level-1 variance")
    if np.any(np.all(stats.Q == 0, axis=1)):
        raise LemmaError(
            f"With the level-1 function over {names} the level-1 variance would be 0 for some rows "
            "(those where every term of the function is 0), which a variance cannot be. For a "
            "separate variance per category write the category with C(), e.g. level1='~ 0 + C(female)'; "
            "for a function of x include the intercept, e.g. level1='~ 1 + x'."
        )
    features = stats.Q[:, free]
    if np.linalg.matrix_rank(features) < len(free):
        raise LemmaError(
            f"The level-1 variance function over {names} has {len(free)} parameters, but the "
            "data cannot tell them all apart (there are too few distinct values). For separate "
            "variances per category use level1='~ 0 + C(x)'; for a quadratic function of x use "
            "level1='~ 1 + x' with a variable taking at least three values."
        )
    return Level1Spec(m=m, free=free, scale_index=diag_positions[0])
