"""Models shared by the plotting tests (small, fast fits), fitted once for all of them.

The data fixtures ``ess`` and ``ssls`` come from ``tests/conftest.py``; the
helpers that find what a plot drew are in ``drawn.py`` beside this file.
"""
import numpy as np
import pandas as pd
import pytest

import lemma_helpers as lh


@pytest.fixture(scope="session")
def ess_null(ess):
    return lh.fit("hedonism ~ 1 + (1 | country)", data=ess)


@pytest.fixture(scope="session")
def ess_ri(ess):
    return lh.fit("hedonism ~ age46 + (1 | country)", data=ess)


@pytest.fixture(scope="session")
def ess_rs(ess):
    return lh.fit("hedonism ~ age46 + (1 + age46 | country)", data=ess)


@pytest.fixture(scope="session")
def ssls_null(ssls):
    return lh.fit("score ~ 1 + (1 | schoolid)", data=ssls)


@pytest.fixture(scope="session")
def ssls_rs(ssls):
    return lh.fit("score ~ cohort90 + (1 + cohort90 | schoolid)", data=ssls)


@pytest.fixture(scope="session")
def small():
    """Simulated: 25 groups of 4-15, level-1 variance larger when b = 1."""
    rng = np.random.default_rng(11)
    sizes = rng.integers(4, 16, 25)
    g = np.repeat(np.arange(25), sizes)
    x = rng.normal(size=g.size)
    b = (rng.random(g.size) > 0.5).astype(float)
    y = 1 + 0.5 * x + rng.normal(0, 0.8, 25)[g] + rng.normal(0, 0.3, 25)[g] * x \
        + rng.normal(0, 1 + 0.5 * b)
    return pd.DataFrame({"y": y, "x": x, "b": b, "g": [f"g{i:02d}" for i in g]})
