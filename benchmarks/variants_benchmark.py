"""Per-student variants of the whole question bank: the cost of every student's keys, and whether they tell
students apart.

Run with ``make bench BENCH=variants`` (or ``python benchmarks/variants_benchmark.py`` with ``LEMMA_DATA_DIR``
set). ``BENCH_STUDENTS`` (default 40, at least 30) is the sample of codes the pass rates are measured on;
``BENCH_CLASS`` (default 300) the class whose keys are held in memory at once; ``BENCH_BUDGET`` (default 600
s): when the class would take longer than this, only the sample is computed and the class's memory is
extrapolated from it (the README then says so).

Every question of the shipped bank whose key varies between students (``variant_keys.varies``: the
``compute:`` questions, computed on each student's variant of the data, and the ``params:`` questions,
on numbers drawn from the code) gets its key for each student code (``lemma-grade``'s codes,
``grade.codes.student_code``), as the grader makes it (``variant_keys.keys_for``, the REML route
included, so each model is fitted twice). Measured:

* the time of one student's keys, the first in a fresh process (imports, the data files read) and each
  later one (every fit made afresh: keys_for keeps no fitted model), and for the whole class;
* the peak resident memory (``ru_maxrss``) of this process holding every key of the class, the resident
  memory before the first key, and the size of the keys themselves (tracemalloc, of a copy);
* for each varying question, the classmate pass rate (of the ordered pairs of distinct codes (a, b),
  the share for which b's right answer, the centre of b's accepted interval, is inside a's; target
  under 1%) and the full-data pass rate (of the codes, the share whose key accepts the answer computed
  on the full data, the self-test's number, code None; target under 2%), on the sample and on the class;
* the fits that came with a warning (``MultilevelResult.notes`` other than dropped rows: a boundary
  estimate, a singular covariance matrix, a level-1 function close to 0, no convergence; and Python
  warnings), among the variant fits.

Every question that misses a target is listed with its rates, its tolerance (the half-width of its
accepted interval) and the largest tolerance that would meet both targets on the class. Writes the
figures into ``benchmarks/README.md`` between the variants markers. A measurement, not a test: the other
work on this shared machine shows in the times (the load average is printed).
"""
from __future__ import annotations

import os
import pickle
import platform
import re
import resource
import statistics
import sys
import time
import tracemalloc
import warnings
from datetime import date
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from readme_section import write_section  # noqa: E402

import lemma_helpers.model as M  # noqa: E402
from lemma_helpers import _bank as B  # noqa: E402
from lemma_helpers.grade.codes import student_code  # noqa: E402
from lemma_helpers.variant_keys import keys_for, varies  # noqa: E402

CLASSMATE_TARGET = 0.01
FULL_TARGET = 0.02
MEMORY_TARGET_MB = 500
SECRET = b"benchmark-secret-0123456789-variants"
ASSIGNMENT = "bench-variants"
INFORMATIONAL = re.compile(r"rows with a missing value were dropped")


# --------------------------------------------------------------------------
# The questions and the codes
# --------------------------------------------------------------------------

def varying_questions() -> list:
    """Every question of the shipped bank (not of extra banks) whose key differs between students."""
    origins = B._origins()
    return [q for sec, (_, qs) in B._bank().items() if origins.get(sec) is None for q in qs if varies(q)]


def codes_for(n: int) -> list:
    """``n`` distinct codes, as ``lemma-grade codes`` makes them for a roster s0000, s0001, ..."""
    codes = [student_code(SECRET, ASSIGNMENT, f"s{i:04d}") for i in range(n)]
    if len(set(codes)) != n:
        raise SystemExit("two students share a code: pick another secret")
    return codes


# --------------------------------------------------------------------------
# Every fit, with its notes and warnings
# --------------------------------------------------------------------------

class FitLog:
    """The fits made while the keys are computed: how many, how long, and the ones with a warning."""

    def __init__(self):
        self.code = None          # whose keys are being computed
        self.fits = []            # (code, formula, reml, seconds, warning texts)
        self.overhead = 0.0       # seconds spent reading notes (taken off the key times)

    def install(self):
        real = M.fit

        def recording(formula, data, **kw):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                t = time.perf_counter()
                m = real(formula, data=data, **kw)
                took = time.perf_counter() - t
            t = time.perf_counter()
            notes = [n for n in m.notes if not INFORMATIONAL.search(n)]
            notes += [f"{w.category.__name__}: {w.message}" for w in caught]
            self.fits.append((self.code, formula, bool(kw.get("reml")), took, notes))
            self.overhead += time.perf_counter() - t
            return m
        M.fit = recording          # answers.compute_values looks up lemma_helpers.model.fit at each call
        return real


