"""Per-student variants of the data: each student's code gives them their own version of a dataset.

* **Codes.** The instructor makes each student's code with ``lemma-grade
  codes`` (:mod:`lemma_helpers.grade.codes`); a learner only types it in
  (:func:`normalise_code` reads it as typed).
* **Variant data.** ``variant_frame(name, df, code)`` keeps a random subset of
  the groups of a course dataset (15 of the 20 ESS countries, 300 of the 508
  schools, 50 of the 65 Exam schools), chosen by a generator seeded from the
  dataset's name and the code alone, so the student (who has the code) and the
  grader (who recomputes it) get the same rows on every machine. Every row of a
  kept group is kept: models fit as they do on the full data.
* **Computed keys.** A numeric question may say how its answer is computed
  from the data (``compute:`` in the bank, :mod:`lemma_helpers.answers`); the
  grader computes it on each student's variant.
"""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

from ._validation import LemmaError

KEEP_GROUPS = {"ess_hedonism": 15, "ssls": 300, "exam": 50}
UNITS = {"ess_hedonism": "countries", "ssls": "schools", "exam": "schools"}
_CODE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}$")


def normalise_code(code: str) -> str:
    """``'abcd efgh'`` -> ``'ABCD-EFGH'``; a malformed code is an error that says what a code looks like."""
    if not isinstance(code, str):
        raise TypeError(f"A variant code is a string such as 'ABCD-EFGH', got {type(code).__name__}.")
    text = re.sub(r"[\s_-]+", "", code).upper()
    if len(text) != 8 or not re.fullmatch(r"[A-Z2-7]{8}", text):
        raise LemmaError(f"{code!r} is not a variant code: a code has 8 letters and digits 2-7, such as "
                         "'ABCD-EFGH'. Copy it exactly as your instructor gave it.")
    return f"{text[:4]}-{text[4:]}"


def _seed(name: str, code: str) -> int:
    return int.from_bytes(hashlib.sha256(f"lemma-variant-data\0{name}\0{code}".encode()).digest()[:8], "big")


def variant_frame(name: str, df: pd.DataFrame, code: str, group: str) -> pd.DataFrame:
    """The rows of the groups that ``code`` keeps (see the module docstring)."""
    code = normalise_code(code)
    if name not in KEEP_GROUPS:
        raise LemmaError(f"Dataset {name!r} has no variants; variants exist for {', '.join(KEEP_GROUPS)}.")
    groups = sorted(df[group].dropna().unique(), key=str)
    keep = min(KEEP_GROUPS[name], len(groups))
    rng = np.random.default_rng(_seed(name, code))
    chosen = set(np.asarray(groups, dtype=object)[np.sort(rng.choice(len(groups), size=keep, replace=False))])
    out = df[df[group].isin(chosen)].copy()
    if isinstance(out[group].dtype, pd.CategoricalDtype):
        out[group] = out[group].cat.remove_unused_categories()
    return out.reset_index(drop=True)
