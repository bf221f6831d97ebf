"""Per-student variants: each student gets a code, their own version of the data, and their own key.

* **Codes.** ``student_code(secret, assignment, student)`` is a short code made
  from an HMAC-SHA256 of the assignment and student ids under the instructor's
  secret: the same inputs always give the same code, and nobody can compute
  another student's code without the secret.
* **Variant data.** ``variant_frame(name, df, code)`` keeps a random subset of
  the groups of a course dataset (15 of the 20 ESS countries, 300 of the 508
  schools, 50 of the 65 Exam schools), chosen by a generator seeded from the
  dataset's name and the code alone, so the student (who has the code) and the
  grader (who recomputes it) get the same rows on every machine. Every row of a
  kept group is kept: models fit as they do on the full data.
* **Computed keys.** A numeric question may say how its answer is computed
  from the data (``compute:`` in the bank); :func:`compute_value` fits the
  models it names on a student's variant and returns the number.

The ``compute:`` specification of a question::

    compute:
      dataset: ssls                        # a course dataset
      models:                              # names for lh.fit formulas (fitted by maximum likelihood)
        m0: "score ~ 1 + (1 | schoolid)"
        m1: "score ~ cohort90 + (1 | schoolid)"
      value: {quantity: vpc, model: m0}    # what the answer is (see QUANTITIES)
      tolerance: 0.002                     # absolute

Quantities: ``vpc``, ``level2_var``, ``level1_var`` (of ``model``),
``fixed`` and ``se`` (of ``term`` in ``model``), ``lr`` (the likelihood-ratio
statistic of ``models: [smaller, bigger]``), ``reduction_level2`` and
``reduction_level1`` (the proportional fall in a variance from ``models[0]`` to
``models[1]``), ``n_groups`` and ``n_obs``.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re

import numpy as np
import pandas as pd

from ._validation import LemmaError

KEEP_GROUPS = {"ess_hedonism": 15, "ssls": 300, "exam": 50}
QUANTITIES = ("vpc", "level2_var", "level1_var", "fixed", "se", "lr", "reduction_level2", "reduction_level1",
              "n_groups", "n_obs")
_CODE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}$")


def student_code(secret: bytes, assignment: str, student: str) -> str:
    """The variant code of ``student`` for ``assignment``: 8 characters of base32, as ``ABCD-EFGH``."""
    digest = hmac.new(secret, f"lemma-variant\0{assignment}\0{student}".encode(), hashlib.sha256).digest()
    text = base64.b32encode(digest).decode()[:8]
    return f"{text[:4]}-{text[4:]}"


def normalise_code(code: str) -> str:
    """``'abcd efgh'`` -> ``'ABCD-EFGH'``; a malformed code is an error that says what a code looks like."""
    if not isinstance(code, str):
        raise TypeError(f"A variant code is a string such as 'ABCD-EFGH', got {type(code).__name__}.")
    text = re.sub(r"[\s_-]+", "", code).upper()
    if len(text) != 8 or not re.fullmatch(r"[A-Z2-7]{8}", text):
        raise LemmaError(f"{code!r} is not a variant code: a code has 8 letters and digits 2-7, such as "
                         "'ABCD-EFGH'. Copy it exactly as your instructor gave it.")
    return f"{text[:4]}-{text[4:]}"


def read_secret(path) -> bytes:
    """The instructor's assignment secret from a file (at least 16 characters)."""
    from pathlib import Path

    try:
        secret = Path(path).read_bytes().strip()
    except OSError as err:
        raise LemmaError(f"Cannot read the secret file {str(path)!r}: {err.strerror}.") from None
    if len(secret) < 16:
        raise LemmaError(f"The secret in {Path(path).name} is too short ({len(secret)} characters): use at least "
                         "16 random characters, e.g. python -c \"import secrets; print(secrets.token_urlsafe(24))\".")
    return secret


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


def check_spec(spec: dict, where: str) -> None:
    """Checks of a ``compute:`` specification that the schema cannot express."""
    models = spec.get("models") or {}
    value = spec.get("value") or {}
    q = value.get("quantity")
    if q not in QUANTITIES:
        raise LemmaError(f"{where}: compute.value.quantity must be one of {', '.join(QUANTITIES)}, not {q!r}.")
    named = value.get("models") if q in ("lr", "reduction_level2", "reduction_level1") else [value.get("model")]
    if q in ("lr", "reduction_level2", "reduction_level1") and (not isinstance(named, list) or len(named) != 2):
        raise LemmaError(f"{where}: compute.value for {q} needs models: [smaller, bigger].")
    missing = [m for m in named if m not in models]
    if missing:
        raise LemmaError(f"{where}: compute.value names model(s) {', '.join(map(repr, missing))} that "
                         f"compute.models does not define (it defines {', '.join(models) or 'none'}).")
    if q in ("fixed", "se") and not isinstance(value.get("term"), str):
        raise LemmaError(f"{where}: compute.value for {q} needs term: (a fixed-part term such as cohort90).")


@functools.lru_cache(maxsize=4096)
def _fit(dataset: str, code: str | None, formula: str):
    from .datasets import load_dataset
    from .model import fit

    return fit(formula, data=load_dataset(dataset, variant=code))


def compute_value(spec: dict, code: str | None) -> float:
    """The answer a ``compute:`` specification gives on the variant ``code`` (None: the full data)."""
    value = spec["value"]
    fits = lambda name: _fit(spec["dataset"], code, spec["models"][name])  # noqa: E731
    q = value["quantity"]
    if q == "vpc":
        return float(fits(value["model"]).vpc())
    if q == "level2_var":
        return float(fits(value["model"]).level2_cov.iloc[0, 0])
    if q == "level1_var":
        return float(fits(value["model"]).level1_var)
    if q in ("fixed", "se"):
        table = fits(value["model"]).fixed
        if value["term"] not in table.index:
            raise LemmaError(f"compute: term {value['term']!r} is not in the model; its terms are "
                             f"{', '.join(table.index)}.")
        return float(table.loc[value["term"], "estimate" if q == "fixed" else "std_err"])
    if q in ("n_groups", "n_obs"):
        return float(getattr(fits(value["model"]), q))
    small, big = (fits(m) for m in value["models"])
    if q == "lr":
        return float(2 * (big.loglik - small.loglik))
    if q == "reduction_level2":
        return float(1 - big.level2_cov.iloc[0, 0] / small.level2_cov.iloc[0, 0])
    return float(1 - big.level1_var / small.level1_var)
