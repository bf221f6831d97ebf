"""Write the student pack: the course as learners get it, with no solutions and every link working.

The pack is one folder (default ``student-pack/``; ``make student-pack``)
holding, side by side:

* the **concept notebooks** (``00_start`` ... ``07_summary`` and any inserted
  concept notebook such as ``07a_...``) with their outputs, which learners
  read;
* the **student copies of the practicals**, made fresh from the instructor
  notebooks with ``scripts/make_student_copies.py`` (exercises blanked,
  answers replaced by a placeholder, instructor cells left out; with
  ``--summative`` also without the collapsed model answers);
* a short ``README.md`` for learners.

Nothing else: no solution notebooks, no tests, no answer keys. Because all
notebooks sit in one folder, every relative link between notebooks is
rewritten for that layout (``../00_start.ipynb`` in a student copy becomes
``00_start.ipynb``; ``07_summary``'s "Next" link leads to the first
practical's student copy). A link to anything that is not in the pack stops
the build with a message naming it. In the concept notebooks, text between
``<!-- instructor -->`` and ``<!-- /instructor -->`` is left out and
``<!-- student: some text -->`` becomes ``some text`` (the conventions of
``make_student_copies.py``), and cells tagged ``instructor`` are left out.

Rebuilding into an existing pack folder replaces its notebooks and README
but keeps hidden entries such as ``.git``, so the folder can be a checkout of
the repository or branch that learners pull from (``docs/STUDENT_PACK.md``).
The script refuses to write into a non-empty folder that is not a pack.

Usage: ``python scripts/make_student_pack.py [--out DIR] [--summative]``
``python scripts/make_student_pack.py --link HUB REPO [--branch BRANCH]`` prints the nbgitpuller link.
"""
from __future__ import annotations

import argparse
import posixpath
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlencode

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_student_copies as msc  # noqa: E402
import nav  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "student-pack"
PACK_MARK = "<!-- lemma-course student pack, written by scripts/make_student_pack.py; rebuilt from the course -->"
# where the notebooks of the pack come from, relative to the repository (links are resolved from there)
CONCEPT_DIR = "notebooks"
STUDENT_DIR = f"notebooks/{msc.STUDENT_DIR}"
EXTERNAL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class PackError(Exception):
    """The pack cannot be written as asked (a link that would break, a folder that is not a pack)."""


def is_practical(name: str) -> bool:
    return bool(msc.PRACTICAL.match(name))


def pack_notebooks(notebooks: Path = NOTEBOOKS) -> tuple:
    """``(concepts, practicals)``: the instructor notebooks that go into the pack, in course order."""
    course = nav.course_notebooks(notebooks)
    return [p for p in course if not is_practical(p.name)], [p for p in course if is_practical(p.name)]


def pack_link(target: str, source_dir: str, names: set, where: str) -> str:
    """A relative link of a notebook in ``source_dir`` (``notebooks`` or ``notebooks/student``), for the pack.

    >>> names = {"00_start.ipynb", "07_summary.ipynb", "08_p5_1_comparing_schools.ipynb"}
    >>> pack_link("../00_start.ipynb#data", "notebooks/student", names, "x")
    '00_start.ipynb#data'
    >>> pack_link("08_p5_1_comparing_schools.ipynb", "notebooks", names, "x")
    '08_p5_1_comparing_schools.ipynb'
    >>> pack_link("https://www.bristol.ac.uk/cmm/", "notebooks", names, "x"), pack_link("#quiz", "notebooks", names, "x")
    ('https://www.bristol.ac.uk/cmm/', '#quiz')
    """
    if not target or target.startswith(("#", "/")) or EXTERNAL.match(target):
        return target
    path, sep, anchor = target.partition("#")
    folder, name = posixpath.split(posixpath.normpath(posixpath.join(source_dir, path)))
    if folder in (CONCEPT_DIR, STUDENT_DIR) and name in names:
        return name + sep + anchor
    raise PackError(f"{where} links to {target!r}, which is not in the student pack. Link to a course "
                    "notebook or to a web address instead, or wrap the sentence in "
                    "<!-- instructor --> ... <!-- /instructor -->.")


