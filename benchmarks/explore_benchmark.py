"""Time the interactive explorations: one slider move, from the callback to the new picture.

Run with ``python benchmarks/explore_benchmark.py`` (``LEMMA_DATA_DIR`` set).
For ``lh.explore_refit`` on the course data, each slider setting below is set
in turn, as a reader letting go of a slider would, and two times are kept:
the refit alone (subset the rows, fit by maximum likelihood with the engine of
``lh.fit``) and the whole update (refit, redraw, encode the PNG the widget
shows). The other four explorations compute from formulas; their update is
the redraw alone. Writes the table into ``benchmarks/README.md`` between the
explore markers. A measurement, not a test: the target is 100 ms per update.
"""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readme_section import write_section  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import lemma_helpers as lh  # noqa: E402

CASES = [
    ("ESS null", "ess_hedonism", "hedonism ~ 1 + (1 | country)"),
    ("ESS random slope (age)", "ess_hedonism", "hedonism ~ age46 + (1 + age46 | country)"),
    ("SSLS null", "ssls", "score ~ 1 + (1 | schoolid)"),
    ("SSLS random slope (cohort90)", "ssls", "score ~ cohort90 + (1 + cohort90 | schoolid)"),
]
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))


def settings(w):
    g, s = w.sliders["groups"].max, w.sliders["size"].max
    return [dict(groups=g, size=s), dict(groups=g, size=10), dict(groups=g // 2, size=s),
            dict(groups=max(3, g // 4), size=30), dict(groups=g, size=50), dict(groups=3, size=s)]


def timed_set(w, values):
    t0, c0 = time.perf_counter(), time.process_time()
    w.set(**values)
    return time.perf_counter() - t0, time.process_time() - c0


def time_refit(data, formula):
    w = lh.explore_refit(data, formula)
    fits, fit_cpu, updates, update_cpu = [], [], [], []
    for _ in range(REPEATS):
        for setting in settings(w):
            wall, cpu = timed_set(w, setting)
            updates.append(wall)
            update_cpu.append(cpu)
            fits.append(w.numbers["fit_seconds"])
            fit_cpu.append(w.numbers["fit_cpu_seconds"])
    return fits, fit_cpu, updates, update_cpu, len(data)


def time_formula(make):
    w = make()
    first = next(iter(w.sliders))
    s = w.sliders[first]
    values = [s.min + (s.max - s.min) * f for f in (0.1, 0.3, 0.5, 0.7, 0.9)]
    walls, cpus = [], []
    for _ in range(REPEATS):
        for v in values:
            wall, cpu = timed_set(w, {first: v})
            walls.append(wall)
            cpus.append(cpu)
    return walls, cpus


def ms(x):
    return f"{1000 * x:.0f}"


def med(x):
    return ms(statistics.median(x))


def main() -> None:
    data = {"ess_hedonism": lh.load_dataset("ess_hedonism"), "ssls": lh.load_dataset("ssls")}
    data["ess_hedonism"] = data["ess_hedonism"].assign(age46=lambda d: d["age"] - 46)
    load_start = os.getloadavg()[0]
    rows = []
    for label, name, formula in CASES:
        fits, fit_cpu, updates, update_cpu, n = time_refit(data[name], formula)
        rows.append(f"| `explore_refit`: {label} ({n:,} rows) | {med(fits)} | {med(fit_cpu)} | {ms(max(fits))} "
                    f"| {med(updates)} | {med(update_cpu)} | {ms(max(updates))} |")
        print(rows[-1], flush=True)
    for make in (lh.explore_shrinkage, lh.explore_vpc, lh.explore_random_slopes, lh.explore_level1_variance):
        walls, cpus = time_formula(make)
        rows.append(f"| `{make.__name__}` (formulas, no fit) | | | | {med(walls)} | {med(cpus)} | {ms(max(walls))} |")
        print(rows[-1], flush=True)
    load_end = os.getloadavg()[0]
    table = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"{REPEATS} passes over 6 slider settings (refit) or 5 (formulas); load average "
             f"{load_start:.1f} at the start, {load_end:.1f} at the end; date {date.today()}.",
             "", "| exploration | refit median (ms) | refit CPU median (ms) | refit max (ms) "
             "| whole update median (ms) | whole update CPU median (ms) | whole update max (ms) |",
             "|---|---:|---:|---:|---:|---:|---:|", *rows]
    write_section("explore", "Interactive explorations", table)


if __name__ == "__main__":
    main()
