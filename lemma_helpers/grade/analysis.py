"""Item analysis: what the class got wrong, question by question, from the scored results of a run.

For each question of the gradebook, over the students who handed something in:

``answered``
    how many answered it;
``facility``
    the mean share of its points earned (a question not answered earns 0):
    1 is a question everyone got right, under 0.3 a hard one;
``discrimination``
    the corrected item-total correlation: Pearson's correlation between the
    question's share of points and each student's total on the *other*
    questions. Near 0, the question does not separate stronger from weaker
    students; negative, stronger students got it wrong more often, which is
    usually a wrong key or a misleading wording. Empty when it cannot be
    computed (fewer than 3 students, or everyone scored the same);
``wrong_1`` ... ``wrong_3``
    the most common wrong answers, how many gave each, and the feedback it
    earned: the misconception the question bank names for it.

:func:`item_analysis` computes (no drawing, no files); :func:`draw` makes
the figure; :func:`write_item_analysis` writes ``item_analysis.csv`` and
``item_analysis.png``. The summary names the questions with facility under
0.3 or negative discrimination.
"""
from __future__ import annotations

import csv
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .text import clean_text, csv_safe

LOW_FACILITY = 0.3
TOP_WRONG = 3


@dataclass(frozen=True)
class ItemStats:
    question: str
    points: float
    students: int                   # students with a submission
    answered: int
    correct: int
    facility: float
    discrimination: float | None
    wrong: list = field(default_factory=list)    # [(answer text, count, feedback)], most common first


def answer_label(answer) -> str:
    """An answer as counted among the wrong ones: numbers to 4 significant digits, choices sorted."""
    if isinstance(answer, bool):
        return str(answer)
    if isinstance(answer, (int, float)):
        return f"{answer:.4g}"
    if isinstance(answer, (list, tuple)):
        return ", ".join(sorted(answer_label(a) for a in answer))
    if isinstance(answer, str):
        return clean_text(answer, 80)
    return clean_text(json.dumps(answer, sort_keys=True, default=str), 80)


def correlation(xs: list, ys: list) -> float | None:
    """Pearson's correlation, or None when either has no spread or there are fewer than 3 pairs."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def item_analysis(graded: list, columns: list, key: dict) -> list:
    """One :class:`ItemStats` per question of ``columns``, from a run's :class:`~.run.Graded` results
    (``g.marks``: question -> Mark; ``g.sub.status``); ``key`` gives each question's points."""
    present = [g for g in graded if g.sub.status != "missing"]
    if not present or not columns:
        return []
    share = {c: [(g.marks[c].points / key[c].points if c in g.marks and key[c].points else 0.0) for g in present]
             for c in columns}
    totals = [sum(g.marks[c].points for c in columns if c in g.marks) for g in present]
    stats = []
    for c in columns:
        given = [g.marks[c] for g in present if c in g.marks]
        rest = [t - (g.marks[c].points if c in g.marks else 0.0) for t, g in zip(totals, present)]
        wrong = Counter(answer_label(m.answer) for m in given if not m.correct)
        said = {}
        for m in given:
            if not m.correct:
                said.setdefault(answer_label(m.answer), clean_text(m.feedback.split("\n")[0], 200))
        stats.append(ItemStats(c, key[c].points, len(present), len(given), sum(1 for m in given if m.correct),
                               sum(share[c]) / len(present), correlation(share[c], rest),
                               [(a, n, said[a]) for a, n in wrong.most_common(TOP_WRONG)]))
    return stats


CSV_COLUMNS = ["question", "points", "students", "answered", "correct", "facility", "discrimination"] + [
    f"wrong_{i}{part}" for i in range(1, TOP_WRONG + 1) for part in ("", "_count", "_feedback")]


def write_csv(path: Path, stats: list) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for s in stats:
            wrong = []
            for i in range(TOP_WRONG):
                a, n, fb = s.wrong[i] if i < len(s.wrong) else ("", "", "")
                wrong += [csv_safe(a), n, csv_safe(fb)]
            w.writerow([s.question, f"{s.points:g}", s.students, s.answered, s.correct, f"{s.facility:.3f}",
                        "" if s.discrimination is None else f"{s.discrimination:.3f}", *wrong])


def draw(stats: list, path: Path) -> None:
    """Facility and discrimination of each question, side by side, with the thresholds the summary uses."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s.question for s in stats]
    ys = list(range(len(stats)))[::-1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 1.2 + 0.32 * len(stats)), sharey=True)
    fac = [s.facility for s in stats]
    left.barh(ys, fac, color=["#c0504d" if f < LOW_FACILITY else "#4f81bd" for f in fac])
    left.axvline(LOW_FACILITY, color="grey", ls="--", lw=1)
    left.set(xlim=(0, 1), xlabel="facility (share of points earned)", yticks=ys)
    left.set_yticklabels(names)
    disc = [s.discrimination if s.discrimination is not None else 0.0 for s in stats]
    right.barh(ys, disc, color=["#c0504d" if d < 0 else "#9bbb59" for d in disc])
    right.axvline(0, color="grey", lw=1)
    for y, s in zip(ys, stats):
        if s.discrimination is None:
            right.text(0.03, y, "not computable (no spread)", va="center", fontsize=8, color="grey")
    right.set(xlim=(-1, 1), xlabel="discrimination (corrected item-total r)")
    fig.suptitle(f"Item analysis: {stats[0].students if stats else 0} students")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_item_analysis(folder: Path, stats: list) -> list:
    """``item_analysis.csv`` and ``item_analysis.png`` in ``folder``; returns their names for the summary."""
    write_csv(folder / "item_analysis.csv", stats)
    try:
        draw(stats, folder / "item_analysis.png")
    except Exception as err:   # noqa: BLE001 - the figure never stops a grading run
        return [f"item_analysis.csv (the figure could not be drawn: {clean_text(err, 80)})"]
    return ["item_analysis.csv", "item_analysis.png"]
