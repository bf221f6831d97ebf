"""``lemma-grade``: grade a folder of submitted notebooks against an answer key.

Each ``*.ipynb`` in the folder is one student's submission; the student id is
the file name without ``.ipynb``. For every submission the grader

1. reads the file defensively: an empty file, a file that is not JSON or a
   JSON file that is not a notebook is reported and scores 0; otherwise only
   the code and Markdown cells are kept (stored outputs, attachments and
   metadata are dropped, so nothing the student stored can pass for an
   answer);
2. runs it top to bottom in a fresh kernel, in a new empty working folder,
   with a time limit per cell and per notebook, a memory limit and a CPU-time
   limit (see :func:`kernel_argv`); errors do not stop the run;
3. reads back the answers recorded by ``lh.check`` (the
   ``application/vnd.lemma.answer+json`` outputs; the last answer to each
   question counts) and scores them with the same rules as ``lh.check``,
   against the shipped key or the instructor's ``--key`` file.

It writes a CSV gradebook (``student``, one column per question that anyone
answered, ``total``; an empty cell means "not answered"), one Markdown
feedback file per student in ``feedback/`` next to the gradebook, the
executed notebooks in ``executed/`` and a summary. It exits with 0 once every
submission has been processed, broken ones included.

Graded code runs with the instructor's user rights: read ``docs/GRADING.md``
before grading work from people you do not trust.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import importlib
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ._validation import LemmaError

# ``lemma_helpers.quiz`` the attribute is the function lh.quiz; the module is in sys.modules
Q = importlib.import_module("lemma_helpers.quiz")

__all__ = ["main", "grade", "Submission", "load_submission", "collect_answers", "kernel_argv"]

KERNEL_NAME = "lemma-grade"
WARM_UP = "__import__('importlib').import_module('lemma_helpers.quiz')._bank()"
_ENV_KEEP = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "USER", "LOGNAME",
             "PYTHONPATH", "LEMMA_DATA_DIR", "LEMMA_CACHE_DIR", "JUPYTER_PLATFORM_DIRS", "SYSTEMROOT")


@dataclass
class Limits:
    """Per-submission limits."""

    timeout: float = 600.0        # seconds for the whole notebook
    cell_timeout: float = 120.0   # seconds for one cell before it is interrupted
    memory_mb: int = 4096         # address-space limit of the kernel process
    startup_timeout: float = 60.0


@dataclass
class Submission:
    """One student's submission and what happened to it."""

    student: str
    path: Path
    answers: dict = field(default_factory=dict)   # question id -> list of recorded answers, in order
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    executed: Any = None


# --------------------------------------------------------------------------
# Reading a submission
# --------------------------------------------------------------------------

