"""Time the per-student keys of a variant assignment, and check that every variant is sound.

Run with ``python benchmarks/variants_benchmark.py`` (``LEMMA_DATA_DIR`` set; ``BENCH_STUDENTS``, default
500). For the example assignment of ``docs/examples/variants`` (five questions computed from two models of
the school leavers data) it makes a code for each of N students, computes each student's key (two fits on
300 of the 508 schools), and reports the time and, as a soundness check, how many variants gave a fit with a
warning (boundary, non-convergence) and the range of each computed answer. Writes the figures into
``benchmarks/README.md`` between the variants markers. A measurement, not a test.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readme_section import write_section  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import lemma_helpers as lh  # noqa: E402
from lemma_helpers.grade import assignment as A  # noqa: E402
from lemma_helpers import _variants as V  # noqa: E402
from lemma_helpers import _bank as B  # noqa: E402


def main() -> None:
    n = int(os.environ.get("BENCH_STUDENTS", "500"))
    example = HERE.parent / "docs" / "examples" / "variants"
    lh.add_question_bank(example / "bank")
    assignment = A.load_assignment(example / "quiz-v51.yaml")
    secret = b"benchmark-secret-0123456789"
    lh.load_dataset("ssls")                                  # read the file once, outside the clock
    start = time.perf_counter()
    keys = [A.variant_keys(assignment, V.student_code(secret, assignment.id, f"s{i:04d}")) for i in range(n)]
    seconds = time.perf_counter() - start
    specs = {(B.question(q).compute["dataset"], f) for q in assignment.questions
             for f in B.question(q).compute["models"].values()}
    codes = [V.student_code(secret, assignment.id, f"s{i:04d}") for i in range(n)]
    fits = [V._fit(ds, code, formula) for code in codes for ds, formula in sorted(specs)]   # cached: no refit
    warned = sum(1 for m in fits if m.notes)
    lines = [f"Machine: {os.cpu_count()} cores; {n} students, example assignment quiz-v51 (5 computed questions, "
             f"2 models on 300 of 508 schools each); date {date.today()}.", "",
             f"Keys for {n} students: {seconds:.1f} s ({1000 * seconds / n:.0f} ms a student).",
             f"Fits with a warning (boundary, convergence): {warned} of {len(fits)}.", "",
             "| question | lowest | median | highest |", "|---|---:|---:|---:|"]
    for qid in assignment.questions:
        mids = [(k[qid].low + k[qid].high) / 2 for k in keys]
        lines.append(f"| {qid} | {min(mids):.4g} | {statistics.median(mids):.4g} | {max(mids):.4g} |")
    print("\n".join(lines))
    write_section("variants", "Per-student variants", lines)


if __name__ == "__main__":
    main()
