"""Plots: each returns its Axes, labels it from the names, and draws exactly the model's numbers.

The drawn artists carry a ``gid`` ("estimates", "intervals", "group_lines", ...)
so a test can find them and compare their coordinates with the model's tables.
"""
import importlib
import types

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from matplotlib.axes import Axes
from scipy import stats as sps

import lemma_helpers as lh
from lemma_helpers import plotting  # imported when first used; these tests read it directly


def artists(ax, gid):
    """The artists drawn with a given gid (collections, lines and texts)."""
    found = [a for a in [*ax.collections, *ax.lines, *ax.texts] if a.get_gid() == gid]
    assert found, f"nothing drawn with gid={gid!r}"
    return found


def segments(ax, gid):
    """Segments of a LineCollection as an (n, 2, 2) array."""
    return np.array(artists(ax, gid)[0].get_segments())


def offsets(ax, gid="estimates"):
    return np.asarray(artists(ax, gid)[0].get_offsets())


# ---- data and models (small, fast fits) ------------------------------------------
@pytest.fixture(scope="module")
def ess_null(ess):
    return lh.fit("hedonism ~ 1 + (1 | country)", data=ess)


@pytest.fixture(scope="module")
def ess_ri(ess):
    return lh.fit("hedonism ~ age46 + (1 | country)", data=ess)


@pytest.fixture(scope="module")
def ess_rs(ess):
    return lh.fit("hedonism ~ age46 + (1 + age46 | country)", data=ess)


@pytest.fixture(scope="module")
def ssls_null(ssls):
    return lh.fit("score ~ 1 + (1 | schoolid)", data=ssls)


@pytest.fixture(scope="module")
def ssls_rs(ssls):
    return lh.fit("score ~ cohort90 + (1 + cohort90 | schoolid)", data=ssls)


@pytest.fixture(scope="module")
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


# ---- theme and import ---------------------------------------------------------------
def test_import_changes_no_matplotlib_setting():
    with mpl.rc_context():
        before = dict(mpl.rcParams)
        importlib.reload(plotting)  # runs the module's top level again
        assert {k for k in before if mpl.rcParams[k] != before[k]} == set()


