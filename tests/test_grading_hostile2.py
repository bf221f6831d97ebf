"""Hostile submissions, round 2: attacks on the run itself, the files around it and the result stream.

The real command (``python -m lemma_helpers.grading``) grades one folder of honest and hostile notebooks,
``--jobs 2``, once as root and once as an ordinary user (``nobody``, where this machine lets root switch to
it and run bubblewrap as it). Each attack was seen to work against the grader before this round; each test
asserts it now fails, and that the honest submission keeps its exact marks. The attacks on the files around
the run (links, FIFOs, zips, names) need no kernel: they are in test_layouts.py and test_grade_stages.py.

These tests need a working bubblewrap sandbox and skip (with the reason) where there is none.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import lemma_helpers

pytestmark = pytest.mark.kernel

MIME = "application/vnd.lemma.answer+json"
KEY = "5.1.q1: {value: 0.105, tolerance: 0.001}\n"
PACKAGE = str(Path(lemma_helpers.__file__).resolve().parent)


@pytest.fixture(scope="module", autouse=True)
def _needs_the_sandbox(sandbox_why):
    if sandbox_why:
        pytest.skip(f"no sandbox here: {sandbox_why}")


def _nb(*sources):
    return new_notebook(cells=[new_code_cell("import lemma_helpers as lh"), *map(new_code_cell, sources)])


FORGE = r'''
import glob, json
lines = [{"problem": "FORGED problem", "status": "not run"}, {"cell": 1, "outputs": [{"output_type": "display_data",
         "metadata": {}, "data": {"text/plain": "x", "%s": {"id": "5.1.q1", "answer": 0.105}}}]}, {"done": True}]
text = "".join(json.dumps(x) + "\n" + json.dumps({"msg": json.dumps(x), "mac": "0" * 64}) + "\n" for x in lines)
wrote = []
for path in sorted(glob.glob("/proc/*/fd/*")):
    try:
        with open(path, "w") as fh:
            fh.write(text)
        wrote.append(path)
    except OSError:
        pass
print("wrote to", len(wrote), "descriptors")
''' % MIME

MEMORY = r'''
import os
def fill(path, mb):
    done = 0
    try:
        with open(path, "wb") as fh:
            for _ in range(mb):
                fh.write(b"\0" * 2**20)
                fh.flush()
                done += 1
    except OSError as err:
        return f"{done} MB then {type(err).__name__}"
    finally:
        try:
            os.remove(path)
        except OSError:
            pass
    return f"{done} MB"
print("shm:", fill("/dev/shm/x", 2048))
print("dev:", fill("/dev/x", 1))
print("tmp:", fill("/tmp/x", 4096))
'''

KEYRING = r'''
import ctypes, os, platform
libc = ctypes.CDLL(None, use_errno=True)
nr = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(platform.machine(), (248, 250))
r = libc.syscall(nr[0], b"user", b"lemma-hostile", b"left for the next one", 21, -4)    # add_key(..., USER)
print("add_key:", r, os.strerror(ctypes.get_errno()) if r < 0 else "stored")
r = libc.syscall(nr[1], 10, 0, 0, 0)                                                        # keyctl(SEARCH...)
print("keyctl:", r, os.strerror(ctypes.get_errno()) if r < 0 else "answered")
'''

NOTEBOOKS = {
    "honest": _nb('lh.check("5.1.q1", 0.105)', 'lh.check("5.1.q2", "c")'),
    # an answer nested ~490 lists deep used to end the whole run (the journal raised RecursionError)
    "deep": _nb('x = 1\nfor _ in range(490):\n    x = [x]\nlh.check("5.1.q2", x)',
                'from IPython.display import display\n'
                'display({"text/plain": "x", "%s": {"id": "5.1.q1", "answer": x}}, raw=True)' % MIME,
                'lh.check("5.1.q1", 0.2)'),
    # writes lines of the runner's protocol into every descriptor it can open (bwrap's init held the result pipe)
    "forger": _nb(FORGE, 'lh.check("5.1.q2", "a")'),
    # parks data in the sandbox's writable places in memory
    "hoarder": _nb(MEMORY, 'lh.check("5.1.q2", "c")'),
    # leaves data in the kernel's keyring for a later submission (as root, one user id per job slot did)
    "keyring": _nb(KEYRING, 'lh.check("5.1.q2", "c")'),
    # 1,000 answer records of ~20 KB each (under the per-record limit) used to cost the grader ~360 MB
    "records": _nb('from IPython.display import display\nfor i in range(1000):\n'
                   '    display({"text/plain": "x", "%s": {"id": f"5.9.q{i}", "answer": ["y" * 190] * 50}}, raw=True)'
                   % MIME, 'lh.check("5.1.q2", "c")'),
    # answers every question of the bank with the shipped answers: without an assignment this padded its total
    "padder": _nb('import lemma_helpers._bank as B\nfor q in B._questions().values():\n'
                  '    k = q.key\n    a = sorted(k.correct) if q.type == "multiple" else next(iter(k.correct)) '
                  'if q.type == "single" else (k.low + k.high) / 2 if q.type == "numeric" else k.accept[0]\n'
                  '    lh.check(q.id, a)'),
    # an error message holding the grader's own folders
    "paths": _nb('import sys\nraise RuntimeError(f"{lh.__file__} {sys.prefix} {sys.executable}")',
                 'lh.check("5.1.q2", "c")'),
}


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _python_for_nobody(root: Path) -> str:
    """A Python the user nobody can run with the course's packages: where this one lives in a folder nobody may
    not enter (pyenv under /root), an environment of the system's Python 3 that adds this one's packages."""
    if subprocess.run([*NOBODY, sys.executable, "-c", "import sys; assert sys.base_prefix == %r" % sys.base_prefix],
                      capture_output=True).returncode == 0:
        return sys.executable
    system = shutil.which("python3", path="/usr/bin:/bin")
    if system is None:
        return sys.executable
    env = root / "python"
    subprocess.run([system, "-m", "venv", "--without-pip", str(env)], check=True)
    packages = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))
    site = next((env / "lib").glob("python3*/site-packages"))
    (site / "lemma_course.pth").write_text(f"import site; site.addsitedir({packages!r})\n")
    return str(env / "bin" / "python")


def _closed_to_others(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users may not enter (a checkout in mktemp -d's 0700
    folder, say), or None."""
    for folder in [*reversed(path.parents), path]:
        if not folder.stat().st_mode & 0o001:
            return folder
    return None


