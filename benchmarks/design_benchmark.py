"""Time building the design matrices of the course's models: our direct path, patsy, formulaic.

Run with ``python benchmarks/design_benchmark.py`` (``LEMMA_DATA_DIR`` set; ``BENCH_REPEATS``, default 50;
``--no-write`` prints the table only). formulaic is optional (``pip install formulaic``): without it its
column stays empty. Writes the table into ``benchmarks/README.md`` between the design markers.

For each model of ``run_benchmarks.py`` (all 21 are formulas of plain columns, which the direct path
covers) the same job is timed three ways: from the parts' formulas (response and fixed part, random
part, level-1 function) and the DataFrame to the numeric matrices on the rows complete in every part.

- direct: ``lemma_helpers.model.design_direct._direct_design`` (patsy's rules written out, what ``lh.fit``
  uses for these formulas);
- patsy: ``lemma_helpers.model.design_patsy._patsy_design`` (patsy's design builders, one pass for all
  parts, what ``lh.fit`` uses for any other formula);
- formulaic: ``formulaic.model_matrix`` of the multi-part formula ``y ~ fixed | random | level1`` with
  ``na_action="drop"`` (one pass for all parts, as a replacement would use it).

Each time is the median of the repeats of one build, the three ways timed in turn in each round; the
grouping column's codes are made once, outside the clock. Before timing, the script checks that the three give the same number of rows and columns.
A measurement, not a test.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readme_section import write_section  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lemma_helpers.model.design import parse_formula  # noqa: E402
from lemma_helpers.model.design_direct import _codes, _direct_design  # noqa: E402
from lemma_helpers.model.design_patsy import _patsy_design  # noqa: E402
from run_benchmarks import MODELS, course_data  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "50"))


def _median_ms(ways: dict, repeats: int = REPEATS) -> dict:
    """The median milliseconds of each way, timed in turn within each round (so that a burst of load
    on a shared machine falls on all of them alike)."""
    for fn in ways.values():
        fn()                                               # caches (formula parses) warm, as in a session
    times = {way: [] for way in ways}
    for _ in range(repeats):
        for way, fn in ways.items():
            start = time.perf_counter()
            fn()
            times[way].append(time.perf_counter() - start)
    return {way: 1e3 * statistics.median(t) for way, t in times.items()}


def _formulaic():
    try:
        import formulaic
    except ImportError:
        return None
    return formulaic


def builders(formula: str, level1: str | None, data):
    """The three ways to build one model's design, as functions of no arguments returning
    (rows used, columns of each part)."""
    parsed = parse_formula(formula)
    formulas = [parsed.fixed, parsed.random] + ([level1] if level1 else [])
    no_group = _codes(data[parsed.group])[0] < 0

    def direct():
        arrays, _, used, _ = _direct_design(formulas, data, no_group)
        return int(used.sum()), [a.shape[1] for a in arrays]

    def patsy():
        arrays, _, used, _ = _patsy_design(formulas, data, no_group, formula)
        return int(used.sum()), [a.shape[1] for a in arrays]

    out = {"direct": direct, "patsy": patsy}
    formulaic = _formulaic()
    if formulaic is not None:
        # the group must be known too: rows missing it are dropped by every path
        rhs = [parsed.fixed.split("~", 1)[1], parsed.random.lstrip("~ "), *([level1.lstrip("~ ")] if level1 else [])]
        spec = formulaic.Formula(f"{parsed.response} ~ {' | '.join(rhs)}")
        rows = data.loc[~no_group]

        def with_formulaic():
            mm = formulaic.model_matrix(spec, rows, na_action="drop")
            return len(mm.lhs), [mm.lhs.shape[1]] + [m.shape[1] for m in mm.rhs]

        out["formulaic"] = with_formulaic
    return out


def measure(repeats: int = REPEATS) -> list:
    data = course_data()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, ds, formula, level1 in MODELS:
            ways = builders(formula, level1, data[ds])
            shapes = {way: fn() for way, fn in ways.items()}
            if len(set(map(str, shapes.values()))) != 1:
                raise SystemExit(f"{name}: the designs differ in shape: {shapes}")
            times = _median_ms(ways, repeats)
            rows.append((name, shapes["direct"][0], times))
    return rows


def table(rows: list) -> list:
    lines = ["| model | rows | direct (ms) | patsy (ms) | formulaic (ms) | patsy / direct | formulaic / direct |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, n, t in rows:
        f = t.get("formulaic")
        ours, theirs = t["direct"], t["patsy"]
        formulaic = "" if f is None else f"{f:.2f}"
        ratio = "" if f is None else f"{f / ours:.1f}x"
        lines.append(f"| {name} | {n:,} | {ours:.2f} | {theirs:.2f} | {formulaic} | {theirs / ours:.1f}x | {ratio} |")
    direct = [t["direct"] for *_, t in rows]
    summary = [f"Medians: direct {statistics.median(direct):.2f} ms, "
               f"patsy {statistics.median(t['patsy'] for *_, t in rows):.2f} ms"]
    if all("formulaic" in t for *_, t in rows):
        ratios = [t["formulaic"] / t["direct"] for *_, t in rows]
        summary[0] += (f", formulaic {statistics.median(t['formulaic'] for *_, t in rows):.2f} ms; formulaic takes "
                       f"{min(ratios):.0f}-{max(ratios):.0f}x the direct path's time (median {statistics.median(ratios):.0f}x)")
    return lines + ["", summary[0] + "."]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print the table, leave README.md alone")
    args = parser.parse_args(argv)
    formulaic = _formulaic()
    rows = measure()
    versions = "patsy " + __import__("patsy").__version__ + (
        f", formulaic {formulaic.__version__}" if formulaic else ", formulaic not installed")
    meta = (f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {versions}; "
            f"median of {REPEATS} builds each; load average {os.getloadavg()[0]:.1f} at the end; date {date.today()}.")
    lines = [meta, "", *table(rows)]
    print("\n".join(lines))
    if not args.no_write:
        write_section("design", "Building the design matrices: direct, patsy, formulaic", lines)


if __name__ == "__main__":
    main()
