"""The shape of the package's code: module lengths, function lengths and the import graph (a maintainers' check).

The learner's library (every module outside ``lemma_helpers/grade/``) never imports the grader; the grader
builds on the library (``lemma_helpers.grading`` is the grader's entry point and may).

    python scripts/check_shape.py [--max-module 600] [--max-function 80] [PACKAGE_DIR]

Counts the lines of every module of ``lemma_helpers`` (default), the body of every function and method
(from its first statement after the docstring to its last line; a nested function counts inside the
one that holds it and on its own), and draws the graph of imports between the package's modules,
imports inside functions included, to find cycles. Prints the figures and exits 1 where a module or a
function is over its limit or the graph has a cycle.
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def function_lengths(tree: ast.AST):
    """(qualified name, body lines without the docstring) of every function in the tree."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = child.body
                if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                        and isinstance(body[0].value.value, str)):
                    body = body[1:]
                lines = 0 if not body else body[-1].end_lineno - body[0].lineno + 1
                out.append((prefix + child.name, lines))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def imports(tree: ast.AST, name: str, is_package: bool, known: set) -> set:
    """The package's modules that a module imports, anywhere in it (functions included)."""
    here = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            mod = (base + ("." + node.module if node.module else "")) if node.level else node.module
            # 'from . import x' imports the submodule x where there is one, else a name of the package
            targets = [f"{mod}.{alias.name}" if f"{mod}.{alias.name}" in known else mod for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict) -> list:
    """Every strongly connected component with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            strong(v)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default=str(ROOT / "lemma_helpers"))
    parser.add_argument("--max-module", type=int, default=600)
    parser.add_argument("--max-function", type=int, default=80)
    parser.add_argument("--all", action="store_true", help="list every module, not only the longest")
    args = parser.parse_args(argv)
    package = Path(args.package).resolve()
    files = sorted(package.rglob("*.py"))
    trees, known = {}, set()
    for path in files:
        name = module_name(path, package)
        trees[name] = (path, ast.parse(path.read_text(), str(path)))
        known.add(name)
    graph, failures = {}, []
    modules = []
    functions = []
    for name, (path, tree) in trees.items():
        n_lines = len(path.read_text().splitlines())
        modules.append((n_lines, name))
        if n_lines > args.max_module:
            failures.append(f"module {name}: {n_lines} lines")
        for fn, length in function_lengths(tree):
            functions.append((length, f"{name}.{fn}"))
            if length > args.max_function:
                failures.append(f"function {name}.{fn}: {length} lines")
        graph[name] = imports(tree, name, path.name == "__init__.py", known)
    modules.sort(reverse=True)
    functions.sort(reverse=True)
    print(f"{len(modules)} modules; longest:")
    for n_lines, name in (modules if args.all else modules[:10]):
        print(f"  {n_lines:5d}  {name}")
    print(f"{len(functions)} functions; longest bodies (docstrings aside):")
    for length, name in functions[:10]:
        print(f"  {length:5d}  {name}")
    found = cycles(graph)
    print(f"import graph: {sum(map(len, graph.values()))} edges between {len(graph)} modules, "
          f"{len(found)} cycle(s)" + "".join(f"\n  cycle: {' <-> '.join(c)}" for c in found))
    failures += [f"import cycle: {' <-> '.join(c)}" for c in found]
    grader = f"{package.name}.grade"           # the instructor's product: the learner's modules never import it
    crossing = sorted((m, d) for m, ds in graph.items() for d in ds
                      if (d == grader or d.startswith(grader + ".")) and not m.startswith(grader)
                      and m != f"{package.name}.grading")
    print(f"learner modules importing the grader: {len(crossing)}")
    failures += [f"{m} imports the grader ({d})" for m, d in crossing]
    for failure in failures:
        print("over the limit:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
