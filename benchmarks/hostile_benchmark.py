"""Grade a class with attackers in it: honest notebooks and the hostile ones of the tests, in the sandbox.

Run with ``make bench BENCH=hostile`` (or ``python benchmarks/hostile_benchmark.py`` with ``LEMMA_DATA_DIR``
set). Needs a working bubblewrap sandbox: without one it grades nothing (a hostile notebook is a program
that attacks the machine that runs it) and says why. As root the grader gives each submission a fresh
user id of its own.

Two rounds, each one run of the real command (``python -m lemma_helpers.grading``, ``--jobs 2``, in the
sandbox) on a folder of ``BENCH_HONEST`` (default 6) honest notebooks (import the course, load the school
leavers data, fit the P5.1 null model, answer; every third answers one question wrong) and the hostile
notebooks of one test file, with that test's own options and key:

1. ``tests/test_grading_hostile.py``: steal the key or the environment, vandalise files, kill every
   process, detach a process that rewrites the gradebook later, flood the output (300 MB), fork 600
   processes, reach the network, forge summary lines, overflow a number;
2. ``tests/test_grading_hostile2.py``: a deeply nested answer, forged lines of the result protocol,
   memory parked in /dev/shm and /tmp, the kernel keyring, 1,000 answer records, padding with every
   shipped answer, the grader's paths in an error message.

The notebooks are the tests' own (imported from them). Measured: the wall time of the run, each
submission's time (its slot, from the start of its kernel to its result: with two jobs a submission
starts when an earlier one finishes; read from the journal the grader writes as each finishes), the
grader's own peak memory (``ru_maxrss`` of the grading process) and the largest of its children's
(kernels, runners, bubblewrap). Checked: every honest notebook gets its right marks and every hostile
one exactly the marks its test expects (no mark from an attack; flagged where the test says), the
grader finishes, no file outside the output is written or changed (the submissions, the key, the
course package the grader runs, the data, and no file of a sandbox's user id in /tmp, /var/tmp or
/dev/shm), no secret of the key file or of the grader's environment reaches any output, no process of
the run is left, nothing reaches the network. The grader is the environment's installed ``lemma-grade``
(PYTHONPATH left out: the sandbox imports the installed package). Writes the figures into
``benchmarks/README.md`` between the hostile markers. A measurement, not a test: another agent's work on
this shared 2-core machine shows in the times.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
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
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

import test_grading_hostile as H1  # noqa: E402
import test_grading_hostile2 as H2  # noqa: E402
from lemma_helpers.grade import sandbox as _sandbox  # noqa: E402
from lemma_helpers.grade.run import collect  # noqa: E402

ENV_SECRET = H1.ENV_SECRET
MARKER = f"lemma-hostile-bench-{os.getpid()}"
# the gradebooks the tests assert (test_grading_hostile.py, test_grading_hostile2.py), row by row
EXPECTED = {
    1: """student,status,5.0.q7,5.0.q8,5.1.q1,5.1.q2,total
'=HYPERLINK(1),errors,,,,1,1
a_vandal,ok,,,,1,1
detacher,ok,,,,1,1
envthief,ok,,0,,,0
flood,output cut,,,,1,1
forker,ok,,,,1,1
honest,ok,,2,1,1,4
keythief,ok,0,0,,,0
killer,kernel died,,,,1,1
network,ok,,,,1,1
overflow,ok,0,,0,1,1
""",
    2: """student,status,5.1.q1,5.1.q2,total
