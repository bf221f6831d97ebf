"""A whole class, end to end: 300 students of a summative variant quiz (issue #25).

Run with ``make bench BENCH=class`` (or ``python benchmarks/class_benchmark.py`` with ``LEMMA_DATA_DIR`` set).
The class: a roster of 300 (``BENCH_STUDENTS``), the variant quiz of ``docs/examples/variants`` (five numeric
questions computed on each student's own subset of the school leavers data), a notebook per student that
loads their variant, fits the null model, answers two questions and writes one answer in words. Timed:

1. ``lemma-grade codes`` for the roster (a subprocess);
2. the stages around the run on all 300, in this process, with the notebooks' cells run here instead of in
   kernels (``tests/inprocess.py``): collect, score (each student's own key: their variant's models fitted),
   write (gradebook, feedback, marking sheet, Moodle and Canvas files, item analysis);
3. ``lemma-grade merge`` of a marked sheet (the platform files written again);
4. the run stage with real kernels, in the sandbox where it works, ``--jobs 2``, on a subset of
   ``BENCH_KERNEL_NOTEBOOKS`` notebooks (10), as a subprocess; the time for 300 is extrapolated from it
   (kernels dominate a real run: each starts Python, imports the course and fits a model).

Peak memory is the largest resident set (ru_maxrss) of this process (stages 2-3); the kernels' memory
is measured by ``hostile_benchmark.py``, which samples /proc. Writes the table into ``benchmarks/README.md`` between the class markers. A measurement,
not a test.
"""
from __future__ import annotations

import contextlib
import csv
import io
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from readme_section import write_section  # noqa: E402

import nbformat  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook  # noqa: E402

EXAMPLE = ROOT / "docs" / "examples" / "variants"


def notebook(code: str, i: int):
    """A student's notebook: their variant, the null model, two answers (one wrong for every fourth student),
    a written answer."""
    vpc = "round(m0.vpc(), 3)" if i % 4 else "0.5"
    return new_notebook(cells=[
        new_code_cell(f'import lemma_helpers as lh\nlh.start_assignment("quiz-v51", code="{code}")'),
        new_code_cell('ssls = lh.load_dataset("ssls")\nm0 = lh.fit("score ~ 1 + (1 | schoolid)", data=ssls)'),
        new_code_cell(f'lh.check("V5.1.q1", {vpc})\nlh.check("V5.1.q2", 61.0)'),
        new_markdown_cell("**Written 1.** What does the VPC tell you?"),
        new_markdown_cell(f"About a fifth of the variance lies between schools (student {i}).",
                          metadata={"tags": ["answer"]})])


def lemma_grade(*args, env=None) -> float:
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "lemma_helpers.grading", *map(str, args)], capture_output=True,
                         text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"lemma-grade {args[0]} failed: {res.stderr[-2000:]}")
    return time.perf_counter() - start


