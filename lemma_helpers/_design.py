"""From a formula and a DataFrame to the matrices the engine needs.

A two-level formula is written as in lme4: ``y ~ fixed part + (random part | group)``.
The fixed part and the random part are ordinary patsy formulas, so anything
patsy accepts works there (``C(sclass)``, ``I(age - 46)``, interactions).
This module splits the formula, applies listwise deletion once for all the
pieces, and builds the design matrices on the rows that remain. Formulas made
of column names, ``C(column)`` and their products (most of them) are built
from the columns directly, exactly as patsy builds them but faster; patsy
builds everything else.
"""
from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy

from ._validation import LemmaError, check_columns, check_dataframe, did_you_mean, warn

_RANDOM_RE = re.compile(r"\(([^()|]*(?:\([^()]*\)[^()|]*)*)\|\s*([^()|]+?)\s*\)")

_NO_RANDOM_PART = (
    "The formula {formula!r} has no random part, so there is no second level to model. "
    "Write the grouping in brackets, as in lme4: for example "
    "'y ~ x + (1 | group)' for a random intercept, or 'y ~ x + (1 + x | group)' for a "
    "random slope on x. For a single-level regression use lh.fit_ols(formula, data)."
)


@dataclass(frozen=True)
class ParsedFormula:
    """The three pieces of a two-level formula."""

    response: str
    fixed: str          # patsy formula 'y ~ ...'
    random: str         # patsy right-hand side '~ 1 + x'
    group: str


def parse_formula(formula: str) -> ParsedFormula:
    """Split ``'y ~ x + (1 + x | g)'`` into its fixed part, random part and group.

    Examples
    --------
    >>> parse_formula("score ~ cohort90 + (1 + cohort90 | schoolid)")
    ParsedFormula(response='score', fixed='score ~ cohort90', random='~ 1 + cohort90', group='schoolid')
    """
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string such as 'y ~ x + (1 | group)', got {type(formula).__name__}.")
    if "~" not in formula:
        raise LemmaError(
            f"The formula {formula!r} has no '~'. Write the response on the left and the "
            "explanatory variables on the right, e.g. 'hedonism ~ age + (1 | country)'."
        )
    matches = list(_RANDOM_RE.finditer(formula))
    if not matches:
        raise LemmaError(_NO_RANDOM_PART.format(formula=formula))
    if len(matches) > 1:
        raise LemmaError(
            f"The formula {formula!r} has {len(matches)} random parts. This course fits "
            "two-level models with one grouping factor: put all random terms in one bracket, "
            "e.g. '(1 + x + z | group)'."
        )
    m = matches[0]
    random_rhs, group = m.group(1).strip(), m.group(2).strip()
    if not random_rhs:
        raise LemmaError(f"The random part in {formula!r} is empty; write '(1 | {group})' for a random intercept.")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", group):
        raise LemmaError(
            f"The grouping factor {group!r} should be a single column name (e.g. 'country'); "
            "create a column for it first if it is a combination."
        )
    rest = (formula[: m.start()] + formula[m.end():]).strip()
    lhs, rhs = (part.strip() for part in rest.split("~", 1))
    rhs = re.sub(r"\+\s*\+", "+", rhs).strip().strip("+").strip() or "1"
    if not lhs:
        raise LemmaError(f"The formula {formula!r} has no response on the left of '~'.")
    return ParsedFormula(response=lhs, fixed=f"{lhs} ~ {rhs}", random=f"~ {random_rhs}", group=group)


