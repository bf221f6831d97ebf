"""Run one submitted notebook and stream its outputs back: the part of ``lemma-grade`` inside the sandbox.

``lemma-grade`` runs this file as a script (``python .../grade/runner.py``) inside the
sandbox (bubblewrap) and writes one JSON object to its standard input:
``{"config": {...}, "cells": ["source", ...]}`` (the code cells only; the
submission file itself never enters the sandbox). The runner

1. applies the limits that must hold for every process of the run
   (``RLIMIT_NPROC``, ``RLIMIT_FSIZE``, no core files, its own address space)
   and, when the grader runs as root, gives up root for an unprivileged user id
   of its own before any submitted code exists;
2. starts a kernel whose launcher lowers the address-space and CPU limits
   further (:func:`kernel_argv`) and runs the cells top to bottom with a time
   limit per cell and per notebook; errors do not stop the run;
3. keeps at most ``max_cell_output`` bytes of output per cell and
   ``max_output`` per notebook (answer records always pass, up to a count);
4. writes one JSON line per executed cell, ``{"cell": i, "outputs": [...]}``,
   and problems as ``{"problem": "..."}``, flushing after each, so that the
   grader keeps what ran even if the run is killed.

Nothing written here is trusted by the grader: a submission can write to
this process's standard output too. The grader only reads answer records from
it, with its own size limits, and scores them against a key the sandbox never
sees.
"""
from __future__ import annotations

import sys

if __name__ == "__main__" and sys.path and sys.path[0] == __import__("os").path.dirname(__file__):
    del sys.path[0]     # run as a script (not -m, which would import the whole package as root first)

if __name__ == "__main__":
    # nbclient imports nbformat, which imports jsonschema, which imports rfc3987_syntax when it is
    # installed (JupyterLab's dependencies bring it) and compiles its grammar: 1-2 s of every graded
    # notebook. This process never checks the IRI format, so Python is told the module is absent.
    sys.modules.setdefault("rfc3987_syntax", None)

import asyncio  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import DeadKernelError  # noqa: E402
from nbclient.util import ensure_async  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook, new_output  # noqa: E402

ANSWER_MIME = "application/vnd.lemma.answer+json"
ASSIGNMENT_MIME = "application/vnd.lemma.assignment+json"     # what lh.start_assignment records
KERNEL_NAME = "lemma-grade"
MAX_ANSWERS = 2000            # answer records kept per notebook
MAX_ANSWER_BYTES = 20_000     # size of one answer record
WARM_UP = "__import__('importlib').import_module('lemma_helpers._bank')._bank()"
TIMED_OUT = "interrupted by lemma-grade: time limit"