def pack_links(text: str, source_dir: str, names: set, where: str) -> str:
    """Rewrite every relative Markdown and HTML link of ``text`` with :func:`pack_link`."""
    def sub(m):
        return m.group(1) + pack_link(m.group(2), source_dir, names, where) + m.group(3)
    return msc.HTML_LINK.sub(sub, msc.MD_LINK.sub(sub, text))


def student_markdown(source: str) -> str:
    """Instructor-only text out, student-only text in (the markers of ``make_student_copies.py``)."""
    if msc.INSTRUCTOR_TEXT.search(source) or msc.STUDENT_TEXT.search(source):
        source = msc.STUDENT_TEXT.sub(lambda m: m.group(1), msc.INSTRUCTOR_TEXT.sub("", source))
        source = re.sub(r"\n{3,}", "\n\n", source).strip()
    return source


def concept_copy(nb, names: set, where: str):
    """The pack's copy of a concept notebook: outputs kept, instructor cells and text left out, links for the pack."""
    out = nbformat.from_dict(dict(nb))
    cells = []
    for cell in out.cells:
        if "instructor" in msc.tags(cell):
            continue
        if cell.cell_type == "markdown":
            cell.source = pack_links(student_markdown(cell.source), CONCEPT_DIR, names, where)
            if not cell.source.strip():
                continue
        cells.append(cell)
    out.cells = cells
    return out


def relink_student_copy(nb, names: set, where: str):
    """A student copy (written for ``notebooks/student/``) with its links rewritten for the pack."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = pack_links(cell.source, STUDENT_DIR, names, where)
    return nb


def _title(nb) -> str:
    return nav.title(nb)


def readme(concepts: list, practicals: list, *, summative: bool) -> str:
    """The learners' README of the pack: what is in it, where to start, how to hand work in."""
    def rows(items):
        return "\n".join(f"| [{p.name}]({p.name}) | {t} |" for p, t in items)
    answers = ("There are no model answers in this pack: your work is graded, and feedback comes after "
               "grading." if summative else
               "After each written answer a collapsed *Compare with a model answer* note lets you check "
               "your own answer once you have written it.")
    return f"""{PACK_MARK}
# Introduction to multilevel modelling in Python: your notebooks

Start with [00_start.ipynb](00_start.ipynb) and work through the notebooks in order; the links at the
top of each notebook lead to the previous and the next one. Each takes about an hour.

**Concepts**: read them and run every cell (Shift+Enter, or *Run > Run All Cells*); change things and
run them again.

| notebook | topic |
|---|---|
{rows(concepts)}

**Practicals**: your turn to do the analyses. Replace each `...` with your own code and run the check
cell below it, which tells you whether you are right without giving the answer away. Write your
interpretations where a cell says *Write your answer here.* {answers}

| notebook | practical |
|---|---|
{rows(practicals)}

**Quizzes**: `lh.quiz("5.1")` shows the questions of a section and `lh.check("5.1.q1", answer)` checks
an answer.

**Saving and handing in.** Your changes are saved in your own copy of these notebooks (*File > Save*,
or Ctrl+S). If you opened them through a link on your course's JupyterHub, clicking that link again
brings in your instructor's updates and keeps your changes. To hand in a practical, save it, download
it (*File > Download*) and upload it to the assignment on your course's learning platform, or where
your instructor asks; if you are asked to name the file, use your student id (for example
`s1234567.ipynb`). Hand in the notebook file itself (`.ipynb`), not a PDF or a copy of its text.
"""


