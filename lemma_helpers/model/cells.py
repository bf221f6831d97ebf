"""The data reduction: the cross-products of [X Z y] summed within cells.

The likelihood of a two-level model (see ``likelihood.py``) depends on the data only through
the cross-products of C = [X Z y] within each group, weighted by the level-1 precisions. With a
level-1 variance function the weight is constant over the rows of a group that share the same
level-1 design row: such rows form a "cell" (one cell per group when the level-1 variance is
constant). The cells' cross-products S_c = sum of C_i C_i' over the cell are summed here once per
fit; everything afterwards costs a pass over the cells, not over the rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class CellStats:
    """Cross-products of C = [X Z y] summed within each (group, level-1 pattern) cell."""

    S: np.ndarray            # (cells, k, k)
    n: np.ndarray            # (cells,) rows in each cell
    cell_group: np.ndarray   # (cells,) group code of each cell
    group_start: np.ndarray  # index of each group's first cell (cells sorted by group)
    Q: np.ndarray | None     # (cells, m) level-1 quadratic features z_k z_l of each cell's pattern
    p: int
    q: int
    n_obs: int
    agg: object = None       # sparse (groups x cells) matrix that adds up the cells of a group


def _row_patterns(Z1):
    """Number the distinct rows of Z1 in sorted (lexicographic) order, as np.unique(axis=0)
    does, but column by column: sorting rows as records is slow."""
    code = np.zeros(len(Z1), dtype=np.int64)
    size = 1
    for column in Z1.T:
        values, inverse = np.unique(column, return_inverse=True)
        size *= len(values)
        if size > 2 ** 62:
            return np.unique(Z1, axis=0, return_inverse=True)[1].ravel()
        code = code * len(values) + inverse.ravel()
    return np.unique(code, return_inverse=True)[1].ravel()


def _stable_order(key):
    """np.argsort(key, kind="stable") for non-negative integers, in linear time: numpy sorts
    16-bit integers by radix sort, larger ones by merge sort (several times slower on a million
    rows), so sort by the low 16 bits, then stably by the rest."""
    if key.max() < 2 ** 16:
        return np.argsort(key.astype(np.uint16), kind="stable")
    low = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    return low.take(_stable_order(key.take(low) >> 16))


def cell_stats(X, Z, y, groups, Z1=None) -> CellStats:
    """Sum the cross-products of [X Z y] within cells; done once per fit."""
    n, p = X.shape
    q = Z.shape[1]
    if Z1 is None:
        pattern = np.zeros(n, dtype=np.int64)
    else:
        pattern = _row_patterns(Z1)
    key = groups * (pattern.max() + 1) + pattern
    # data usually come sorted by group already; then nothing needs reordering
    order = None if np.all(key[1:] >= key[:-1]) else _stable_order(key)
    key_sorted = key if order is None else key.take(order)
    starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
    Cs = np.column_stack([X, Z, y])
    if order is not None:
        Cs = Cs.take(order, axis=0)          # whole rows at once: a fraction of the cost of each column
    k = Cs.shape[1]
    counts = np.diff(np.r_[starts, n])
    S = np.empty((len(starts), k, k))
    # one matrix product C_c'C_c per cell costs about 2 microseconds a cell, summing the row
    # products a column at a time about a nanosecond per row and element of S: take the cheaper
    if 2000 * len(starts) <= n * k * k:
        for c, (a, b) in enumerate(zip(starts.tolist(), (starts + counts).tolist())):
            block = Cs[a:b]
            np.matmul(block.T, block, out=S[c])
    else:
        for a in range(k):
            S[:, a:, a] = np.add.reduceat(Cs[:, a:] * Cs[:, a:a + 1], starts, axis=0)
        upper = np.triu_indices(k, 1)
        S[:, upper[0], upper[1]] = S[:, upper[1], upper[0]]
    cell_group = (groups if order is None else groups.take(order))[starts]
    group_start = np.flatnonzero(np.r_[True, cell_group[1:] != cell_group[:-1]])
    Q = None
    if Z1 is not None:
        z = (Z1 if order is None else Z1.take(order, axis=0))[starts]
        iu = np.triu_indices(Z1.shape[1])
        Q = (z[:, :, None] * z[:, None, :])[:, iu[0], iu[1]]
    agg = None
    if len(starts) != len(group_start):
        from scipy import sparse

        agg = sparse.csr_matrix((np.ones(len(starts)), (cell_group, np.arange(len(starts)))),
                                shape=(len(group_start), len(starts)))
    return CellStats(S=S, n=counts, cell_group=cell_group, group_start=group_start,
                     Q=Q, p=p, q=q, n_obs=n, agg=agg)



def _sum_cells(stats: CellStats, S):
    """Add up the cells of each group: a sparse (groups x cells) product, one pass."""
    cells, k, _ = S.shape
    return (stats.agg @ S.reshape(cells, k * k)).reshape(-1, k, k)



def _weighted_group_sums(stats: CellStats, weights, values=None):
    """sum over the cells c of each group of weights[c, i] values[c], for every column i of the
    weights: shape (i, G) + values.shape[1:]. The values are the cells' S_c unless given."""
    values = stats.S if values is None else values
    cells, shape = len(values), values.shape[1:]
    if stats.agg is None:                                      # one cell per group
        return weights.T.reshape((weights.shape[1], cells) + (1,) * len(shape)) * values[None]
    from scipy import sparse

    # a sparse (m * G, cells) matrix whose row i * G + g holds the weights[:, i] of the cells of
    # group g; the cells come sorted by group, so it is written down directly in CSR form
    m, G = weights.shape[1], len(stats.group_start)
    per_group = np.diff(np.r_[stats.group_start, cells])
    indptr = np.r_[0, np.cumsum(np.tile(per_group, m))]
    combine = sparse.csr_matrix((weights.T.ravel(), np.tile(np.arange(cells), m), indptr), shape=(m * G, cells))
    return (combine @ values.reshape(cells, -1)).reshape((m, G) + shape)

