"""Each student's own numbers and keys: questions on given numbers, and questions on the data.

A numeric question of the bank is one of three kinds:

* **on the data** (``compute:``): its answer is computed from models fitted to
  the data; on a student's variant of the data (:mod:`lemma_helpers.variants`)
  it is computed again (:func:`lemma_helpers.answers.compute_values`), and its
  prompt speaks of "your data", never quoting a number of the full data;
* **on given numbers** (``params:`` and ``formula:``): the prompt quotes
  numbers, written ``{name}``; each has a default (the self-test's number) and
  may be drawn afresh for each student's code (``draw: [low, high]``), and the
  key is the formula on the student's numbers;
* **fixed** (neither): the same key for everyone.

``params:`` of a question::

    params:
      n: {value: 5, draw: [3, 12], digits: 0}        # drawn per student, shown as a whole number
      raw: {value: 0.60, draw: [0.3, 0.9], digits: 2}
      s2u: {value: 0.08977, digits: 5}                 # the same for everyone
    formula: "s2u / (s2u + s2e / n) * raw"

:func:`params_for` gives a question's numbers for a code, :func:`render` puts
them into a prompt or an explanation, and :func:`keys_for` gives the keys of
several questions for one code, fitting each model once.
"""
from __future__ import annotations

import functools
import hashlib
import re

import numpy as np

from ._bank import Key, Question, fill
from .answers import compute_values, evaluate

def _draw(section: str, name: str, code: str, low: float, high: float) -> float:
    """A number drawn for ``code``: the same for every question of a section that quotes a number of this name
    (so that "with the same estimates" means the same numbers), another for another code."""
    seed = int.from_bytes(hashlib.sha256(f"lemma-params\0{section}\0{name}\0{code}".encode()).digest()[:8], "big")
    return float(np.random.default_rng(seed).uniform(low, high))


def params_for(q: Question, code: str | None) -> dict:
    """The numbers of a question on given numbers: the defaults, or (with a code) each student's own draw,
    rounded to the digits shown, so that the prompt and the key use the same numbers."""
    if not q.params:
        return {}
    out = {}
    for name in sorted(q.params):
        spec = q.params[name]
        value = spec["value"]
        if code and spec.get("draw"):
            value = _draw(q.section, name, code, *spec["draw"])
        digits = int(spec.get("digits", 4))
        out[name] = int(round(value)) if digits == 0 else round(float(value), digits)
    return out


def render(text: str, q: Question, params: dict, answer: float | None = None) -> str:
    """``text`` with each ``{name}`` of the question's numbers (and ``{answer}``) written in."""
    return fill(text, q.params or {}, params, answer)


def _from_params(q: Question, code: str | None, points: float) -> Key:
    p = params_for(q, code)
    value = evaluate(q.formula, p)
    tol = (q.key.high - q.key.low) / 2
    distractors = tuple((evaluate(f, p) - t, evaluate(f, p) + t, render(fb, q, p))
                        for f, t, fb in q.formula_distractors)
    return Key(points=points, low=value - tol, high=value + tol, distractors=distractors,
               explanation=render(q.templates["explanation"], q, p, value))


def _from_data(q: Question, value: float, distractors: list, code: str, points: float, routes: dict) -> Key:
    tol = float(q.compute["tolerance"])
    wrong = [(d - spec.get("tolerance", tol), d + spec.get("tolerance", tol), spec["feedback"])
             for d, spec in zip(distractors, q.compute.get("distractors") or [])]
    reml = routes.get(q.id)
    if reml is not None and abs(reml - value) > 2 * tol:
        wrong.append((reml - tol, reml + tol, "That is the REML estimate: the question asks for maximum "
                                              "likelihood, lh.fit's default (leave out reml=True)."))
    return Key(points=points, low=value - tol, high=value + tol, distractors=tuple(wrong),
               explanation=f"Computed from the models on your variant of the data ({code}): {value:.6g}.")


