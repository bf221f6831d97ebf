"""The ``lemma-grade`` command line: grading (``lemma-grade DIR ...``) and its helpers ``template``, ``merge``,
``secret``, ``codes`` and ``key``. A grading run is :func:`lemma_helpers.grade.run.grade`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from .. import _bank as B
from .._validation import LemmaError
from ..variant_keys import varies
from .assignment import load_assignment, public_keys, template, variant_keys
from .codes import read_secret, student_code, write_secret
from .execute import Limits
from .marking import merge_marks
from .roster import load_roster
from .run import grade
from .text import csv_safe


_RISK = ("lemma-grade --no-sandbox: submitted notebooks will run as ordinary programs with YOUR user rights: "
         "they can read and change your files (including the answer key and other submissions), use the "
         "network and leave programs running. Use it only for submissions you trust.")


def _template_main(argv: list) -> int:
    p = argparse.ArgumentParser(
        prog="lemma-grade template",
        description="Write a starting assignment file with every question of the given sections and its "
                    "shipped answer, to edit before grading with --assignment.")
    p.add_argument("--sections", nargs="+", required=True, metavar="SECTION", help="e.g. 5.1 P5.1")
    p.add_argument("--assignment", default="my-assignment", metavar="ID", help="the assignment's id")
    p.add_argument("--mode", choices=["summative", "formative"], default="summative")
    p.add_argument("--out", metavar="FILE", help="file to write (default: standard output)")
    a = p.parse_args(argv)
    try:
        text = template(a.sections, assignment=a.assignment, mode=a.mode)
    except LemmaError as err:
        print(f"lemma-grade template: {err}", file=sys.stderr)
        return 2
    if a.out:
        if Path(a.out).exists():
            print(f"lemma-grade template: {a.out} exists; choose another name (nothing was written).", file=sys.stderr)
            return 2
        Path(a.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    public = public_keys(a.sections) if a.mode == "summative" else []
    if public:
        print(f"lemma-grade template: warning: {len(public)} question(s) ({', '.join(public[:6])}"
              f"{' ...' if len(public) > 6 else ''}) have one key for everyone, which ships with the package: a "
              "student can read it. Their options are shuffled for each student, but for secret keys replace them "
              "under key: or write questions of your own in a bank kept on the grading machine (LEMMA_QUIZ_DIRS; "
              "docs/QUIZZES.md).", file=sys.stderr)
    return 0


def _variants_main(command: str, argv: list) -> int:
    p = argparse.ArgumentParser(
        prog=f"lemma-grade {command}",
        description=("Write each student's variant code for an assignment (to hand out)." if command == "codes" else
                     "Print one student's variant code and key (to check by hand)."))
    p.add_argument("--assignment", required=True, metavar="YAML", help="the assignment file (with variants: true)")
    p.add_argument("--secret-file", required=True, metavar="FILE", help="the assignment's secret (keep it private)")
    if command == "codes":
        p.add_argument("--roster", required=True, metavar="CSV", help="class list with an id column")
        p.add_argument("--out", metavar="CSV", help="file to write (default: standard output)")
    else:
        p.add_argument("--student", required=True, metavar="ID", help="the student's id (as on the roster)")
    a = p.parse_args(argv)
    try:
        assignment, secret = load_assignment(a.assignment), read_secret(a.secret_file)
        if command == "codes":
            import csv
            import io

            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(["id", "name", "email", "code"])
            for st in load_roster(a.roster):
                w.writerow([csv_safe(st.id), csv_safe(st.name), csv_safe(st.email),
                            student_code(secret, assignment.id, st.id)])
            if a.out:
                Path(a.out).write_text(buf.getvalue(), encoding="utf-8")
            else:
                sys.stdout.write(buf.getvalue())
            return 0
        code = student_code(secret, assignment.id, a.student)
        keys = variant_keys(assignment, code)
        print(f"assignment {assignment.id}, student {a.student}, variant code {code}")
        for qid in assignment.questions:
            print(f"{qid}: {_describe(qid, keys[qid])}"
                  + _own(B.question(qid)))
    except LemmaError as err:
        print(f"lemma-grade {command}: {err}", file=sys.stderr)
        return 2
    return 0


def _own(q) -> str:
    if q.compute:
        return "  (computed on the variant)"
    return "  (on this student's own numbers)" if varies(q) else ""


def _describe(qid: str, key) -> str:
    return B.describe_key(B.question(qid), key)


def _merge_main(argv: list) -> int:
    p = argparse.ArgumentParser(
        prog="lemma-grade merge",
        description="Add the marks of a filled-in marking sheet (marking_sheet.csv, one row per written answer) "
                    "to a gradebook: grades_final.csv with name, email, platform_id, automatic, written, total "
                    "and maximum; the feedback files and zips get the marks and comments, and the platform files "
                    "of the grading run (--export) are written again beside --out with the written marks.")
    p.add_argument("gradebook", help="grades.csv written by lemma-grade")
    p.add_argument("sheet", help="the marking sheet with its marks column filled in")
    p.add_argument("--out", required=True, help="the merged gradebook to write (a new file)")
    a = p.parse_args(argv)
    if Path(a.out).resolve() in (Path(a.gradebook).resolve(), Path(a.sheet).resolve()):
        print("lemma-grade merge: --out must be a new file, not one of the inputs.", file=sys.stderr)
        return 2
    try:
        print(merge_marks(Path(a.gradebook), Path(a.sheet), Path(a.out)))
    except LemmaError as err:
        print(f"lemma-grade merge: {err}", file=sys.stderr)
        return 2
    return 0


def _secret_main(argv: list) -> int:
    p = argparse.ArgumentParser(
        prog="lemma-grade secret",
        description="Write a new random secret for an assignment with per-student variants (lemma-grade codes, "
                    "lemma-grade --secret-file). Keep it private: with it anyone can work out every code.")
    p.add_argument("--out", required=True, metavar="FILE", help="file to write (never overwritten; mode 600)")
    a = p.parse_args(argv)
    try:
        path = write_secret(a.out)
    except LemmaError as err:
        print(f"lemma-grade secret: {err}", file=sys.stderr)
        return 2
    print(f"wrote a new secret to {path}: use it with --secret-file {path}, and keep it off the course's "
          "shared folders")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lemma-grade`` command (``lemma-grade DIR ...`` or ``lemma-grade template ...``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["template"]:
        return _template_main(argv[1:])
    if argv[:1] == ["merge"]:
        return _merge_main(argv[1:])
    if argv[:1] in (["codes"], ["key"]):
        return _variants_main(argv[0], argv[1:])
    if argv[:1] == ["secret"]:
        return _secret_main(argv[1:])
    p = argparse.ArgumentParser(
        prog="lemma-grade",
        description="Run every submitted notebook in DIR in a sandbox of its own with limits, read back the "
                    "answers recorded by lh.check, and write a gradebook and feedback files.",
        epilog="Read docs/GRADING.md: what the sandbox protects against and what it does not.")
    p.add_argument("directory", metavar="DIR",
                   help="folder of submissions (flat: student id = file name; one sub-folder per student; a Moodle "
                        "or Canvas download) or a .zip of one")
    p.add_argument("--out", required=True, metavar="CSV", help="gradebook to write; feedback/ and executed/ go next to it")
    p.add_argument("--key", metavar="KEY", help="instructor key file (YAML or JSON: question id -> answer); "
                   "without --assignment only its questions (and those of --questions) count")
    p.add_argument("--questions", nargs="+", default=[], metavar="ID",
                   help="without --assignment: the questions that count, as ids (5.1.q2) or sections (5.1); "
                        "other answers are listed, not marked (default: with --key its questions, else every "
                        "question anyone answered)")
    p.add_argument("--assignment", metavar="YAML",
                   help="grade exactly the questions of this assignment file, with its points and answers "
                        "(write one with: lemma-grade template --sections 5.1)")
    p.add_argument("--timeout", type=float, default=600, metavar="SECONDS", help="time limit per notebook (default 600)")
    p.add_argument("--cell-timeout", type=float, metavar="SECONDS",
                   help="time limit per cell before it is interrupted (default: the smaller of 120 and --timeout)")
    p.add_argument("--memory", type=int, default=4096, metavar="MB", help="memory limit per kernel (default 4096)")
    p.add_argument("--max-output", type=float, default=20, metavar="MB",
                   help="output kept per notebook (default 20 MB; a cell keeps at most 1 MB)")
    p.add_argument("--secret-file", metavar="FILE",
                   help="the assignment's secret, for an assignment with per-student variants (variants: true)")
    p.add_argument("--roster", metavar="CSV", help="class list: columns id (required), name, email, platform_id; "
                   "one gradebook row per student on it, missing ones included")
    p.add_argument("--export", nargs="+", choices=["moodle", "canvas"], default=[], metavar="PLATFORM",
                   help="also write grade-import files for moodle and/or canvas")
    p.add_argument("--missing-zero", action="store_true",
                   help="in the platform files, 0 for a student on the roster with no submission (default: an "
                        "empty cell, which Moodle and Canvas leave alone)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="notebooks to run at once (default 1)")
    p.add_argument("--sandbox", choices=["auto", "bwrap"], default="auto",
                   help="run each submission in a bubblewrap sandbox (the default; refuses to grade where "
                        "bubblewrap cannot run, saying how to install it)")
    p.add_argument("--no-sandbox", action="store_true", help="run submissions as ordinary processes (unsafe)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run: submissions in its journal that did not change are not run again")
    p.add_argument("--reveal-answers", action="store_true", help="put the accepted answers in the feedback files")
    p.add_argument("--no-executed", action="store_true", help="do not keep the executed notebooks")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)

    directory = Path(a.directory)
    if not directory.exists():
        p.error(f"{directory} does not exist")
    if a.timeout <= 0 or (a.cell_timeout is not None and a.cell_timeout <= 0) or a.memory < 256:
        p.error("--timeout and --cell-timeout must be positive and --memory at least 256 MB")
    if not 0 < a.max_output <= 10_000 or a.jobs < 1:
        p.error("--max-output must be between 0 and 10000 MB and --jobs at least 1")
    limits = Limits(timeout=a.timeout, cell_timeout=min(a.cell_timeout or 120, a.timeout), memory_mb=a.memory,
                    max_output=int(a.max_output * 1_000_000),
                    max_cell_output=min(1_000_000, int(a.max_output * 1_000_000)))
    if a.no_sandbox:
        print(_RISK, file=sys.stderr)
    try:
        if a.key:
            B.load_key(a.key)          # fail before running anything
        assignment = load_assignment(a.assignment) if a.assignment else None
        grade(directory, a.out, key_file=a.key, questions=a.questions, assignment=assignment, roster=a.roster,
              exports=a.export, secret_file=a.secret_file, limits=limits, jobs=a.jobs, reveal=a.reveal_answers,
              keep_executed=not a.no_executed, quiet=a.quiet, sandbox="none" if a.no_sandbox else "auto",
              resume=a.resume, missing_zero=a.missing_zero)
    except LemmaError as err:
        print(f"lemma-grade: {err}", file=sys.stderr)
        return 2
    return 0