def test_set_theme_sets_colour_blind_palette_and_size():
    with mpl.rc_context():
        lh.set_theme()
        colours = [mpl.colors.to_hex(c) for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
        assert colours[:3] == ["#0173b2", "#de8f05", "#029e73"]  # seaborn "colorblind"
        assert list(mpl.rcParams["figure.figsize"]) == [7.0, 4.3]


# ---- every plot returns the Axes it drew on ----------------------------------------------
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


# ---- caterpillar -------------------------------------------------------------------------
def test_caterpillar_20_countries_ranked_with_comparative_intervals(ess_null):
    ax = lh.plot_caterpillar(ess_null, highlight=["Poland", "Denmark"])
    ge = ess_null.group_effects().sort_values("rank")
    assert [t.get_text() for t in ax.get_yticklabels()] == list(ge.index)
    assert ax.get_ylabel() == "country"
    assert ax.get_xlabel() == "country effect $u_j$ with 95% interval"
    np.testing.assert_allclose(offsets(ax), np.c_[ge["effect"], np.arange(1, 21)])
    seg = segments(ax, "intervals")
    assert len(seg) == 20
    np.testing.assert_allclose(seg[:, 0, 0], ge["ci_lower"])
    np.testing.assert_allclose(seg[:, 1, 0], ge["ci_upper"])
    assert list(artists(ax, "reference")[0].get_xdata()) == [0, 0]
    colours = {t.get_text(): t.get_color() for t in ax.get_yticklabels()}
    assert colours["Poland"] == colours["Denmark"] != colours["Spain"]


def test_caterpillar_alpha_matches_group_effects(ess_null):
    ax = lh.plot_caterpillar(ess_null, alpha=0.1)
    ge = ess_null.group_effects(alpha=0.1).sort_values("rank")
    np.testing.assert_allclose(segments(ax, "intervals")[:, 0, 0], ge["ci_lower"])
    assert "90% interval" in ax.get_xlabel()


def test_caterpillar_508_schools_ranks_without_names(ssls_null):
    ax = lh.plot_caterpillar(ssls_null, highlight=[1, "2"], mark_differences=True)
    ge = ssls_null.group_effects().sort_values("rank")
    assert ax.get_xlabel() == "schoolid (rank)"
    assert len(offsets(ax)) == 508
    np.testing.assert_allclose(offsets(ax)[:, 1], ge["effect"])
    seg = segments(ax, "intervals")
    np.testing.assert_allclose(seg[:, 0, 1], ge["ci_lower"])
    assert len(segments(ax, "highlight")) == 2
    assert {t.get_text() for t in ax.texts} == {"schoolid 1", "schoolid 2"}
    grey = mpl.colors.to_rgba(plotting.GREY)
    n_grey = sum(np.allclose(c, grey) for c in artists(ax, "intervals")[0].get_colors())
    includes_zero = ((ge["ci_lower"] <= 0) & (ge["ci_upper"] >= 0)).sum()
    assert n_grey == includes_zero - sum(((ge.loc[[1, 2], "ci_lower"] <= 0) & (ge.loc[[1, 2], "ci_upper"] >= 0)))
    assert len(ax.get_legend().get_texts()) == 2


def test_caterpillar_thinned_labels_and_slope_term(ssls_rs):
    ax = lh.plot_caterpillar(ssls_rs, term="cohort90", orient="h", labels=100)
    ge = ssls_rs.group_effects("cohort90").sort_values("rank")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [str(g) for g in ge.index[::100]]
    assert ax.get_xlabel() == "cohort90 slope effect $u_{1j}$ with 95% interval"
    np.testing.assert_allclose(segments(ax, "intervals")[:, 1, 0], ge["ci_upper"])


def test_caterpillar_errors(ess, ess_null, ssls_null):
    with pytest.raises(lh.LemmaError, match="Unknown random term 'age'.*'Intercept'"):
        lh.plot_caterpillar(ess_null, term="age")
    with pytest.raises(TypeError, match=r"needs a model fitted with lh.fit.*lh.plot_group_means"):
        lh.plot_caterpillar(ess)
    with pytest.raises(lh.LemmaError, match="Unknown group 'Polnd'. Did you mean 'Poland'"):
        lh.plot_caterpillar(ess_null, highlight="Polnd")
    with pytest.raises(lh.LemmaError, match="Unknown group 9999.*There are 508 groups"):
        lh.plot_caterpillar(ssls_null, highlight=9999)
    with pytest.raises(lh.LemmaError, match="Unknown orient 'x'"):
        lh.plot_caterpillar(ess_null, orient="x")
    with pytest.raises(lh.LemmaError, match="labels must be 'auto', True, False or a whole number"):
        lh.plot_caterpillar(ess_null, labels="all")


# ---- group means ---------------------------------------------------------------------------
def test_group_means_sorted_with_t_intervals_and_overall_mean(ess):
    ax = lh.plot_group_means(ess, y="hedonism", group="country")
    stats = ess.groupby("country", observed=True)["hedonism"].agg(["count", "mean", "std"])
    stats = stats.sort_values("mean")
    half = sps.t.ppf(0.975, stats["count"] - 1) * stats["std"] / np.sqrt(stats["count"])
    assert [t.get_text() for t in ax.get_yticklabels()] == list(stats.index)
    np.testing.assert_allclose(offsets(ax)[:, 0], stats["mean"])
    np.testing.assert_allclose(segments(ax, "intervals")[:, 0, 0], stats["mean"] - half)
    assert artists(ax, "reference")[0].get_xdata()[0] == pytest.approx(ess["hedonism"].mean())
    assert ax.get_xlabel() == "mean hedonism with 95% CI"
    assert ax.get_ylabel() == "country"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["overall mean"]


def test_group_means_many_small_groups_keep_the_axis_to_the_data(ssls):
    ax = lh.plot_group_means(ssls, y="score", group="schoolid")
    assert len(offsets(ax)) == ssls["schoolid"].nunique()
    low, high = ax.get_ylim()
    assert low >= ssls["score"].min() - 3 and high <= ssls["score"].max() + 3


def test_group_means_errors(ess):
    with pytest.raises(lh.LemmaError, match="Column 'hedonsim' is not in data. Did you mean 'hedonism'"):
        lh.plot_group_means(ess, y="hedonsim", group="country")
    with pytest.raises(lh.LemmaError, match="'income_band' is category, not numbers"):
        lh.plot_group_means(ess, y="income_band", group="country")
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        lh.plot_group_means(ess["hedonism"], y="hedonism", group="country")


# ---- group lines -----------------------------------------------------------------------------
def _per_group_lines(ax):
    segs = artists(ax, "group_lines")[0].get_segments()
    return [np.asarray(s) for s in segs]


def test_group_lines_parallel_for_random_intercepts_within_observed_range(ess, ess_ri):
    ax = lh.plot_group_lines(ess_ri, ess, x="age")
    segs = _per_group_lines(ax)
    assert len(segs) == 20
    slopes = [np.polyfit(s[:, 0], s[:, 1], 1)[0] for s in segs]
    np.testing.assert_allclose(slopes, ess_ri.fixed.loc["age46", "estimate"])
    ranges = ess.dropna(subset=["age"]).groupby("country", observed=True)["age"].agg(["min", "max"])
    np.testing.assert_allclose([s[0, 0] for s in segs], ranges["min"])
    np.testing.assert_allclose([s[-1, 0] for s in segs], ranges["max"])
    avg = artists(ax, "average_line")[0]
    b = ess_ri.fixed["estimate"]
    np.testing.assert_allclose(avg.get_ydata(), b["Intercept"] + b["age46"] * (avg.get_xdata() - 46))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("age", "hedonism")


def test_group_lines_fan_for_random_slopes_and_match_predictions(ess, ess_rs):
    ax = lh.plot_group_lines(ess_rs, ess, x="age46", points=True, highlight="Denmark")
    segs = _per_group_lines(ax)
    ge = ess_rs.group_effects()
    slopes = np.array([np.polyfit(s[:, 0], s[:, 1], 1)[0] for s in segs])
    np.testing.assert_allclose(slopes, ess_rs.fixed.loc["age46", "estimate"] + ge["age46"], rtol=1e-6)
    intercepts = np.array([np.polyfit(s[:, 0], s[:, 1], 1)[1] for s in segs])
    np.testing.assert_allclose(intercepts, ess_rs.fixed.loc["Intercept", "estimate"] + ge["Intercept"],
                               rtol=1e-6)
    assert len(offsets(ax, "points")) == ess_rs.n_obs
    assert [t.get_text() for t in ax.texts] == ["Denmark"]


def test_group_lines_508_schools(ssls, ssls_rs):
    ax = lh.plot_group_lines(ssls_rs, ssls, x="cohort90", average=False)
    assert len(_per_group_lines(ax)) == 508
    assert not [a for a in ax.lines if a.get_gid() == "average_line"]


def test_group_lines_data_defaults_to_the_fitted_frame(ssls, ssls_rs):
    ax = lh.plot_group_lines(ssls_rs, x="cohort90", average=False)   # the model keeps its data
    assert len(_per_group_lines(ax)) == 508


def test_group_lines_colour_can_be_passed(ssls_rs):
    from matplotlib.colors import to_rgba
    default = artists(lh.plot_group_lines(ssls_rs, x="cohort90", average=False), "group_lines")[0]
    assert tuple(default.get_colors()[0][:3]) == to_rgba(plotting.MAIN)[:3]
    for key in ("color", "colors"):
        ax = lh.plot_group_lines(ssls_rs, x="cohort90", average=False, ax=plt.subplots()[1], **{key: "grey"})
        lines = artists(ax, "group_lines")[0]
        assert tuple(lines.get_colors()[0][:3]) == to_rgba("grey")[:3]


def test_group_lines_data_changed_after_the_fit_is_refused():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"g": np.repeat(np.arange(8), 10), "x": np.tile(np.arange(10.0), 8)})
    df["y"] = df["x"] + rng.normal(size=len(df)) + np.repeat(rng.normal(size=8), 10)
    m = lh.fit("y ~ x + (1 | g)", data=df)
    df.loc[0, "y"] += 5
    with pytest.raises(lh.LemmaError, match="has changed since the fit.*fit the model again"):
        lh.plot_group_lines(m, x="x")