deep,ok,0,0,0
forger,ok,,0,0
hoarder,ok,,1,1
honest,ok,1,1,2
keyring,ok,,1,1
padder,ok,0,1,1
paths,errors,,1,1
records,ok,,1,1
""",
}
OPTIONS = {   # each test's own options (--quiet left out: the progress bar marks the start of the run stage)
    1: ["--questions", "5.0.q7", "5.1.q2", "--timeout", "25", "--cell-timeout", "20", "--memory", "2048",
        "--jobs", "2"],
    2: ["--questions", "5.1.q2", "--reveal-answers", "--timeout", "60", "--cell-timeout", "40", "--memory",
        "2048", "--jobs", "2"],
}
GRADER = ("import resource, runpy, sys\nsys.argv[0] = 'lemma-grade'\ntry:\n"
          "    runpy.run_module('lemma_helpers.grading', run_name='__main__')\nexcept SystemExit as e:\n    code = e.code\n"
          "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,\n"
          "      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\nsys.exit(code)")


# --------------------------------------------------------------------------
# The class
# --------------------------------------------------------------------------

def honest(i: int, round_: int):
    """An honest notebook: the course, the school data, the null model, the round's questions (every third
    student answers 5.1.q2 wrong)."""
    answers = ['lh.check("5.1.q1", 0.105)', f'lh.check("5.1.q2", "{"a" if i % 3 == 2 else "c"}")']
    if round_ == 1:
        answers.append('lh.check("5.0.q8", "child")')
    return new_notebook(cells=[
        new_code_cell("import lemma_helpers as lh\nssls = lh.load_dataset('ssls')"),
        new_code_cell("m0 = lh.fit('score ~ 1 + (1 | schoolid)', data=ssls)\nm0"),
        new_code_cell("vpc = m0.vpc()\nprint(round(vpc, 3))"), *map(new_code_cell, answers)])


def honest_rows(n: int, round_: int) -> dict:
    """The gradebook rows the honest notebooks must get."""
    rows = {}
    for i in range(1, n + 1):
        q2 = 0 if i % 3 == 2 else 1
        rows[f"student{i}"] = (f"student{i},ok,,2,1,{q2},{3 + q2}" if round_ == 1 else
                               f"student{i},ok,1,{q2},{1 + q2}")
    return rows


def make_round(root: Path, round_: int, n_honest: int, port: int, package: Path) -> dict:
    """The folder of one round: the test's notebooks (its honest one included) and ours, and its key file."""
    if round_ == 1:
        H1.PACKAGE, H1.MARKER = package, MARKER        # the vandal aims at the package the grader runs
        paths = H1.make_folder(root, port)
        subs, key = paths["subs"], root / "key.yaml"
    else:
        subs, key = root / "submissions", root / "key.yaml"
        subs.mkdir()
        for name, nb in H2.NOTEBOOKS.items():
            nbformat.write(nb, str(subs / f"{name}.ipynb"))
        key.write_text(H2.KEY)
    for i in range(1, n_honest + 1):
        nbformat.write(honest(i, round_), str(subs / f"student{i}.ipynb"))
    expected = {row.split(",", 1)[0]: row for row in EXPECTED[round_].splitlines()[1:]}
    expected.update(honest_rows(n_honest, round_))
    return {"subs": subs, "key": key, "out": root / "results", "expected": expected,
            "header": EXPECTED[round_].splitlines()[0]}


# --------------------------------------------------------------------------
# Watching the run: the start of the run stage, each result, the processes
# --------------------------------------------------------------------------

