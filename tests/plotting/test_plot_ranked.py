"""Ranked intervals (lemma_helpers/plotting/ranked.py): the caterpillar plot and the group means.

Each plot draws exactly the model's (or the data's) numbers, labelled from the names.
"""
import matplotlib as mpl
import numpy as np
import pytest
from scipy import stats as sps

import lemma_helpers as lh
from drawn import artists, offsets, segments
from lemma_helpers import plotting


# ---- caterpillar ---------------------------------------------------------------------------------
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


# ---- group means ---------------------------------------------------------------------------------
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