def _translate_patsy_error(exc: Exception, data: pd.DataFrame, formula: str) -> LemmaError:
    text = str(exc)
    name = re.search(r"name '([^']+)' is not defined", text)
    if name:
        col = name.group(1)
        return LemmaError(
            f"Column {col!r} (used in {formula!r}) is not in the data.{did_you_mean(col, data.columns)} "
            f"Columns available: {', '.join(map(str, data.columns))}."
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return LemmaError(f"Could not build the model from {formula!r}: {first}")


def _dmatrix(formula: str, data: pd.DataFrame, lhs: bool = False):
    try:
        if lhs:
            return patsy.dmatrices(formula, data, NA_action="drop", return_type="dataframe", eval_env=0)
        return patsy.dmatrix(formula, data, NA_action="drop", return_type="dataframe", eval_env=0)
    except patsy.PatsyError as exc:
        raise _translate_patsy_error(exc, data, formula) from None


def set_references(data: pd.DataFrame, reference: dict | None) -> pd.DataFrame:
    """Return data whose categorical columns put the chosen reference level first."""
    if not reference:
        return data
    if not isinstance(reference, dict):
        raise TypeError("reference must be a dict such as {'sclass': 'working'}.")
    check_columns(data, reference)
    data = data.copy()
    for col, level in reference.items():
        values = data[col]
        cats = list(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype) else sorted(values.dropna().unique())
        if level not in cats:
            raise LemmaError(
                f"{level!r} is not a level of {col!r}.{did_you_mean(level, cats)} "
                f"Levels: {', '.join(map(repr, cats))}."
            )
        data[col] = pd.Categorical(values, categories=[level] + [c for c in cats if c != level])
    return data


@dataclass(frozen=True)
class Design:
    """Design matrices on the complete cases, plus what is needed to rebuild them."""

    y: np.ndarray
    X: np.ndarray
    Z: np.ndarray
    Z1: np.ndarray | None
    groups: np.ndarray          # integer code of each row's group (0..G-1)
    group_names: list
    fixed_names: list
    random_names: list
    level1_names: list | None
    infos: _PatsyInfos        # patsy's DesignInfo of each part (for prediction), made when needed
    index: pd.Index             # the data rows used
    n_dropped: int
    response: str
    group: str

    @property
    def fixed_info(self):
        return self.infos.get()[1]

    @property
    def random_info(self):
        return self.infos.get()[2]

    @property
    def level1_info(self):
        infos = self.infos.get()
        return infos[3] if len(infos) > 3 else None


class _DropAndRecord(patsy.NAAction):
    """patsy's listwise deletion ("drop") that also remembers which rows it dropped."""

    def __init__(self):
        super().__init__(NA_types=["None", "NaN"])
        self.dropped = None

    def handle_NA(self, values, is_NAs, origins):
        if is_NAs:
            self.dropped = np.logical_or.reduce([np.asarray(m, dtype=bool) for m in is_NAs])
        return super().handle_NA(values, is_NAs, origins)


class _Columns(Mapping):
    """The data as patsy sees it: each column looked up by name, a column of strings handed over
    as a pandas Categorical (the same levels, but patsy then reads its codes instead of looking at
    every value in Python: 0.2 s on 25,000 rows), and ``C`` by our own version (names in the data
    are looked up before patsy's built-in functions)."""

    def __init__(self, data: pd.DataFrame):
        self._data = data

    def __getitem__(self, name):
        if name == "C" and "C" not in self._data.columns:
            return _categorical
        column = self._data[name]
        if not isinstance(column, pd.Series):
            return column
        if _is_text(column):
            return pd.Categorical(column)
        numbers = _numbers(column)           # as a numpy array, which patsy checks for missing
        return column if numbers is None else numbers    # values without pandas' overhead

    def __iter__(self):
        return iter(self._data.columns)

    def __len__(self):
        return self._data.shape[1]


def _categorical(data, contrast=None, levels=None):
    """patsy's ``C()``, faster: with no contrast or levels given, the column is handed to patsy
    as a pandas Categorical (numbers become one with their sorted distinct values as levels,
    as patsy would make them). patsy reads a Categorical's codes directly instead of looking at
    every value in Python (a tenth of a second on 36,000 rows), and does so only when it is
    not inside the box its own ``C()`` puts around the data. Columns and names are the same."""
    if contrast is None and levels is None:
        if isinstance(data, pd.Categorical) or isinstance(getattr(data, "dtype", None), pd.CategoricalDtype):
            return data
        if isinstance(data, np.ndarray) and data.ndim == 1 and data.dtype.kind in "iufb":
            return pd.Categorical(data)
        if isinstance(data, pd.Series) and (pd.api.types.is_numeric_dtype(data) or pd.api.types.is_bool_dtype(data)
                                            or _is_text(data)):
            return _as_categorical(data)
    if isinstance(data, np.ndarray):
        data = data.tolist()     # Python numbers, so that levels are named 0.0, not np.float64(0.0)
    return patsy.builtins.C(data, contrast, levels)


def _numbers(column: pd.Series):
    """A column of numbers as a numpy array, pandas' nullable Int64/Float64 as floats with NaN
    (patsy cannot read pd.NA); None for any other column (bool included: patsy makes categories
    of it)."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        return column.to_numpy() if dtype.kind in "iuf" else None
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return column.to_numpy(dtype=float, na_value=np.nan)
    return None


def _is_text(column: pd.Series) -> bool:
    """A column of strings (and missing values), which patsy treats as categories."""
    return ((column.dtype == object or pd.api.types.is_string_dtype(column.dtype))
            and not isinstance(column.dtype, pd.CategoricalDtype)
            and pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"))


def _as_categorical(column: pd.Series) -> pd.Series:
    """The column as a pandas Categorical with its sorted distinct values as levels, which is how
    patsy orders the levels it finds itself (missing values stay missing)."""
    return pd.Series(pd.Categorical(column), index=column.index, name=column.name)


# transforms whose result depends on the rows they see (patsy's stateful transforms)
_STATEFUL = re.compile(r"\b(center|standardize|scale)\(")


@functools.lru_cache(maxsize=512)
def _model_desc(formula: str):
    """patsy's parse of a formula into terms (kept: a course fits the same formulas again)."""
    return patsy.ModelDesc.from_formula(formula)


def _term_lists(formulas: list) -> list:
    """The term lists of the formulas, in order: a formula's response (if any) before its right side."""
    lists = []
    for formula in formulas:
        desc = _model_desc(formula)
        if desc.lhs_termlist:
            lists.append(desc.lhs_termlist)
        lists.append(desc.rhs_termlist)
    return lists


def _design_matrices(formulas: list, data: pd.DataFrame, what: str):
    """Build the designs of several formulas (response, fixed, random, level-1 parts) in one pass.

    patsy evaluates each variable once and drops a row missing in any of the pieces from all of
    them (listwise deletion). Returns the matrices (``patsy.DesignMatrix``, each with its
    ``design_info``) and a boolean mask of the rows dropped.
    """
    columns = _Columns(data)
    na_action = _DropAndRecord()
    try:
        infos = patsy.design_matrix_builders(_term_lists(formulas), lambda: iter([columns]), eval_env=0,
                                             NA_action=na_action)
        na_action.dropped = None
        matrices = patsy.build_design_matrices(infos, columns, NA_action=na_action)
    except patsy.PatsyError as exc:
        raise _translate_patsy_error(exc, data, what) from None
    dropped = np.zeros(len(data), dtype=bool) if na_action.dropped is None else na_action.dropped
    return matrices, dropped


def _depends_on_rows(matrices, data: pd.DataFrame, used: np.ndarray) -> bool:
    """Whether the designs could change when only the rows ``used`` are kept: a stateful
    transform such as center() (its mean is computed on the rows given), or a category that
    does not occur in the rows used (its column would be all zeros; R leaves such levels out)."""
    some_left_out = not used.all()
    for m in matrices:
        for factor, info in m.design_info.factor_infos.items():
            name = factor.name()
            if _STATEFUL.search(name) and some_left_out:
                return True
            if info.type != "categorical":
                continue
            column = _column_factor(name)
            if column is None or column[0] not in data.columns:
                if some_left_out:
                    return True                  # a category made by an expression: rebuild to be sure
                continue
            if data[column[0]][used].nunique() < len(info.categories):
                return True
    return False


class _PatsyInfos:
    """patsy's DesignInfo of each part of a design (response, fixed, random[, level-1]).

    A design built directly (see _direct_design) makes them only when first asked for
    (prediction at new data, variance functions): patsy then builds the same design from a
    few rows holding every level of every category, which costs a millisecond or two that
    most fits never need."""

    def __init__(self, infos=None, formulas=None, prototype=None):
        self._infos, self._formulas, self._prototype = infos, formulas, prototype

    def get(self):
        if self._infos is None:
            matrices, _ = _design_matrices(self._formulas, self._prototype(), " + ".join(self._formulas))
            self._infos = [m.design_info for m in matrices]
        return self._infos




_COLUMN_FACTOR = re.compile(r"C\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)|([A-Za-z_][A-Za-z0-9_]*)")


def _column_factor(code: str):
    """(column name, whether inside C()) for a factor that is a column name or C(column name);
    None for any other expression."""
    m = _COLUMN_FACTOR.fullmatch(code)
    return None if m is None else (m.group(1) or m.group(2), m.group(1) is not None)


class _Unsupported(Exception):
    """The direct design does not cover this formula or column: patsy builds it instead."""


def _factor_values(code: str, data: pd.DataFrame):
    """A factor of a formula as ('numerical', float values with NaN for missing, None, None) or
    ('categorical', codes with -1 for missing, levels, whether the levels are a pandas
    Categorical's own categories, in its order; otherwise they are the sorted distinct values of
    text or of C(numbers)). Raises _Unsupported for anything else."""
    found = _column_factor(code)
    if found is None:
        raise _Unsupported(code)
    name, boxed = found
    if name not in data.columns or (boxed and "C" in data.columns):
        raise _Unsupported(code)
    column = data[name]
    if not isinstance(column, pd.Series):
        raise _Unsupported(code)                 # a duplicated column name
    if isinstance(column.dtype, pd.CategoricalDtype):
        return ("categorical", *_codes(column), True)
    values = _numbers(column)
    if values is None:
        if _is_text(column):
            return ("categorical", *_codes(column), False)
        raise _Unsupported(code)                 # bool, dates, mixed objects: patsy's rules
    if boxed:                                    # C(numbers): the sorted distinct values are the levels
        codes, levels = pd.factorize(values, sort=True)
        return "categorical", codes.astype(np.int64), list(levels), False
    values = values.astype(float)
    return "numerical", values, None, None


def _ordered_terms(terms, kind):
    """patsy's order of the terms and coding of their categorical factor.

    patsy groups the terms by their set of numerical factors (the group without any first, the
    others in order of appearance) and sorts each group by the number of factors. Within a group
    a term with a categorical factor gets all of its levels (full rank) when the group has not
    yet had a term without categories (e.g. the intercept), and levels after the first (treatment
    contrasts) otherwise. Yields (term, categorical factor or None, full rank)."""
    buckets: dict = {}
    for term in terms:
        numeric = frozenset(f for f in term.factors if kind[f] == "numerical")
        if sum(kind[f] == "categorical" for f in term.factors) > 1:
            raise _Unsupported("an interaction of two categorical factors")
        buckets.setdefault(numeric, []).append(term)
    order = sorted(buckets, key=lambda b: len(b) > 0)          # stable: the empty set first
    for bucket in order:
        has_plain = False
        for term in sorted(buckets[bucket], key=lambda t: len(t.factors)):
            cat = next((f for f in term.factors if kind[f] == "categorical"), None)
            if cat is None:
                has_plain = True
                yield term, None, False
            else:
                yield term, cat, not has_plain
                has_plain = True


def _direct_design(formulas: list, data: pd.DataFrame, no_group: np.ndarray):
    """Build the designs of the formulas from the columns directly, without patsy's machinery:
    the same columns, names and complete cases as patsy, in a fraction of the time (patsy
    spends a millisecond or more per fit on its checks, which is most of a fit on small data).

    Covers formulas whose factors are column names and C(column name), with at most one
    categorical factor in a term (``x``, ``C(k)``, ``x:C(k)``, ``x * z``). Returns None for
    anything else, which patsy then builds. Returns the matrices (response first) on the rows
    used, their column names, the mask of rows used and a function that makes the prototype
    rows for _PatsyInfos."""
    try:
        term_lists = _term_lists(formulas)
        factors = {}
        for terms in term_lists:
            for term in terms:
                for factor in term.factors:
                    if factor not in factors:
                        factors[factor] = _factor_values(factor.code, data)
        kind = {f: v[0] for f, v in factors.items()}
        if len(term_lists[0]) != 1 or any(kind[f] != "numerical" for f in term_lists[0][0].factors):
            raise _Unsupported("the response")
        plans = [list(_ordered_terms(terms, kind)) for terms in term_lists]
    except (_Unsupported, patsy.PatsyError):
        return None

    missing = no_group.copy()
    for k, values, _, _ in factors.values():
        missing |= (values < 0) if k == "categorical" else np.isnan(values)
    used = ~missing
    n = int(used.sum())
    columns, names = {}, {}
    for factor, (k, values, levels, fixed) in factors.items():
        values = values[used]
        if k == "categorical":                   # a level not in the rows used is not a column
            values, levels = _only_present(values, levels)
        columns[factor], names[factor] = values, levels
    matrices, column_names = [], []
    for plan in plans:
        blocks, labels = [], []
        for term, cat, full in plan:
            numeric, pieces = None, []
            for factor in term.factors:
                if factor is not cat:
                    numeric = columns[factor] if numeric is None else numeric * columns[factor]
                    pieces.append(factor.name())
            if numeric is None:
                numeric = np.ones(n)
            if cat is None:
                blocks.append(numeric[:, None])
                labels.append(":".join(pieces) or "Intercept")
                continue
            levels = names[cat] if full else names[cat][1:]
            first = 0 if full else 1
            dummies = columns[cat][:, None] == np.arange(first, first + len(levels))
            blocks.append(dummies * numeric[:, None])
            where = term.factors.index(cat)
            for level in levels:
                piece = f"{cat.name()}[{'' if full else 'T.'}{level}]"
                labels.append(":".join(pieces[:where] + [piece] + pieces[where:]))
        matrices.append(np.column_stack(blocks) if blocks else np.zeros((n, 0)))
        column_names.append(labels)
    kinds = {factor: (k, fixed) for factor, (k, _, _, fixed) in factors.items()}
    return matrices, column_names, used, functools.partial(_prototype, kinds, names)


def _prototype(kinds: dict, levels: dict) -> pd.DataFrame:
    """A few rows on which patsy builds the same designs: each category's levels, in order."""
    size = max([len(v) for v in levels.values() if v is not None] + [1])
    frame = {}
    for factor, (kind, fixed) in kinds.items():
        name, boxed = _column_factor(factor.code)
        found = levels[factor]
        cycle = np.arange(size) % max(len(found or [0]), 1)
        if kind == "numerical":
            frame.setdefault(name, np.zeros(size))
        elif boxed and not fixed and found and not isinstance(found[0], str):
            frame[name] = np.asarray(found)[cycle]                      # C(numbers): the levels as numbers
        else:
            frame[name] = pd.Categorical.from_codes(cycle, categories=found)
    return pd.DataFrame(frame)


def build_design(formula: str, data: pd.DataFrame, level1: str | None = None,
                 reference: dict | None = None) -> Design:
    """Parse ``formula`` and build all design matrices on the rows complete for every piece."""
    check_dataframe(data)
    parsed = parse_formula(formula)
    check_columns(data, [parsed.group])
    data = set_references(data, reference)
    if parsed.group in parsed.fixed.split("~", 1)[1].replace(" ", "").split("+"):
        raise LemmaError(
            f"The grouping factor {parsed.group!r} is also in the fixed part. A group cannot be "
            "both a fixed effect (dummies) and a random effect; remove it from the fixed part."
        )
    formulas = [parsed.fixed, parsed.random]
    if level1 is not None:
        if not isinstance(level1, str) or not level1.strip().startswith("~"):
            raise LemmaError(
                f"level1 should be a right-hand-side formula such as '~ 1 + age' or '~ 0 + C(female)', got {level1!r}."
            )
        formulas.append(level1)
    group_codes, group_names = _codes(data[parsed.group])
    no_group = group_codes < 0
    direct = _direct_design(formulas, data, no_group)
    if direct is not None:
        arrays, names, used, prototype = direct
        infos = _PatsyInfos(formulas=formulas, prototype=prototype)
    else:
        arrays, names, used, infos = _patsy_design(formulas, data, no_group, formula)
    keep = data.index[used]
    n_dropped = len(data) - len(keep)
    if len(keep) == 0:
        raise LemmaError(f"No row of the data is complete for {formula!r}: every row has a missing value in some variable.")
    (y, X, Z), Z1 = arrays[:3], (arrays[3] if level1 is not None else None)
    X_names, Z_names = names[1:3]
    Z1_names = names[3] if level1 is not None else None
    if y.shape[1] != 1:
        raise LemmaError(
            f"The response {parsed.response!r} is not numeric (it became {y.shape[1]} columns). "
            "A multilevel linear model needs a numeric response; convert it with "
            f"data['{parsed.response}'].astype(float) if it holds numbers stored as text."
        )
    for name, columns in (("fixed", X_names), ("random", Z_names)):
        if not columns:
            raise LemmaError(f"The {name} part of {formula!r} has no terms.")
    if _rank(X) < X.shape[1]:
        raise LemmaError(_collinear_message(X, X_names))
    missing_fixed = [t for t in Z_names if t not in X_names]
    if missing_fixed:
        warn(
            f"The random term(s) {', '.join(map(repr, missing_fixed))} are not in the fixed part, so their "
            "group effects are deviations from zero rather than from an average effect. Usually "
            "every random term should also be a fixed term: add it to the fixed part.", stacklevel=4)
    codes, names = _only_present(group_codes[used], group_names)
    if len(names) < 2:
        raise LemmaError(
            f"The grouping column {parsed.group!r} has only {len(names)} group in the rows used, so "
            "there is no between-group variation to estimate. Check that you passed the whole "
            "dataset and the right grouping column."
        )
    return Design(
        y=y.ravel(), X=X, Z=Z, Z1=Z1,
        groups=np.asarray(codes, dtype=np.int64), group_names=names,
        fixed_names=list(X_names), random_names=list(Z_names),
        level1_names=None if Z1_names is None else list(Z1_names), infos=infos,
        index=keep, n_dropped=n_dropped, response=parsed.response, group=parsed.group,
    )


def _codes(column: pd.Series):
    """Integer codes (-1 where missing) and the sorted distinct values of a column (a
    Categorical's own categories, in their order)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.int64), list(column.cat.categories)
    codes, uniques = pd.factorize(column, sort=True)
    return codes.astype(np.int64), list(uniques)


def _only_present(codes: np.ndarray, levels: list):
    """The codes renumbered over the levels that occur in them, and those levels."""
    present = np.bincount(codes, minlength=len(levels)) > 0
    if present.all():
        return codes, levels
    return (np.cumsum(present) - 1)[codes], [lv for lv, keep in zip(levels, present) if keep]


def _patsy_design(formulas: list, data: pd.DataFrame, no_group: np.ndarray, formula: str):
    """The designs built by patsy (any formula patsy accepts): the matrices on the rows used,
    their column names, the mask of rows used and patsy's DesignInfo of each."""
    matrices, dropped = _design_matrices(formulas, data, formula)
    used = ~(dropped | no_group)
    if used.any() and _depends_on_rows(matrices, data, used):
        # rebuild on the complete cases so that category levels and stateful transforms agree
        rows = data[used].copy()
        for name, dtype in rows.dtypes.items():         # as R does: levels not in the rows used go
            if isinstance(dtype, pd.CategoricalDtype):
                rows[name] = rows[name].cat.remove_unused_categories()
        matrices, _ = _design_matrices(formulas, rows, formula)
        arrays = [np.asarray(m, dtype=float) for m in matrices]
    else:
        # patsy left out the rows missing a model variable; leave out those missing the group too
        has_group = ~no_group[~dropped]
        arrays = [np.asarray(m, dtype=float) if has_group.all() else np.asarray(m, dtype=float)[has_group]
                  for m in matrices]
    infos = [m.design_info for m in matrices]
    return arrays, [list(i.column_names) for i in infos], used, _PatsyInfos(infos=infos)


def _rank(X: np.ndarray) -> int:
    """The rank of X from the eigenvalues of the cross-product of its columns scaled to length 1:
    columns that are combinations of others up to a relative 1e-6 count as collinear. Much faster
    than the SVD of X (which np.linalg.matrix_rank computes) for the tall designs used here."""
    cross = X.T @ X
    norms = np.sqrt(np.diag(cross))
    norms = np.where(norms > 0, norms, 1.0)
    eig = np.linalg.eigvalsh(cross / np.outer(norms, norms))
    return int(np.sum(eig > 1e-12 * max(eig[-1], 1.0)))


def _collinear_message(X: np.ndarray, names: list) -> str:
    # find a column that is a combination of the ones before it
    culprits = []
    for j in range(1, X.shape[1]):
        if _rank(X[:, : j + 1]) <= _rank(X[:, :j]):
            culprits.append(names[j])
    which = ", ".join(map(repr, culprits)) or "some columns"
    return (
        f"The fixed part is perfectly collinear: {which} can be written exactly from the other "
        "terms, so its effect cannot be separated from theirs. Remove it, or remove the term it "
        "duplicates (for example a variable that is constant, or a dummy for every category "
        "together with the intercept)."
    )


def rebuild(info, data: pd.DataFrame, drop_missing: bool = False):
    """Evaluate a stored patsy design on new data (for prediction and variance functions).

    With ``drop_missing`` rows with a missing value are left out and the index of
    the rows kept is returned too.
    """
    data = _nullable_as_float(data)
    try:
        if drop_missing:
            frame = patsy.build_design_matrices([info], data, NA_action="drop", return_type="dataframe")[0]
            return frame.to_numpy(dtype=float), frame.index
        return np.asarray(patsy.build_design_matrices([info], data, NA_action="raise")[0], dtype=float)
    except patsy.PatsyError as exc:
        raise _translate_patsy_error(exc, data, " + ".join(info.term_names)) from None


def _nullable_as_float(data: pd.DataFrame) -> pd.DataFrame:
    """The data with pandas' nullable number columns (Int64, Float64) as floats with NaN, which
    patsy can read (it fails on pd.NA)."""
    nullable = [c for c, dtype in data.dtypes.items()
                if not isinstance(dtype, (np.dtype, pd.CategoricalDtype)) and _numbers(data[c]) is not None]
    if not nullable:
        return data
    data = data.copy()
    for c in nullable:
        data[c] = _numbers(data[c])
    return data


def sample_fingerprint(index: pd.Index, y) -> str:
    """A fingerprint of the rows and response a model used, so that LR tests can check
    that two models were fitted on the same sample."""
    h = hashlib.sha1()
    h.update(np.asarray(index.astype(str)).astype("U").tobytes())
    h.update(np.ascontiguousarray(y, dtype=float).tobytes())
    return h.hexdigest()