def test_group_lines_sample_draws_that_many_plus_the_highlighted(ssls, ssls_rs):
    ax = lh.plot_group_lines(ssls_rs, x="cohort90", sample=40, seed=3, highlight=[1, 2],
                             group_label="school")
    drawn = _per_group_lines(ax)
    assert 40 <= len(drawn) <= 42
    again = _per_group_lines(lh.plot_group_lines(ssls_rs, x="cohort90", sample=40, seed=3, highlight=[1, 2],
                                                 ax=plt.subplots()[1]))
    assert [s.tolist() for s in drawn] == [s.tolist() for s in again]   # the seed fixes the sample
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    extra = len(drawn) - 40
    assert legend[0] == "40 of 508 school lines, chosen at random" + (f", and {extra} highlighted" if extra else "")
    assert [t.get_text() for t in ax.texts] == ["school 1", "school 2"]
    with pytest.raises(lh.LemmaError, match="sample must be a whole number of groups"):
        lh.plot_group_lines(ssls_rs, x="cohort90", sample=0)


def test_group_label_names_the_groups_on_every_plot(ssls_null, ssls_rs):
    ax = lh.plot_caterpillar(ssls_null, group_label="school")
    assert ax.get_xlabel() == "school (rank)"
    assert ax.get_ylabel().startswith("school effect $u_j$")
    ax = lh.plot_residual_pairs(ssls_rs, group_label="school", ax=plt.subplots()[1])
    assert ax.get_xlabel() == "school intercept effect $u_{0j}$"
    with pytest.raises(TypeError, match="group_label must be a word"):
        lh.plot_caterpillar(ssls_null, group_label=3)


