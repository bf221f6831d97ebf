"""Time lemma-grade on typical student notebooks: with and without the sandbox, and with --jobs 2.

Run with ``make bench`` (or ``python benchmarks/grading_benchmark.py`` with
``LEMMA_DATA_DIR`` set). A typical submission imports the course package,
loads the school leavers data, fits the null model of P5.1 and checks four
answers. Each configuration grades a folder of such notebooks with the real
command (``python -m lemma_helpers.grading``) and the wall-clock time of the
whole command is divided by the number of notebooks. Writes the table into
``benchmarks/README.md`` between the grading markers. A measurement, not a
test.
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readme_section import write_section  # noqa: E402

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from lemma_helpers.grade import sandbox as _sandbox  # noqa: E402

TYPICAL = [
    new_markdown_cell("# P5.1 quiz"),
    new_code_cell("import lemma_helpers as lh\nssls = lh.load_dataset('ssls')"),
    new_code_cell("m0 = lh.fit('score ~ 1 + (1 | schoolid)', data=ssls)\nm0"),
    new_code_cell("vpc = m0.vpc()\nlh.check('P5.1.q1', round(float(vpc), 3))"),
    new_code_cell("lh.check('P5.1.q2', 'b')\nlh.check('P5.1.q3', 'a')\nlh.check('5.1.q1', 0.092)"),
]


def grade(folder: Path, out: Path, *extra: str) -> float:
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "lemma_helpers.grading", str(folder), "--out", str(out / "g.csv"),
                          "--quiet", *extra], capture_output=True, text=True)
    took = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"lemma-grade failed: {res.stderr[-2000:]}")
    return took


def main() -> None:
    n = int(os.environ.get("BENCH_NOTEBOOKS", "6"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "subs"
        folder.mkdir()
        for i in range(n):
            nbformat.write(new_notebook(cells=TYPICAL), str(folder / f"student{i:02d}.ipynb"))
        configs = [("no sandbox, --jobs 1", ["--no-sandbox"])]
        if _sandbox.probe({}) is None:
            configs += [("sandbox, --jobs 1", []), ("sandbox, --jobs 2", ["--jobs", "2"])]
        else:
            print("bubblewrap is not usable here: only --no-sandbox is timed", file=sys.stderr)
        for label, extra in configs:
            secs = grade(folder, Path(tmp) / label.replace(" ", "_").replace(",", ""), *extra)
            rows.append((label, secs, secs / n))
            print(f"{label}: {secs:.1f} s for {n} notebooks, {secs / n:.2f} s each", flush=True)
    imports = []
    for _ in range(5):
        res = subprocess.run([sys.executable, "-c", "import time; t = time.perf_counter(); import lemma_helpers; "
                              "print(time.perf_counter() - t)"], capture_output=True, text=True, check=True)
        imports.append(float(res.stdout))
    table = [f"`import lemma_helpers` in a fresh process: {statistics.median(imports):.2f} s (median of 5).", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"{n} typical notebooks (import, load the school data, one fit, four checks); date {date.today()}.",
             "", "| configuration | whole run (s) | per notebook (s) |", "|---|---:|---:|"]
    table += [f"| {label} | {secs:.1f} | {each:.2f} |" for label, secs, each in rows]
    write_section("grading", "Grading", table)


if __name__ == "__main__":
    main()
