"""Shared test set-up: the course data, the grader's sandbox, and figures drawn off screen and closed after every test.

Markers: ``kernel`` (the test starts Jupyter kernels or JupyterLab), ``browser`` (it builds the website and
drives Chromium). ``make test-quick`` runs everything else."""
import numpy as np
import pandas as pd
import pytest

import lemma_helpers as lh


@pytest.fixture(scope="session")
def ess():
    """The ESS hedonism data with age centred at 46 (as the course fits it). Do not modify."""
    df = lh.load_dataset("ess_hedonism")
    df["age46"] = df["age"] - 46
    return df


@pytest.fixture(scope="session")
def ssls():
    """The Scottish school leavers data. Do not modify."""
    return lh.load_dataset("ssls")


@pytest.fixture(scope="session")
def sandbox_why():
    """None where the grader's bubblewrap sandbox works here, else why not (probed once, when first needed)."""
    from lemma_helpers.grade import sandbox

    return sandbox.probe({})


@pytest.fixture(scope="session")
def run_args(sandbox_why):
    """lemma-grade's arguments for the honest end-to-end runs: in the sandbox where it works, else without."""
    return ["--no-sandbox"] if sandbox_why else []


@pytest.fixture(autouse=True)
def _agg_backend_and_close_figures():
    """Use the non-interactive Agg backend and close every figure a test opened."""
    import matplotlib.pyplot as plt

    plt.switch_backend("Agg")
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def small():
    """Simulated two-level data: 30 groups of 3-12, a level-1 and a level-2 x."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(3, 13, 30)
    g = np.repeat(np.arange(30), sizes)
    x = rng.normal(size=g.size)
    z = rng.normal(size=30)[g]
    u0, u1 = rng.normal(0, 0.7, 30), rng.normal(0, 0.3, 30)
    y = 1 + 0.5 * x + 0.3 * z + u0[g] + u1[g] * x + rng.normal(0, 1 + 0.3 * (x > 0), g.size)
    return pd.DataFrame({"y": y, "x": x, "z": z, "b": (x > 0).astype(float), "g": [f"g{i:02d}" for i in g]})