def keys_for(questions: list, code: str | None, points: dict | None = None, *, routes: bool = True) -> dict:
    """``{question id: Key}`` for ``questions`` on the variant ``code``: the data's questions computed on the
    variant (with the REML route as a named wrong answer), the given-number questions on the code's numbers,
    the others as they are. ``points`` overrides a question's points (an assignment's)."""
    points = points or {}
    keys = {}
    on_data = [q for q in questions if q.compute]
    results = compute_values([q.compute for q in on_data], code) if on_data else []
    reml = {}
    if routes and on_data:
        reml = {q.id: v for q, (v, _) in zip(on_data, compute_values([q.compute for q in on_data], code,
                                                                       reml=True))}
    for q, (value, distractors) in zip(on_data, results):
        keys[q.id] = _from_data(q, value, distractors, code or "full data", points.get(q.id, q.key.points), reml)
    for q in questions:
        if q.id in keys:
            continue
        worth = points.get(q.id, q.key.points)
        keys[q.id] = _from_params(q, code, worth) if q.params else Key(
            points=worth, correct=q.key.correct, low=q.key.low, high=q.key.high, accept=q.key.accept,
            distractors=q.key.distractors, explanation=q.key.explanation)
    return keys


def prompt_for(q: Question, code: str | None, part: str = "prompt") -> str:
    """The question's prompt (or ``part="hint"``) as the student with ``code`` sees it (their own numbers)."""
    if not q.templates or not code:
        return q.prompt if part == "prompt" else q.hint
    return render(q.templates[part], q, params_for(q, code))


def own_key(q: Question, code: str | None) -> Key:
    """The key of ``q`` for the student with ``code`` (the bank's key without a code, or when it does not vary)."""
    if not code or not varies(q):
        return q.key
    return _own_key(q.id, code)


@functools.lru_cache(maxsize=512)
def _own_key(qid: str, code: str) -> Key:
    from ._bank import question

    return keys_for([question(qid)], code, routes=False)[qid]


def varies(q: Question) -> bool:
    """Whether a question's key differs between students' variants."""
    return bool(q.compute) or any(s.get("draw") for s in (q.params or {}).values())


# --------------------------------------------------------------------------
# Choice questions: each student's own order of the options
# --------------------------------------------------------------------------

def option_order(q: Question, code: str | None) -> list:
    """The original labels of a choice question's options in the order the student with ``code`` sees them
    (labelled a, b, c, ... in that order); without a code, the bank's order."""
    labels = q.labels
    if not code or q.type not in ("single", "multiple"):
        return labels
    seed = int.from_bytes(hashlib.sha256(f"lemma-options\0{q.id}\0{code}".encode()).digest()[:8], "big")
    return [labels[i] for i in np.random.default_rng(seed).permutation(len(labels))]


def shown_options(q: Question, code: str | None) -> list:
    """``[(shown label, Option)]``: the options as the student with ``code`` sees them."""
    by_label = {o.label: o for o in q.options}
    return [(shown, by_label[original]) for shown, original in zip(q.labels, option_order(q, code))]


def original_answer(q: Question, answer, code: str | None):
    """A student's answer to a choice question, in the labels they saw, turned into the bank's labels (anything
    that is not a label is left as it is, for the scoring to explain)."""
    if not code or q.type not in ("single", "multiple"):
        return answer
    to_original = dict(zip(q.labels, option_order(q, code)))

    def one(label):
        if isinstance(label, str) and label.strip().strip("()").strip().casefold() in to_original:
            return to_original[label.strip().strip("()").strip().casefold()]
        return label

    if isinstance(answer, str) and q.type == "multiple" and len(answer.strip()) > 1:
        parts = [p for p in re.split(r"[,;\s]+", answer) if p]
        if len(parts) == 1 and all(ch in to_original for ch in parts[0].casefold()):
            parts = list(parts[0].casefold())
        return [one(p) for p in parts]
    if isinstance(answer, (list, tuple)):
        return [one(a) for a in answer]
    return one(answer)
