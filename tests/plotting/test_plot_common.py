"""What every plot shares: the theme, a quiet import, the Axes contract and the group label.

Each plot returns its Axes (the one given, or the current one), leaves the title to the notebook,
and refuses anything that is not an Axes.
"""
import importlib
import pkgutil
import subprocess
import sys

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest
from matplotlib.axes import Axes

import lemma_helpers as lh
from lemma_helpers import plotting  # imported when first used; these tests read it directly


# ---- theme and import ----------------------------------------------------------------------------
def test_import_changes_no_matplotlib_setting():
    with mpl.rc_context():
        before = dict(mpl.rcParams)
        for sub in pkgutil.iter_modules(plotting.__path__):   # the plots are imported lazily: run them all
            importlib.reload(importlib.import_module(f"{plotting.__name__}.{sub.name}"))
        importlib.reload(plotting)  # runs the module's top level again
        assert {k for k in before if mpl.rcParams[k] != before[k]} == set()


def test_set_theme_sets_colour_blind_palette_and_size():
    with mpl.rc_context():
        lh.set_theme()
        colours = [mpl.colors.to_hex(c) for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
        assert colours[:3] == ["#0173b2", "#de8f05", "#029e73"]  # seaborn "colorblind"
        assert list(mpl.rcParams["figure.figsize"]) == [7.0, 4.3]


# ---- every plot returns the Axes it drew on ------------------------------------------------------
CALLS = {
    "caterpillar": lambda f, ax: lh.plot_caterpillar(f["ess_null"], ax=ax),
    "group_means": lambda f, ax: lh.plot_group_means(f["ess"], y="hedonism", group="country", ax=ax),
    "group_lines": lambda f, ax: lh.plot_group_lines(f["ess_rs"], f["ess"], x="age", ax=ax),
    "variance_function": lambda f, ax: lh.plot_variance_function(f["ess_rs"], x="age46", ax=ax),
    "residual_pairs": lambda f, ax: lh.plot_residual_pairs(f["ess_rs"], ax=ax),
    "residual_qq": lambda f, ax: lh.plot_residual_qq(f["ess_null"], level=2, ax=ax),
    "single_level": lambda f, ax: lh.plot_single_level_residuals(f["ess"], y="hedonism", seed=1, ax=ax),
    "two_level": lambda f, ax: lh.plot_two_level_decomposition(
        f["ess"], y="hedonism", group="country", groups=["Poland", "Denmark"], seed=1, ax=ax),
    "se_comparison": lambda f, ax: lh.plot_se_comparison(f["ess_null"].fixed, f["ess_null"], ax=ax),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_returns_the_axes_given_and_the_current_one_without(name, ess, ess_null, ess_rs):
    fixtures = {"ess": ess, "ess_null": ess_null, "ess_rs": ess_rs}
    fig, (left, right) = plt.subplots(1, 2)
    assert CALLS[name](fixtures, right) is right
    assert not left.has_data()
    plt.sca(left)
    out = CALLS[name](fixtures, None)
    assert isinstance(out, Axes) and out is left
    assert out.get_title() == ""  # titles belong to the notebook


@pytest.mark.parametrize("name", list(CALLS))
def test_ax_must_be_an_axes(name, ess, ess_null, ess_rs):
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        CALLS[name]({"ess": ess, "ess_null": ess_null, "ess_rs": ess_rs}, "left")


# ---- group labels --------------------------------------------------------------------------------
def test_group_label_names_the_groups_on_every_plot(ssls_null, ssls_rs):
    ax = lh.plot_caterpillar(ssls_null, group_label="school")
    assert ax.get_xlabel() == "school (rank)"
    assert ax.get_ylabel().startswith("school effect $u_j$")
    ax = lh.plot_residual_pairs(ssls_rs, group_label="school", ax=plt.subplots()[1])
    assert ax.get_xlabel() == "school intercept effect $u_{0j}$"
    with pytest.raises(TypeError, match="group_label must be a word"):
        lh.plot_caterpillar(ssls_null, group_label=3)


# ---- the package ------------------------------------------------------------------------------
def test_every_public_name_resolves_from_its_module():
    for name in plotting.__all__:
        value, top = getattr(plotting, name), getattr(lh, name)
        # the same function (compared by name: the reload test above makes new function objects)
        assert (value.__module__, value.__qualname__) == (top.__module__, top.__qualname__) == \
            (value.__module__, name), name
        assert value.__module__.startswith("lemma_helpers.plotting."), name
    assert set(plotting.__all__) <= set(dir(plotting))
    assert (plotting.MANY_GROUPS, plotting.RUG_MAX) == (40, 20)
    with pytest.raises(AttributeError, match="has no attribute 'plot_nothing'"):
        plotting.plot_nothing


def test_the_package_and_its_theme_import_no_plotting_library():
    """The explorations take their colours from plotting.theme without loading the plots."""
    code = ("import sys\nimport lemma_helpers.plotting\nfrom lemma_helpers.plotting.theme import BLUE, set_theme\n"
            "print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'seaborn', 'scipy.stats',"
            " 'lemma_helpers.plotting.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['lemma_helpers.plotting.theme']"
