"""The interactive explorations (lemma_helpers/explore.py).

Each test moves sliders as a reader would (``w.set(...)`` or a slider's
``.value``, which fires the widget's ``observe`` callback) and checks the
numbers drawn against the formulas they come from. Settings that would be
impossible (a negative variance, a correlation outside [-1, 1]) are either
out of the sliders' reach or explained in the figure, never a traceback.
"""
import numpy as np
import pandas as pd
import pytest
import ipywidgets as widgets
from matplotlib.figure import Figure

import lemma_helpers as lh


def _line(w, gid, panel=None):
    axes = w.figure.axes if panel is None else [w.figure.axes[panel]]
    found = [ln for ax in axes for ln in ax.get_lines() if ln.get_gid() == gid]
    assert found, f"no line with gid {gid!r}"
    return found[0]


def _texts(w):
    return " ".join(t.get_text() for ax in w.figure.axes for t in ax.texts)


@pytest.fixture(scope="module")
def exam():
    return lh.load_dataset("exam")


@pytest.fixture(scope="module")
def exam_ri(exam):
    return lh.fit("normexam ~ standlrt + (1 | school)", data=exam)


# ---- the widget itself -------------------------------------------------------------------
@pytest.mark.parametrize("make", [lh.explore_shrinkage, lh.explore_vpc, lh.explore_random_slopes,
                                  lh.explore_level1_variance])
def test_widget_renders_and_a_slider_move_redraws(make):
    w = make()
    assert isinstance(w, widgets.VBox)
    sliders, image = w.children
    assert isinstance(image, widgets.Image) and image.value[:4] == b"\x89PNG"
    assert list(sliders.children) == list(w.sliders.values())
    before, numbers = image.value, dict(w.numbers)
    first = next(iter(w.sliders.values()))
    first.value = (first.min + first.max) / 2 if isinstance(first, widgets.FloatSlider) else first.max
    assert image.value != before            # the observe callback redrew the picture
    assert any(not np.array_equal(np.asarray(numbers[k], dtype=object), np.asarray(w.numbers[k], dtype=object))
               for k in numbers if k in w.numbers)
    mime = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in mime
    assert mime["text/plain"].startswith(f"<{w.name}: ")     # short and free of model ids


@pytest.mark.parametrize("make", [lh.explore_shrinkage, lh.explore_vpc, lh.explore_random_slopes,
                                  lh.explore_level1_variance])
def test_static_panels_one_column_per_setting(make):
    w = make()
    fig = w.static()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2 * len(w._settings) and 3 <= len(w._settings) <= 4
    fig = w.static([{}, {}])
    assert len(fig.axes) == 4


@pytest.mark.parametrize("make", [lh.explore_shrinkage, lh.explore_vpc, lh.explore_random_slopes,
                                  lh.explore_level1_variance])
def test_static_has_a_row_per_setting_with_the_views_side_by_side_as_under_the_sliders(make):
    """The text can say "on the left ... on the right" of both the widget and its stored figure."""
    w = make()
    fig = w.static()
    assert len(fig.subfigs) == len(w._settings)
    for row in fig.subfigs:
        assert len(row.axes) == len(w._drawers) == 2
        left, right = (a.get_position() for a in row.axes)
        assert left.x1 <= right.x0 and left.y0 == pytest.approx(right.y0)
        assert row._suptitle is not None and row._suptitle.get_text()


def _outside_mathematics(text):
    import re
    return re.sub(r"\$[^$]*\$", "", text)


@pytest.mark.parametrize("make", [lh.explore_shrinkage, lh.explore_vpc, lh.explore_random_slopes,
                                  lh.explore_level1_variance])
def test_titles_and_notes_write_subscripts_as_mathematics(make):
    """No 'σ²_u' with a literal underscore in a title or a note: matplotlib's mathtext sets the subscript."""
    w = make()
    fig = w.static()
    texts = [row._suptitle.get_text() for row in fig.subfigs] + [t.get_text() for a in fig.axes for t in a.texts]
    for text in texts:
        assert "_" not in _outside_mathematics(text), text
        assert "²" not in _outside_mathematics(text), text


