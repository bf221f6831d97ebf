"""Shared test set-up: the course data, and figures drawn off screen and closed after every test."""
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


@pytest.fixture(autouse=True)
def _agg_backend_and_close_figures():
    """Use the non-interactive Agg backend and close every figure a test opened."""
    import matplotlib.pyplot as plt

    plt.switch_backend("Agg")
    yield
    plt.close("all")