def test_variance_function_many_x_values_shade_the_middle_90_percent(ess, ess_rs):
    ax = lh.plot_variance_function(ess_rs, x="age46")
    band = [p for p in ax.patches if p.get_gid() == "observed_x"]
    assert len(band) == 1
    lo, hi = np.quantile(ess.loc[ess_rs.design.index, "age46"], [0.05, 0.95])
    xs = band[0].get_path().transformed(band[0].get_patch_transform()).vertices[:, 0]
    assert (xs.min(), xs.max()) == pytest.approx((lo, hi))


def test_group_lines_other_variables_need_values(ess):
    m = lh.fit("hedonism ~ age46 + female + (1 | country)", data=ess)
    with pytest.raises(lh.LemmaError, match=r"other than 'age46'.*'female'.*at=\{'female': 0\}"):
        lh.plot_group_lines(m, ess, x="age46")
    ax = lh.plot_group_lines(m, ess, x="age46", at={"female": 1})
    assert len(_per_group_lines(ax)) == 20


def test_group_lines_errors(ess, ssls, ess_ri):
    with pytest.raises(lh.LemmaError, match="Column 'aeg' is not in data. Did you mean 'age'"):
        lh.plot_group_lines(ess_ri, ess, x="aeg")
    with pytest.raises(lh.LemmaError, match="not the DataFrame this model was fitted on"):
        lh.plot_group_lines(ess_ri, ess.assign(hedonism=ess["hedonism"] + 1), x="age")
    with pytest.raises(lh.LemmaError, match="Column 'country' is not in data"):
        lh.plot_group_lines(ess_ri, ssls, x="cohort90")


# ---- variance function ------------------------------------------------------------------------
def test_variance_function_level2_over_observed_range(ssls_rs):
    ax = lh.plot_variance_function(ssls_rs, x="cohort90")
    line = artists(ax, "level_2")[0]
    x = line.get_xdata()
    assert (x.min(), x.max()) == (-6, 8)
    np.testing.assert_allclose(line.get_ydata(), ssls_rs.level2_variance(cohort90=x))
    assert list(artists(ax, "observed_x")[0].get_xdata()) == [-6, -4, -2, 0, 6, 8]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("cohort90", "level-2 variance")