def clear_pack(out: Path) -> None:
    """Empty a pack folder for a rebuild, keeping hidden entries (``.git``); refuse any other folder."""
    if not out.exists():
        return
    if not out.is_dir():
        raise PackError(f"{out} exists and is not a folder.")
    visible = [p for p in out.iterdir() if not p.name.startswith(".")]
    if not visible:
        return
    old = out / "README.md"
    if not (old.is_file() and old.read_text(encoding="utf-8").startswith(PACK_MARK)):
        raise PackError(f"{out} is not empty and does not hold a student pack (its README.md was not written "
                        "by this script); choose an empty or new folder with --out.")
    for p in visible:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def build(out: Path = DEFAULT_OUT, *, summative: bool = False, notebooks: Path = NOTEBOOKS,
          order: str = "numbered") -> list:
    """Write the pack into ``out``; return the names of the files written, in course order.

    ``order="interleaved"`` makes the pack's previous/next links follow docs/SCHEDULE.md (each concept
    notebook followed by its practical) instead of the numbering."""
    out = Path(out)
    concepts, practicals = pack_notebooks(notebooks)
    if not any(p.name == "00_start.ipynb" for p in concepts):
        raise PackError(f"{notebooks} has no 00_start.ipynb: is it the course's notebooks folder?")
    names = {p.name for p in concepts + practicals}
    concept_nbs = [(p, nbformat.read(p, as_version=4)) for p in concepts]
    copies = [concept_copy(nb, names, p.name) for p, nb in concept_nbs]    # check every link before writing
    clear_pack(out)
    out.mkdir(parents=True, exist_ok=True)
    for (p, _), nb in zip(concept_nbs, copies):
        nbformat.write(nb, out / p.name)
    # the student copies, made fresh by make_student_copies.py into the pack, then relinked for it
    args = ["--out", str(out), *(["--no-model-answers"] if summative else []), *map(str, practicals)]
    if practicals:
        msc.main(args)
    titles = []
    for p in practicals:
        target = out / p.name
        nb = relink_student_copy(nbformat.read(target, as_version=4), names, f"the student copy of {p.name}")
        target.write_text(msc.render(nb), encoding="utf-8")
        titles.append((p, _title(nb)))
    (out / "README.md").write_text(readme([(p, _title(nb)) for p, nb in concept_nbs], titles,
                                          summative=summative), encoding="utf-8")
    if nav.main(folder=out, order=order) != 0:
        raise PackError("the previous/next links could not be written: a notebook has no nav markers")
    return [p.name for p in concepts + practicals] + ["README.md"]


def nbgitpuller_link(hub: str, repo: str, branch: str = "main", notebook: str = "00_start.ipynb") -> str:
    """The link that pulls the pack from ``repo`` (branch ``branch``) into a learner's JupyterHub home
    and opens ``notebook`` in JupyterLab. The pack lands in a folder named after the repository.

    >>> print(nbgitpuller_link("https://hub.example.ac.uk", "https://github.com/someone/mlm-pack", "week1"))
    https://hub.example.ac.uk/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Fsomeone%2Fmlm-pack&branch=week1&urlpath=lab%2Ftree%2Fmlm-pack%2F00_start.ipynb
    """
    folder = repo.rstrip("/").rsplit("/", 1)[-1]
    folder = folder[:-4] if folder.endswith(".git") else folder
    query = urlencode({"repo": repo, "branch": branch, "urlpath": f"lab/tree/{folder}/{notebook}"})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the pack folder (default: student-pack/)")
    ap.add_argument("--summative", action="store_true",
                    help="leave out the model answers of the written questions (for graded use)")
    ap.add_argument("--order", choices=["numbered", "interleaved"], default="numbered",
                    help="previous/next links in file-number order, or interleaved (each concept notebook "
                         "followed by its practical, as docs/SCHEDULE.md suggests)")
    ap.add_argument("--link", nargs=2, metavar=("HUB", "REPO"),
                    help="print the nbgitpuller link for a pack published in REPO, for the hub at HUB, and stop")
    ap.add_argument("--branch", default="main", help="the branch of REPO holding the pack (with --link)")
    args = ap.parse_args(argv)
    if args.link:
        print(nbgitpuller_link(*args.link, branch=args.branch))
        return 0
    try:
        written = build(args.out, summative=args.summative, order=args.order)
    except PackError as err:
        print(f"make_student_pack: {err}", file=sys.stderr)
        return 1
    kind = "summative (no model answers)" if args.summative else "with model answers"
    print(f"student pack {kind}: {len(written)} files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
