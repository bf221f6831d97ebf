"""The data reduction (model/cells.py)."""
import numpy as np
import pytest

from lemma_helpers.model import cells


@pytest.mark.parametrize("largest", [5, 70_000, 2 ** 40])
def test_stable_order_is_numpys_stable_argsort(largest):
    """The radix order that cell_stats sorts rows by (16 bits a pass) is argsort(kind="stable")."""
    key = np.random.default_rng(1).integers(0, largest, 50_000)
    assert np.array_equal(cells._stable_order(key), np.argsort(key, kind="stable"))