def test_variance_function_both_levels_and_vpc(ess_rs):
    ax = lh.plot_variance_function(ess_rs, x="age46", level=[2, 1])
    l1 = artists(ax, "level_1")[0]
    np.testing.assert_allclose(l1.get_ydata(), ess_rs.level1_var)
    assert ax.get_ylabel() == "variance"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["level-2 variance", "level-1 variance"]
    _, ax2 = plt.subplots()
    lh.plot_variance_function(ess_rs, x="age46", level="vpc", ax=ax2)
    vpc = artists(ax2, "level_vpc")[0]
    np.testing.assert_allclose(vpc.get_ydata(), ess_rs.vpc(age46=vpc.get_xdata())["vpc"])
    assert ax2.get_ylabel() == "VPC"


def test_variance_function_level1_function_and_transformed_x(small):
    m = lh.fit("y ~ x + b + (1 + x | g)", data=small, level1="~ 0 + C(b)")
    ax = lh.plot_variance_function(m, x="b", level=1)
    line = artists(ax, "level_1")[0]
    np.testing.assert_allclose(line.get_xdata(), [0, 1])  # binary x: one point per value
    np.testing.assert_allclose(line.get_ydata(), np.diag(m.level1_cov))
    assert line.get_marker() == "o" and line.get_linestyle() == "None"
    m2 = lh.fit("y ~ I(x * 2) + (1 + I(x * 2) | g)", data=small)
    ax2 = lh.plot_variance_function(m2, x="x", data=small, ax=plt.subplots()[1])
    assert artists(ax2, "level_2")[0].get_xdata()[-1] == pytest.approx(small["x"].max())


def test_variance_function_errors(ess, ess_rs, small):
    with pytest.raises(lh.LemmaError, match="Unknown level 3.*Valid levels: 2, 1, 'vpc'"):
        lh.plot_variance_function(ess_rs, x="age46", level=3)
    with pytest.raises(lh.LemmaError, match="draw level='vpc' on its own Axes"):
        lh.plot_variance_function(ess_rs, x="age46", level=[2, "vpc"])
    with pytest.raises(lh.LemmaError, match=r"give a value for each variable in it: e.g. m.vpc\(age46=...\)"):
        lh.plot_variance_function(ess_rs, x="age")   # age is in the kept data but not in the model
    with pytest.raises(lh.LemmaError, match="Cannot find 'agee' in data"):
        lh.plot_variance_function(ess_rs, x="agee", data=ess)
    m = lh.fit("y ~ x + b + (1 + x + b | g)", data=small)
    with pytest.raises(lh.LemmaError, match=r"at=\{\.\.\.\}"):
        lh.plot_variance_function(m, x="x")
    ax = lh.plot_variance_function(m, x="x", at={"b": 1})
    assert artists(ax, "level_2")


# ---- residuals ------------------------------------------------------------------------------------
def test_residual_pairs_one_point_per_group(ess_rs):
    ax = lh.plot_residual_pairs(ess_rs, highlight="Denmark")
    ge = ess_rs.group_effects()
    np.testing.assert_allclose(offsets(ax, "effects"), ge[["Intercept", "age46"]].to_numpy())
    assert ax.get_xlabel() == "country intercept effect $u_{0j}$"
    assert ax.get_ylabel() == "age46 slope effect $u_{1j}$"
    assert [t.get_text() for t in ax.texts] == ["Denmark"]


def test_residual_pairs_508_schools_and_errors(ssls_rs, ess_null):
    ax = lh.plot_residual_pairs(ssls_rs)
    assert len(offsets(ax, "effects")) == 508
    with pytest.raises(lh.LemmaError, match="one random term.*Fit a random slope model"):
        lh.plot_residual_pairs(ess_null)
    with pytest.raises(lh.LemmaError, match="Unknown random term 'cohort'. Did you mean 'cohort90'"):
        lh.plot_residual_pairs(ssls_rs, terms=["Intercept", "cohort"])