def rss_mb() -> float:
    """The resident memory of this process now (MB)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------
# The keys of the class
# --------------------------------------------------------------------------

def one_student(questions: list, code: str | None, log: FitLog) -> tuple:
    """``(keys, seconds)`` of one student (the time spent reading fit notes taken off)."""
    log.code, before = code, log.overhead
    t = time.perf_counter()
    keys = keys_for(questions, code)
    return keys, time.perf_counter() - t - (log.overhead - before)


def class_keys(questions: list, codes: list, n: int, budget: float, log: FitLog) -> dict:
    """Every student's keys, held together: the sample of ``n`` first, then the rest of the class when the
    sample's pace says it fits in ``budget`` seconds."""
    out = {"rss_start": rss_mb(), "keys": [], "seconds": []}
    for i, code in enumerate(codes):
        if i == n:
            estimate = statistics.median(out["seconds"][1:]) * (len(codes) - n)
            out["estimate_rest"] = estimate
            if estimate > budget:
                print(f"the rest of the class would take about {estimate:.0f} s (budget {budget:.0f} s): "
                      "memory extrapolated from the sample", flush=True)
                break
        keys, secs = one_student(questions, code, log)
        out["keys"].append(keys)
        out["seconds"].append(secs)
        if i == 0:
            out["rss_first"] = rss_mb()
        if (i + 1) % 50 == 0 or i + 1 == n:
            print(f"  keys for {i + 1} students: {sum(out['seconds']):.1f} s", flush=True)
    out["peak_after"], out["rss_after"] = peak_mb(), rss_mb()
    out["keys_mb"] = keys_size_mb(out["keys"])
    return out


def keys_size_mb(keys: list) -> float:
    """The memory the keys themselves take: a copy of them, made under tracemalloc."""
    blob = pickle.dumps(keys)
    tracemalloc.start()
    copy = pickle.loads(blob)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del copy
    return size / 2**20


# --------------------------------------------------------------------------
# Pass rates
# --------------------------------------------------------------------------

def intervals(keys: list, qid: str) -> tuple:
    """``(low, high, centre)`` arrays of one question over the students."""
    low = np.array([k[qid].low for k in keys], dtype=float)
    high = np.array([k[qid].high for k in keys], dtype=float)
    return low, high, (low + high) / 2


def classmate_rate(low, high, centre) -> float:
    """Of the ordered pairs (a, b) of distinct students, the share for which b's right answer is in a's
    interval."""
    inside = (low[:, None] <= centre[None, :]) & (centre[None, :] <= high[:, None])
    n = len(centre)
    return float((inside.sum() - np.trace(inside)) / (n * (n - 1)))


def full_rate(low, high, full: float) -> float:
    """The share of students whose key accepts the full-data answer."""
    return float(np.mean((low <= full) & (full <= high)))


def widest_tolerance(centre, full: float) -> float:
    """The largest tolerance (half-width) under which both rates would meet their targets (about: a
    quantile of the distances between answers; 0 when equal answers alone break a target)."""
    d = np.abs(centre[:, None] - centre[None, :])[~np.eye(len(centre), dtype=bool)]
    tiny = 1e-12 * max(1.0, abs(full))                 # equal answers that differ by rounding only
    d[d < tiny] = 0.0
    classmate = float(np.quantile(d, CLASSMATE_TARGET, method="lower"))
    to_full = np.abs(centre - full)
    to_full[to_full < tiny] = 0.0
    to_full = float(np.quantile(to_full, FULL_TARGET, method="lower"))
    return min(classmate, to_full)


def rates(questions: list, keys: list, full_keys: dict, n: int) -> list:
    """One row per varying question: its kind, tolerance, spread and pass rates on the sample and the
    class."""
    rows = []
    for q in questions:
        low, high, centre = intervals(keys, q.id)
        full = (full_keys[q.id].low + full_keys[q.id].high) / 2
        rows.append({
            "id": q.id, "kind": f"data: {q.compute['dataset']}" if q.compute else "numbers",
            "tol": float(np.median(high - low) / 2), "full": full,
            "lowest": float(centre.min()), "highest": float(centre.max()),
            "distinct": len(np.unique(np.round(centre[:n], 12))),
            "mate_n": classmate_rate(low[:n], high[:n], centre[:n]),
            "full_n": full_rate(low[:n], high[:n], full),
            "mate_all": classmate_rate(low, high, centre), "full_all": full_rate(low, high, full),
            "widest": widest_tolerance(centre, full),
            "shipped_ok": q.key.low - 1e-9 <= full <= q.key.high + 1e-9})
    return rows