def load_submission(path: Path) -> tuple:
    """Read a submitted file; return ``(notebook or None, problem or None, notes)``.

    The notebook returned is rebuilt from the code and Markdown cells only.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        return None, f"could not be read ({err.strerror})", []
    if not data.strip():
        return None, "empty file", []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "not a text file (not UTF-8), so not a notebook", []
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        return None, f"not valid JSON ({err.msg} at line {err.lineno}), perhaps cut short or edited by hand", []
    if isinstance(raw, dict) and "worksheets" in raw and "cells" not in raw:
        try:                                    # an nbformat 3 notebook
            raw = nbformat.reads(text, as_version=4)
        except Exception:                       # noqa: BLE001 - anything unreadable is reported
            return None, "an old-format notebook that could not be converted", []
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, "valid JSON but not a notebook (it has no list of cells)", []
    cells, skipped = [], 0
    for cell in raw["cells"]:
        source = cell.get("source", "") if isinstance(cell, dict) else None
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            skipped += 1
            continue
        kind = cell.get("cell_type")
        if kind == "code":
            cells.append(new_code_cell(source))
        elif kind == "markdown":
            cells.append(new_markdown_cell(source))
    notes = [f"{skipped} malformed cell(s) skipped"] if skipped else []
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": KERNEL_NAME, "display_name": "lemma-grade", "language": "python"}})
    return nb, None, notes


def collect_answers(nb) -> dict:
    """The answers recorded by ``lh.check`` in an executed notebook, in order.

    Returns ``{question id: [answer, answer, ...]}``; the last one counts.
    """
    found: dict = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") not in ("display_data", "execute_result"):
                continue
            record = out.get("data", {}).get(Q.ANSWER_MIME)
            if isinstance(record, str):
                try:
                    record = json.loads(record)
                except json.JSONDecodeError:
                    continue
            if isinstance(record, dict) and isinstance(record.get("id"), str) and "answer" in record:
                found.setdefault(record["id"], []).append(record["answer"])
    return found


# --------------------------------------------------------------------------
# Running a submission
# --------------------------------------------------------------------------

def kernel_argv(memory_mb: int, cpu_seconds: int) -> list:
    """The command that starts a grading kernel with resource limits.

    The kernel is this Python (``sys.executable``) running a tiny launcher
    that lowers its own limits with ``resource.setrlimit`` before it starts
    ipykernel: ``RLIMIT_AS`` (address space; an allocation beyond it raises
    ``MemoryError`` in the student's cell), ``RLIMIT_CPU`` (CPU seconds; a
    backstop behind the wall-clock limits) and ``RLIMIT_CORE`` = 0. Soft and
    hard limits are both set, so the student's code cannot raise them again,
    and child processes inherit them.
    """
    code = (
        "import sys\n"
        "try:\n"
        "    import resource\n"
        "    def _limit(which, value):\n"
        "        soft, hard = resource.getrlimit(which)\n"
        "        if hard != resource.RLIM_INFINITY:\n"
        "            value = min(value, hard)\n"
        "        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else"
        " (value + 5 if hard == resource.RLIM_INFINITY else min(value + 5, hard))))\n"
        f"    _limit(resource.RLIMIT_AS, {int(memory_mb)} * 1024 * 1024)\n"
        f"    _limit(resource.RLIMIT_CPU, {int(cpu_seconds)})\n"
        "    _limit(resource.RLIMIT_CORE, 0)\n"
        "except ImportError:\n"
        "    pass\n"
        "if sys.path and sys.path[0] == '':\n"
        "    del sys.path[0]\n"
        "from ipykernel.kernelapp import launch_new_instance\n"
        "launch_new_instance()\n"
    )
    return [sys.executable, "-c", code, "-f", "{connection_file}"]


def _kernel_env(work: Path) -> dict:
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    real_home = Path.home()
    env.update(
        HOME=str(work),                                   # stray writes to ~ land in the sandbox
        XDG_CACHE_HOME=os.environ.get("XDG_CACHE_HOME", str(real_home / ".cache")),  # data cache
        TMPDIR=str(work),
        PYTHONHASHSEED="0",
        OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        LEMMA_GRADING="1",
    )
    return env


class _OutOfTime(Exception):
    pass


def _quiet_logger() -> logging.Logger:
    log = logging.getLogger("lemma_helpers.grading.nbclient")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    return log


async def _execute(sub: Submission, nb, spec_dir: Path, work: Path, log_path: Path, limits: Limits) -> None:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError
    from nbclient.util import ensure_async

    deadline = [math.inf]
    current = [0]
    timed_out_msg = "interrupted by lemma-grade: time limit"

    def on_cell_start(cell, cell_index):
        current[0] = cell_index
        if time.monotonic() > deadline[0]:
            raise _OutOfTime()

    def on_cell_error(cell, cell_index, execute_reply):
        content = execute_reply.get("content", {})
        if content.get("evalue") == timed_out_msg:
            sub.problems.append(f"cell {cell_index + 1} ran longer than the time limit and was interrupted")
        else:
            name, value = content.get("ename", "Error"), str(content.get("evalue", ""))
            value = value if len(value) <= 120 else value[:117] + "..."
            extra = f" (memory limit {limits.memory_mb} MB)" if name == "MemoryError" else ""
            sub.problems.append(f"cell {cell_index + 1} raised {name}" + (f": {value}" if value else "") + extra)

    def cell_timeout(cell):
        left = deadline[0] - time.monotonic()
        return max(1, int(math.ceil(min(limits.cell_timeout, left))))

    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
    client = NotebookClient(
        nb, km=km, timeout_func=cell_timeout, allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "TimeoutError", "evalue": timed_out_msg, "traceback": []},
        startup_timeout=int(limits.startup_timeout), record_timing=False, log=_quiet_logger(),
        on_cell_start=on_cell_start, on_cell_error=on_cell_error,
    )

    async def run():
        await client.async_start_new_kernel(cwd=str(work), env=_kernel_env(work), stdout=log, stderr=log)
        await client.async_start_new_kernel_client()
        try:   # import the course package before the clock starts; binds no name in the student's namespace
            msg_id = await ensure_async(client.kc.execute(WARM_UP, silent=True, store_history=False))
            await asyncio.wait_for(client.async_wait_for_reply(msg_id), limits.startup_timeout)
        except asyncio.TimeoutError:
            pass
        deadline[0] = time.monotonic() + limits.timeout    # the clock starts once the kernel is ready
        await client.async_execute()

    hard_limit = limits.timeout + 2 * limits.startup_timeout + 30   # start, warm-up, cells, slack
    with open(log_path, "wb") as log:
        try:
            await asyncio.wait_for(run(), hard_limit)
        except _OutOfTime:
            left = sum(1 for c in nb.cells[current[0]:] if c.cell_type == "code" and c.source.strip())
            sub.problems.append(f"stopped at the notebook time limit ({limits.timeout:g} s); "
                                f"{left} code cell(s) from cell {current[0] + 1} on were not run")
        except asyncio.TimeoutError:
            sub.problems.append(f"stopped by the hard time limit ({hard_limit:g} s) in cell {current[0] + 1}")
        except DeadKernelError:
            sub.problems.append(f"the kernel died in cell {current[0] + 1} (exit(), a crash, or the "
                                f"memory or CPU limit); later cells were not run")
        except Exception as err:   # noqa: BLE001 - one bad submission must not stop the run
            sub.problems.append(f"could not be run: {type(err).__name__}: {str(err)[:200]}")
        finally:
            try:
                if client.kc is not None:
                    client.kc.stop_channels()
                if km.has_kernel:
                    await km.shutdown_kernel(now=True)
            except Exception:       # noqa: BLE001
                pass


async def _grade_one(path: Path, spec_dir: Path, scratch: Path, limits: Limits) -> Submission:
    sub = Submission(student=path.stem, path=path)
    nb, problem, sub.notes = load_submission(path)
    if problem:
        sub.problems.append(problem)
        return sub
    if not any(c.cell_type == "code" and c.source.strip() for c in nb.cells):
        sub.problems.append("no code cells to run")
        sub.executed = nb
        return sub
    work = Path(tempfile.mkdtemp(prefix="work-", dir=scratch))
    logs = Path(tempfile.mkdtemp(prefix="log-", dir=scratch))
    try:
        await _execute(sub, nb, spec_dir, work, logs / "kernel.log", limits)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    started = not any("could not be run" in p for p in sub.problems)
    if not started or any("kernel died" in p for p in sub.problems):
        log = (logs / "kernel.log").read_text(errors="replace").splitlines()
        errors = [ln.strip() for ln in log if any(w in ln for w in ("Error", "Traceback", "Killed"))]
        if errors:
            sub.notes.append("kernel log: " + " | ".join(errors[-3:])[:300])
    if not started:
        sub.notes.append(f"the kernel did not start: if every submission fails like this, raise --memory "
                         f"(now {limits.memory_mb} MB; a kernel with the course package needs about 1.2 GB)")
    sub.executed = nb
    sub.answers = collect_answers(nb)
    if started and not sub.answers:
        sub.problems.append("no answers recorded (lh.check was never called, or never reached)")
    return sub


def _write_kernelspec(spec_dir: Path, limits: Limits) -> None:
    kdir = spec_dir / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    cpu = int(limits.timeout + limits.startup_timeout + 60)
    spec = {"argv": kernel_argv(limits.memory_mb, cpu), "display_name": "lemma-grade (limited)",
            "language": "python", "metadata": {"debugger": False}}
    (kdir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")


async def _grade_all(paths, limits: Limits, jobs: int, progress) -> list:
    scratch = Path(tempfile.mkdtemp(prefix="lemma-grade-"))
    try:
        spec_dir = scratch / "kernels"
        _write_kernelspec(spec_dir, limits)
        gate = asyncio.Semaphore(max(1, jobs))

        async def one(path):
            async with gate:
                try:
                    sub = await _grade_one(path, spec_dir, scratch, limits)
                except Exception as err:   # noqa: BLE001 - report and carry on
                    sub = Submission(path.stem, path, problems=[f"grader error: {type(err).__name__}: {err}"])
            progress.set_postfix_str(sub.student, refresh=False)
            progress.update(1)
            return sub

        return list(await asyncio.gather(*(one(p) for p in paths)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------
# Scoring and reports
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Mark:
    """The grade of one answer."""

    answer: Any
    times: int
    correct: bool
    points: float
    feedback: str


def score_submission(sub: Submission, key: dict, overridden: set) -> dict:
    """``{question id: Mark}`` for the last answer to each known question."""
    marks = {}
    for qid, answers in sub.answers.items():
        try:
            q = Q.question(qid)
        except (LemmaError, TypeError):
            sub.notes.append(f"ignored an answer to unknown question {qid!r}")
            continue
        answer = answers[-1]
        if isinstance(answer, dict) and "unsupported" in answer:
            out = Q.Outcome(False, False, 0, f"The answer was a {answer['unsupported']}, which cannot be graded.")
        else:
            out = Q.score(q, answer, key[q.id])
        feedback = out.feedback
        if q.id in overridden and q.type in ("single", "multiple") and out.valid:
            feedback = "Correct." if out.correct else "Not correct."   # bank feedback was written for the shipped key
        marks[q.id] = Mark(answer, len(answers), out.correct, float(out.points), feedback)
    return marks


def _fmt(x: float) -> str:
    return f"{x:g}"


def _question_order(qid: str) -> tuple:
    section, _, number = qid.rpartition(".q")
    return Q.section_sort_key(section) + (int(number),)


def write_gradebook(path: Path, subs: list, marks: dict, columns: list) -> None:
    """CSV: ``student``, one column per question (points; empty = not answered), ``total``."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["student", *columns, "total"])
        for sub in subs:
            m = marks[sub.student]
            row = [_fmt(m[c].points) if c in m else "" for c in columns]
            w.writerow([sub.student, *row, _fmt(sum(mk.points for mk in m.values()))])


