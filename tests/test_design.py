"""The direct design (built from the columns without patsy's machinery) against patsy's own:
the same columns, names, values and complete cases, on many formulas, and patsy's DesignInfo
made from it when prediction needs one."""
import itertools

import numpy as np
import pandas as pd
import pytest

import lemma_helpers as lh
from lemma_helpers.model import design as _design
from lemma_helpers.model.design import build_design


@pytest.fixture(scope="module")
def mixed():
    """Columns of every kind the direct design covers, with missing values in most of them."""
    rng = np.random.default_rng(11)
    n = 240
    g = rng.integers(0, 12, n)
    frame = pd.DataFrame({
        "y": rng.normal(size=n),
        "x": rng.normal(size=n),
        "z": rng.normal(size=n),
        "k": rng.integers(1, 4, n),                                   # int64, 1..3
        "f": rng.integers(0, 3, n).astype(float),                     # float codes
        "word": rng.choice(["low", "mid", "high"], n),                # text
        "cat": pd.Categorical(rng.choice(["b", "a", "c"], n), categories=["c", "a", "b"]),
        "nul": pd.array(rng.integers(0, 5, n), dtype="Int64"),        # nullable integers
        "g": [f"s{i}" for i in g],
    })
    frame.loc[frame.index[::9], "x"] = np.nan
    frame.loc[frame.index[4::17], "word"] = None
    frame.loc[frame.index[6::23], "f"] = np.nan
    frame.loc[frame.index[2::31], "nul"] = pd.NA
    frame.loc[frame.index[3::29], "g"] = None
    # a level of `word` seen only in rows that are dropped (x is missing there)
    frame.loc[frame.index[0], "word"] = "rare"
    return frame


FIXED = ["y ~ x", "y ~ 1", "y ~ 0 + x", "y ~ x + z + x:z", "y ~ x * z", "y ~ word", "y ~ x + word",
         "y ~ word + x", "y ~ C(k)", "y ~ x + C(k) + C(f)", "y ~ 0 + C(k)", "y ~ 0 + word + C(k)",
         "y ~ x + C(k):x", "y ~ C(k):x", "y ~ x:C(k)", "y ~ x + z:word", "y ~ cat + nul", "y ~ C(nul)",
         "y ~ x * C(k)", "y ~ z + x:z:C(f)", "y ~ k + C(k)", "y ~ x - 1 + word", "y ~ cat:x + word:z"]
RANDOM = ["~ 1", "~ 1 + x", "~ 0 + C(k)", "~ 1 + word"]


def _patsy(formulas, data, no_group):
    return _design._patsy_design(formulas, data, no_group, " + ".join(formulas))


@pytest.mark.parametrize("fixed,random", list(itertools.product(FIXED, RANDOM)))
def test_direct_design_is_patsys(mixed, fixed, random):
    formulas = [fixed, random, "~ 1 + C(f)"]
    no_group = mixed["g"].isna().to_numpy()
    direct = _design._direct_design(formulas, mixed, no_group)
    assert direct is not None, "this formula should be built directly"
    arrays, names, used, prototype = direct
    p_arrays, p_names, p_used, _ = _patsy(formulas, mixed, no_group)
    assert names == p_names
    assert np.array_equal(used, p_used)
    for ours, theirs in zip(arrays, p_arrays):
        assert ours.shape == theirs.shape
        assert np.array_equal(ours, theirs)
    # patsy's DesignInfo, made when first needed, has the same columns and predicts the same
    lazy = _design._PatsyInfos(formulas=formulas, prototype=prototype).get()
    assert [list(i.column_names) for i in lazy] == names
    rows = mixed[used]
    for info, ours in zip(lazy[1:], arrays[1:]):
        assert np.array_equal(_design.rebuild(info, rows), ours)


@pytest.mark.parametrize("fixed", ["y ~ I(x - 1)", "y ~ np.log(z + 10)", "y ~ C(k, Treatment(2))",
                                   "y ~ word:C(k)", "y ~ center(x)", "y ~ flag", "y ~ mixedobj"])
