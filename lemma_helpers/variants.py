"""Per-student variants of the data: each student's code gives them their own version of a dataset.

* **Codes.** The instructor makes each student's code with ``lemma-grade
  codes`` (:mod:`lemma_helpers.grade.codes`); a learner only types it in
  (:func:`normalise_code` reads it as typed).
* **Variant data.** ``variant_frame(name, df, code)`` keeps a random subset of
  the groups of a course dataset (13 to 17 of the 20 ESS countries, 250 to 350
  of the 508 schools, 40 to 55 of the 65 Exam schools) and puts the response on
  a scale of its own (``a * y + b``, ``a`` between 0.8 and 1.25), after moving
  each kept group by a shift of its own (normal, with a variance drawn for the
  code: up to 0.6 times the full data's between-group variance) and each row
  by noise of its own (up to 0.5 times the within-group variance; 0.2 for Exam), all chosen by
  a generator seeded from the dataset's name and the code alone, so the student
  (who has the code) and the grader (who recomputes it) get the same rows on
  every machine. Every row of a kept group is kept: models fit as they do on
  the full data. The change of scale changes every estimate that has units (a
  coefficient, a variance); the groups' shifts and the rows' noise add variance
  at both levels, which moves the ones that have none (a VPC, a proportion of
  variance explained), so that one student's answers are not another's.
* **Computed keys.** A numeric question may say how its answer is computed
  from the data (``compute:`` in the bank, :mod:`lemma_helpers.answers`); the
  grader computes it on each student's variant.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import LemmaError

@dataclass(frozen=True)
class Variation:
    """How a dataset varies between students: how many groups are kept, and the response's change of scale."""

    groups: tuple        # (fewest, most) groups kept
    response: str        # the response, rescaled as a * y + b
    shift: float         # b is drawn from [-shift, shift]
    units: str           # what the groups are, for messages
    between: float       # about the full data's between-group variance: the unit of the groups' own shifts
    within: float        # about the full data's within-group variance: the unit of the rows' own noise
    noise: float = 0.5   # the rows' noise has variance c * within, c drawn uniformly from [0, noise]
    digits: int = 3      # the rescaled response is rounded to this many decimals


VARIATIONS = {
    "ess_hedonism": Variation((13, 17), "hedonism", 0.3, "countries", 0.09, 0.885),
    "ssls": Variation((250, 350), "score", 5.0, "schools", 61.0, 258.0),
    "exam": Variation((40, 55), "normexam", 0.3, "schools", 0.17, 0.85, noise=0.2),   # its random slope is weak
}
SCALE = (0.8, 1.25)      # a is drawn log-uniformly from this range
EXTRA = (0.0, 0.6)       # each group's shift has variance d * between, d drawn uniformly from this range
KEEP_GROUPS = {name: v.groups for name, v in VARIATIONS.items()}       # the datasets that have variants
UNITS = {name: v.units for name, v in VARIATIONS.items()}
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
    """The rows of the groups that ``code`` keeps, with the response on the code's scale (see the module
    docstring)."""
    code = normalise_code(code)
    if name not in VARIATIONS:
        raise LemmaError(f"Dataset {name!r} has no variants; variants exist for {', '.join(VARIATIONS)}.")
    v = VARIATIONS[name]
    groups = sorted(df[group].dropna().unique(), key=str)
    rng = np.random.default_rng(_seed(name, code))
    keep = min(int(rng.integers(v.groups[0], v.groups[1] + 1)), len(groups))
    chosen = set(np.asarray(groups, dtype=object)[np.sort(rng.choice(len(groups), size=keep, replace=False))])
    scale = float(np.exp(rng.uniform(np.log(SCALE[0]), np.log(SCALE[1]))))
    shift = float(rng.uniform(-v.shift, v.shift))
    extra = float(rng.uniform(*EXTRA)) * v.between
    kept = sorted(chosen, key=str)
    own = dict(zip(kept, rng.normal(0.0, np.sqrt(extra), size=len(kept))))   # each kept group's own shift
    out = df[df[group].isin(chosen)].copy()
    if isinstance(out[group].dtype, pd.CategoricalDtype):
        out[group] = out[group].cat.remove_unused_categories()
    noise = float(rng.uniform(0.0, v.noise)) * v.within
    moved = out[v.response] + out[group].map(own).astype(float) + rng.normal(0.0, np.sqrt(noise), size=len(out))
    out[v.response] = (scale * moved + shift).round(v.digits)
    return out.reset_index(drop=True)
