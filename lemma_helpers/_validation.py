"""Input checks and learner-facing messages, kept in one place.

Every public function validates through the helpers here, so that a mistake
produces one clear message (what happened, why, what to do) instead of a
traceback from deep inside pandas, patsy or scipy.
"""
from __future__ import annotations

import difflib
import warnings
from typing import Iterable

import pandas as pd


class LemmaError(ValueError):
    """An error in what was asked of lemma_helpers, explained for a learner.

    In IPython (a notebook) it shows its message first, then the learner's line that called the
    package, without the package's own frames (``_tracebacks.py``)."""

    def _render_traceback_(self):
        from ._tracebacks import short_traceback

        return short_traceback(self)


class LemmaWarning(UserWarning):
    """A warning from lemma_helpers that a learner should read."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean 'x'?' for the closest choice, or ''."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" Did you mean '{close[0]}'?" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> LemmaError:
    """Build the error for a name that is not among the valid choices."""
    choices = list(choices)
    listed = ", ".join(repr(c) for c in choices)
    return LemmaError(f"Unknown {kind} {name!r}.{did_you_mean(name, choices)} Valid {kind}s: {listed}.")


def check_formula_first(formula, data, call: str) -> None:
    """Refuse the data and the formula given the other way round (``lh.fit(df, "y ~ x")``)."""
    if isinstance(formula, pd.DataFrame) and isinstance(data, str):
        shown = data if len(data) <= 60 else data[:57] + "..."
        raise TypeError(f"The formula comes first: {call}(formula, data). You gave the DataFrame first and the "
                        f"formula second; swap them: {call}({shown!r}, data=df), with your DataFrame for df.")


def check_dataframe(data, what: str = "data") -> pd.DataFrame:
    """Check that ``data`` is a non-empty DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"{what} must be a pandas DataFrame, got {type(data).__name__}. "
            "Load one with lh.load_dataset(name) or pd.read_csv(path)."
        )
    if len(data) == 0:
        raise LemmaError(f"{what} has no rows: there is nothing to fit or plot.")
    return data


def check_columns(data: pd.DataFrame, columns: Iterable[str], what: str = "data") -> None:
    """Raise a KeyError-like LemmaError naming any missing column, with a suggestion."""
    for col in columns:
        if col not in data.columns:
            raise LemmaError(
                f"Column {col!r} is not in {what}.{did_you_mean(col, data.columns)} "
                f"Columns available: {', '.join(map(str, data.columns))}."
            )


def warn(message: str, stacklevel: int = 3) -> None:
    """Issue a LemmaWarning pointing at the learner's cell."""
    warnings.warn(message, LemmaWarning, stacklevel=stacklevel)