def misses_on_class(row: dict) -> bool:
    return row["mate_all"] >= CLASSMATE_TARGET or row["full_all"] >= FULL_TARGET


def misses(row: dict) -> list:
    """Which targets a question misses, and on which sample."""
    out = []
    for name, target, keys in (("classmate", CLASSMATE_TARGET, ("mate_n", "mate_all")),
                               ("full-data", FULL_TARGET, ("full_n", "full_all"))):
        where = [s for s, k in zip(("sample", "class"), keys) if row[k] >= target]
        if where:
            out.append(f"{name} ({' and '.join(where)})")
    return out


# --------------------------------------------------------------------------
# Fits with a warning
# --------------------------------------------------------------------------

def fit_summary(log: FitLog, formulas: dict) -> tuple:
    """``(lines, counts)`` about the variant fits: how many, how long, and each model whose fits warned."""
    variant = [f for f in log.fits if f[0] is not None]
    warned = [f for f in variant if f[4]]
    counts = {"fits": len(variant), "warned": len(warned), "ml": sum(not f[2] for f in variant),
              "fit_s": sum(f[3] for f in variant), "full_warned": sum(1 for f in log.fits if f[0] is None and f[4])}
    by_model: dict = {}
    for code, formula, reml, _, notes in warned:
        entry = by_model.setdefault((formulas.get(formula, "?"), formula, reml), {"codes": set(), "note": notes[0]})
        entry["codes"].add(code)
    lines = []
    for (ds, formula, reml), entry in sorted(by_model.items(), key=lambda kv: -len(kv[1]["codes"])):
        lines.append(f"- {ds} `{formula}` ({'REML' if reml else 'ML'}): {len(entry['codes'])} variant(s); "
                     f"for example: {entry['note'][:220]}")
    return lines, counts


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------

def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def rate_table(rows: list, n: int, n_class: int) -> list:
    lines = [f"| question | kind | tolerance | full-data answer | lowest | highest | distinct of {n} | "
             f"classmate, {n} | classmate, {n_class} | full-data, {n} | full-data, {n_class} | widest tolerance "
             "meeting both | misses |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['id']} | {r['kind']} | {r['tol']:.4g} | {r['full']:.6g} | {r['lowest']:.5g} | "
                     f"{r['highest']:.5g} | {r['distinct']} | {pct(r['mate_n'])} | {pct(r['mate_all'])} | "
                     f"{pct(r['full_n'])} | {pct(r['full_all'])} | {r['widest']:.3g} | "
                     f"{', '.join(misses(r)) or ''} |")
    return lines


def miss_list(rows: list, n: int, n_class: int) -> list:
    """The questions that miss a target: those that miss on the class first (with what would fix them), then
    those that miss on the sample only (one code of ``n`` is already ``1/n`` of the full-data rate)."""
    missing = sorted((r for r in rows if misses(r)), key=lambda r: not misses_on_class(r))
    lines = [f"Questions that miss a target: {sum(map(misses_on_class, rows))} of {len(rows)} on the class of {n_class}, "
             f"{len(missing) - sum(map(misses_on_class, rows))} more on the sample of {n} only (the classmate target is under "
             f"{pct(CLASSMATE_TARGET)} of pairs, the full-data target under {pct(FULL_TARGET)} of codes; with "
             f"{n} codes one accepting code is already {pct(1 / n)} of them, so a miss on the sample alone may be "
             f"one code; the class of {n_class} decides):", ""]
    for r in missing:
        if not misses_on_class(r):
            fix = f"the class of {n_class} meets both targets"
        elif r["widest"] == 0:
            fix = "no tolerance helps: equal answers alone break a target, so widen the variation (draw ranges, digits)"
        else:
            fix = f"a tolerance under about {r['widest']:.3g} would meet both on the class, or widen the variation"
        lines.append(f"- {r['id']} ({r['kind']}, tolerance {r['tol']:.4g}; misses {', '.join(misses(r))}): classmate "
                     f"{pct(r['mate_n'])} on {n}, {pct(r['mate_all'])} on {n_class}; full-data {pct(r['full_n'])} on "
                     f"{n}, {pct(r['full_all'])} on {n_class}; {r['distinct']} distinct answers of {n}; {fix}.")
    if not missing:
        lines.append("- none")
    return lines


