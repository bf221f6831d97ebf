"""Assignments for ``lemma-grade``: which questions count, for how many points, against which key.

An assignment file (YAML) names the questions of one graded piece of work::

    assignment: quiz-5.1            # an id: letters, digits, '-', '_', '.'
    title: Quiz on comparing groups
    due: 2026-12-10                 # optional; shown in the feedback
    mode: summative                 # or formative (the default)
    partial_credit: true            # choose-all-that-apply questions earn a share (default false)
    questions:                      # question ids, whole sections, or ids with points
      - 5.1.q1
      - 5.1.q2: {points: 2}
      - section: P5.1
    key:                            # optional: replacement answers, as in a --key file
      5.1.q1: {value: 0.105, tolerance: 0.001}
    variants: false                 # true: per-student data and keys (docs/VARIANTS.md)
    written: {1: 2, default: 1}     # points of the written answers (Markdown cells tagged `answer`), by
                                    # item number in the notebook; items not listed: default (1)
    moodle: {maximum_grade: 10}     # Moodle's "Maximum grade" of the assignment: points are scaled to it
    canvas: {assignment_id: 12345}  # the Canvas assignment to fill (its column "Title (12345)")

``lemma-grade DIR --assignment A.yaml`` then grades exactly these questions,
with these points, in this order: the gradebook has a fixed set of columns
and a fixed maximum, and answers to any other question are ignored (the
feedback lists them as not part of the assignment). ``lemma-grade template
--sections 5.1 P5.1`` writes a starting file with every question and its
shipped answer, for the instructor to edit.

Partial credit (``partial_credit: true``) for a choose-all-that-apply
question: ``points x max(0, right options chosen / right options - wrong
options chosen / wrong options)``, so each right option earns its share,
each wrong one costs its share, and choosing every option earns nothing.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .. import _bank as B
from .._validation import LemmaError
from ..variant_keys import keys_for, varies

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FIELDS = ("assignment", "title", "due", "mode", "partial_credit", "questions", "key", "variants", "written",
           "moodle", "canvas")


@dataclass(frozen=True)
class Assignment:
    """A graded piece of work: its questions in order, their keys and points, and how it is graded."""

    id: str
    title: str
    questions: tuple
    keys: dict = field(default_factory=dict)        # question id -> Key (points included)
    due: str = ""
    mode: str = "formative"
    partial_credit: bool = False
    variants: bool = False      # each student gets a variant of the data (a code) and their own computed keys
    written: dict = field(default_factory=dict)     # written item number -> points (others: written_default)
    written_default: float = 1.0
    moodle_maximum: float | None = None             # Moodle's maximum grade, to scale the points to
    canvas_id: str = ""                             # the Canvas assignment's id

    def written_points(self, item: int) -> float:
        """The points of written answer ``item`` (1, 2, ... in the notebook)."""
        return self.written.get(int(item), self.written_default)

    @property
    def max_points(self) -> float:
        return float(sum(self.keys[q].points for q in self.questions))

    @property
    def summative(self) -> bool:
        return self.mode == "summative"


def _fail(path: str, msg: str) -> LemmaError:
    return LemmaError(f"{path}: {msg}")


def load_assignment(path: str | Path) -> Assignment:
    """Read and check an assignment file; every mistake is reported with what to write instead."""
    path = Path(path)
    where = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise LemmaError(f"Cannot read the assignment file {str(path)!r}: {err.strerror}.") from None
    except yaml.YAMLError as err:
        raise _fail(where, f"not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise _fail(where, "an assignment file is a YAML mapping with at least `assignment:` and `questions:`.")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise _fail(where, f"unknown field(s) {', '.join(map(repr, unknown))}; the fields are {', '.join(_FIELDS)}.")
    aid = data.get("assignment")
    if not isinstance(aid, str) or not _ID.match(aid):
        raise _fail(where, "`assignment:` must be a short id such as quiz-5.1 (letters, digits, '-', '_', '.').")
    mode = data.get("mode", "formative")
    if mode not in ("formative", "summative"):
        raise _fail(where, f"`mode:` is formative or summative, not {mode!r}.")
    partial = data.get("partial_credit", False)
    if not isinstance(partial, bool):
        raise _fail(where, "`partial_credit:` is true or false.")
    due = data.get("due", "")
    if isinstance(due, (dt.date, dt.datetime)):
        due = due.isoformat()
    if not isinstance(due, str):
        raise _fail(where, "`due:` is a date such as 2026-12-10.")
    items = data.get("questions")
    if not isinstance(items, list) or not items:
        raise _fail(where, "`questions:` must list question ids (5.1.q1), sections ({section: 5.1}) "
                           "or ids with points (5.1.q2: {points: 2}).")
    order, points = [], {}
    for item in items:
        if isinstance(item, str):
            order.append(_qid(item, where))
        elif isinstance(item, dict) and set(item) == {"section"}:
            try:
                section = B._canonical_section(str(item["section"]))
            except LemmaError as err:
                raise _fail(where, str(err)) from None
            order += [q.id for q in B._bank()[section][1]]
        elif isinstance(item, dict) and len(item) == 1:
            (qid, spec), = item.items()
            qid = _qid(str(qid), where)
            if not (isinstance(spec, dict) and set(spec) == {"points"} and isinstance(spec["points"], (int, float))
                    and not isinstance(spec["points"], bool) and spec["points"] > 0):
                raise _fail(where, f"{qid}: write `- {qid}: {{points: 2}}` (a positive number of points).")
            order.append(qid)
            points[qid] = float(spec["points"])
        else:
            raise _fail(where, f"cannot read the question entry {item!r}: write an id (5.1.q1), "
                               "{section: 5.1} or an id with points (5.1.q2: {points: 2}).")
    twice = sorted({q for q in order if order.count(q) > 1})
    if twice:
        raise _fail(where, f"question(s) listed more than once: {', '.join(twice)}.")
    keys = {q: B.question(q).key for q in order}
    overrides = data.get("key") or {}
    if not isinstance(overrides, dict):
        raise _fail(where, "`key:` maps question ids to answers, as in a key file.")
    B._schema_check(overrides, "keyfile", f"{where} (key:)") if overrides else None
    for raw, spec in overrides.items():
        qid = _qid(str(raw), where)
        if qid not in keys:
            raise _fail(where, f"`key:` gives an answer for {qid}, which is not among the assignment's questions.")
        keys[qid] = B._override(B.question(qid), spec, f"{where}, key {qid}")
    for qid, pts in points.items():
        keys[qid] = replace(keys[qid], points=pts)
    variants = data.get("variants", False)
    if not isinstance(variants, bool):
        raise _fail(where, "`variants:` is true or false.")
    if variants and not any(varies(B.question(q)) for q in order):
        raise _fail(where, "`variants: true` needs at least one question with a compute: rule or with params: "
                           "drawn per student, so that keys differ between students (see docs/VARIANTS.md); none of "
                           "the listed questions has one.")
    title = data.get("title") or aid
    written, default = _written(data.get("written"), where)
    moodle, canvas = _platforms(data, where)
    return Assignment(aid, str(title), tuple(order), keys, due, mode, partial, variants, written, default,
                      moodle, canvas)


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0


def _written(spec, where: str) -> tuple:
    """``({item: points}, default)`` from ``written: {1: 2, 3: 0.5, default: 1}``."""
    if spec is None:
        return {}, 1.0
    how = "`written:` gives the points of written answers by item number, e.g. `written: {1: 2, default: 1}`"
    if not isinstance(spec, dict):
        raise _fail(where, how + ".")
    points, default = {}, 1.0
    for item, pts in spec.items():
        if not _positive(pts) and not (item != "default" and pts == 0):
            raise _fail(where, f"{how}; {item}: {pts!r} is not a positive number.")
        if item == "default":
            default = float(pts)
        elif isinstance(item, int) and not isinstance(item, bool) and item >= 1:
            points[item] = float(pts)
        else:
            raise _fail(where, f"{how}; {item!r} is not an item number (1, 2, ...) or default.")
    return points, default


def _platforms(data: dict, where: str) -> tuple:
    """Moodle's maximum grade and the Canvas assignment id, from ``moodle:`` and ``canvas:``."""
    moodle, canvas = data.get("moodle") or {}, data.get("canvas") or {}
    if not (isinstance(moodle, dict) and set(moodle) <= {"maximum_grade"}
            and (not moodle or _positive(moodle["maximum_grade"]))):
        raise _fail(where, "`moodle:` is `{maximum_grade: 10}`: the assignment's Maximum grade in Moodle "
                           "(Grade > Type: Point), a positive number.")
    cid = canvas.get("assignment_id") if isinstance(canvas, dict) else None
    if not (isinstance(canvas, dict) and set(canvas) <= {"assignment_id"}
            and (not canvas or (isinstance(cid, (int, str)) and str(cid).isdigit()))):
        raise _fail(where, "`canvas:` is `{assignment_id: 12345}`: the number at the end of the assignment's "
                           "address in Canvas (.../assignments/12345).")
    maximum = float(moodle["maximum_grade"]) if moodle else None
    return maximum, str(cid) if cid is not None else ""