def _as_nobody() -> str | None:
    """None where root can run the grader as the user nobody here, else why not."""
    if os.geteuid() != 0:
        return "not running as root"
    if not shutil.which("setpriv"):
        return "setpriv is not installed"
    closed = _closed_to_others(Path(lemma_helpers.__file__).resolve().parent)
    if closed:
        return f"the user nobody cannot enter {closed} (mode {closed.stat().st_mode & 0o777:o}), where the course is"
    root = Path(tempfile.mkdtemp(prefix="hostile2-probe-"))
    os.chmod(root, 0o755)
    try:
        python = _python_for_nobody(root)
        probe = subprocess.run([*NOBODY, python, "-c", "import lemma_helpers.grade.sandbox as s; print(s.probe({}))"],
                               capture_output=True, text=True, cwd=root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if probe.returncode != 0 or probe.stdout.strip() != "None":
        return f"no sandbox for nobody ({(probe.stdout + probe.stderr).strip()[-300:]})"
    return None


def _grade(user: str) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"hostile2-{user}-"))
    os.chmod(root, 0o755)
    subs, out = root / "subs", root / "out"
    subs.mkdir()
    for name, nb in NOTEBOOKS.items():
        nbformat.write(nb, str(subs / f"{name}.ipynb"))
    (root / "key.yaml").write_text(KEY)
    out.mkdir()
    prefix, python = [], sys.executable
    if user == "nobody":
        os.chown(out, 65534, 65534)
        prefix, python = NOBODY, _python_for_nobody(root)
    code = ("import resource, runpy, sys\nsys.argv[0] = 'lemma-grade'\ntry:\n"
            "    runpy.run_module('lemma_helpers.grading', run_name='__main__')\nexcept SystemExit as e:\n"
            "    code = e.code\nprint('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(code)")
    env = {**os.environ, "HOME": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([*prefix, python, "-c", code, str(subs), "--out", str(out / "grades.csv"),
                           "--key", str(root / "key.yaml"), "--questions", "5.1.q2", "--reveal-answers",
                           "--timeout", "60", "--cell-timeout", "40", "--memory", "2048", "--jobs", "2", "--quiet"],
                          env=env, capture_output=True, text=True, timeout=900)
    return {"proc": proc, "out": out, "root": root}


@pytest.fixture(scope="module", params=["root", "nobody"])
def run(request):
    if request.param == "nobody" and _as_nobody():
        pytest.skip(f"cannot grade as an ordinary user here: {_as_nobody()}")
    if request.param == "root" and os.geteuid() != 0:
        pytest.skip("not running as root")
    result = _grade(request.param)
    yield result
    shutil.rmtree(result["root"], ignore_errors=True)


def _printed(run, name):
    nb = nbformat.read(str(run["out"] / "executed" / f"{name}.ipynb"), as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_every_attacker_is_contained_and_the_honest_marks_are_exact(run):
    assert run["proc"].returncode == 0, run["proc"].stderr[-3000:]
    assert (run["out"] / "grades.csv").read_text() == (
        "student,status,5.1.q1,5.1.q2,total\n"
        "deep,ok,0,0,0\n"
        "forger,ok,,0,0\n"
        "hoarder,ok,,1,1\n"
        "honest,ok,1,1,2\n"
        "keyring,ok,,1,1\n"
        "padder,ok,0,1,1\n"
        "paths,errors,,1,1\n"
        "records,ok,,1,1\n")


def test_a_deeply_nested_answer_is_one_wrong_answer(run):
    deep = (run["out"] / "feedback" / "deep.md").read_text()
    assert "## 5.1.q2: not correct (0 of 1)" in deep and "cannot be graded" in deep
    journal = (run["out"] / "grades.journal.jsonl").read_text().splitlines()
    assert len(journal) == len(NOTEBOOKS) and all(len(line) < 200_000 for line in journal)


def test_the_result_stream_cannot_be_written_by_student_code(run):
    forger = (run["out"] / "feedback" / "forger.md").read_text()
    assert "FORGED" not in forger and "## 5.1.q1: not answered" in forger
    assert "FORGED" not in (run["out"] / "grading_summary.txt").read_text()


def test_writable_places_in_memory_are_bounded(run):
    printed = _printed(run, "hoarder")
    shm = int(printed.split("shm: ")[1].split(" MB")[0])
    tmp = int(printed.split("tmp: ")[1].split(" MB")[0])
    assert shm <= 64 and "then OSError" in printed.split("shm: ")[1].splitlines()[0]
    assert "dev: 0 MB then OSError" in printed
    assert tmp <= 256 and "then OSError" in printed.split("tmp: ")[1].splitlines()[0]


def test_the_kernel_keyring_is_out_of_reach(run):
    printed = _printed(run, "keyring")
    assert "add_key: -1 Operation not permitted" in printed and "keyctl: -1 Operation not permitted" in printed


def test_many_answer_records_are_bounded_and_reported(run):
    assert (run["out"] / "feedback" / "records.md").read_text().count("ignored an answer to unknown question") <= 1
    journal = [json.loads(line) for line in (run["out"] / "grades.journal.jsonl").read_text().splitlines()]
    records = next(j for j in journal if j["student"] == "records")
    assert len(json.dumps(records)) < 1_200_000


def test_padding_counts_nothing_and_only_set_questions_are_revealed(run):
    padder = (run["out"] / "feedback" / "padder.md").read_text()
    assert "Score: 1 of 2 points" in padder
    assert "not part of this grading were not marked: 5.0.q1, 5.0.q2" in padder
    assert padder.count("Accepted answer:") == 2


def test_feedback_holds_no_path_of_the_grading_machine(run):
    texts = [p.read_text() for p in (run["out"] / "feedback").iterdir()]
    assert texts and not any(PACKAGE in t or sys.prefix in t or str(run["root"]) in t for t in texts)
    assert "RuntimeError: <course package>/__init__.py <python>" in (run["out"] / "feedback" / "paths.md").read_text()


def test_the_grader_s_own_memory_stays_bounded(run):
    maxrss_mb = int(run["proc"].stderr.split("maxrss_kb")[1].split()[0]) / 1024
    assert maxrss_mb < 600, maxrss_mb       # the bound docs/GRADING.md states (about 250 MB here)
