"""From a formula and a DataFrame to the matrices the engine needs.

A two-level formula is written as in lme4: ``y ~ fixed part + (random part | group)``.
The fixed part and the random part are ordinary patsy formulas, so anything
patsy accepts works there (``C(sclass)``, ``I(age - 46)``, interactions).
This module splits the formula, applies listwise deletion once for all the
pieces, and builds the design matrices on the rows that remain. Formulas made
of column names, ``C(column)`` and their products (most of them) are built
from the columns directly, exactly as patsy builds them but faster
(``design_direct.py``); patsy builds everything else (``design_patsy.py``).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy

from .._validation import LemmaError, check_columns, check_dataframe, did_you_mean, warn
from .design_direct import _codes, _direct_design, _only_present
from .design_patsy import _numbers, _PatsyInfos, _patsy_design, _translate_patsy_error


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
    if "||" in formula:
        raise LemmaError(
            f"The formula {formula!r} uses '||', lme4's shorthand for random effects that are "
            "uncorrelated (their covariances fixed at 0). lh.fit does not fit that: its random part "
            "estimates every variance and every covariance. Write '(1 + x | group)' for a random "
            "intercept and a random slope on x with their covariance (notebook 04), or '(1 | group)' "
            "for a random intercept alone."
        )
    matches = list(_RANDOM_RE.finditer(formula))
    if not matches:
        raise LemmaError(_NO_RANDOM_PART.format(formula=formula))
    if len(matches) > 1:
        raise LemmaError(
            f"The formula {formula!r} has {len(matches)} random parts. This course fits "
            "two-level models with one grouping factor and one bracket: put all random terms in it, "
            "e.g. '(1 + x + z | group)', which also estimates their covariances (lh.fit cannot hold "
            "a covariance at 0, as lme4's '(1 | group) + (0 + x | group)' does)."
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
