"""patsy's side of the design: any formula patsy accepts, in one pass for all parts of a model.

The fixed part, the random part and the level-1 function of a model are built together, so that
patsy evaluates each variable once and a row missing in any part is dropped from all of them
(listwise deletion). The data are handed to patsy through :class:`_Columns`, which makes patsy
read columns of text and ``C(numbers)`` as pandas Categoricals (their codes, not every value in
Python). Formulas of plain columns skip patsy altogether (``design_direct.py``), but their
patsy DesignInfo, needed for prediction, is made here when first asked for.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import patsy

from .._validation import LemmaError, did_you_mean


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
