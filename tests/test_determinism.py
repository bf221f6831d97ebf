"""Stored outputs must not depend on the machine: a static scan for unstable orderings.

The notebooks are committed with their outputs and nbval compares them on every
run, so an output that depends on the CPU, on the hash seed or on an unseeded
random draw fails on someone else's machine. (It happened: on an AMD EPYC with
AVX-512, numpy's default sort puts tied values in a different order, and a
``sort_values("n")`` table came out differently.) This file scans the code
cells of every notebook (instructor copies and ``notebooks/student/``) and the
package's own modules, and lists each offending call as notebook, cell number,
cell id and line.

The rules (each is precise: it flags only code whose result can differ
between machines or runs):

``sort``
    ``.sort_values(...)``, ``.sort_index(...)`` and ``argsort(...)`` need
    ``kind="stable"`` (or ``kind="mergesort"``). numpy's default sort
    (``kind="quicksort"``) is not stable and, from numpy 1.25, is a different
    SIMD algorithm on CPUs with AVX-512, so ties come out in a CPU-dependent
    order. A stable sort keeps ties in the order of the input, which is the
    same everywhere. Exception: ``sort_values`` by a literal list of two or
    more columns, which pandas always does with a stable lexicographic sort.
    Add a tie-breaking column where ties are possible, e.g.
    ``sort_values(["n", "schoolid"], kind="stable")``. ``sorted()``,
    ``list.sort()``, ``np.sort(values)`` and ``np.lexsort`` are stable or
    return only the sorted values, and are not flagged; nor is ``.rank()``
    (its ``method`` decides ties the same way everywhere), nor ``idxmax``,
    ``idxmin``, ``argmax``, ``argmin`` (first occurrence).
``nlargest``
    ``.nlargest(...)`` and ``.nsmallest(...)`` need an explicit ``keep=``
    argument, so the reader sees what happens to ties.
``value_counts``
    ``.value_counts(...)`` sorts by count with an unstable sort, so groups
    with equal counts come out in a CPU-dependent order: pass ``sort=False``
    (categories or order of appearance) and sort yourself if needed.
``random``
    Random draws must be seeded: ``np.random.<function>(...)`` (numpy's
    global generator, e.g. ``np.random.normal``, ``np.random.seed``) is
    flagged, ``np.random.default_rng()`` needs a seed, and
    ``.sample(...)`` (pandas) needs ``random_state=``; with Python's
    ``random`` module, any ``random.<function>(...)`` other than
    ``random.Random(seed)`` is flagged. ``rng = np.random.default_rng(2026)``
    and then ``rng.normal(...)`` is the pattern to use.
``set order``
    A set is iterated in hash order, which for strings changes from one Python
    run to the next. Flagged: a set (``set(...)``, ``frozenset(...)``, a set
    literal or comprehension, or set algebra on them), or a list, tuple,
    string or comprehension made from one, that is *shown*: printed, put in an
    f-string, or the last expression of a cell; and, in a notebook, a
    ``for`` loop over a set (it usually prints as it goes; in the package a
    loop over a set is fine when its order does not matter, so it is not
    flagged there). Wrap it in ``sorted(...)``. Sets used for membership or comparison
    (``set(a) == set(b)``, ``x in set(...)``, ``len(set(...))``) are safe and
    not flagged. ``.unique()`` (order of appearance) and ``dict`` (insertion
    order) are deterministic and not flagged.

(A trailing ``;`` after a plot line is fine: nbval would ignore it, since it
runs cells outside IPython's history, but the repository's ``conftest.py``
makes nbval run them with history, as JupyterLab does.)

The notebook test is parametrized by notebook, so a failure names the notebook
and lists every offending cell at once.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "notebooks" / "student").glob("*.ipynb"))
MODULES = sorted((ROOT / "lemma_helpers").rglob("*.py"))

STABLE_KINDS = {"stable", "mergesort"}
SORTS = {"sort_values", "sort_index", "argsort"}
RNG_CONSTRUCTORS = {"default_rng", "Generator", "SeedSequence", "PCG64", "PCG64DXSM", "Philox",
                    "SFC64", "MT19937", "BitGenerator", "RandomState"}
SET_METHODS = {"union", "intersection", "difference", "symmetric_difference"}
ORDERING_WRAPPERS = {"list", "tuple", "str", "repr", "iter", "enumerate"}


def _kw(call: ast.Call, name: str):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _const(node):
    return node.value if isinstance(node, ast.Constant) else None


def _dotted(node) -> str:
    """'np.random.normal' for the function of a call, '' when not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _unordered(node) -> bool:
    """True when ``node`` evaluates to a set, or to a sequence or string built from one."""
    if isinstance(node, (ast.Set, ast.SetComp)):
        return True
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        if name in ("set", "frozenset"):
            return True
        if isinstance(node.func, ast.Attribute) and node.func.attr in SET_METHODS:
            return _unordered(node.func.value)
        if (name in ORDERING_WRAPPERS or (isinstance(node.func, ast.Attribute) and node.func.attr == "join")) \
                and node.args:
            return _unordered(node.args[0])
        return False
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd, ast.Sub, ast.BitXor)):
        return _unordered(node.left) or _unordered(node.right)
    if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.DictComp)):
        return any(_unordered(g.iter) for g in node.generators)
    if isinstance(node, ast.Starred):
        return _unordered(node.value)
    return False