def kernel_argv(memory_mb: int, cpu_seconds: int, python: str | None = None) -> list:
    """The command that starts a grading kernel with resource limits.

    The kernel is this Python running a tiny launcher that lowers its own
    limits with ``resource.setrlimit`` before it starts ipykernel:
    ``RLIMIT_AS`` (address space; an allocation beyond it raises
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
    return [python or sys.executable, "-c", code, "-f", "{connection_file}"]


def _limit(which: int, value: int) -> None:
    import resource

    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _kernel_memory(config: dict) -> int:
    """The kernel's address-space limit in MB: the submission's memory less what its folders in memory may
    take (set by the sandbox), or all of it."""
    return int(config.get("kernel_memory_mb") or config["memory_mb"])


def confine(config: dict) -> None:
    """Limits for this process and everything it starts; drop root when asked to."""
    try:
        import resource
    except ImportError:      # not POSIX: only the time limits apply
        return
    _limit(resource.RLIMIT_CORE, 0)
    if config.get("max_file_mb"):
        _limit(resource.RLIMIT_FSIZE, int(config["max_file_mb"]) * 1024 * 1024)
    if config.get("max_processes"):
        _limit(resource.RLIMIT_NPROC, int(config["max_processes"]))
    if config.get("memory_mb"):
        # the runner's own limit: the kernel's (set by its launcher) plus room for this process
        _limit(resource.RLIMIT_AS, (_kernel_memory(config) + 1024) * 1024 * 1024)
    uid = config.get("uid")
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(int(uid))
        os.setuid(int(uid))          # from root to another user: every capability is gone too
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SystemExit("lemma-grade runner: could not give up root")
    try:                             # other processes of this user may not trace or read this one
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)    # PR_SET_DUMPABLE = 4
    except Exception:                # noqa: BLE001 - not Linux: nothing to do
        pass


class _Out:
    """Writes the results to the grader: JSON lines on the descriptor the grader passed (never standard output),
    each signed with the run's key once the request has given it.

    The descriptor is not inherited by the kernel, and bubblewrap's init
    process closes it, so the only process that holds it is this one, which
    no other process may read or trace (:func:`confine`).
    """

    def __init__(self, fd: int):
        self._fd = fd
        os.set_inheritable(fd, False)
        self.key = b""

    def write(self, obj: dict) -> None:
        msg = json.dumps(obj, ensure_ascii=True, allow_nan=False, default=str)
        mac = hmac.new(self.key, msg.encode(), hashlib.sha256).hexdigest()
        data = (json.dumps({"msg": msg, "mac": mac}) + "\n").encode()
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]


def _size(content: dict) -> int:
    if "text" in content:
        return len(content["text"])
    data = content.get("data") or {}
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v, default=str)) for v in data.values())


def _is_answer(content: dict) -> bool:
    return ANSWER_MIME in (content.get("data") or {})


_SCALARS = (int, float, str, bool, type(None))


def _plain(answer) -> bool:
    """True for an answer of a shape ``lh.check`` records: a short scalar, a short list of them, or
    ``{"unsupported": text}``."""
    if isinstance(answer, _SCALARS):
        return not isinstance(answer, str) or len(answer) <= 10_000
    if isinstance(answer, list):
        return len(answer) <= 50 and all(isinstance(a, _SCALARS) and len(str(a)) <= 200 for a in answer)
    return isinstance(answer, dict) and list(answer) == ["unsupported"] and isinstance(answer["unsupported"], str)


def _tidy(content: dict, answer: bool) -> None:
    """Keep an output's payloads plain: of an answer record only the question id and an answer of a shape
    ``lh.check`` makes (else a line saying it was dropped), of an ``lh.start_assignment`` record only its three
    short strings, and of other payloads only text (a JSON output is replaced by a line saying so)."""
    data = content.get("data")
    if not isinstance(data, dict):
        return
    record = data.get(ANSWER_MIME)
    if answer:
        if isinstance(record, dict) and isinstance(record.get("id"), str) and len(record["id"]) <= 40 \
                and "answer" in record and _plain(record["answer"]):
            data[ANSWER_MIME] = {"id": record["id"], "answer": record["answer"]}
        else:
            data.pop(ANSWER_MIME, None)
            data["text/plain"] = "[lemma-grade: an answer record that lh.check does not make was dropped]"
    started = data.get(ASSIGNMENT_MIME)
    if isinstance(started, dict) and set(started) <= {"assignment", "mode", "code"} and all(
            isinstance(v, str) and len(v) <= 64 for v in started.values()):
        data[ASSIGNMENT_MIME] = dict(started)       # the assignment and variant code: kept as lh makes them
    else:
        data.pop(ASSIGNMENT_MIME, None)
    for mime in [m for m, v in data.items() if m not in (ANSWER_MIME, ASSIGNMENT_MIME) and not isinstance(v, str)]:
        del data[mime]
        data.setdefault("text/plain", "[lemma-grade: a JSON output was dropped]")


class _Limits:
    """The output and time limits of one run, and what has been used of them so far."""

    def __init__(self, config: dict):
        self.timeout = float(config["timeout"])
        self.cell_limit = float(config["cell_timeout"])
        self.startup = float(config["startup_timeout"])
        self.max_cell = int(config["max_cell_output"])
        self.max_total = int(config["max_output"])
        self.memory_mb = config["memory_mb"]
        self.deadline = math.inf
        self.current = 0                 # the code cell running now
        self.total = self.answers = self.cell = 0
        self.cut = False

    def keep(self, content: dict, answer: bool) -> str:
        """'answer' or 'output' to keep an output, 'cut' to drop the first one over the limit, '' to drop it.
        An answer record (``answer``) always passes, up to a count and a size."""
        if answer:
            if self.answers >= MAX_ANSWERS or _size(content) > MAX_ANSWER_BYTES:
                return ""
            self.answers += 1
            return "answer"
        size = _size(content)
        if self.cell + size > self.max_cell or self.total + size > self.max_total:
            first, self.cut = not self.cut, True
            return "cut" if first else ""
        self.cell += size
        self.total += size
        return "output"


class _Client(NotebookClient):
    """nbclient's runner with the limits of :class:`_Limits` and every event written to the grader."""

    def __init__(self, nb, *, limits: _Limits, out: _Out, **kwargs):
        super().__init__(nb, timeout_func=self._cell_timeout, on_cell_start=self._on_cell_start,
                         on_cell_executed=self._on_cell_executed, on_cell_error=self._on_cell_error, **kwargs)
        self.limits, self.out = limits, out

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        shown = msg.get("msg_type") in ("display_data", "execute_result")
        answer = shown and _is_answer(content)
        _tidy(content, answer)
        verdict = self.limits.keep(content, answer=answer and _is_answer(content))
        if verdict == "cut":
            lim = self.limits
            self.out.write({"problem": f"code cell {cell_index + 1} printed more output than the limit "
                                       f"({lim.max_cell:,} bytes a cell, {lim.max_total:,} a notebook); the rest "
                                       "was cut", "status": "output cut"})
            outs.append(new_output("stream", name="stderr",
                                   text="[lemma-grade: output cut here: over the size limit]\n"))
        if verdict in ("answer", "output"):
            return super().output(outs, msg, display_id, cell_index)
        return None

    def _on_cell_start(self, cell, cell_index):
        self.limits.current, self.limits.cell, self.limits.cut = cell_index, 0, False
        if time.monotonic() > self.limits.deadline:
            raise _OutOfTime()

    def _on_cell_executed(self, cell, cell_index, execute_reply):
        self.out.write({"cell": cell_index, "outputs": cell.get("outputs", [])})

    def _on_cell_error(self, cell, cell_index, execute_reply):
        content = execute_reply.get("content", {})
        if content.get("evalue") == TIMED_OUT:
            self.out.write({"problem": f"code cell {cell_index + 1} ran longer than the time limit and was "
                                       "interrupted", "status": "timed out"})
            return
        name, value = str(content.get("ename", "Error")), str(content.get("evalue", ""))
        extra = f" (memory limit {self.limits.memory_mb} MB)" if name == "MemoryError" else ""
        self.out.write({"problem": f"code cell {cell_index + 1} raised {name}" + (f": {value}" if value else "")
                                   + extra, "status": "errors"})

    def _cell_timeout(self, cell):
        return max(1, int(math.ceil(min(self.limits.cell_limit, self.limits.deadline - time.monotonic()))))

    async def run_all(self, work: str) -> None:
        """Start the kernel, import the course package before the clock starts, then run every cell."""
        await self.async_start_new_kernel(cwd=work, env=dict(os.environ), stdout=_devnull(), stderr=_devnull())
        await self.async_start_new_kernel_client()
        try:   # binds no name in the student's namespace
            msg_id = await ensure_async(self.kc.execute(WARM_UP, silent=True, store_history=False))
            await asyncio.wait_for(self.async_wait_for_reply(msg_id), self.limits.startup)
        except asyncio.TimeoutError:
            pass
        self.limits.deadline = time.monotonic() + self.limits.timeout
        self.out.write({"started": True})
        await self.async_execute()


