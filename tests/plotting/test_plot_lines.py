"""Group lines and variance functions (lemma_helpers/plotting/lines.py)."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import lemma_helpers as lh
from drawn import artists, offsets
from lemma_helpers import plotting


# ---- group lines ---------------------------------------------------------------------------------
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


def test_group_lines_legend_sits_in_a_band_above_the_lines(ssls_rs):
    """With hundreds of lines the whole panel is full of them: the legend gets a band of its own."""
    fig, ax = plt.subplots(figsize=(7, 4))
    lh.plot_group_lines(ssls_rs, x="cohort90", sample=40, seed=1, highlight=[8, 276], group_label="school", ax=ax)
    fig.canvas.draw()
    top_of_lines = max(max(np.asarray(s)[:, 1].max() for s in artists(ax, "group_lines")[0].get_segments()),
                       max(ln.get_ydata().max() for ln in ax.lines))
    box = ax.get_legend().get_window_extent()
    legend_bottom = ax.transData.inverted().transform((box.x0, box.y0))[1]
    assert legend_bottom > top_of_lines


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


# ---- variance function ---------------------------------------------------------------------------
def test_variance_function_many_x_values_shade_the_middle_90_percent(ess, ess_rs):
    ax = lh.plot_variance_function(ess_rs, x="age46")
    band = [p for p in ax.patches if p.get_gid() == "observed_x"]
    assert len(band) == 1
    lo, hi = np.quantile(ess.loc[ess_rs.design.index, "age46"], [0.05, 0.95])
    xs = band[0].get_path().transformed(band[0].get_patch_transform()).vertices[:, 0]
    assert (xs.min(), xs.max()) == pytest.approx((lo, hi))


def test_variance_function_level2_over_observed_range(ssls_rs):
    ax = lh.plot_variance_function(ssls_rs, x="cohort90")
    line = artists(ax, "level_2")[0]
    x = line.get_xdata()
    assert (x.min(), x.max()) == (-6, 8)
    np.testing.assert_allclose(line.get_ydata(), ssls_rs.level2_variance(cohort90=x))
    assert list(artists(ax, "observed_x")[0].get_xdata()) == [-6, -4, -2, 0, 6, 8]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("cohort90", "level-2 variance")


def test_variance_function_marks_the_observed_values_on_each_curve(ssls_rs):
    """A few distinct x values (six cohorts): a dot on the curve at each, not a rug hidden in the axis."""
    ax = lh.plot_variance_function(ssls_rs, x="cohort90", level=2)
    dots = artists(ax, "observed_x")
    assert len(dots) == 1 and dots[0].get_marker() == "o"
    x = dots[0].get_xdata()
    np.testing.assert_allclose(dots[0].get_ydata(), ssls_rs.level2_variance(cohort90=x))
    assert dots[0].get_transform() == ax.transData


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