def _qid(text: str, where: str) -> str:
    try:
        return B.question(text).id
    except LemmaError as err:
        raise _fail(where, str(err)) from None


def with_key_file(a: Assignment, overrides: dict) -> Assignment:
    """The assignment with answers from a ``--key`` file replacing its own (points stay the assignment's)."""
    keys = dict(a.keys)
    for qid, key in overrides.items():
        if qid in keys:
            keys[qid] = replace(key, points=keys[qid].points)
    return replace(a, keys=keys)


def template(sections: list, *, assignment: str = "my-assignment", mode: str = "summative") -> str:
    """A starting assignment file: every question of ``sections`` with its shipped answer, to edit.

    A summative template gives each student a variant (``variants: true``): every question on the data or
    on given numbers then has a key of each student's own, computed at grading, so it has no line under
    ``key:``; the other questions keep their shipped answers there (see :func:`public_keys`).
    """
    secs = [B._canonical_section(s) for s in sections]
    summative = mode == "summative"
    lines = ["# Assignment file for lemma-grade (see docs/GRADING.md). Edit it: remove the questions you do",
             "# not want, change points, and replace the shipped answers under key: (students have those).",
             f"assignment: {assignment}", f"title: {assignment}", "due: ''", f"mode: {mode}",
             "partial_credit: false"]
    if summative:
        lines += ["# each student gets a code (lemma-grade codes), their own data, numbers and order of options",
                  "variants: true"]
    lines.append("questions:")
    qs = [q for s in secs for q in B._bank()[s][1]]
    lines += [f"  - {q.id}" if q.key.points == 1 else f"  - {q.id}: {{points: {q.key.points:g}}}" for q in qs]
    lines.append("key:")
    for q in qs:
        if summative and varies(q):
            lines.append(f"  # {q.id}: each student's own key ({'on their data' if q.compute else 'on their numbers'})")
        else:
            lines.append(f"  {q.id}: {_spec(q)}   # {q.type}: {_one_line(q.prompt)}")
    return "\n".join(lines) + "\n"