def test_residual_qq_level1_standardised_by_level1_sd(ess_ri):
    ax = lh.plot_residual_qq(ess_ri, level=1)
    pts = offsets(ax, "residuals")
    resid = ess_ri.design.y - ess_ri.predict()["group_specific"]
    np.testing.assert_allclose(pts[:, 1], np.sort(resid / np.sqrt(ess_ri.level1_var)))
    n = ess_ri.n_obs
    np.testing.assert_allclose(pts[:, 0], sps.norm.ppf((np.arange(1, n + 1) - 0.5) / n))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("normal quantile", "standardised level-1 residual")


def test_residual_qq_level1_with_a_variance_function(small):
    m = lh.fit("y ~ x + b + (1 | g)", data=small, level1="~ 0 + C(b)")
    ax = lh.plot_residual_qq(m, level=1)
    resid = m.design.y - m.predict()["group_specific"].to_numpy()
    sd = np.sqrt(m.level1_variance(b=small["b"].to_numpy()))
    np.testing.assert_allclose(offsets(ax, "residuals")[:, 1], np.sort(resid / sd))


def test_residual_qq_level2_one_point_per_group(ssls_null, ssls_rs):
    ax = lh.plot_residual_qq(ssls_null, level=2)
    ge = ssls_null.group_effects()
    expected = ge["effect"] / np.sqrt(ssls_null.level2_cov.iloc[0, 0] - ge["se"] ** 2)
    np.testing.assert_allclose(offsets(ax, "residuals")[:, 1], np.sort(expected))
    assert len(offsets(ax, "residuals")) == 508
    assert ax.get_ylabel() == "standardised level-2 residual (Intercept)"
    ax2 = lh.plot_residual_qq(ssls_rs, level=2, term="cohort90", ax=plt.subplots()[1])
    assert ax2.get_ylabel() == "standardised level-2 residual (cohort90)"


def test_residual_qq_errors(ess_null):
    with pytest.raises(lh.LemmaError, match="Unknown level 3.*Valid levels: 1, 2"):
        lh.plot_residual_qq(ess_null, level=3)
    with pytest.raises(lh.LemmaError, match="Unknown random term 'age'"):
        lh.plot_residual_qq(ess_null, level=2, term="age")