def make_class(root: Path, n: int, env: dict) -> dict:
    roster = root / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "name", "email", "platform_id"])
        for i in range(n):
            w.writerow([f"s{i:03d}", f"Student{i:03d} Nuñez-O'Neil", f"s{i:03d}@uni.example", 7000 + i])
    secret = root / "secret.txt"
    lemma_grade("secret", "--out", secret, env=env)
    took = lemma_grade("codes", "--assignment", EXAMPLE / "quiz-v51.yaml", "--roster", roster, "--secret-file",
                       secret, "--out", root / "codes.csv", env=env)
    subs = root / "subs"
    with open(root / "codes.csv", newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            (subs / row["id"]).mkdir(parents=True)
            nbformat.write(notebook(row["code"], i), str(subs / row["id"] / "quiz.ipynb"))
    return {"roster": roster, "secret": secret, "subs": subs, "codes_s": took}


def timed_stages(c: dict, out: Path) -> dict:
    """Stage 2: the grading run with the cells run in this process, each stage timed."""
    import importlib

    from inprocess import in_process
    from lemma_helpers.grade import run as R
    from lemma_helpers.grade import write as W

    G = importlib.import_module("lemma_helpers.grading")
    times: dict = {}

    def timer(name, fn):
        def wrapped(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - t
        return wrapped

    with in_process(), contextlib.redirect_stdout(io.StringIO()):
        saved = R.collect, R.run, R.score, W.write_all
        R.collect, R.run, R.score = timer("collect", R.collect), timer("run (cells in process)", R.run), \
            timer("score (every student's own key)", R.score)
        W.write_all = timer("write (gradebook, feedback, sheet, exports, item analysis)", W.write_all)
        try:
            t = time.perf_counter()
            rc = G.main([str(c["subs"]), "--out", str(out / "grades.csv"), "--assignment",
                         str(EXAMPLE / "quiz-v51.yaml"), "--secret-file", str(c["secret"]), "--roster",
                         str(c["roster"]), "--export", "moodle", "canvas", "--jobs", "2", "--quiet"])
            times["whole run"] = time.perf_counter() - t
        finally:
            R.collect, R.run, R.score, W.write_all = saved
    if rc != 0:
        raise SystemExit("the in-process grading failed")
    sheet = out / "marking_sheet.csv"
    rows = list(csv.DictReader(open(sheet, newline="", encoding="utf-8")))
    for r in rows:
        r["marks"] = "1"
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        assert G.main(["merge", str(out / "grades.csv"), str(sheet), "--out", str(out / "grades_final.csv")]) == 0
    times["merge (grades_final, feedback, platform files again)"] = time.perf_counter() - t
    return times


def kernel_subset(c: dict, root: Path, k: int, env: dict) -> tuple:
    """Stage 4: real kernels on the first ``k`` notebooks, --jobs 2; ``(seconds, sandbox used)``."""
    from lemma_helpers.grade import sandbox as _sandbox

    subset = root / "subset"
    subset.mkdir()
    for folder in sorted(c["subs"].iterdir())[:k]:
        shutil.copytree(folder, subset / folder.name)
    extra = [] if _sandbox.probe({}) is None else ["--no-sandbox"]
    took = lemma_grade(subset, "--out", root / "kout" / "grades.csv", "--assignment", EXAMPLE / "quiz-v51.yaml",
                       "--secret-file", c["secret"], "--roster", c["roster"], "--jobs", "2", "--quiet", *extra,
                       env=env)
    return took, not extra


def main() -> None:
    n = int(os.environ.get("BENCH_STUDENTS", "300"))
    k = int(os.environ.get("BENCH_KERNEL_NOTEBOOKS", "10"))
    env = {**os.environ, "LEMMA_QUIZ_DIRS": str(EXAMPLE / "bank")}
    os.environ["LEMMA_QUIZ_DIRS"] = env["LEMMA_QUIZ_DIRS"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        c = make_class(root, n, env)
        print(f"codes for {n}: {c['codes_s']:.1f} s", flush=True)
        times = timed_stages(c, root / "out")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for name, secs in times.items():
            print(f"{name}: {secs:.1f} s", flush=True)
        kernel_s, sandboxed = kernel_subset(c, root, k, env)
        print(f"kernels, {k} notebooks, --jobs 2: {kernel_s:.1f} s", flush=True)
    per = kernel_s / k
    table = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"{n} students of the variant quiz of docs/examples/variants; date {date.today()}.", "",
             "| stage | students | time (s) | note |", "|---|---:|---:|---|",
             f"| `lemma-grade codes` | {n} | {c['codes_s']:.1f} | a subprocess |"]
    table += [f"| {name} | {n} | {secs:.1f} | cells run in this process, no kernel |" for name, secs in times.items()]
    table += [f"| run with kernels, {'sandbox' if sandboxed else 'no sandbox'}, `--jobs 2` | {k} | {kernel_s:.1f} | "
              f"{per:.2f} s per notebook, measured |",
              f"| run with kernels, extrapolated | {n} | {per * n:.0f} | {per:.2f} s x {n}: about "
              f"{per * n / 60:.0f} min, not measured |", "",
              f"Peak memory: {peak:.0f} MB for the in-process stages of all {n} (the grader, with every "
              "student's key and results); the kernels' own memory is measured by the hostile benchmark "
              "(ru_maxrss of children is not their size: a child started with vfork is charged this "
              "process's peak). The stages other than the run take "
              f"{sum(v for key, v in times.items() if key not in ('whole run', 'run (cells in process)')):.0f} s "
              f"for {n} students; a real run is the kernels' time plus these."]
    write_section("class", "A class of 300, end to end", table)


if __name__ == "__main__":
    main()
