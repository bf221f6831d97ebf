"""Shared test set-up: the course data, the grader's sandbox, and figures drawn off screen and closed after every test.

Markers: ``kernel`` (the test starts Jupyter kernels or JupyterLab), ``browser`` (it builds the website and
drives Chromium). ``make test-quick`` runs everything else."""
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