# ---- teaching diagrams ------------------------------------------------------------------------------
def test_single_level_residuals_around_the_overall_mean(ess):
    ax = lh.plot_single_level_residuals(ess, y="hedonism", n=8, seed=4)
    pts = offsets(ax, "points")
    assert len(pts) == 8
    mean = ess["hedonism"].mean()
    assert artists(ax, "mean_line")[0].get_ydata()[0] == pytest.approx(mean)
    seg = segments(ax, "residuals")
    np.testing.assert_allclose(seg[:, 0, 1], mean)
    np.testing.assert_allclose(seg[:, 1, 1], pts[:, 1])
    assert set(pts[:, 1]) <= set(ess["hedonism"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("individual $i$", "hedonism")
    again = lh.plot_single_level_residuals(ess, y="hedonism", n=8, seed=4, ax=plt.subplots()[1])
    np.testing.assert_array_equal(offsets(again, "points"), pts)


def test_single_level_residuals_errors(ess):
    with pytest.raises(lh.LemmaError, match="n=50000 but data has only 36527 rows"):
        lh.plot_single_level_residuals(ess, y="hedonism", n=50000)
    with pytest.raises(lh.LemmaError, match="n must be a whole number"):
        lh.plot_single_level_residuals(ess, y="hedonism", n=0)
    with pytest.raises(lh.LemmaError, match="'country' is category, not numbers"):
        lh.plot_single_level_residuals(ess, y="country")


def test_two_level_decomposition_draws_the_means_of_two_groups(ess):
    ax = lh.plot_two_level_decomposition(ess, y="hedonism", group="country",
                                         groups=["Poland", "Denmark"], n=5, seed=2)
    means = ess.groupby("country", observed=True)["hedonism"].mean()
    seg = [s for c in artists(ax, "group_means") for s in c.get_segments()]
    np.testing.assert_allclose([s[0][1] for s in seg], means[["Poland", "Denmark"]])
    assert artists(ax, "mean_line")[0].get_ydata()[0] == pytest.approx(ess["hedonism"].mean())
    points = [p for c in artists(ax, "points") for p in c.get_offsets()]
    assert len(points) == 10
    assert set(np.asarray(points)[:5, 1]) <= set(ess.loc[ess["country"] == "Poland", "hedonism"])
    texts = {t.get_text() for t in ax.texts}
    assert {"$u_1$", "$u_2$", "$e_{i2}$"} <= texts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Poland\n(j = 1)", "Denmark\n(j = 2)"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("country", "hedonism")


def test_two_level_decomposition_errors(ess):
    with pytest.raises(lh.LemmaError, match="groups must name exactly two groups"):
        lh.plot_two_level_decomposition(ess, y="hedonism", group="country", groups=["Poland"])
    with pytest.raises(lh.LemmaError, match="Unknown group 'Danmark'. Did you mean 'Denmark'"):
        lh.plot_two_level_decomposition(ess, y="hedonism", group="country", groups=["Poland", "Danmark"])
    with pytest.raises(lh.LemmaError, match="Column 'contry' is not in data"):
        lh.plot_two_level_decomposition(ess, y="hedonism", group="contry", groups=["a", "b"])


# ---- standard errors -----------------------------------------------------------------------------------
def test_se_comparison_draws_both_standard_errors(ess, ess_null):
    ols = smf.ols("hedonism ~ 1", data=ess).fit()
    table = pd.DataFrame({"estimate": ols.params, "std_err": ols.bse})
    ax = lh.plot_se_comparison(types.SimpleNamespace(fixed=table), ess_null)
    assert offsets(ax, "single_se")[0, 0] == pytest.approx(ols.bse["Intercept"])
    assert offsets(ax, "multilevel_se")[0, 0] == pytest.approx(ess_null.fixed.loc["Intercept", "std_err"])
    ratio = ess_null.fixed.loc["Intercept", "std_err"] / ols.bse["Intercept"]
    assert artists(ax, "ratio")[0].get_text() == f"\u00d7{ratio:.1f}"  # about 13 (COURSE.md)
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Intercept"]
    assert ax.get_xlabel() == "standard error (log scale)"


def test_se_comparison_takes_an_ols_result(ess):
    rows = ess.dropna(subset=["income"])
    ols = lh.fit_ols("hedonism ~ income + income_mean", data=rows)
    m = lh.fit("hedonism ~ income + income_mean + (1 | country)", data=rows)
    ax = lh.plot_se_comparison(ols, m)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Intercept", "income", "income_mean"]
    np.testing.assert_allclose(offsets(ax, "single_se")[:, 0], ols.fixed["std_err"])
    np.testing.assert_allclose(offsets(ax, "multilevel_se")[:, 0], m.fixed["std_err"])
    # COURSE.md: country mean income SE 0.0046 under OLS vs 0.0387 multilevel
    assert offsets(ax, "single_se")[2, 0] == pytest.approx(0.0046, abs=5e-5)
    assert offsets(ax, "multilevel_se")[2, 0] == pytest.approx(0.0387, abs=5e-5)


def test_se_comparison_chooses_common_terms(ess_ri, ess_null):
    ax = lh.plot_se_comparison(ess_null, ess_ri)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Intercept"]
    ax2 = lh.plot_se_comparison(ess_ri.fixed, ess_ri, terms=["age46"], ax=plt.subplots()[1])
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["age46"]


def test_se_comparison_errors(ess_ri, ssls_null):
    with pytest.raises(lh.LemmaError, match="Unknown term 'age'. Did you mean 'age46'"):
        lh.plot_se_comparison(ess_ri, ess_ri, terms=["age"])
    with pytest.raises(TypeError, match="single must be a fitted model"):
        lh.plot_se_comparison([0.1], ess_ri)
    with pytest.raises(lh.LemmaError, match="Column 'std_err' is not in the single table"):
        lh.plot_se_comparison(ess_ri.fixed[["estimate"]], ess_ri)
    with pytest.raises(lh.LemmaError, match="no fixed term in common"):
        lh.plot_se_comparison(ess_ri.fixed.loc[["age46"]], ssls_null)
