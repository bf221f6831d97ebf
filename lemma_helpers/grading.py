"""``lemma-grade``: grade a folder of submitted notebooks against an answer key.

Each ``*.ipynb`` in the folder is one student's submission; the student id is
the file name without ``.ipynb``. The grader

1. reads every submission into memory before any code runs (a file that is
   empty, not JSON or not a notebook is reported with status ``not a
   notebook``); only the source of the code and Markdown cells is kept;
2. runs each one top to bottom in a sandbox of its own (see
   :mod:`lemma_helpers._sandbox`; ``--no-sandbox`` runs it as an ordinary
   process), with limits on time (per cell and per notebook), memory, CPU,
   processes, file size and output size; errors do not stop the run;
3. reads back the answers recorded by ``lh.check`` (the
   ``application/vnd.lemma.answer+json`` outputs; the last answer to each
   question counts) and scores them outside the sandbox with the same rules
   as ``lh.check``, against the shipped key or the instructor's ``--key``.

As each submission finishes, its record is appended to a journal next to the
gradebook and its feedback file and executed copy are written, so a run that
is killed keeps what it graded and ``--resume`` continues it. At the end it
writes a CSV gradebook (``student``, ``status``, one column per question that
anyone answered, ``total``), the feedback files and a summary.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import nbformat

from . import _bank as B
from . import _sandbox
from ._assignment import Assignment, load_assignment, variant_keys, with_key_file
from ._variants import read_secret, student_code
from ._class import (
    feedback_archives, find_submissions, load_roster, merge, owners, unzip, write_canvas,
    write_marking_sheet, write_moodle,
)
from ._grade_runner import kernel_argv  # noqa: F401 - part of this module's interface
from ._gradebook import (
    Journal, Submission, clean_text, csv_safe, feedback_text, question_order, score_submission, summary,
    write_gradebook,
)
from ._submissions import (  # noqa: F401 - load_submission and read_submission are part of the interface
    collect_answers, collect_declared, load_submission, read_all, read_submission, written_answers,
)
from ._validation import LemmaError

__all__ = ["main", "grade", "Limits", "Submission", "load_submission", "read_submission", "collect_answers",
           "kernel_argv"]

@dataclass
class Limits:
    """Per-submission limits."""

    timeout: float = 600.0          # seconds for the whole notebook
    cell_timeout: float = 120.0     # seconds for one cell before it is interrupted
    memory_mb: int = 4096           # address-space limit of the kernel process
    startup_timeout: float = 60.0
    max_cell_output: int = 1_000_000    # bytes of output kept per cell
    max_output: int = 20_000_000        # bytes of output kept per notebook (and read from the sandbox)


# --------------------------------------------------------------------------
# Running a submission
# --------------------------------------------------------------------------

class _Run:
    """How submissions are started: the sandbox plan per job slot, or plain processes."""

    def __init__(self, use_sandbox: bool, data: dict, jobs: int, scratch: Path):
        self.use_sandbox, self.data, self.jobs, self.scratch = use_sandbox, data, jobs, scratch

    def plan(self, slot: int):
        if self.use_sandbox:
            return _sandbox.sandbox_plan(slot, self.data, jobs=self.jobs)
        work = Path(tempfile.mkdtemp(prefix="work-", dir=self.scratch))
        return _sandbox.plain_plan(work)


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)     # the runner was started in a session of its own
    except (ProcessLookupError, PermissionError):
        pass


async def _execute(sub: Submission, nb, run: _Run, slot: int, limits: Limits) -> None:
    plan = run.plan(slot)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    config = {**plan.config, "timeout": limits.timeout, "cell_timeout": limits.cell_timeout,
              "startup_timeout": limits.startup_timeout, "memory_mb": limits.memory_mb,
              "max_cell_output": limits.max_cell_output, "max_output": limits.max_output}
    request = json.dumps({"config": config, "cells": [nb.cells[i].source for i in code]}).encode()
    hard_limit = limits.timeout + 2 * limits.startup_timeout + 30   # start, warm-up, cells, slack
    budget = limits.max_output + 1_000_000                          # bytes read from the runner at most
    proc = await asyncio.create_subprocess_exec(
        *plan.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=plan.env, cwd=plan.cwd, start_new_session=True,
        limit=budget)
    seen = {"started": False, "done": False, "last": -1, "read": 0}
    stderr_tail = bytearray()

    async def read_stderr():
        while chunk := await proc.stderr.read(65536):
            stderr_tail.extend(chunk)
            del stderr_tail[:-4096]

    async def read_stdout():
        while True:
            line = await proc.stdout.readline()
            if not line:
                return
            seen["read"] += len(line)
            if seen["read"] > budget:
                raise _TooMuch()
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if not isinstance(msg, dict):
                continue
            if msg.get("started"):
                seen["started"] = True
            if msg.get("done"):
                seen["done"] = True
            if isinstance(msg.get("problem"), str):
                status = msg.get("status") if msg.get("status") in ("errors", "timed out", "kernel died",
                                                                   "output cut", "not run") else "errors"
                sub.problem(_code_to_cell(msg["problem"], code), status)
            index = msg.get("cell")
            if isinstance(index, int) and 0 <= index < len(code) and isinstance(msg.get("outputs"), list):
                try:
                    nb.cells[code[index]].outputs = [nbformat.from_dict(o) for o in msg["outputs"]
                                                     if isinstance(o, dict)]
                except Exception:        # noqa: BLE001 - a malformed output is dropped
                    nb.cells[code[index]].outputs = []
                seen["last"] = index

    async def talk():
        proc.stdin.write(request)
        await proc.stdin.drain()
        proc.stdin.close()
        await asyncio.gather(read_stdout(), read_stderr())
        await proc.wait()

    try:
        await asyncio.wait_for(talk(), hard_limit)
    except asyncio.TimeoutError:
        sub.problem(f"stopped by the hard time limit ({hard_limit:g} s) after "
                    f"{seen['last'] + 1} of {len(code)} code cell(s)", "timed out")
    except (_TooMuch, ValueError, asyncio.LimitOverrunError):
        sub.problem(f"the notebook wrote more than {limits.max_output:,} bytes of output; it was stopped "
                    f"after {seen['last'] + 1} of {len(code)} code cell(s)", "output cut")
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        _kill(proc)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            pass
    if not seen["done"] and not sub.problems:
        detail = clean_text(bytes(stderr_tail).decode(errors="replace").strip().splitlines()[-1:] or [""], 200)
        sub.problem("the run ended before the notebook finished" + (f" ({detail})" if detail.strip("[]' ") else ""),
                    "not run" if not seen["started"] else "kernel died")
    if not seen["started"]:
        sub.notes.append(f"the kernel did not start: if every submission fails like this, raise --memory "
                         f"(now {limits.memory_mb} MB; a kernel with the course package needs about 1.2 GB)")


class _TooMuch(Exception):
    pass


def _code_to_cell(text: str, code: list) -> str:
    """The runner numbers code cells; a learner counts every cell: 'code cell 2' -> 'cell 3' when a Markdown
    cell comes first."""
    def fix(m):
        k = int(m.group(1)) - 1
        return f"cell {code[k] + 1}" if 0 <= k < len(code) else m.group(0)
    return re.sub(r"\bcode cell (\d+)", fix, text)


async def _grade_one(student: str, name: str, data: bytes, run: _Run, slot: int, limits: Limits) -> Submission:
    sub = Submission(student=student, file=name, sha256=hashlib.sha256(data).hexdigest())
    nb, problem, notes = read_submission(data)
    sub.notes.extend(notes)
    if problem:
        sub.problem(problem, "not a notebook")
        return sub
    sub.executed = nb
    if not any(c.cell_type == "code" and c.source.strip() for c in nb.cells):
        sub.problem("no code cells to run", "no code")
        return sub
    await _execute(sub, nb, run, slot, limits)
    sub.answers = collect_answers(nb)
    sub.declared = collect_declared(nb)
    if not sub.answers and "not run" not in sub.statuses:
        sub.problem("no answers recorded (lh.check was never called, or never reached)", "no answers")
    return sub


def _run_async(coro):
    """asyncio.run, also from a notebook where an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --------------------------------------------------------------------------