def _shown(tree: ast.Module, is_cell: bool):
    """The expressions whose value is shown: print arguments, f-string fields, a cell's last expression."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _dotted(node.func) in ("print", "display"):
            out.extend(node.args)
        elif isinstance(node, ast.FormattedValue):
            out.append(node.value)
    if is_cell and tree.body and isinstance(tree.body[-1], ast.Expr):
        out.append(tree.body[-1].value)
    expanded = []
    for node in out:  # look inside a displayed tuple/list/dict: print((a, set(b)))
        expanded.append(node)
        if isinstance(node, (ast.Tuple, ast.List)):
            expanded.extend(node.elts)
        elif isinstance(node, ast.Dict):
            expanded.extend(node.values)
    return expanded


def problems(source: str, *, is_cell: bool = True) -> list[tuple[int, str]]:
    """(line, message) for each unstable ordering in ``source`` (a cell or a module)."""
    lines = source.splitlines()
    # IPython magics and shell escapes are not Python: blank them, keeping line numbers
    cleaned = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)
    try:
        tree = ast.parse(cleaned)
    except SyntaxError as exc:
        return [(exc.lineno or 1, f"cannot parse the cell ({exc.msg}), so it cannot be checked")]
    found = []

    def flag(node, message):
        # a call's line is where its method name ends (the line of .sort_values in a chain)
        line = node.func.end_lineno if isinstance(node, ast.Call) else node.lineno
        found.append((line, message))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, name = node.func.attr, _dotted(node.func)
            if attr in SORTS and _const(_kw(node, "kind")) not in STABLE_KINDS:
                by = _kw(node, "by") or (node.args[0] if node.args and attr == "sort_values" else None)
                several = isinstance(by, (ast.List, ast.Tuple)) and len(by.elts) >= 2
                if not several:
                    flag(node, f'{attr} without kind="stable": tied values come out in an order that '
                               'depends on the CPU; add kind="stable" and a tie-breaking column')
            elif attr in ("nlargest", "nsmallest") and _kw(node, "keep") is None:
                flag(node, f"{attr} without keep=: say how ties are treated (keep='first' or 'all')")
            elif attr == "value_counts" and _const(_kw(node, "sort")) is not False:
                flag(node, "value_counts sorts by count with an unstable sort (ties depend on the CPU); "
                           "pass sort=False and sort yourself with kind=\"stable\" if needed")
            elif attr == "sample" and _kw(node, "random_state") is None and not name.startswith("random."):
                flag(node, ".sample without random_state=: the rows drawn change on every run")
            elif re.fullmatch(r"(np|numpy)\.random\.\w+", name):
                if attr not in RNG_CONSTRUCTORS:
                    flag(node, f"{name} uses numpy's global random state: draw from a seeded "
                               "rng = np.random.default_rng(seed) instead")
                elif attr == "default_rng" and not node.args and _kw(node, "seed") is None:
                    flag(node, "np.random.default_rng() without a seed: pass a seed")
            elif re.fullmatch(r"random\.\w+", name) and not (attr == "Random" and node.args):
                flag(node, f"{name} uses Python's unseeded global random state: use "
                           "random.Random(seed) or a seeded numpy Generator")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "default_rng" \
                and not node.args and _kw(node, "seed") is None:
            flag(node, "default_rng() without a seed: pass a seed")
        elif is_cell and isinstance(node, (ast.For, ast.AsyncFor)) and _unordered(node.iter):
            flag(node, "a for loop over a set runs in hash order (different on each run for strings): "
                       "loop over sorted(...)")
    for node in _shown(tree, is_cell):
        if _unordered(node):
            flag(node, "a set is shown in hash order (different on each run for strings): "
                       "show sorted(...) instead")
    return sorted(set(found))


def _cells(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for number, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            yield number, cell.get("id", "?"), source


def notebook_report(path: Path) -> list[str]:
    report = []
    for number, cell_id, source in _cells(path):
        lines = source.splitlines()
        for line, message in problems(source):
            code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            report.append(f"{path.relative_to(ROOT)} cell {number} (id {cell_id}) line {line}: "
                          f"{code[:100]}\n    -> {message}")
    return report


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT / "notebooks")) for p in NOTEBOOKS])
def test_notebook_orderings_are_machine_independent(path):
    report = notebook_report(path)
    assert not report, f"{len(report)} unstable ordering(s):\n" + "\n".join(report)


def test_package_orderings_are_machine_independent():
    report = []
    for path in MODULES:
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for line, message in problems(source, is_cell=False):
            report.append(f"{path.relative_to(ROOT)}:{line}: {lines[line - 1].strip()[:100]}\n    -> {message}")
    assert not report, "\n".join(report)


def test_every_notebook_is_scanned():
    names = {p.name for p in NOTEBOOKS}
    assert len(names) >= 13 and any(p.parent.name == "student" for p in NOTEBOOKS)


# ---- the rules themselves: what is flagged and what is not ----------------------------------
FLAGGED = [
    'df.sort_values("n")',
    'df.sort_values(by="n", ascending=False)',
    's.sort_values()',
    'df.sort_values(["n"])',
    'df.sort_values("n", kind="quicksort")',
    'df.sort_index()',
    'np.argsort(x)',
    'x.argsort()',
    's.nlargest(3)',
    'df.nsmallest(5, "score")',
    'df["sclass"].value_counts()',
    'df.groupby("country").sample(n=30)',
    'np.random.normal(size=3)',
    'np.random.seed(1)',
    'rng = np.random.default_rng()',
    'import random\nrandom.choice(names)',
    'print(set(df["country"]))',
    'set(df["country"])',
    'print(f"countries: {set(names) - {\'Israel\'}}")',
    'print(", ".join(set(names)))',
    'list(set(names))',
    'for c in set(names):\n    print(c)',
    '[c.upper() for c in set(names)]',
]
SAFE = [
    'df.sort_values("n", kind="stable")',
    'df.sort_values(["n", "schoolid"])',
    'df.sort_values(by=["n", "schoolid"], kind="stable")',
    "np.argsort(x, kind='mergesort')",
    'sorted(names, key=len)',
    'np.sort(x)',
    's.rank(method="first")',
    's.idxmax()',
    's.nlargest(3, keep="all")',
    'df["sclass"].value_counts(sort=False)',
    'df.groupby("country").sample(n=30, random_state=2026)',
    'rng = np.random.default_rng(2026)\nrng.normal(size=3)',
    'rng = random.Random(1)\nrng.choice(names)',
    'if set(a) == set(b):\n    print("same")',
    'print(sorted(set(names)))',
    'print(len(set(names)))',
    'print("Israel" in set(names))',
    'df["country"].unique()',
    'print({"a": 1, "b": 2})',
    '%matplotlib inline\nx = 1',
    'lh.plot_group_lines(m, sample=40, seed=1)',
    'ax.set_title("lines")\nplt.show()',
    'fig, ax = plt.subplots()\nax.set_title("lines");',
    'x = 1;',
]


@pytest.mark.parametrize("code", FLAGGED)
def test_rule_flags(code):
    assert problems(code), code


@pytest.mark.parametrize("code", SAFE)
def test_rule_passes(code):
    assert not problems(code), problems(code)


def test_report_names_notebook_cell_and_line(tmp_path, monkeypatch):
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    nb = {"cells": [{"cell_type": "markdown", "id": "m", "source": "# t"},
                    {"cell_type": "code", "id": "abc", "source": ["x = 1\n", 'df.sort_values("n")']}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "demo.ipynb"
    path.write_text(json.dumps(nb))
    report = notebook_report(path)
    assert len(report) == 1
    assert report[0].startswith('demo.ipynb cell 1 (id abc) line 2: df.sort_values("n")')