def feedback_text(sub: Submission, marks: dict, columns: list, key: dict, reveal: bool) -> str:
    """The Markdown feedback file for one student."""
    total = sum(m.points for m in marks.values())
    possible = sum(key[c].points for c in columns)
    lines = [f"# Feedback for {sub.student}", "", f"Submission: `{sub.path.name}`",
             f"Score: {_fmt(total)} of {_fmt(possible)} points", ""]
    if sub.problems or sub.notes:
        lines += ["## What happened when your notebook was run", ""]
        lines += [f"- {p}" for p in sub.problems + sub.notes]
        lines += ["", "Answers recorded before a problem still count.", ""]
    for qid in columns:
        q, mark = Q.question(qid), marks.get(qid)
        worth = key[qid].points
        if mark is None:
            lines += [f"## {qid}: not answered (0 of {_fmt(worth)})", ""]
        else:
            verdict = "correct" if mark.correct else "not correct"
            lines += [f"## {qid}: {verdict} ({_fmt(mark.points)} of {_fmt(worth)})", "",
                      f"Your answer: `{json.dumps(mark.answer, ensure_ascii=False)}`"
                      + (f" (you checked this question {mark.times} times; the last answer counts)"
                         if mark.times > 1 else ""), "", mark.feedback, ""]
        if reveal:
            lines += [f"Accepted answer: {Q.describe_key(q, key[qid])}", ""]
            if key[qid].explanation:
                lines += [f"Worked answer: {key[qid].explanation.strip()}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _run_async(coro):
    """asyncio.run, also from a notebook where an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def grade(directory: str | Path, out: str | Path, *, key_file: str | Path | None = None,
          limits: Limits | None = None, jobs: int = 1, reveal: bool = False, keep_executed: bool = True,
          quiet: bool = False, stream=None) -> list:
    """Grade every ``*.ipynb`` in ``directory``; write the gradebook to ``out``.

    Returns the list of :class:`Submission` objects. See the module docstring.
    """
    from tqdm import tqdm

    stream = stream or sys.stdout
    limits = limits or Limits()
    directory, out = Path(directory), Path(out)
    overrides = Q.load_key(key_file) if key_file else {}
    key = {**Q.shipped_key(), **overrides}
    paths = [directory] if directory.is_file() else sorted(directory.glob("*.ipynb"))
    paths = [p for p in paths if p.is_file()]
    started = time.monotonic()
    with tqdm(total=len(paths), desc="grading", unit="notebook", file=sys.stderr, disable=quiet) as bar:
        subs = _run_async(_grade_all(paths, limits, jobs, bar))
    subs.sort(key=lambda s: s.student)
    marks = {s.student: score_submission(s, key, set(overrides)) for s in subs}
    columns = sorted({qid for m in marks.values() for qid in m}, key=_question_order)

    out.parent.mkdir(parents=True, exist_ok=True)
    write_gradebook(out, subs, marks, columns)
    fb_dir = out.parent / "feedback"
    fb_dir.mkdir(exist_ok=True)
    ex_dir = out.parent / "executed"
    for s in subs:
        (fb_dir / f"{s.student}.md").write_text(feedback_text(s, marks[s.student], columns, key, reveal),
                                                encoding="utf-8")
        if keep_executed and s.executed is not None:
            ex_dir.mkdir(exist_ok=True)
            try:
                nbformat.write(s.executed, str(ex_dir / f"{s.student}.ipynb"))
            except Exception as err:   # noqa: BLE001
                s.notes.append(f"executed copy not saved: {err}")

    summary = _summary(subs, marks, columns, key, overrides, key_file, out, directory, time.monotonic() - started)
    (out.parent / "grading_summary.txt").write_text(summary, encoding="utf-8")
    print(summary, end="", file=stream)
    return subs


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(subs, marks, columns, key, overrides, key_file, out, directory, seconds) -> str:
    possible = sum(key[c].points for c in columns)
    totals = [sum(m.points for m in marks[s.student].values()) for s in subs]
    src = "the shipped self-test key"
    if overrides:
        src += f", with {len(overrides)} question(s) replaced from {Path(key_file).name}"
    lines = [f"lemma-grade: graded {len(subs)} submission(s) from {directory} in {seconds:.0f} s",
             f"Key: {src}",
             f"Gradebook: {out} ({_n(len(subs), 'student')} x {_n(len(columns), 'question')}, "
             f"{_fmt(possible)} {'point' if possible == 1 else 'points'})",
             f"Feedback: {out.parent / 'feedback'}"]
    if not subs:
        lines.append(f"No *.ipynb files found in {directory}.")
    else:
        lines.append(f"Totals: mean {sum(totals) / len(totals):.2f}, min {_fmt(min(totals))}, "
                     f"max {_fmt(max(totals))}")
    broken = [s for s in subs if s.problems]
    if broken:
        lines.append(f"Problems in {len(broken)} submission(s) (each scored what it could):")
        for s in broken:
            lines.append(f"  {s.student}: " + "; ".join(s.problems))
    else:
        lines.append("No problems: every notebook ran to the end.")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lemma-grade`` command."""
    p = argparse.ArgumentParser(
        prog="lemma-grade",
        description="Run every submitted notebook in DIR in a fresh, limited kernel, read back the answers "
                    "recorded by lh.check, and write a gradebook and feedback files.",
        epilog="Graded code runs with your user rights. Read docs/GRADING.md first.")
    p.add_argument("directory", metavar="DIR", help="folder of submitted *.ipynb files (student id = file name)")
    p.add_argument("--out", required=True, metavar="CSV", help="gradebook to write; feedback/ and executed/ go next to it")
    p.add_argument("--key", metavar="KEY", help="instructor key file (YAML or JSON: question id -> answer)")
    p.add_argument("--timeout", type=float, default=600, metavar="SECONDS", help="time limit per notebook (default 600)")
    p.add_argument("--cell-timeout", type=float, metavar="SECONDS",
                   help="time limit per cell before it is interrupted (default: the smaller of 120 and --timeout)")
    p.add_argument("--memory", type=int, default=4096, metavar="MB", help="memory limit per kernel (default 4096)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="notebooks to run at once (default 1)")
    p.add_argument("--reveal-answers", action="store_true", help="put the accepted answers in the feedback files")
    p.add_argument("--no-executed", action="store_true", help="do not keep the executed notebooks")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)

    directory = Path(a.directory)
    if not directory.exists():
        p.error(f"{directory} does not exist")
    if a.timeout <= 0 or (a.cell_timeout is not None and a.cell_timeout <= 0) or a.memory < 256:
        p.error("--timeout and --cell-timeout must be positive and --memory at least 256 MB")
    limits = Limits(timeout=a.timeout, cell_timeout=min(a.cell_timeout or 120, a.timeout), memory_mb=a.memory)
    try:
        if a.key:
            Q.load_key(a.key)          # fail before running anything
        grade(directory, a.out, key_file=a.key, limits=limits, jobs=a.jobs, reveal=a.reveal_answers,
              keep_executed=not a.no_executed, quiet=a.quiet)
    except LemmaError as err:
        print(f"lemma-grade: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