def memory_lines(c: dict, n_class: int, n: int) -> list:
    held = len(c["keys"])
    if held >= n_class:
        what = (f"Memory, holding every key of all {n_class} students at once (measured): peak resident "
                f"{c['peak_after']:.0f} MB for this process (target under {MEMORY_TARGET_MB} MB); "
                f"{c['rss_start']:.0f} MB resident before the first key (Python, numpy, pandas, the bank), "
                f"{c['rss_first']:.0f} MB after the first student (the fitting code and the three data files "
                f"loaded), {c['rss_after']:.0f} MB after the last; the keys themselves "
                f"{c['keys_mb']:.1f} MB ({1024 * c['keys_mb'] / held:.0f} KB a student).")
    else:
        per = c["keys_mb"] / held
        extra = (c["peak_after"] - c["rss_first"]) / max(1, held - 1)
        what = (f"Memory (extrapolated: only {held} students were computed, the class of {n_class} would have "
                f"taken about {c['estimate_rest']:.0f} s more): peak resident {c['peak_after']:.0f} MB for "
                f"{held}; the keys take {1024 * per:.0f} KB a student, so {per * n_class:.1f} MB for {n_class}; "
                f"at the sample's growth of the peak ({extra:.2f} MB a student) about "
                f"{c['rss_first'] + extra * n_class:.0f} MB for {n_class} (target under {MEMORY_TARGET_MB} MB).")
    return [what]


def report(questions, c, full, rows, fit_lines, counts, n, n_class, load) -> list:
    secs = c["seconds"]
    n_data = sum(1 for q in questions if q.compute)
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, Python "
             f"{platform.python_version()}; {len(questions)} varying questions of the shipped bank ({n_data} on "
             f"the data, {len(questions) - n_data} on drawn numbers); sample of {n} codes, class of {len(secs)} "
             f"computed; load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; date "
             f"{date.today()}.", "",
             "| what | time |", "|---|---:|",
             f"| first student's keys in a fresh process (the three data files read, the first fits) | {secs[0]:.2f} s |",
             f"| each later student's keys: median (every fit made afresh) | {statistics.median(secs[1:]):.3f} s |",
             f"| each later student's keys: slowest | {max(secs[1:]):.3f} s |",
             f"| the sample of {n} | {sum(secs[:n]):.1f} s |",
             f"| the class of {len(secs)} | {sum(secs):.1f} s |",
             f"| the full-data keys (code None, the self-test's numbers) | {full['seconds']:.3f} s |", "",
             f"Fits: {counts['fits']} variant fits ({counts['ml']} by ML, {counts['fits'] - counts['ml']} by REML for "
             f"the REML route), {counts['fit_s']:.1f} s of the {sum(secs):.1f} s; {counts['warned']} came with a "
             f"warning (boundary, singular, level-1 function near 0, no convergence, Python warning); the full-data "
             f"fits: {counts['full_warned']} with a warning.", *fit_lines, "",
             *memory_lines(c, n_class, n), ""]
    wrong = [r["id"] for r in rows if not r["shipped_ok"]]
    lines.append("The shipped self-test key accepts the full-data answer of every varying question." if not wrong
                 else f"The shipped self-test key does not accept the recomputed full-data answer of: {', '.join(wrong)}.")
    return lines + ["", *rate_table(rows, n, len(secs)), "", *miss_list(rows, n, len(secs))]


def main() -> None:
    n = max(30, int(os.environ.get("BENCH_STUDENTS", "40")))
    n_class = max(n, int(os.environ.get("BENCH_CLASS", "300")))
    budget = float(os.environ.get("BENCH_BUDGET", "600"))
    load = os.getloadavg()
    questions = varying_questions()
    formulas = {f: q.compute["dataset"] for q in questions if q.compute for f in q.compute["models"].values()}
    log = FitLog()
    log.install()
    codes = codes_for(n_class)
    print(f"{len(questions)} varying questions; keys for up to {n_class} students", flush=True)
    c = class_keys(questions, codes, n, budget, log)
    full_keys, secs = one_student(questions, None, log)
    rows = rates(questions, c["keys"], full_keys, n)
    fit_lines, counts = fit_summary(log, formulas)
    lines = report(questions, c, {"seconds": secs}, rows, fit_lines, counts, n, n_class, load)
    print("\n".join(lines))
    write_section("variants", "Per-student variants", lines)


if __name__ == "__main__":
    main()
