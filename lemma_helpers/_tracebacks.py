"""How an error of lemma_helpers looks in a notebook: the message first, then the learner's line.

IPython shows an exception as its whole traceback, the message last. For a :class:`LemmaError`,
which explains a mistake in what the learner asked for, the frames inside the package only hide
the message: ``LemmaError._render_traceback_`` (IPython's hook for an exception that draws itself)
calls :func:`short_traceback` instead, which shows the message, then the line of the learner's
code that called the package. ``sys.last_value`` keeps the whole traceback for anyone who wants it
(``import traceback; traceback.print_exception(sys.last_value)``).

A cell that stops with such an error does not make the variables it assigns, so each cell below
that uses one would stop with a ``NameError``. :func:`short_traceback` notes those names, and
:func:`install` (called by ``import lemma_helpers`` inside IPython) makes a ``NameError`` about one
of them say why in one line; every other ``NameError`` looks as usual.
"""
from __future__ import annotations

import ast
import linecache
import os
import sys

PACKAGE = os.path.dirname(os.path.abspath(__file__))
_RED, _RESET = "\x1b[1;31m", "\x1b[0m"
_NOT_MADE: dict = {}           # variable name -> the first line of the error that stopped its cell


def _in_package(filename: str) -> bool:
    return os.path.abspath(filename).startswith(PACKAGE + os.sep)


def _is_cell(filename: str) -> bool:
    """A file name IPython gives to the code of a cell."""
    return "ipykernel_" in filename or filename.startswith("<ipython-input")


def _frames(tb) -> list:
    out = []
    while tb is not None:
        out.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return out


def _assigned_names(source: str) -> list:
    """The names a cell assigns at its top level (inside if, for, with and try blocks too), in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list = []

    def visit(statements):
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For)) else [])
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name) and leaf.id not in names:
                        names.append(leaf.id)
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []) or [])

    visit(tree.body)
    return names


def short_traceback(exc: BaseException) -> list:
    """The lines IPython shows for ``exc``: its message, then where the learner's code called the package,
    then the variables its cell did not make (noted for :func:`install`'s NameError message)."""
    frames = _frames(exc.__traceback__)
    lines = [f"{_RED}{type(exc).__name__}{_RESET}: {exc}"]
    cells = [i for i, (f, _) in enumerate(frames) if _is_cell(f.f_code.co_filename)]
    inside = [i for i, (f, _) in enumerate(frames) if _in_package(f.f_code.co_filename)]
    outside = [i for i in range(len(frames)) if i not in inside and (not inside or i < inside[0])]
    if outside:
        frame, lineno = frames[outside[-1]]
        filename = frame.f_code.co_filename
        code = linecache.getline(filename, lineno).strip()
        where = (f"line {lineno} of this cell" if cells and outside[-1] == cells[0]
                 else f"line {lineno} of an earlier cell" if _is_cell(filename)
                 else f"{os.path.basename(filename)}, line {lineno}")
        lines.append(f"\n(at {where}: {code})" if code else f"\n(at {where})")
    if cells:
        frame = frames[cells[0]][0]
        source = "".join(linecache.getlines(frame.f_code.co_filename))
        missing = [n for n in _assigned_names(source) if n not in frame.f_globals]
        first = str(exc).split(". ")[0].split("\n")[0]
        for name in missing:
            _NOT_MADE[name] = first
        if missing:
            listed = ", ".join(missing)
            lines.append(f"This cell stopped here, so it did not make {listed}: fix it and run it again "
                         "before the cells below that use " + ("it." if len(missing) == 1 else "them."))
    return lines


def _name_error(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for a NameError: one line when the name is one a failed cell did not make."""
    name = getattr(value, "name", None)
    if name not in _NOT_MADE or name in shell.user_ns:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    stb = [f"{_RED}NameError{_RESET}: {name} does not exist yet: the cell that makes it stopped with an error "
           f"({_NOT_MADE[name]}). Fix that cell and run it again, then run this one."]
    shell._get_exc_info((etype, value, tb))        # keeps sys.last_value, as IPython does
    shell._showtraceback(etype, value, stb)
    return stb


def install() -> None:
    """Inside IPython, let NameErrors about variables a failed cell did not make say so (once per session;
    never over another package's handler)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "custom_exceptions", ()) not in ((), (NameError,)):
        return
    shell.set_custom_exc((NameError,), _name_error)
