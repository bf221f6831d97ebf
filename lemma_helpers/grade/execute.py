"""The run stage: each notebook run top to bottom in a sandbox of its own, its outputs read back as they come.

For each notebook the grader starts :mod:`lemma_helpers.grade.runner` (in a
bubblewrap sandbox planned by :mod:`lemma_helpers.grade.sandbox`, or as a
plain process with ``--no-sandbox``), sends it the code cells, and reads the
runner's JSON lines: each executed cell's outputs, problems, and when the
kernel started and the notebook finished. Nothing read back is trusted: it is
bounded in size and only answer records are taken from it.

:func:`run_all` runs every notebook, ``jobs`` at a time, appending each
result to the journal as it finishes; a notebook whose bytes match the
journal of an earlier run (``--resume``) is not run again.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .. import _bank as B
from .._validation import LemmaError
from . import sandbox as _sandbox
from .notebooks import collect_answers, collect_declared, read_submission, written_answers
from .results import Submission
from .text import clean_text

RUNNER_STATUSES = ("errors", "timed out", "kernel died", "output cut", "not run")


@dataclass
class Limits:
    """Per-submission limits."""

    timeout: float = 600.0          # seconds for the whole notebook
    cell_timeout: float = 120.0     # seconds for one cell before it is interrupted
    memory_mb: int = 4096           # address-space limit of the kernel process
    startup_timeout: float = 60.0
    max_cell_output: int = 1_000_000    # bytes of output kept per cell
    max_output: int = 20_000_000        # bytes of output kept per notebook (and read from the sandbox)


class Runs:
    """How notebooks are started: a sandbox of its own for each, or plain processes (``--no-sandbox``)."""

    def __init__(self, use_sandbox: bool, data: dict, jobs: int, scratch: Path):
        self.use_sandbox, self.data, self.jobs, self.scratch = use_sandbox, data, jobs, scratch

    def plan(self, memory_mb: int):
        if self.use_sandbox:
            return _sandbox.sandbox_plan(self.data, jobs=self.jobs, memory_mb=memory_mb)
        work = Path(tempfile.mkdtemp(prefix="work-", dir=self.scratch))
        return _sandbox.plain_plan(work)


class _TooMuch(Exception):
    pass


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)     # the runner was started in a session of its own
    except (ProcessLookupError, PermissionError):
        pass


_CHECK = re.compile(r"""\bcheck\(\s*["']([A-Za-z0-9_.-]{1,40})["']""")


def _checks(source: str) -> list:
    return _CHECK.findall(source or "")


def cell_label(nb, code: list, k: int) -> str:
    """Code cell ``k`` (0-based) of ``nb`` as a learner finds it in JupyterLab, which shows no cell numbers:
    the first line of its code and the question it answers (or comes before or after)."""
    cells = [nb.cells[i].get("source", "") for i in code]
    first = next((ln.strip() for ln in cells[k].splitlines() if ln.strip()), "")
    first = first if len(first) <= 50 else first[:47] + "..."
    label = f"the cell '{first}'" if first else f"the empty cell {code[k] + 1}"
    here = _checks(cells[k])
    after = next((q for c in cells[k + 1:] for q in _checks(c)), None)
    before = next((q for c in reversed(cells[:k]) for q in reversed(_checks(c))), None)
    if here:
        return f"{label} (question {', '.join(dict.fromkeys(here))})"
    if after:
        return f"{label} (before question {after})"
    return f"{label} (after question {before})" if before else label


def code_to_cell(text: str, code: list, nb=None) -> str:
    """The runner numbers code cells; a learner sees neither numbers nor code-cell counts. With the notebook
    ``nb``: 'code cell 2' -> "the cell 'vpc = s2u / (s2u + s2e)' (before question 5.1.q1)" (:func:`cell_label`);
    without it, the cell's place among all cells ('cell 3' when a Markdown cell comes first)."""
    def fix(m):
        k = int(m.group(1)) - 1
        if not 0 <= k < len(code):
            return m.group(0)
        return cell_label(nb, code, k) if nb is not None else f"cell {code[k] + 1}"
    return re.sub(r"\bcode cell (\d+)", fix, text)


class _Stream:
    """What the runner has said so far about one notebook, read line by line within a byte budget. Each line
    must carry the run's signature (``key``); any other line is ignored."""

    def __init__(self, sub: Submission, nb, code: list, budget: int, key: bytes):
        self.sub, self.nb, self.code, self.budget, self.key = sub, nb, code, budget, key
        self.started = self.done = False
        self.last, self.read, self.forged = -1, 0, 0

    def _open(self, line: bytes):
        try:
            signed = json.loads(line)
            msg, mac = signed["msg"], signed["mac"]
            if not (isinstance(msg, str) and isinstance(mac, str)):
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError):
            self.forged += 1
            return None
        if not hmac.compare_digest(hmac.new(self.key, msg.encode(), hashlib.sha256).hexdigest(), mac):
            self.forged += 1
            return None
        try:
            return json.loads(msg)
        except (ValueError, RecursionError):
            return None

    def take(self, line: bytes) -> None:
        self.read += len(line)
        if self.read > self.budget:
            raise _TooMuch()
        msg = self._open(line)
        if not isinstance(msg, dict):
            return
        self.started = self.started or bool(msg.get("started"))
        self.done = self.done or bool(msg.get("done"))
        if isinstance(msg.get("problem"), str):
            status = msg.get("status") if msg.get("status") in RUNNER_STATUSES else "errors"
            self.sub.problem(code_to_cell(msg["problem"], self.code, self.nb), status)
        index = msg.get("cell")
        if isinstance(index, int) and 0 <= index < len(self.code) and isinstance(msg.get("outputs"), list):
            cell = self.nb.cells[self.code[index]]
            try:
                cell.outputs = [nbformat.from_dict(o) for o in msg["outputs"] if isinstance(o, dict)]
            except Exception:        # noqa: BLE001 - a malformed output is dropped
                cell.outputs = []
            self.last = index


async def _talk(proc, request: bytes, results, stream: _Stream, stderr_tail: bytearray) -> None:
    async def read_stderr():
        while chunk := await proc.stderr.read(65536):
            stderr_tail.extend(chunk)
            del stderr_tail[:-4096]

    async def read_results():
        while line := await results.readline():
            stream.take(line)

    proc.stdin.write(request)
    await proc.stdin.drain()
    proc.stdin.close()
    await asyncio.gather(read_results(), read_stderr())
    await proc.wait()


async def _start(plan, budget: int):
    """Start the runner with a pipe of its own for the results (``{result_fd}`` in its command) and the
    sandbox's system-call filter (``{seccomp_fd}``); returns ``(process, result reader, its transport)``."""
    read_fd, write_fd = os.pipe()
    fds = {"{result_fd}": write_fd}
    seccomp = None
    if plan.seccomp:
        seccomp, filter_write = os.pipe()
        os.write(filter_write, plan.seccomp)
        os.close(filter_write)
        fds["{seccomp_fd}"] = seccomp
    try:
        proc = await asyncio.create_subprocess_exec(
            *[str(fds.get(a, a)) for a in plan.argv], stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=plan.env, cwd=plan.cwd,
            start_new_session=True, pass_fds=tuple(fds.values()))
    finally:
        os.close(write_fd)
        if seccomp is not None:
            os.close(seccomp)
    reader = asyncio.StreamReader(limit=budget)
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", 0))
    return proc, reader, transport


async def execute(sub: Submission, nb, runs: Runs, limits: Limits) -> None:
    """Run ``nb``'s code cells in the runner; outputs go into ``nb``, problems into ``sub``."""
    plan = runs.plan(limits.memory_mb)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    key = os.urandom(32)
    budget = limits.max_output + 1_000_000
    proc, results, transport = await _start(plan, budget)
    config = {"timeout": limits.timeout, "cell_timeout": limits.cell_timeout,
              "startup_timeout": limits.startup_timeout, "memory_mb": limits.memory_mb,
              "max_cell_output": limits.max_cell_output, "max_output": limits.max_output, **plan.config,
              "mac_key": key.hex()}
    request = json.dumps({"config": config, "cells": [nb.cells[i].source for i in code]}).encode()
    hard_limit = limits.timeout + 2 * limits.startup_timeout + 30   # start, warm-up, cells, slack
    stream = _Stream(sub, nb, code, budget, key)
    stderr_tail = bytearray()
    try:
        await asyncio.wait_for(_talk(proc, request, results, stream, stderr_tail), hard_limit)
    except asyncio.TimeoutError:
        sub.problem(f"stopped by the hard time limit ({hard_limit:g} s) after "
                    f"{stream.last + 1} of {len(code)} code cell(s)", "timed out")
    except (_TooMuch, ValueError, asyncio.LimitOverrunError):
        sub.problem(f"the notebook wrote more than {limits.max_output:,} bytes of output; it was stopped "
                    f"after {stream.last + 1} of {len(code)} code cell(s)", "output cut")
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        _kill(proc)
        transport.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            pass
    _after_the_run(sub, stream, stderr_tail, limits)


def _after_the_run(sub: Submission, stream: _Stream, stderr_tail: bytearray, limits: Limits) -> None:
    if not stream.done and not sub.problems:
        detail = clean_text(bytes(stderr_tail).decode(errors="replace").strip().splitlines()[-1:] or [""], 200)
        sub.problem("the run ended before the notebook finished" + (f" ({detail})" if detail.strip("[]' ") else ""),
                    "not run" if not stream.started else "kernel died")
    if stream.forged:
        sub.note(f"{stream.forged} line(s) on the result channel were not the runner's and were ignored")
    if not stream.started:
        sub.notes.append(f"the kernel did not start: if every submission fails like this, raise --memory "
                         f"(now {limits.memory_mb} MB; a kernel with the course package needs about 1.2 GB)")


async def run_one(fid: str, name: str, data: bytes, runs: Runs, limits: Limits) -> Submission:
    """Parse one notebook's bytes, run it, and read back what it recorded."""
    sub = Submission(student=fid, file=name, sha256=hashlib.sha256(data).hexdigest())
    nb, problem, notes = read_submission(data)
    sub.notes.extend(notes)
    if problem:
        sub.problem(problem, "not a notebook")
        return sub
    sub.executed = nb
    sub.written = written_answers(nb)
    if not any(c.cell_type == "code" and c.source.strip() for c in nb.cells):
        sub.problem("no code cells to run", "no code")
        return sub
    await execute(sub, nb, runs, limits)
    unknown = []
    sub.answers = collect_answers(nb, sub.counts, known=_known_question, unknown=unknown)
    if unknown:
        sub.note("ignored answers to question(s) no question bank here has: " + ", ".join(
            clean_text(q, 40) for q in unknown) + (" and more" if len(unknown) >= 20 else ""))
    sub.declared = collect_declared(nb)
    if not sub.answers and "not run" not in sub.statuses:
        sub.problem("no answers recorded (lh.check was never called, or never reached)", "no answers")
    return sub


def _known_question(qid: str) -> bool:
    try:
        B.question(qid)
    except (LemmaError, TypeError):
        return False
    return True


def run_async(coro):
    """asyncio.run, also from a notebook where an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def run_all(notebooks: list, done: dict, runs: Runs, limits: Limits, jobs: int, journal, on_done) -> dict:
    """``{file id: Submission}`` for ``notebooks`` of ``(file id, file name, bytes or None, problem or None)``.

    A notebook in ``done`` (the journal of an earlier run) with the same bytes is taken from there. Each
    result is passed to ``on_done`` (with the executed notebook) and then appended to ``journal`` as it
    finishes; one notebook never stops the others.
    """
    slots = asyncio.Semaphore(max(1, jobs))
    results = {}

    async def one(fid, name, data, problem):
        digest = hashlib.sha256(data).hexdigest() if data is not None else ""
        previous = done.get(fid)
        if previous is not None and previous.sha256 == digest:
            results[fid] = previous
            on_done(previous, None)
            return
        async with slots:
            try:
                if problem:
                    sub = Submission(fid, name, digest)
                    sub.problem(problem, "not a notebook")
                else:
                    sub = await run_one(fid, name, data, runs, limits)
            except Exception as err:   # noqa: BLE001 - one submission never stops the run
                sub = Submission(fid, name, digest)
                sub.problem(f"grader error: {type(err).__name__}: {err}", "not run")
        on_done(sub, sub.executed)        # the executed copy first: a journal line means all of it is kept
        journal.append(sub)
        results[fid] = sub

    await asyncio.gather(*(one(*n) for n in notebooks))
    return results