def _kernel_spec_dir(config: dict, limits: _Limits) -> str:
    """A kernel spec whose launcher sets the kernel's own resource limits (:func:`kernel_argv`)."""
    spec_dir = os.path.join(config["scratch"], "kernels")
    os.makedirs(os.path.join(spec_dir, KERNEL_NAME), exist_ok=True)
    cpu = int(limits.timeout + limits.startup + 60)
    with open(os.path.join(spec_dir, KERNEL_NAME, "kernel.json"), "w", encoding="utf-8") as fh:
        json.dump({"argv": kernel_argv(_kernel_memory(config), cpu), "display_name": "lemma-grade (limited)",
                   "language": "python", "metadata": {"debugger": False}}, fh)
    return spec_dir


async def run(cells: list, config: dict, out: _Out) -> None:
    """Run ``cells`` in a fresh kernel with the limits of ``config``; every event goes to ``out``."""
    limits = _Limits(config)
    nb = new_notebook(cells=[new_code_cell(src) for src in cells],
                      metadata={"kernelspec": {"name": KERNEL_NAME, "display_name": "lemma-grade",
                                               "language": "python"}})
    log = logging.getLogger("lemma_helpers.grade.runner")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    ksm = KernelSpecManager(kernel_dirs=[_kernel_spec_dir(config, limits)], ensure_native_kernel=False)
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
    client = _Client(nb, limits=limits, out=out, km=km, allow_errors=True, interrupt_on_timeout=True,
                     error_on_timeout={"ename": "TimeoutError", "evalue": TIMED_OUT, "traceback": []},
                     startup_timeout=int(limits.startup), record_timing=False, log=log)
    try:
        await client.run_all(config["work"])
    except _OutOfTime:
        left = sum(1 for src in cells[limits.current:] if src.strip())
        out.write({"problem": f"stopped at the notebook time limit ({limits.timeout:g} s); {left} code cell(s) "
                              f"from code cell {limits.current + 1} on were not run", "status": "timed out"})
    except DeadKernelError:
        out.write({"problem": f"the kernel died in code cell {limits.current + 1} (exit(), a crash, or the memory "
                              "or CPU limit); later cells were not run", "status": "kernel died"})
    except Exception as err:   # noqa: BLE001 - reported, never raised
        out.write({"problem": f"could not be run: {type(err).__name__}: {str(err)[:200]}", "status": "not run"})
    finally:
        try:
            if client.kc is not None:
                client.kc.stop_channels()
            if km.has_kernel:
                await km.shutdown_kernel(now=True)
        except Exception:       # noqa: BLE001
            pass
    out.write({"done": True})


class _OutOfTime(Exception):
    pass


def _devnull():
    return open(os.devnull, "wb")


def main() -> None:
    out = _Out(int(sys.argv[1]))
    try:
        request = json.loads(sys.stdin.buffer.read())
        config, cells = request["config"], [str(c) for c in request["cells"]]
        out.key = bytes.fromhex(config["mac_key"])
    except Exception as err:     # noqa: BLE001
        out.write({"problem": f"the grader sent a request the runner could not read ({err})", "status": "not run"})
        return
    confine(config)
    for folder in (config["work"], config["scratch"], config.get("home") or config["work"]):
        os.makedirs(folder, exist_ok=True)
    os.chdir(config["work"])
    asyncio.run(run(cells, config, out))


if __name__ == "__main__":
    main()