def public_keys(sections: list) -> list:
    """The questions of ``sections`` whose key is the same for every student and ships with the package."""
    return [q.id for s in sections for q in B._bank()[B._canonical_section(s)][1] if not varies(q)]


def _spec(q) -> str:
    k = q.key
    if q.type in ("single", "multiple"):
        labels = sorted(k.correct)
        return f"{{correct: {labels[0]}}}" if q.type == "single" else "{correct: [" + ", ".join(labels) + "]}"
    if q.type == "numeric":
        return f"{{min: {k.low:.6g}, max: {k.high:.6g}}}"
    return "{accept: [" + ", ".join(yaml.safe_dump(a, default_style='"').strip() for a in k.accept) + "]}"


def _one_line(text: str, limit: int = 70) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[:limit - 3] + "..."


def partial_points(chosen: Any, correct: frozenset, labels: list, points: float) -> float:
    """Partial credit for a choose-all-that-apply answer (see the module docstring)."""
    hits = len(set(chosen) & set(correct))
    false = len(set(chosen) - set(correct))
    wrong_options = len(set(labels) - set(correct))
    return points * max(0.0, hits / len(correct) - (false / wrong_options if wrong_options else 0.0))


def variant_keys(a: Assignment, code: str) -> dict:
    """The keys of one student's variant: every question on the data computed on the data of ``code``, every
    question on given numbers on the code's numbers, the others the assignment's key (its points kept)."""
    questions = [B.question(qid) for qid in a.questions]
    varying = [q for q in questions if varies(q)]
    keys = dict(a.keys)
    keys.update(keys_for(varying, code, {q.id: a.keys[q.id].points for q in varying}))
    return keys
