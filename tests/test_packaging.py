"""A normal (non-editable) install has everything the course needs.

A JupyterHub image, or a learner without the repository, installs the package
with ``pip install .``: a wheel, not the source tree. These tests build that
wheel, check what it lists (the Exam data with its licence notice, the quiz
files, every exercise module), install it into a fresh virtual environment and
load every dataset from there, outside the repository's folder, so that the
source tree cannot be imported by accident.

How the fresh environment gets the dependencies (numpy, pandas, ...):
installing them from PyPI would need the registry and take minutes, and
``python -m venv --system-site-packages`` does not help, because the course's
Python is itself a virtual environment (``.venv``): that option would expose
the base interpreter's site-packages, not the dependencies in ``.venv``. So the
fresh environment is made with ``--without-pip`` (a second or so), the wheel is
installed into it with ``pip --python <fresh> install --no-deps --no-index``
(the same installer code path as ``pip install .``, with no network), and a
``.pth`` file in its site-packages appends the site-packages folder of the
running interpreter to ``sys.path``. That folder comes *after* the fresh
environment's own site-packages, and ``.pth`` files inside it are not run
(Python only runs the ``.pth`` files of its site folders, not of folders named
in them), so the editable-install hook of ``.venv`` that points at the
repository stays inactive. The tests assert that ``lemma_helpers`` is imported
from the fresh environment. The script runs with ``python -I`` (no current
folder or ``PYTHONPATH`` on ``sys.path``) from a temporary folder.

The wheel is built from a copy of the package's files in a temporary folder,
so the build leaves no ``build/`` or ``*.egg-info`` folders in the repository,
where other people may be working. It is built with ``pip wheel --no-deps
--no-build-isolation`` (offline, a few seconds) when the installed setuptools
builds wheels by itself (70.1 or newer), and otherwise with build isolation,
where pip fetches the build requirements from the package index exactly as
``pip install .`` does.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "lemma_helpers"
MIRROR = Path(os.environ.get("LEMMA_DATA_DIR", "../shared/data"))
HAVE_MIRROR = (MIRROR / "ssls_5.1.txt").exists() and (MIRROR / "ess_hedonism_2002.txt").exists()


def _run(cmd, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def _setuptools_builds_wheels() -> bool:
    try:
        from setuptools.command import bdist_wheel  # noqa: F401  (in setuptools from 70.1)
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(PKG, src / "lemma_helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    out = tmp_path_factory.mktemp("wheel")
    # offline with the installed setuptools when it can build wheels by itself (>= 70.1);
    # otherwise (Python 3.11's venv has 65.5, Python 3.12's has none) pip fetches the
    # build requirements of pyproject.toml from the package index, as pip install . does
    isolation = ["--no-build-isolation"] if _setuptools_builds_wheels() else []
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", *isolation,
          "--disable-pip-version-check", "-q", "-w", str(out)], cwd=src)
    wheels = sorted(out.glob("lemma_helpers-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _expected_files():
    rel = lambda p: p.relative_to(ROOT).as_posix()  # noqa: E731
    files = {rel(p) for p in PKG.glob("*.py")}
    files |= {rel(p) for p in (PKG / "exercises").glob("*.py")}
    files |= {rel(p) for p in (PKG / "plotting").glob("*.py")}
    files |= {rel(p) for p in (PKG / "quizzes").glob("*.yaml")}
    files |= {"lemma_helpers/quizzes/schema.json", "lemma_helpers/data/exam.csv",
              "lemma_helpers/data/EXAM_NOTICE.md", "lemma_helpers/data/GPL-2.txt"}
    return files


def test_wheel_lists_data_notice_quizzes_and_exercises(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _expected_files()
    assert len([f for f in expected if f.startswith("lemma_helpers/quizzes/") and f.endswith(".yaml")]) >= 12
    missing = sorted(expected - names)
    assert not missing, f"the wheel {wheel.name} lacks {missing}"
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)
    assert any(n.endswith("LICENSE") and ".dist-info/" in n for n in names)


def test_wheel_data_are_the_repository_files(wheel):
    with zipfile.ZipFile(wheel) as zf:
        for name in ("exam.csv", "EXAM_NOTICE.md"):
            assert zf.read(f"lemma_helpers/data/{name}") == (PKG / "data" / name).read_bytes()


@pytest.fixture(scope="module")
def fresh_env(wheel, tmp_path_factory):
    env = tmp_path_factory.mktemp("fresh") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env)])
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                   .stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "_lemma_test_dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--disable-pip-version-check", "-q", str(wheel)])
    return env, python


LOAD_EVERY_DATASET = textwrap.dedent("""
    import json, sys
    import lemma_helpers as lh
    from lemma_helpers import datasets
    names = sys.argv[1].split(",")
    shapes = {n: list(lh.load_dataset(n).shape) for n in names}
    print(json.dumps({
        "file": lh.__file__,
        "exam_file": str(datasets.data_path("exam")),
        "shapes": shapes,
        "questions": len(lh.list_questions("5.1")),
        "path": sys.path,
    }))
""")


def test_installed_wheel_loads_every_dataset(fresh_env, tmp_path):
    env, python = fresh_env
    names = ["exam"] + (["ess_hedonism", "ssls"] if HAVE_MIRROR else [])
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    run_env["LEMMA_CACHE_DIR"] = str(tmp_path / "cache")
    if HAVE_MIRROR:
        run_env["LEMMA_DATA_DIR"] = str(MIRROR.resolve())
    else:
        run_env.pop("LEMMA_DATA_DIR", None)
    out = json.loads(_run([str(python), "-I", "-c", LOAD_EVERY_DATASET, ",".join(names)],
                          cwd=tmp_path, env=run_env).stdout)
    env = env.resolve()
    assert Path(out["file"]).resolve().is_relative_to(env), (
        f"lemma_helpers was imported from {out['file']}, not from the fresh environment {env}")
    assert Path(out["exam_file"]).resolve().is_relative_to(env)
    assert not any(Path(p).resolve() == ROOT for p in out["path"] if p)
    expected = {"exam": [4059, 11], "ess_hedonism": [36527, 9], "ssls": [33988, 9]}
    assert out["shapes"] == {n: expected[n] for n in names}
    assert out["questions"] >= 5
    if not HAVE_MIRROR:
        pytest.skip("exam loaded from the wheel; the two downloaded datasets need LEMMA_DATA_DIR")


def test_installed_wheel_has_the_grading_command(fresh_env):
    env, _ = fresh_env
    script = env / ("Scripts/lemma-grade.exe" if os.name == "nt" else "bin/lemma-grade")
    assert script.exists()