def test_other_formulas_are_left_to_patsy(mixed, fixed):
    data = mixed.assign(flag=mixed["x"] > 0, mixedobj=[1, "a"] * (len(mixed) // 2))
    no_group = data["g"].isna().to_numpy()
    assert _design._direct_design([fixed, "~ 1"], data, no_group) is None


def test_fits_through_both_paths_agree(mixed):
    """A fit built directly equals the fit of the same model built by patsy (through I())."""
    direct = lh.fit("y ~ x + word + (1 + x | g)", data=mixed)
    through_patsy = lh.fit("y ~ I(x + 0) + word + (1 + I(x + 0) | g)", data=mixed)
    assert direct.n_obs == through_patsy.n_obs
    assert direct.loglik == pytest.approx(through_patsy.loglik, abs=1e-9)
    assert np.allclose(direct.fixed["estimate"].to_numpy(), through_patsy.fixed["estimate"].to_numpy())


def test_prediction_from_a_direct_design(mixed):
    m = lh.fit("y ~ x + C(k) + word + (1 + x | g)", data=mixed)
    new = pd.DataFrame({"x": [0.5, -1.0], "k": [3, 1], "word": ["mid", "low"], "g": ["s1", "nobody"]})
    pred = m.predict(new)
    beta = m.fixed["estimate"]
    expected = beta["Intercept"] + 0.5 * beta["x"] + beta["C(k)[T.3]"] + beta["word[T.mid]"]
    assert pred["fixed"].iloc[0] == pytest.approx(expected)
    assert pred["group_specific"].iloc[1] == pytest.approx(pred["fixed"].iloc[1])


def test_reference_categories_in_a_direct_design(mixed):
    """reference= puts a level first (a pandas Categorical), inside C() and out, numbers or text."""
    formulas = ["y ~ x + C(k) + word", "~ 1", "~ 1"]
    data = _design.set_references(mixed, {"k": 3, "word": "mid"})
    no_group = data["g"].isna().to_numpy()
    arrays, names, _, prototype = _design._direct_design(formulas, data, no_group)
    assert names[1] == ["Intercept", "C(k)[T.1]", "C(k)[T.2]", "word[T.high]", "word[T.low]", "x"]
    p_arrays, p_names, _, _ = _patsy(formulas, data, no_group)
    assert names == p_names and all(np.array_equal(a, b) for a, b in zip(arrays, p_arrays))
    lazy = _design._PatsyInfos(formulas=formulas, prototype=prototype).get()
    assert list(lazy[1].column_names) == names[1]
    m = lh.fit("y ~ x + C(k) + word + (1 | g)", data=mixed, reference={"k": 3, "word": "mid"})
    pred = m.predict(pd.DataFrame({"x": [0.0], "k": [3], "word": ["mid"], "g": ["s1"]}))
    assert pred["fixed"].iloc[0] == pytest.approx(m.fixed["estimate"]["Intercept"])


@pytest.mark.parametrize("fixed", ["y ~ x + cat", "y ~ x + I(cat)"])
def test_an_unused_category_is_left_out_as_in_R(mixed, fixed):
    """A pandas Categorical with a category that no row used has (R's drop.unused.levels), by
    both the direct design and patsy's."""
    data = mixed.assign(cat=mixed["cat"].cat.add_categories(["never"]))
    m = lh.fit(fixed + " + (1 | g)", data=data)
    assert not any("never" in name for name in m.fixed_terms)
    assert len(m.fixed_terms) == 4


def _random_case(seed):
    """Random data (floats, integers, text, pandas Categoricals with their own order and unused
    categories, nullable integers; missing values) and random formulas over them."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 80))
    frame, categorical = {"y": rng.normal(size=n)}, set()
    for i in range(6):
        name, kind = f"v{i}", rng.choice(["float", "int", "text", "cat", "catnum", "nullable"])
        if kind == "float":
            col = np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n))
        elif kind == "int":
            col = rng.integers(0, rng.integers(2, 6), n)
        elif kind == "text":
            col = rng.choice(["a", "b", "c", "d"][: rng.integers(2, 5)], n).astype(object)
            col[rng.random(n) < 0.1] = None
        elif kind == "cat":
            levels = ["x", "y", "z", "w"][: rng.integers(2, 5)]
            order = list(rng.permutation(levels)) + (["unused"] if rng.random() < 0.3 else [])
            col = pd.Categorical(rng.choice(levels, n), categories=order)
        elif kind == "catnum":
            col = pd.Categorical(rng.integers(1, 4, n), categories=[3, 1, 2])
        else:
            col = pd.array(rng.integers(0, 4, n), dtype="Int64")
            col[rng.random(n) < 0.1] = pd.NA
        frame[name] = col
        if kind in ("text", "cat", "catnum"):
            categorical.add(name)
    names = [f"v{i}" for i in range(6)]

    def formula(lhs):
        terms = []
        for _ in range(rng.integers(1, 5)):
            picked = [f"C({v})" if rng.random() < 0.3 else str(v)
                      for v in rng.choice(names, rng.integers(1, 3), replace=False)]
            if sum(p.startswith("C(") or p in categorical for p in picked) > 1 and rng.random() < 0.8:
                picked = picked[:1]
            terms.append(str(rng.choice([":", "*"])).join(picked))
        rhs = " + ".join(terms)
        rhs = rng.choice([rhs, rhs, rhs, "0 + " + rhs, rhs + " - 1"])
        return f"{lhs} ~ {rhs}" if lhs else f"~ {rhs}"

    formulas = [formula("y"), formula(None)] + ([formula(None)] if rng.random() < 0.3 else [])
    return pd.DataFrame(frame), formulas, rng.random(n) < 0.05


def test_direct_design_is_patsys_on_random_formulas():
    """300 random data sets and formulas (5,000 were checked once: 3,931 built directly, no difference): wherever
    the direct design applies, it is patsy's design, column for column."""
    direct_cases = 0
    for seed in range(300):
        data, formulas, no_group = _random_case(seed)
        direct = _design._direct_design(formulas, data, no_group)
        if direct is None:
            continue
        direct_cases += 1
        arrays, names, used, prototype = direct
        p_arrays, p_names, p_used, _ = _patsy(formulas, data, no_group)
        assert names == p_names, (seed, formulas)
        assert np.array_equal(used, p_used), (seed, formulas)
        assert all(np.array_equal(a, b) for a, b in zip(arrays, p_arrays)), (seed, formulas)
        lazy = _design._PatsyInfos(formulas=formulas, prototype=prototype).get()
        assert [list(i.column_names) for i in lazy] == names, (seed, formulas)
    assert direct_cases > 180


@pytest.mark.parametrize("fixed", ["y ~ x + C(k) + b", "y ~ x + C(k, Treatment(2.0))", "y ~ x + C(flag)",
                                   "y ~ x + C(word) + center(z)", "y ~ x + C(k):x"])
def test_design_matrices_are_patsys(small, fixed):
    """The one-pass design (our C() hands numbers to patsy as a Categorical) gives patsy's own
    columns, names and complete cases, with missing values in a C() column and in x."""
    import patsy

    data = small.copy()
    rng = np.random.default_rng(3)
    data["k"] = rng.integers(0, 3, len(data)).astype(float)
    data.loc[data.index[::7], "k"] = np.nan
    data.loc[data.index[::11], "x"] = np.nan
    data["flag"] = data["b"] > 0
    data["word"] = np.where(data["b"] > 0, "high", "low")
    # b: a number written plainly in the fixed part and inside C() in the level-1 part
    d = build_design(fixed + " + (1 + x | g)", data, level1="~ 0 + C(b)")
    y_df, X_df = patsy.dmatrices(fixed, data, NA_action="drop", return_type="dataframe")
    assert d.fixed_names == list(X_df.columns)
    assert list(d.index) == list(X_df.index)
    # patsy's own design on the complete cases (stateful transforms and levels from those rows)
    y_df, X_df = patsy.dmatrices(fixed, data.loc[d.index], return_type="dataframe")
    assert np.array_equal(d.X, X_df.to_numpy())
    assert np.array_equal(d.y, y_df.to_numpy().ravel())
    assert d.level1_names == ["C(b)[0.0]", "C(b)[1.0]"]


def test_a_category_seen_only_in_dropped_rows_is_not_a_column(small):
    data = small.copy()
    data["level"] = np.where(data["b"] > 0, "high", "low")
    data.loc[data.index[:3], "level"] = "rare"
    data.loc[data.index[:3], "x"] = np.nan
    m = lh.fit("y ~ x + level + (1 | g)", data=data)
    assert m.fixed_terms == ["Intercept", "level[T.low]", "x"]
    assert m.n_dropped == 3


def test_nullable_integer_columns_work_like_floats(small):
    """pandas' nullable Int64 (what read_csv gives with dtype_backend) with a missing value."""
    data = small.copy()
    data["k"] = pd.array(np.arange(len(data)) % 4, dtype="Int64")
    data.loc[data.index[5], "k"] = pd.NA
    m = lh.fit("y ~ x + k + (1 | g)", data=data)
    assert m.n_dropped == 1
    same = lh.fit("y ~ x + k + (1 | g)", data=data.astype({"k": "float64"}))
    assert m.loglik == pytest.approx(same.loglik, abs=1e-9)


def test_a_column_named_C_still_works(small):
    data = small.assign(C=small["x"] * 2)
    m = lh.fit("y ~ C + (1 | g)", data=data)
    assert "C" in m.fixed.index