@pytest.mark.parametrize("make", [lh.explore_shrinkage, lh.explore_vpc, lh.explore_random_slopes,
                                  lh.explore_level1_variance])
def test_notes_are_written_above_the_panels_never_over_the_curves(make):
    w = make()
    for fig in (w.figure, w.static()):
        for ax in fig.axes:
            for t in ax.texts:
                assert t.get_transform() == ax.transAxes and t.get_position()[1] >= 1, t.get_text()
    w = lh.explore_level1_variance()                  # the warning about impossible settings too
    w.set(sigma2_e0=0.8, sigma_e01=w.sliders["sigma_e01"].min, sigma2_e1=0.0)
    assert all(t.get_position()[1] >= 1 for ax in w.figure.axes for t in ax.texts)


def test_set_rejects_an_unknown_slider_with_the_valid_names():
    w = lh.explore_vpc()
    with pytest.raises(lh.LemmaError, match="no slider 'rho'.*sigma2_u, sigma2_e, n"):
        w.set(rho=0.5)


def test_explorations_take_the_palette_without_the_plots():
    """explore.py and _explore_widget.py import the colours from plotting/theme.py, not the plotting package."""
    import subprocess
    import sys

    code = ("import sys\nimport lemma_helpers as lh\nlh.explore_vpc().static()\n"
            "print(sorted(m for m in sys.modules if m.startswith('lemma_helpers.plotting')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['lemma_helpers.plotting', 'lemma_helpers.plotting.theme']"


# ---- 1. shrinkage ------------------------------------------------------------------------
def test_shrinkage_factor_drawn_matches_the_formula():
    w = lh.explore_shrinkage()
    w.set(sigma2_u=0.2, sigma2_e=1.5, n=40)
    line = _line(w, "shrinkage_factor")
    x, y = line.get_xdata(), line.get_ydata()
    assert y[list(x).index(10)] == pytest.approx(0.2 / (0.2 + 1.5 / 10))
    assert w.numbers["k_at"][10] == pytest.approx(0.2 / (0.2 + 1.5 / 10))
    assert w.numbers["half_size"] == pytest.approx(1.5 / 0.2)
    nj = w.numbers["sizes"]
    assert nj.min() >= 1 and nj.max() == 80
    k = 0.2 / (0.2 + 1.5 / nj)
    np.testing.assert_allclose(w.numbers["k"], k)
    np.testing.assert_allclose(w.numbers["shrunken"], k * w.numbers["raw"])
    np.testing.assert_allclose(_line(w, "shrunken").get_xdata(), w.numbers["shrunken"])


def test_shrinkage_starts_from_a_fitted_model(exam_ri):
    w = lh.explore_shrinkage(exam_ri)
    s2_u, s2_e = exam_ri.level2_cov.iloc[0, 0], exam_ri.level1_var
    assert w.values["sigma2_u"] == pytest.approx(s2_u, abs=w.sliders["sigma2_u"].step / 2)
    assert w.values["sigma2_e"] == pytest.approx(s2_e, abs=w.sliders["sigma2_e"].step / 2)


def test_shrinkage_variances_cannot_go_negative_and_zero_is_explained():
    w = lh.explore_shrinkage()
    assert w.sliders["sigma2_u"].min == 0 and w.sliders["sigma2_e"].min > 0
    w.set(sigma2_u=-1.0)                 # clipped, as the slider clips
    assert w.values["sigma2_u"] == 0
    w.sliders["sigma2_e"].value = -5     # the slider itself refuses
    assert w.values["sigma2_e"] > 0
    assert np.all(w.numbers["k"] == 0)
    assert "groups do not differ" in _texts(w)


def test_shrinkage_pulls_estimates_towards_the_truth_on_average():
    w = lh.explore_shrinkage()
    for n in (1, 10, 100, 500):
        for s2_u in (0.02, 0.09, 0.3):
            w.set(sigma2_u=s2_u, sigma2_e=0.885, n=n)
            assert w.numbers["rmse_shrunken"] < w.numbers["rmse_raw"]


# ---- 2. VPC ------------------------------------------------------------------------------
def test_vpc_and_design_effect_match_the_formulas():
    w = lh.explore_vpc()
    w.set(sigma2_u=0.3, sigma2_e=0.7, n=21)
    assert w.numbers["vpc"] == pytest.approx(0.3)
    assert w.numbers["icc"] == w.numbers["vpc"]
    assert w.numbers["design_effect"] == pytest.approx(1 + 20 * 0.3)
    assert w.numbers["se_ratio"] == pytest.approx(np.sqrt(7.0))
    line = _line(w, "design_effect")
    np.testing.assert_allclose(line.get_ydata(), 1 + (line.get_xdata() - 1) * 0.3)
    assert _line(w, "chosen").get_ydata()[0] == pytest.approx(7.0)


def test_vpc_starts_from_the_model_and_its_mean_group_size(exam_ri):
    w = lh.explore_vpc(exam_ri)
    assert w.values["n"] == round(exam_ri.n_obs / exam_ri.n_groups)
    s2_u, s2_e = exam_ri.level2_cov.iloc[0, 0], exam_ri.level1_var
    assert w.numbers["vpc"] == pytest.approx(s2_u / (s2_u + s2_e), abs=2e-3)


def test_vpc_is_defined_at_every_slider_setting():
    w = lh.explore_vpc()
    w.set(sigma2_u=0.0, sigma2_e=0.0)     # sigma2_e stops above 0
    assert w.numbers["vpc"] == 0 and w.numbers["design_effect"] == 1


def test_vpc_rejects_something_that_is_not_a_model(exam):
    with pytest.raises(TypeError, match="lh.fit"):
        lh.explore_vpc(exam)


# ---- 3. random slopes --------------------------------------------------------------------
def test_random_slopes_variance_function_and_turning_point():
    w = lh.explore_random_slopes()
    w.set(sigma2_u0=0.09, sigma2_u1=2e-5, corr=-0.5)
    cov = -0.5 * np.sqrt(0.09 * 2e-5)
    assert w.numbers["covariance"] == pytest.approx(cov)
    line = _line(w, "level2_variance")
    x = line.get_xdata()
    np.testing.assert_allclose(line.get_ydata(), 0.09 + 2 * cov * x + 2e-5 * x ** 2)
    assert w.numbers["turning_point"] == pytest.approx(-cov / 2e-5)
    assert w.numbers["pattern"] == "lines close up, cross, then spread"
    lowest = _line(w, "lowest")
    assert lowest.get_xdata()[0] == pytest.approx(-cov / 2e-5)
    # the simulated group slopes have the chosen correlation's sign
    r = np.corrcoef(w.numbers["intercepts"], w.numbers["slopes"])[0, 1]
    assert r < 0


def test_random_slopes_fanning_out_and_in():
    w = lh.explore_random_slopes()          # the hedonism model: correlation +0.71
    assert w.numbers["pattern"].startswith("fanning out")
    assert w.numbers["level2_variance"][0] == pytest.approx(0.0901 + 2 * 0.71 * np.sqrt(0.0901 * 1.81e-5) * -32
                                                             + 1.81e-5 * 32 ** 2, rel=0.01)
    w.set(corr=-0.95)
    assert w.numbers["pattern"].startswith("fanning in")
    w.set(sigma2_u1=0.0)
    assert w.numbers["pattern"].startswith("no slope variance") and np.isnan(w.numbers["turning_point"])


def test_random_slopes_correlation_stays_in_range():
    w = lh.explore_random_slopes()
    assert (w.sliders["corr"].min, w.sliders["corr"].max) == (-1, 1)
    w.set(corr=1.7)
    assert w.values["corr"] == 1
    w.sliders["corr"].value = -3
    assert w.values["corr"] == -1
    assert np.all(np.isfinite(w.numbers["slopes"]))


def test_random_slopes_from_a_model(exam):
    rs = lh.fit("normexam ~ standlrt + (1 + standlrt | school)", data=exam)
    w = lh.explore_random_slopes(rs)
    D = rs.level2_cov.to_numpy()
    assert w.values["corr"] == pytest.approx(D[0, 1] / np.sqrt(D[0, 0] * D[1, 1]), abs=0.005)
    x = _line(w, "level2_variance").get_xdata()
    assert (x.min(), x.max()) == pytest.approx((exam["standlrt"].min(), exam["standlrt"].max()))
    with pytest.raises(lh.LemmaError, match="random intercept and one random slope"):
        lh.explore_random_slopes(lh.fit("normexam ~ standlrt + (1 | school)", data=exam))


# ---- 4. complex level-1 variation --------------------------------------------------------
def test_level1_functions_and_vpc_match_the_formulas():
    w = lh.explore_level1_variance()
    w.set(sigma2_e0=0.8, sigma_e01=0.002, sigma2_e1=1e-5, sigma2_u=0.1)
    x = w.numbers["grid"]
    l1 = 0.8 + 2 * 0.002 * x + 1e-5 * x ** 2
    np.testing.assert_allclose(_line(w, "level1_variance").get_ydata(), l1)
    np.testing.assert_allclose(_line(w, "vpc").get_ydata(), 0.1 / (0.1 + l1))
    assert not w.numbers["impossible"]


def test_level1_negative_variance_is_explained_not_raised():
    w = lh.explore_level1_variance()
    w.set(sigma2_e0=0.8, sigma_e01=w.sliders["sigma_e01"].min, sigma2_e1=0.0)
    assert w.numbers["impossible"]
    assert "impossible" in _texts(w)
    bad = w.numbers["level1_variance"] <= 0
    assert bad.any() and np.all(np.isnan(w.numbers["vpc"][bad]))
    assert np.all(w.numbers["vpc"][~bad] > 0)


def test_level1_from_a_model(exam):
    m = lh.fit("normexam ~ standlrt + (1 | school)", data=exam, level1="~ 1 + standlrt")
    w = lh.explore_level1_variance(m)
    om = m.level1_cov.to_numpy()
    assert w.values["sigma2_e0"] == pytest.approx(om[0, 0], abs=w.sliders["sigma2_e0"].step)
    assert w.values["sigma_e01"] == pytest.approx(om[0, 1], abs=w.sliders["sigma_e01"].step)
    with pytest.raises(lh.LemmaError, match="level1='~ 1 \\+ x'"):
        lh.explore_level1_variance(lh.fit("normexam ~ standlrt + (1 | school)", data=exam))


# ---- 5. refit ----------------------------------------------------------------------------
def test_refit_agrees_with_lh_fit_on_the_same_rows(exam):
    formula = "normexam ~ standlrt + (1 | school)"
    w = lh.explore_refit(exam, formula)
    assert w.values == {"groups": 65, "size": w.sliders["size"].max}
    w.set(groups=20, size=15)
    rows = w.numbers["rows"]
    assert w.numbers["n_groups"] == 20 and len(rows) == w.numbers["n_obs"]
    assert exam.loc[rows].groupby("school", observed=True).size().max() <= 15
    direct = lh.fit(formula, data=exam.loc[rows])
    pd.testing.assert_frame_equal(w.numbers["fixed"], direct.fixed[["estimate", "std_err"]], rtol=1e-6)
    np.testing.assert_allclose(w.numbers["random"]["estimate"], direct.random["estimate"], rtol=1e-6)
    x = [ln for ln in w.figure.axes[0].get_lines() if ln.get_gid() == "fixed_subset"]
    assert x, "the subset's estimates are drawn"


def test_refit_variance_intervals_never_reach_below_zero(ess):
    """With 4 countries of 10 people, estimate - 1.96 SE of the country variance is negative; the
    profile likelihood interval drawn instead stops at 0 and agrees with lme4's."""
    w = lh.explore_refit(ess, "hedonism ~ 1 + (1 | country)")
    w.set(groups=4, size=10)
    table = w.numbers["random"]
    var_u = table.iloc[0]
    assert var_u["estimate"] - 1.96 * var_u["std_err"] < 0          # the interval the figure used to draw
    assert (table["ci_lower"] >= 0).all() and (table["ci_lower"] <= table["estimate"]).all()
    assert (table["ci_upper"] > table["estimate"]).all()
    # lme4 on the same 40 rows: confint(lmer(hedonism ~ 1 + (1 | country), REML = FALSE),
    # parm = "theta_", method = "profile")^2 gives 0 to 0.61552 and 0.65587 to 1.63958
    np.testing.assert_allclose(table[["ci_lower", "ci_upper"]].to_numpy(),
                               [[0, 0.61552], [0.65587, 1.63958]], atol=2e-4)
    drawn = [ln for ln in w.figure.axes[1].get_lines() if ln.get_gid() == "random_subset_interval"]
    assert drawn and np.nanmin(drawn[0].get_xdata()) >= 0
    for setting in w._settings:                                     # the stored figure's settings too
        w.set(**setting)
        assert (w.numbers["random"]["ci_lower"] >= 0).all()


def test_refit_draws_no_variance_interval_where_it_has_none(exam):
    w = lh.explore_refit(exam, "normexam ~ standlrt + (1 + standlrt | school)")
    assert w.numbers["random"]["ci_lower"].isna().all()
    assert "no interval" in w.figure.axes[1].get_xlabel()


def test_refit_sliders_keep_at_least_three_groups_and_two_people(exam):
    w = lh.explore_refit(exam, "normexam ~ 1 + (1 | school)")
    w.set(groups=0, size=0)
    assert w.values == {"groups": 3, "size": 2}
    assert w.numbers["n_groups"] == 3


def test_refit_choice_of_rows_is_reproducible(exam):
    a = lh.explore_refit(exam, "normexam ~ 1 + (1 | school)")
    b = lh.explore_refit(exam, "normexam ~ 1 + (1 | school)")
    a.set(groups=10, size=5)
    b.set(groups=10, size=5)
    assert list(a.numbers["rows"]) == list(b.numbers["rows"])


# ---- in a live kernel, as JupyterLab drives it -------------------------------------------
@pytest.mark.kernel
def test_a_frontend_slider_change_redraws_in_a_live_kernel():
    """Start a kernel, show a widget, send the comm message JupyterLab sends when a slider moves,
    and check that the kernel answers with a new picture for the image widget."""
    from queue import Empty

    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        def run(code):
            msg_id = kc.execute(code)
            out, comms = [], []
            while True:
                msg = kc.get_iopub_msg(timeout=60)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind = msg["msg_type"]
                if kind == "stream":
                    out.append(msg["content"]["text"])
                elif kind == "error":
                    raise AssertionError("\n".join(msg["content"]["traceback"]))
                elif kind in ("comm_msg", "comm_open"):
                    comms.append(msg)
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    return "".join(out), comms

        text, opened = run("import lemma_helpers as lh\nw = lh.explore_vpc()\ndisplay(w)\n"
                           "print(w.sliders['sigma2_u'].model_id, w.image.model_id)")
        slider_id, image_id = text.split()
        assert any(m["content"].get("comm_id") == image_id for m in opened)
        # what the widget manager in JupyterLab sends when the reader lets go of the slider
        msg = kc.session.msg("comm_msg", {"comm_id": slider_id, "data": {
            "method": "update", "state": {"value": 0.3}, "buffer_paths": []}})
        kc.shell_channel.send(msg)
        updated = False
        try:
            while not updated:
                m = kc.get_iopub_msg(timeout=30)
                if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == image_id:
                    updated = ["value"] in m["content"]["data"].get("buffer_paths", [])
        except Empty:
            pass
        assert updated, "no new picture was sent to the image widget"
        text, _ = run("print(round(w.numbers['vpc'], 4))")
        s2_e = lh.explore_vpc().values["sigma2_e"]
        assert float(text) == pytest.approx(round(0.3 / (0.3 + s2_e), 4))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_jupyterlab_has_the_widget_manager():
    """`make lab` shows the sliders only if JupyterLab's widget manager comes with ipywidgets."""
    import sys
    from pathlib import Path

    manager = Path(sys.prefix) / "share/jupyter/labextensions/@jupyter-widgets/jupyterlab-manager/package.json"
    assert manager.exists()


@pytest.mark.kernel
def test_executing_a_notebook_stores_no_widget_state(tmp_path):
    """scripts/execute_notebooks.py keeps widget state (PNG images, random model ids) out of the
    committed notebooks, so that re-running a notebook leaves its file unchanged."""
    import sys
    from pathlib import Path

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    try:
        from execute_notebooks import execute
    finally:
        sys.path.pop(0)
    path = tmp_path / "widget.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("import lemma_helpers as lh\nlh.explore_vpc()")]), path)
    execute(path)
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata
    assert "application/vnd.jupyter.widget-view+json" in nb.cells[0].outputs[0]["data"]


# ----- every exploration can reach the answers of the quiz questions that send the reader to it --------

@pytest.fixture(scope="module")
def ess_models(ess):
    d = ess.dropna(subset=["age", "female"]).copy()
    return {"m0": lh.fit("hedonism ~ 1 + (1 | country)", data=ess),
            "rs": lh.fit("hedonism ~ age46 + (1 + age46 | country)", data=ess.dropna(subset=["age"])),
            "quad": lh.fit("hedonism ~ age46 + female + (1 | country)", data=d, level1="~ 1 + age46")}


def _middle(qid):
    key = lh.list_questions(qid.rsplit(".q", 1)[0], with_key=True).set_index("id").loc[qid, "key"]
    low, high = (float(x) for x in key.replace("between", "").split(" and "))
    return low, high


def _within(slider, value):
    return slider.min <= value <= slider.max


def test_every_exploration_reaches_its_questions_answers(ess, ess_models):
    m0, rs, quad = ess_models["m0"], ess_models["rs"], ess_models["quad"]
    low, high = _middle("5.1.q11")                    # sigma2_u where the VPC is 0.5
    vpc = lh.explore_vpc(m0)
    assert _within(vpc.sliders["sigma2_u"], high)
    vpc.set(sigma2_u=(low + high) / 2)
    assert vpc.numbers["vpc"] == pytest.approx(0.5, abs=0.01)
    low, high = _middle("5.1.q10")                    # the group size at which k_j = 0.5
    shrink = lh.explore_shrinkage(m0)
    assert _within(shrink.sliders["n"], high)
    low, high = _middle("5.3.q8")                     # the age of the smallest between-country variance
    slopes = lh.explore_random_slopes(rs)
    assert _within(slopes.sliders["corr"], -0.5)
    slopes.set(corr=-0.5)
    assert low <= 46 + slopes.numbers["turning_point"] <= high
    level1 = lh.explore_level1_variance(quad)         # 5.5.q8: sigma_e01 can move above its fitted value
    assert level1.sliders["sigma_e01"].max > max(level1.sliders["sigma_e01"].value, 0)
    refit = lh.explore_refit(ess, "hedonism ~ 1 + (1 | country)")
    assert refit.sliders["groups"].min <= 5 and refit.sliders["size"].min <= 10    # 5.1.q12's two data sets