class Watch:
    """Reads the grader's stderr (the progress bar's first line is the start of the run stage) and polls the
    journal for each result as it is written."""

    def __init__(self, proc, journal: Path):
        self.proc, self.journal, self.started = proc, journal, time.monotonic()
        self.run_start, self.finished, self.err = None, {}, bytearray()
        self.peaks, self.total = {}, (0.0, 0.0)    # pid -> (peak RSS MB, program, when); (largest sum, when)
        self.threads = [threading.Thread(target=self._stderr, daemon=True),
                        threading.Thread(target=self._journal, daemon=True),
                        threading.Thread(target=self._memory, daemon=True)]
        for t in self.threads:
            t.start()

    def _stderr(self):
        fd = self.proc.stderr.fileno()
        while chunk := os.read(fd, 65536):
            self.err += chunk
            if self.run_start is None and b"grading:" in self.err:
                self.run_start = time.monotonic()

    def _journal(self):
        seen = 0
        while True:
            alive = self.proc.poll() is None
            if self.journal.exists():
                with open(self.journal, "rb") as f:
                    f.seek(seen)
                    data = f.read()
                cut = data.rfind(b"\n") + 1
                seen += cut
                for line in data[:cut].splitlines():
                    m = re.search(rb'"student": "((?:[^"\\]|\\.)*)"', line)
                    if m:
                        self.finished.setdefault(m.group(1).decode("unicode_escape"), time.monotonic())
            if not alive:
                return
            time.sleep(0.05)

    def _memory(self):
        """Every 0.2 s, the peak resident memory (VmHWM) of each process below the grader, and their sum now."""
        while self.proc.poll() is None:
            parent, status = {}, {}
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    text = open(f"/proc/{pid}/status").read()
                except OSError:
                    continue
                fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
                parent[int(pid)], status[int(pid)] = int(fields.get("PPid", "0")), fields
            below = {self.proc.pid}
            for pid in sorted(parent):
                chain, p = [], pid
                while p > 1 and p not in below and len(chain) < 64:
                    chain.append(p)
                    p = parent.get(p, 0)
                if p in below:
                    below.update(chain)
            below.discard(self.proc.pid)
            now = 0.0
            for pid in below:
                f = status[pid]
                rss, hwm = (int(f.get(k, "0 kB").split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
                now += rss
                if hwm > self.peaks.get(pid, (0, "", 0))[0]:
                    self.peaks[pid] = (hwm, f.get("Name", "?").strip(), time.monotonic())
            self.total = max(self.total, (now, time.monotonic()))
            time.sleep(0.2)

    def join(self):
        for t in self.threads:
            t.join()


def slots(order: list, finished: dict, start: float, jobs: int) -> dict:
    """``{submission: (begin, end)}`` of each submission's slot: with ``jobs`` slots taken in ``order``, the k-th
    submission starts when the (k - jobs + 1)-th result comes in (the first ``jobs`` at the start of the run
    stage)."""
    ends = sorted(finished.values())
    return {fid: (start if k < jobs else ends[k - jobs], finished[fid]) for k, fid in enumerate(order)
            if fid in finished}


def running_at(intervals: dict, when: float) -> str:
    """The submissions whose slot holds the moment ``when``."""
    return ", ".join(sorted(f for f, (b, e) in intervals.items() if b <= when <= e + 0.3)) or "?"


def sandbox_processes() -> dict:
    """``{pid: command line}`` of the processes that run under a sandbox's user id."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid >= _sandbox.UID_BASE:
                found[pid] = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            pass
    return found


def sandbox_files(since: float) -> list:
    """Files a sandbox's user id owns in the machine's shared writable places, changed since ``since``."""
    found = []
    for top in ("/tmp", "/var/tmp", "/dev/shm"):
        for folder, dirs, files in os.walk(top, onerror=lambda e: None):
            for name in dirs + files:
                try:
                    st = os.lstat(os.path.join(folder, name))
                except OSError:
                    continue
                if st.st_uid >= _sandbox.UID_BASE and st.st_mtime >= since:
                    found.append(os.path.join(folder, name))
    return found


def tree_hash(folder: Path, skip: tuple = ()) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
            and not any(s in p.parents for s in skip)}


class Listener:
    """A server on this machine's loopback, for the network attack: what reaches it is a leak."""

    def __init__(self):
        self.server, self.received, self.stop = socket.socket(), [], threading.Event()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
                self.received.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.thread.join()
        self.server.close()


# --------------------------------------------------------------------------
# One round
# --------------------------------------------------------------------------

def grader_env(root: Path) -> dict:
    """The grader's environment: this one without PYTHONPATH, a home of its own, a secret that must not leak."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    (root / "home").mkdir(exist_ok=True)
    return {**env, "HOME": str(root / "home"), "PYTHONDONTWRITEBYTECODE": "1", "LEMMA_TEST_SECRET": ENV_SECRET}


def sandbox_why(root: Path) -> str | None:
    """None where the grader (the installed package, in its own process) can start its sandbox, else why not."""
    res = subprocess.run([sys.executable, "-c", "from lemma_helpers.grade import sandbox; print(sandbox.probe({}))"],
                         capture_output=True, text=True, env=grader_env(root), cwd=root)
    text = (res.stdout.strip() or res.stderr.strip()[-500:])
    return None if res.returncode == 0 and text == "None" else text


def grader_package(env: dict, cwd: Path) -> Path:
    """The course package the grader imports (the environment's installed one)."""
    res = subprocess.run([sys.executable, "-c", "import lemma_helpers, os; print(os.path.dirname(lemma_helpers.__file__))"],
                         capture_output=True, text=True, env=env, cwd=cwd, check=True)
    return Path(res.stdout.strip())


def snapshot(r: dict, package: Path, root: Path) -> dict:
    data = Path(os.environ.get("LEMMA_DATA_DIR", "/nonexistent"))
    return {"root": tree_hash(root, skip=(r["out"], root / "home")), "package": tree_hash(package),
            "data": tree_hash(data) if data.is_dir() else {}}


def grade_round(round_: int, n_honest: int, root: Path) -> dict:
    """Make the round's folder, grade it, and gather what happened."""
    env = grader_env(root)
    package = grader_package(env, root)
    listener = Listener()
    r = make_round(root, round_, n_honest, listener.port, package)
    order = [fid for fid, *_ in collect(r["subs"], None, root / "scratch").notebooks]
    shutil.rmtree(root / "scratch", ignore_errors=True)
    before, procs_before, t_wall = snapshot(r, package, root), sandbox_processes(), time.time()
    cmd = [sys.executable, "-c", GRADER, str(r["subs"]), "--out", str(r["out"] / "grades.csv"), "--key", str(r["key"]),
           *OPTIONS[round_]]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    watch = Watch(proc, r["out"] / "grades.journal.jsonl")
    stdout = proc.stdout.read()
    proc.wait(timeout=900)
    wall = time.monotonic() - t0
    watch.join()
    right_after = {"procs": {p: c for p, c in sandbox_processes().items() if p not in procs_before},
                   "gradebook": (r["out"] / "grades.csv").read_text() if (r["out"] / "grades.csv").exists() else ""}
    time.sleep(6)                       # the detached process of round 1 would have written by now
    listener.close()
    err = watch.err.decode(errors="replace")
    rss = re.search(r"maxrss_kb (\d+) (\d+)", err)
    return {**r, "round": round_, "rc": proc.returncode, "wall": wall, "stdout": stdout.decode(errors="replace"),
            "stderr": err, "self_mb": int(rss.group(1)) / 1024 if rss else float("nan"),
            "children_mb": int(rss.group(2)) / 1024 if rss else float("nan"),
            "child_peak": max(watch.peaks.values(), default=(float("nan"), "", 0.0)), "children_total": watch.total,
            "slots": slots(order, watch.finished, watch.run_start or t0, 2),
            "setup": (watch.run_start or t0) - t0, "before": before, "after": snapshot(r, package, root),
            "right_after": right_after, "files": sandbox_files(t_wall), "received": list(listener.received),
            "package": package, "root": root}


# --------------------------------------------------------------------------
# What the round shows
# --------------------------------------------------------------------------

def printed(r: dict, name: str) -> str:
    path = r["out"] / "executed" / f"{name}.ipynb"
    if not path.exists():
        return ""
    nb = nbformat.read(str(path), as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if isinstance(o.get("text"), str))


def evidence(r: dict, name: str) -> str:
    """What the attack's own output shows (a few words), for the table."""
    text = printed(r, name)
    first = {"keythief": r"no key: \w+", "forker": r"stopped at \d+ \w+", "network": r"no network: \w+",
             "forger": r"wrote to \d+ descriptors", "keyring": r"add_key: -1 [^\n]+"}
    if name in first:
        m = re.search(first[name], text)
        return m.group(0) if m else ""
    if name == "a_vandal":
        return f"{text.count('refused')} writes refused, {text.count('CHANGED')} made"
    if name == "hoarder":
        return "; ".join(re.findall(r"(?:shm|dev|tmp): [^\n]+", text))
    if name == "flood":
        size = (r["out"] / "executed" / "flood.ipynb").stat().st_size / 2**20
        return f"executed copy {size:.1f} MB, output cut"
    return ""


def checks(r: dict) -> dict:
    """The run-wide checks: finished, nothing outside the output, no leak, no process left, no network."""
    outputs = [p.read_text(errors="replace") for p in r["out"].rglob("*") if p.is_file()] + [r["stdout"]]
    leaked = any(H1.KEY_SECRET in t or ENV_SECRET in t for t in outputs)
    ours = [c for c in r["right_after"]["procs"].values() if MARKER in c or str(r["root"]) in c]
    changed = [what for what in ("root", "package", "data") if r["before"][what] != r["after"][what]]
    return {"finished": r["rc"] == 0 and bool(r["right_after"]["gradebook"]),
            "gradebook kept": r["right_after"]["gradebook"] == (r["out"] / "grades.csv").read_text(),
            "no file outside the output": not changed and not r["files"],
            "no secret in any output": not leaked, "no process left": not ours,
            "no network": not r["received"], "changed": changed, "left": ours,
            "other sandbox processes": len(r["right_after"]["procs"]) - len(ours)}


def rows(r: dict) -> list:
    """One row per submission: honest or hostile, its time, what it got and what it should have got."""
    got = {row["student"]: row for row in csv.DictReader(io.StringIO(r["right_after"]["gradebook"]))}
    names = {row.split(",", 1)[0].lstrip("'"): row for row in r["expected"].values()}
    out = []
    for name, want in sorted(names.items()):
        have = got.get(name) or got.get("'" + name)
        line = ",".join(have[k] or "" for k in r["header"].split(",")) if have else ""
        kind = "honest" if name.startswith("student") or name == "honest" else "hostile"
        begin, end = r["slots"].get(name, (float("nan"), float("nan")))
        out.append({"name": name, "kind": kind, "seconds": end - begin,
                    "status": have["status"] if have else "missing", "total": have["total"] if have else "",
                    "want": want.split(",")[-1], "right": line == want, "evidence": evidence(r, name)})
    return out


def round_lines(r: dict, subs: list, ok: dict) -> list:
    honest_t = [s["seconds"] for s in subs if s["kind"] == "honest"]
    hostile_t = [s["seconds"] for s in subs if s["kind"] == "hostile"]
    contained = all(v for k, v in ok.items() if k in ("finished", "gradebook kept", "no file outside the output",
                                                         "no secret in any output", "no process left", "no network"))
    return [f"| {r['round']} | {len(honest_t)} + {len(hostile_t)} | {r['wall']:.1f} | {r['setup']:.1f} | "
            f"{statistics.median(honest_t):.1f} / {max(honest_t):.1f} | {statistics.median(hostile_t):.1f} / "
            f"{max(hostile_t):.1f} | {r['self_mb']:.0f} | {r['child_peak'][0]:.0f} ({r['child_peak'][1]}; while "
            f"{running_at(r['slots'], r['child_peak'][2])} ran) | {r['children_total'][0]:.0f} (while "
            f"{running_at(r['slots'], r['children_total'][1])} ran) | {r['children_mb']:.0f} | "
            f"{sum(s['right'] for s in subs if s['kind'] == 'honest')} of {len(honest_t)} | "
            f"{sum(s['right'] for s in subs if s['kind'] == 'hostile')} of {len(hostile_t)} | "
            f"{'yes' if contained else 'NO: ' + ', '.join(k for k, v in ok.items() if v is False)} |"]


def report(results: list, load: tuple) -> list:
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work (another agent's tests), "
             f"Python {platform.python_version()}, running as {'root' if os.geteuid() == 0 else 'an ordinary user'}; "
             f"grader: the installed package ({results[0]['package']}); load average {load[0]:.1f} at the start, "
             f"{os.getloadavg()[0]:.1f} at the end; date {date.today()}.", "",
             "| round | honest + hostile | wall (s) | start-up before the run stage (s) | honest: median / max (s) | "
             "hostile: median / max (s) | grader peak RSS (MB) | largest process below it, peak (MB) | all below it "
             "at one time (MB) | ru_maxrss of its children (MB) | honest marks right | "
             "hostile marks as the test expects | contained |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    detail = ["| round | submission | kind | time in its slot (s) | status | total | expected | right | what the "
              "attack's own output shows |", "|---:|---|---|---:|---|---:|---:|---|---|"]
    notes = []
    for r in results:
        subs, ok = rows(r), checks(r)
        lines += round_lines(r, subs, ok)
        detail += [f"| {r['round']} | {s['name']} | {s['kind']} | {s['seconds']:.1f} | {s['status']} | {s['total']} | "
                   f"{s['want']} | {'yes' if s['right'] else 'NO'} | {s['evidence']} |" for s in subs]
        notes.append(f"Round {r['round']}: " + "; ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in ok.items()
                                                          if isinstance(v, bool))
                     + (f"; changed: {', '.join(ok['changed'])}" if ok["changed"] else "")
                     + (f"; sandbox files outside: {', '.join(r['files'][:5])}" if r["files"] else "")
                     + f"; sandbox processes of other runs on this machine seen right after: "
                       f"{ok['other sandbox processes']}.")
    memory = ("Memory: the grader's peak is its own ru_maxrss; the processes below it (bubblewrap, the runner, the "
              "kernel of each submission) are sampled every 0.2 s from /proc (each one's VmHWM, and the sum of their "
              "resident sets at one time). The ru_maxrss of the grader's children is shown too but is not the "
              "kernels' size: a child started with vfork (as Python's subprocess does) is charged the grader's own "
              "peak at the time it started.")
    return lines + ["", memory, "", *detail, "", *notes]


def main() -> None:
    n_honest = int(os.environ.get("BENCH_HONEST", "6"))
    load = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="lemma-hostile-bench-") as tmp:
        os.chmod(tmp, 0o755)
        why = sandbox_why(Path(tmp))
        if why:
            print(f"hostile benchmark: no sandbox here, nothing graded ({why})", file=sys.stderr)
            return
        for round_ in (1, 2):
            root = Path(tmp) / f"round{round_}"
            root.mkdir()
            os.chmod(root, 0o755)
            r = grade_round(round_, n_honest, root)
            print(f"round {round_}: {r['wall']:.1f} s, exit {r['rc']}, grader {r['self_mb']:.0f} MB, largest process "
                  f"below it {r['child_peak'][0]:.0f} MB, all below it {r['children_total'][0]:.0f} MB", flush=True)
            if r["rc"] != 0:
                print(r["stderr"][-3000:], file=sys.stderr)
            results.append(r)
        lines = report(results, load)
    print("\n".join(lines))
    write_section("hostile", "Hostile submissions in the sandbox", lines)


if __name__ == "__main__":
    main()
