"""Shared test set-up: draw figures off screen and close them after every test."""
import pytest


@pytest.fixture(autouse=True)
def _agg_backend_and_close_figures():
    """Use the non-interactive Agg backend and close every figure a test opened."""
    import matplotlib.pyplot as plt

    plt.switch_backend("Agg")
    yield
    plt.close("all")
