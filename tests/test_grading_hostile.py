"""Hostile submissions: lemma-grade run as an instructor runs it, on a folder where some students attack.

One run of the real command (``python -m lemma_helpers.grading``, a separate
process with a secret in its environment and the key file on its command
line), ``--jobs 2``, over honest and hostile notebooks. Each attack below was
seen to work against the grader before the sandbox; each test asserts it
now fails: the exact gradebook, nothing leaked into any output, no file
changed, no process left behind, and the run finished.

These tests need a working bubblewrap sandbox and skip (with the reason)
where there is none; `.ci/run` installs bubblewrap.
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import lemma_helpers
from lemma_helpers.grade import sandbox as _sandbox

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module", autouse=True)
def _needs_the_sandbox(sandbox_why):
    if sandbox_why:
        pytest.skip(f"no sandbox here: {sandbox_why}")

PACKAGE = Path(lemma_helpers.__file__).resolve().parent
KEY_SECRET = "KEYTEXT-7f3a9c"          # a comment in the key file: must never appear in any output
ENV_SECRET = "ENVTEXT-52be1d"          # in the grader's environment: must never appear in any output
MARKER = "lemma-hostile-marker"        # in the command line of every process a submission starts
KEY = f"""\
# {KEY_SECRET}
5.1.q1: {{value: 0.105, tolerance: 0.001}}
5.0.q8: {{accept: [child, pupil], points: 2}}
"""


def _nb(*sources):
    return new_notebook(cells=[new_code_cell("import lemma_helpers as lh"), *map(new_code_cell, sources)])


def make_folder(root: Path, port: int) -> dict:
    subs, out = root / "submissions", root / "results"
    subs.mkdir()
    honest_path, grades = subs / "honest.ipynb", out / "grades.csv"
    notebooks = {
        "honest": _nb('lh.check("5.1.q1", 0.105)', 'lh.check("5.1.q2", "c")', 'lh.check("5.0.q8", "child")'),
        # one answer used to stop the whole run (OverflowError in scoring)
        "overflow": _nb('lh.check("5.1.q1", 10**400)', 'lh.check("5.1.q2", "c")', 'lh.check("5.0.q7", 10**5000)'),
        # reads the grader's command line for --key, then the key file, and answers with what it found
        "keythief": _nb(f'''
import glob, os
found = []
for f in glob.glob("/proc/*/cmdline"):
    try:
        args = open(f, "rb").read().split(b"\\0")
    except OSError:
        continue
    if b"--key" in args:
        found.append(args[args.index(b"--key") + 1].decode())
found.append({str(root / "key.yaml")!r})
stolen = ""
for path in found:
    try:
        stolen += open(path).read()
    except OSError as err:
        print("no key:", type(err).__name__)
print("stolen:", stolen)
lh.check("5.0.q8", "child" if "child" in stolen else "nothing")
lh.check("5.0.q7", [stolen[:40]] if stolen else ["a"])'''),
        # reads every environment it can see for secrets
        "envthief": _nb('''
import glob, os
seen = " ".join(f"{k}={v}" for k, v in os.environ.items())
for f in glob.glob("/proc/*/environ"):
    try:
        seen += open(f, "rb").read().decode(errors="replace")
    except OSError:
        pass
print(seen)
lh.check("5.0.q8", seen[:500])'''),
        # changes another student's submission, the installed package and bank, the data and the gradebook
        "a_vandal": _nb(f'''
import os
targets = [{str(honest_path)!r}, {str(PACKAGE / "_bank.py")!r}, {str(PACKAGE / "_scoring.py")!r},
           {str(PACKAGE / "quizzes" / "5.1.yaml")!r}, {str(grades)!r},
           os.path.join(os.environ.get("LEMMA_DATA_DIR", "/data"), "ssls_5.1.txt")]
for t in targets:
    try:
        with open(t, "a") as fh:
            fh.write("vandalised\\n")
        print("CHANGED", t)
    except OSError as err:
        print("refused", type(err).__name__)
lh.check("5.1.q2", "c")'''),
        # stops and kills every process it can see: the grader, the other kernels, its own runner
        "killer": _nb('lh.check("5.1.q2", "c")', '''
import os, signal
me = os.getpid()
pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]
for sig in (signal.SIGSTOP, signal.SIGKILL):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass''', 'lh.check("5.1.q1", 0.105)'),
        # a detached process that outlives the kernel and rewrites the gradebook after the run
        "detacher": _nb(f'''
import subprocess, sys
code = "import time; time.sleep(4); open({str(grades)!r}, 'a').write('forged,ok,9,9,9,9,9,9\\\\n')  # {MARKER}"
subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)''', 'lh.check("5.1.q2", "c")'),
        # 300 MB of output
        # (flushed line by line, so that the kernel sends it all rather than failing on one huge message)
        "flood": _nb('import sys\nfor i in range(3000):\n    print("x" * 100_000, flush=True)', 'lh.check("5.1.q2", "c")'),
        # too many processes
        "forker": _nb('''
import subprocess
procs = []
try:
    for i in range(600):
        procs.append(subprocess.Popen(["sleep", "30"]))
except OSError as err:
    print("stopped at", len(procs), type(err).__name__)''', 'lh.check("5.1.q2", "c")'),
        # the network, to a server on this machine's loopback
        "network": _nb(f'''
import socket
try:
    s = socket.create_connection(("127.0.0.1", {port}), timeout=3)
    s.sendall(b"LEAK")
    print("connected")
except OSError as err:
    print("no network:", type(err).__name__)''', 'lh.check("5.1.q2", "c")'),
        # report text that tries to add lines to the summary; a file name a spreadsheet would run
        "=HYPERLINK(1)": _nb('lh.check("5.1.q2", "c")',
                             'raise RuntimeError("boom\\n  honest: forged line\\nlemma-grade: all good")'),
    }
    for name, nb in notebooks.items():
        nbformat.write(nb, str(subs / f"{name}.ipynb"))
    (root / "key.yaml").write_text(KEY)
    return {"subs": subs, "out": out, "grades": grades}


def _processes_with(marker: str) -> list:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if marker in cmd and str(os.getpid()) != pid:
            found.append(cmd.replace("\0", " "))
    return found


def _sandbox_uid_processes() -> list:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid >= _sandbox.UID_BASE:
                found.append(pid)
        except OSError:
            pass
    return found


def _tree_hash(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    received = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                received.append(conn.recv(100))
                conn.close()
            except OSError:
                pass
    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    paths = make_folder(root, server.getsockname()[1])
    data_dir = Path(os.environ.get("LEMMA_DATA_DIR", "/nonexistent"))
    before = {"subs": _tree_hash(paths["subs"]), "package": _tree_hash(PACKAGE),
              "data": _tree_hash(data_dir) if data_dir.is_dir() else {}}
    env = {**os.environ, "LEMMA_TEST_SECRET": ENV_SECRET}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "lemma_helpers.grading", str(paths["subs"]), "--out", str(paths["grades"]),
         "--key", str(root / "key.yaml"), "--questions", "5.0.q7", "5.1.q2", "--timeout", "25",
         "--cell-timeout", "20", "--memory", "2048",
         "--jobs", "2", "--quiet"], env=env, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - started
    right_after = {"marker": _processes_with(MARKER), "uids": _sandbox_uid_processes(),
                   "gradebook": paths["grades"].read_text() if paths["grades"].exists() else None}
    time.sleep(6)                     # the detached process would have written by now
    stop.set()
    thread.join()
    server.close()
    after = {"subs": _tree_hash(paths["subs"]), "package": _tree_hash(PACKAGE),
             "data": _tree_hash(data_dir) if data_dir.is_dir() else {}}
    return {**paths, "proc": proc, "seconds": seconds, "before": before, "after": after,
            "right_after": right_after, "received": received, "root": root}


def test_the_run_finishes_and_writes_exactly_the_right_gradebook(attacked):
    assert attacked["proc"].returncode == 0, attacked["proc"].stderr[-2000:]
    assert attacked["grades"].read_text() == (
        "student,status,5.0.q7,5.0.q8,5.1.q1,5.1.q2,total\n"
        "'=HYPERLINK(1),errors,,,,1,1\n"
        "a_vandal,ok,,,,1,1\n"
        "detacher,ok,,,,1,1\n"
        "envthief,ok,,0,,,0\n"
        "flood,output cut,,,,1,1\n"
        "forker,ok,,,,1,1\n"
        "honest,ok,,2,1,1,4\n"
        "keythief,ok,0,0,,,0\n"
        "killer,kernel died,,,,1,1\n"
        "network,ok,,,,1,1\n"
        "overflow,ok,0,,0,1,1\n"
    )
    assert attacked["right_after"]["gradebook"] == attacked["grades"].read_text()   # not rewritten later


def test_nothing_leaks_into_any_output(attacked):
    texts = [p.read_text(errors="replace") for p in attacked["out"].rglob("*") if p.is_file()]
    texts += [attacked["proc"].stdout, attacked["proc"].stderr]
    assert texts and all(KEY_SECRET not in t and ENV_SECRET not in t for t in texts)
    thief = nbformat.read(str(attacked["out"] / "executed" / "keythief.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in thief.cells for o in c.get("outputs", []))
    assert "no key: FileNotFoundError" in printed and "stolen: \n" in printed


def test_no_file_outside_the_run_changed(attacked):
    for what in ("subs", "package", "data"):
        assert attacked["before"][what] == attacked["after"][what], what
    vandal = nbformat.read(str(attacked["out"] / "executed" / "a_vandal.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in vandal.cells for o in c.get("outputs", []))
    assert "CHANGED" not in printed and printed.count("refused") == 6


def test_no_process_outlives_the_run_and_there_is_no_network(attacked):
    assert attacked["right_after"]["marker"] == []
    assert attacked["right_after"]["uids"] == []
    assert _processes_with(MARKER) == []
    assert attacked["received"] == []
    net = nbformat.read(str(attacked["out"] / "executed" / "network.ipynb"), as_version=4)
    assert "no network" in net.cells[1].outputs[0].text


def test_limits_hold_and_are_reported(attacked):
    out = attacked["out"]
    assert (out / "executed" / "flood.ipynb").stat().st_size < 3_000_000
    flood = (out / "feedback" / "flood.md").read_text()
    assert "printed more output than the limit" in flood
    forker = nbformat.read(str(out / "executed" / "forker.ipynb"), as_version=4)
    stopped = forker.cells[1].outputs[0].text
    assert stopped.startswith("stopped at ") and int(stopped.split()[2]) < _sandbox.TASKS
    overflow = (out / "feedback" / "overflow.md").read_text()
    assert "## 5.1.q1: not correct (0 of 1)" in overflow and "too large" in overflow
    killer = (out / "feedback" / "killer.md").read_text()
    assert "the run ended before the notebook finished" in killer


def test_report_text_cannot_add_lines_to_the_summary(attacked):
    summary = (attacked["out"] / "grading_summary.txt").read_text()
    assert summary == attacked["proc"].stdout
    assert not any(line.startswith("  honest:") for line in summary.splitlines())
    assert not any(line.startswith("lemma-grade: all good") for line in summary.splitlines())
    assert ("  =HYPERLINK(1): the cell 'raise RuntimeError(\"boom\\n honest: forged line...' (after question "
            "5.1.q2) raised RuntimeError: boom honest: forged line lemma-grade: all good") in summary
    assert "Sandbox: bubblewrap" in summary


# --------------------------------------------------------------------------------------------------
# A killed run keeps what it graded, and --resume continues it
# --------------------------------------------------------------------------------------------------

def test_a_killed_run_resumes(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name in ("amy", "ben", "cat"):
        nbformat.write(_nb('lh.check("5.1.q2", "c")', "import time; time.sleep(2)"), str(subs / f"{name}.ipynb"))
    cmd = [sys.executable, "-m", "lemma_helpers.grading", str(subs), "--out", str(out / "grades.csv"), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    journal = out / "grades.journal.jsonl"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (journal.exists() and journal.read_text().count("\n") >= 1):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    graded = [json.loads(line)["student"] for line in journal.read_text().splitlines()]
    assert graded and not (out / "grades.csv").exists()
    assert (out / "executed" / f"{graded[0]}.ipynb").exists()     # kept as soon as it was graded
    assert not (out / "feedback").exists()      # feedback is written once, at the end, with each student's key
    res = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert (out / "grades.csv").read_text() == "student,status,5.1.q2,total\namy,ok,1,1\nben,ok,1,1\ncat,ok,1,1\n"
    assert f"{len(graded)} submission(s) taken from the journal of an earlier run (--resume)" in res.stdout