# The whole run
# --------------------------------------------------------------------------

def _write_outputs(sub: Submission, out_dir: Path, text: str | None, keep_executed: bool) -> None:
    name = _safe_name(sub.student)
    (out_dir / "feedback").mkdir(parents=True, exist_ok=True)
    if text is not None:
        (out_dir / "feedback" / f"{name}.md").write_text(text, encoding="utf-8")
    if keep_executed and sub.executed is not None:
        (out_dir / "executed").mkdir(exist_ok=True)
        try:
            nbformat.write(sub.executed, str(out_dir / "executed" / f"{name}.ipynb"))
        except Exception as err:   # noqa: BLE001
            sub.notes.append(f"executed copy not saved: {clean_text(err, 120)}")


def _safe_name(student: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student).lstrip(".") or "_"


def grade(directory: str | Path, out: str | Path, *, key_file: str | Path | None = None,
          assignment: str | Path | Assignment | None = None, roster: str | Path | None = None,
          secret_file: str | Path | None = None,
          exports: Sequence[str] = (), limits: Limits | None = None, jobs: int = 1, reveal: bool = False,
          keep_executed: bool = True, quiet: bool = False, sandbox: str = "auto", resume: bool = False,
          stream=None) -> list:
    """Grade every submitted notebook in ``directory``; write the gradebook to ``out``.

    ``directory`` is a folder in any layout of :mod:`lemma_helpers._class` (flat, one sub-folder per
    student, a Moodle or Canvas download) or a ``.zip`` of one. ``sandbox`` is ``"auto"`` (use
    bubblewrap; refuse with a message saying how to install it when it cannot be used), ``"bwrap"`` (the
    same) or ``"none"`` (run submissions as ordinary processes). ``exports`` may name ``"moodle"`` and
    ``"canvas"`` for grade-import files. Returns one :class:`Submission` per student (notebooks of one
    student merged). See the module docstring.
    """
    from tqdm import tqdm

    stream = stream or sys.stdout
    limits = limits or Limits()
    directory, out = Path(directory), Path(out)
    overrides = B.load_key(key_file) if key_file else {}
    if assignment is not None and not isinstance(assignment, Assignment):
        assignment = load_assignment(assignment)
    if assignment is not None:
        assignment = with_key_file(assignment, overrides)
        key = {**B.shipped_key(), **assignment.keys}
        overridden = set(overrides) | {q for q in assignment.questions if assignment.keys[q] is not B.question(q).key}
    else:
        key = {**B.shipped_key(), **overrides}
        overridden = set(overrides)
    secret = None
    if assignment is not None and assignment.variants:
        if secret_file is None:
            raise LemmaError(f"Assignment {assignment.id} gives each student a variant of the data: pass the "
                             "assignment's secret with --secret-file (the file you made the codes with).")
        secret = read_secret(secret_file)
    students = load_roster(roster) if roster else None
    unknown_exports = sorted(set(exports) - {"moodle", "canvas"})
    if unknown_exports:
        raise LemmaError(f"Unknown export {unknown_exports[0]!r}: choose moodle or canvas (a plain CSV is always written).")
    scratch = Path(tempfile.mkdtemp(prefix="lemma-grade-"))
    try:
        folder = unzip(directory, scratch / "download") if directory.suffix == ".zip" and directory.is_file() \
            else directory
        entries, skipped, layout = find_submissions(folder)
        if not entries:
            raise LemmaError(f"No submitted notebooks (*.ipynb) in {directory}"
                             + (f"; it holds {', '.join(clean_text(x, 40) for x in skipped[:5])}" if skipped else
                                ", which is empty") + ". Point lemma-grade at the folder of submissions.")
        by_owner = owners(entries, students, layout)
        files = {}                                      # owner -> [(file id, entry)]
        for owner, (_, es) in by_owner.items():
            files[owner] = [(owner if len(es) == 1 else f"{owner}/{e.path.name}", e) for e in es]
        data, data_problems = _sandbox.available_data()
        if sandbox == "none":
            mode = "none: submissions ran as ordinary processes with your rights (--no-sandbox)"
        else:
            why = _sandbox.probe(data)
            if why:
                raise LemmaError(why)
            mode = "bubblewrap: each submission alone, no network, read-only course files"
        submissions = read_all([(fid, e.path) for fs in files.values() for fid, e in fs])
        out.parent.mkdir(parents=True, exist_ok=True)
        journal = Journal(out.with_name(out.stem + ".journal.jsonl"))
        done = journal.read() if resume else {}
        if not resume and journal.path.exists():
            journal.path.unlink()
        started = time.monotonic()
        single = {fid for fs in files.values() if len(fs) == 1 for fid, _ in fs}
        run = _Run(sandbox != "none", data, jobs, scratch)
        with tqdm(total=len(submissions), desc="grading", unit="notebook", file=sys.stderr, disable=quiet) as bar:
            results = _run_async(_grade_all(submissions, done, run, limits, jobs, journal, key, overridden,
                                            out.parent, set(), reveal, keep_executed, bar, assignment, single))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    subs, names, platforms, rows_by_file = [], {}, {}, []
    for owner, (student, es) in by_owner.items():
        parts = [results[fid] for fid, _ in files[owner]]
        if parts:
            sub = merge(owner, parts)
        else:
            sub = Submission(owner, "")
            sub.problem("no notebook was submitted", "missing")
        if students is not None and student is None:
            sub.notes.append("not on the roster: check the name of the file or folder")
        subs.append(sub)
        names[owner] = (student.name if student else "") or (es[0].name if es else "")
        info = {"name": names[owner]}
        for e in es:
            if "moodle" in e.platform:
                info.update(moodle=e.platform["moodle"], moodle_pid=e.owner)
            if "canvas" in e.platform:
                info.update(canvas=e.platform["canvas"], canvas_uid=e.owner)
        platforms[owner] = info
        rows_by_file += [(owner, part) for part in parts]
    keys, variant_status = {s.student: key for s in subs}, None
    if secret is not None:
        keys, variant_status = _variant_keys(subs, assignment, secret, key)
        overridden = overridden | {q for q in assignment.questions if B.question(q).compute}
    marks = {s.student: score_submission(s, keys[s.student], overridden, assignment) for s in subs}
    columns = (list(assignment.questions) if assignment is not None else
               sorted({qid for m in marks.values() for qid in m}, key=question_order))
    write_gradebook(out, subs, marks, columns, names if students is not None else None, variant_status)
    _write_by_notebook(out.with_name("grades_by_notebook.csv"), rows_by_file, keys, overridden, assignment)
    feedback = {}
    for sub in subs:
        feedback[sub.student] = feedback_text(sub, marks[sub.student], columns, keys[sub.student], reveal, assignment)
        _write_outputs(sub, out.parent, feedback[sub.student], False)
    maximum = sum(key[c].points for c in columns)
    totals = {sub.student: sum(m.points for m in marks[sub.student].values()) for sub in subs}
    export_rows = [(sub.student, by_owner[sub.student][0], platforms[sub.student], sub.status, totals[sub.student])
                   for sub in subs]
    written = [a.name for a in feedback_archives(out.parent, feedback, platforms)]
    sheet = []
    owner_of = {fid: owner for owner, fs in files.items() for fid, _ in fs}
    for sid, filename, blob, _problem in submissions:
        owner = owner_of[sid]
        nb = read_submission(blob)[0] if blob is not None else None
        sheet += [(owner, names.get(owner, ""), filename, *item) for item in written_answers(nb)]
    if sheet:
        write_marking_sheet(out.with_name("marking_sheet.csv"), sheet)
        written.append(f"marking_sheet.csv ({len(sheet)} written answers to mark; then lemma-grade merge)")
    if "moodle" in exports:
        n = write_moodle(out.with_name("moodle_grades.csv"), export_rows, maximum)
        written.append(f"moodle_grades.csv ({n} of {len(subs)} students have a Moodle participant id)")
    if "canvas" in exports:
        write_canvas(out.with_name("canvas_grades.csv"), export_rows,
                     assignment.title if assignment is not None else "lemma-grade", maximum)
        written.append("canvas_grades.csv")
    resumed = sum(1 for s in submissions if s[0] in done and done[s[0]].sha256 == results[s[0]].sha256)
    notes = list(data_problems) + ([f"{resumed} submission(s) taken from the journal of an earlier run (--resume)"]
                                   if resumed else [])
    notes.append(f"layout: {layout}; {len(submissions)} notebook(s) from {len(subs) - sum(1 for s in subs if s.status == 'missing')} "
                 f"student(s)" + (f"; roster of {len(students)}" if students is not None else ""))
    strangers = [o for o, (st, es) in by_owner.items() if students is not None and st is None]
    if strangers:
        notes.append("submissions from names not on the roster: " + ", ".join(clean_text(x, 40) for x in strangers))
    notes.append("also written: " + ", ".join(written))
    text = summary(subs, marks, columns, key, overrides=overrides, key_file=key_file, out=out, directory=directory,
                   seconds=time.monotonic() - started, skipped=skipped, sandbox=mode, notes=notes,
                   assignment=assignment)
    (out.parent / "grading_summary.txt").write_text(text, encoding="utf-8")
    print(text, end="", file=stream)
    return subs


def _variant_keys(subs: list, assignment: Assignment, secret: bytes, key: dict) -> tuple:
    """Each student's own key, and whether the code their notebook recorded is theirs."""
    codes = {s.student: student_code(secret, assignment.id, s.student) for s in subs}
    owner_of = {c: sid for sid, c in codes.items()}
    keys, status = {}, {}
    for s in subs:
        keys[s.student] = {**key, **variant_keys(assignment, codes[s.student])}
        used = sorted({d.get("code", "") for d in s.declared if d.get("code")})
        if s.status == "missing":
            status[s.student] = ""
        elif not used:
            status[s.student] = "no code"
            s.notes.append("no variant code was recorded (lh.start_assignment(..., code=...) was not run): the "
                           "notebook used the full data, not your variant, so computed answers will not match")
        elif used == [codes[s.student]]:
            status[s.student] = "ok"
        else:
            others = [owner_of[c] for c in used if c in owner_of and owner_of[c] != s.student]
            status[s.student] = (f"another student's code ({', '.join(others)})" if others else "unknown code")
            s.notes.append(f"the notebook used variant code(s) {', '.join(used)}, not your own: graded against "
                           "your own variant's key")
    return keys, status


def _write_by_notebook(path: Path, rows: list, keys: dict, overridden: set, assignment) -> None:
    """One row per submitted notebook: student, notebook, status, points from that notebook's own answers
    (``keys``: each student's key)."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["student", "notebook", "status", "total"])
        for owner, sub in rows:
            marks = score_submission(Submission(sub.student, sub.file, answers=sub.answers), keys[owner], overridden,
                                     assignment)
            w.writerow([csv_safe(owner), csv_safe(sub.file), sub.status, f"{sum(m.points for m in marks.values()):g}"])


async def _grade_all(submissions, done, run, limits, jobs, journal, key, overridden, out_dir, columns_so_far,
                     reveal, keep_executed, bar, assignment=None, single=None) -> dict:
    slots = asyncio.Queue()
    for i in range(max(1, jobs)):
        slots.put_nowait(i)
    results = {}

    async def one(stem, name, data, problem):
        previous = done.get(stem)
        digest = hashlib.sha256(data).hexdigest() if data is not None else ""
        if previous is not None and previous.sha256 == digest:
            results[stem] = previous
            bar.update(1)
            return
        slot = await slots.get()
        try:
            if problem:
                sub = Submission(stem, name, digest)
                sub.problem(problem, "not a notebook")
            else:
                sub = await _grade_one(stem, name, data, run, slot, limits)
        except Exception as err:   # noqa: BLE001 - one submission never stops the run
            sub = Submission(stem, name, digest)
            sub.problem(f"grader error: {type(err).__name__}: {err}", "not run")
        finally:
            slots.put_nowait(slot)
        try:
            marks = score_submission(sub, key, overridden, assignment)
            columns_so_far.update(marks)
            cols = list(assignment.questions) if assignment is not None else sorted(columns_so_far, key=question_order)
            text = feedback_text(sub, marks, cols, key, reveal, assignment)
            _write_outputs(sub, out_dir, text if single is None or stem in single else None, keep_executed)
        except Exception as err:   # noqa: BLE001
            sub.notes.append(f"feedback not written during the run: {clean_text(err, 120)}")
        journal.append(sub)
        results[stem] = sub
        bar.set_postfix_str(clean_text(stem, 30), refresh=False)
        bar.update(1)

    await asyncio.gather(*(one(*s) for s in submissions))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lemma-grade`` command (see :mod:`lemma_helpers._grade_cli`)."""
    from ._grade_cli import main as _main

    return _main(argv)


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
