"""``lemma-grade DIR --out grades.csv``: a grading run, as four stages over plain data.

1. **collect** (:func:`collect`): find the notebooks in the folder (any
   layout of :mod:`~lemma_helpers.grade.layouts`, or a zip of one), say whose
   each is (:mod:`~lemma_helpers.grade.roster`), and read every file's bytes
   before any code runs;
2. **run** (:func:`~lemma_helpers.grade.execute.run_all`): run each notebook
   top to bottom in a sandbox of its own, with limits, and read back the
   answers ``lh.check`` recorded; each result goes to a journal as it
   finishes, so a killed run keeps what it graded and ``--resume`` continues;
3. **score** (:func:`score`): each notebook's answers scored once, against
   its student's key (the class key, or the student's variant's), outside
   the sandbox; a student's notebooks combined;
4. **write** (:mod:`~lemma_helpers.grade.write`): the gradebook, the
   feedback files (once, with the key each student was graded against), the
   marking sheet, the platform files and the summary.

Only the run stage starts kernels; the others are plain functions with tests
of their own.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import nbformat

from .. import _bank as B
from .._validation import LemmaError
from ..variant_keys import varies
from . import sandbox as _sandbox
from .assignment import Assignment, load_assignment, variant_keys, with_key_file
from .codes import read_secret, student_code
from .execute import Limits, Runs, run_all, run_async
from .exports import EXPORTS
from .layouts import find_submissions, unzip
from .integrity import findings, shared_codes
from .marks import Marking, combine, in_bank_labels, mark_answers, unmarked
from .notebooks import read_all
from .results import Journal, Submission, merge
from .roster import assign, load_roster
from .text import clean_text, file_names


@dataclass(frozen=True)
class Settings:
    """Everything a run is told on the command line (see ``lemma-grade --help``)."""

    key_file: str | Path | None = None
    questions: Sequence[str] = ()    # question ids or sections that count (with a key file: besides its own)
    assignment: str | Path | Assignment | None = None
    roster: str | Path | None = None
    secret_file: str | Path | None = None
    exports: Sequence[str] = ()
    limits: Limits = field(default_factory=Limits)
    jobs: int = 1
    reveal: bool = False
    keep_executed: bool = True
    quiet: bool = False
    sandbox: str = "auto"        # "auto"/"bwrap": bubblewrap, refusing where it cannot run; "none": plain processes
    resume: bool = False
    missing_zero: bool = False   # platform files: 0 for a student with no submission (else left empty)


@dataclass(frozen=True)
class Plan:
    """What a run grades against, worked out before anything runs."""

    key: dict                     # the class key: question id -> Key
    marking: Marking
    overrides: dict               # from --key
    secret: bytes | None          # for per-student variants
    students: list | None         # the roster


@dataclass
class Collected:
    """The collect stage's result: every notebook, whose it is, and what was skipped."""

    layout: str
    skipped: list
    by_owner: dict                # owner -> (Student or None, [Entry])
    files: dict                   # owner -> [(file id, Entry)], in the order they count
    notebooks: list               # [(file id, file name, bytes or None, problem or None)]
    names: dict                   # owner -> file name of their feedback and executed copy
    name_notes: list
    roster_problems: list = field(default_factory=list)   # ambiguous or unmatched submissions (roster.assign)
    roster_notes: list = field(default_factory=list)


@dataclass
class Graded:
    """One student's result: the merged submission, its marks, the key it was marked against."""

    sub: Submission
    marks: dict
    key: dict
    name: str                     # the student's name (roster or platform), "" if unknown
    platform: dict
    student: object               # the roster's Student, or None
    parts: list                   # [(file id, Submission, marks)] per notebook
    variant: str = ""             # for per-student variants: whether the recorded code was theirs


def plan(settings: Settings) -> Plan:
    """Read the key file, the assignment, the secret and the roster; every mistake is a LemmaError."""
    overrides = B.load_key(settings.key_file) if settings.key_file else {}
    a = settings.assignment
    if a is not None and not isinstance(a, Assignment):
        a = load_assignment(a)
    if a is not None:
        a = with_key_file(a, overrides)
        key = {**B.shipped_key(), **a.keys}
        overridden = {q for q in a.questions if not B.same_answer(a.keys[q], B.question(q).key)}
        if a.variants:
            overridden |= {q for q in a.questions if varies(B.question(q))}
    else:
        key = {**B.shipped_key(), **overrides}
        overridden = {q for q, k in overrides.items() if not B.same_answer(k, B.question(q).key)}
    scope = None
    if a is None and (overrides or settings.questions):
        scope = frozenset(overrides) | frozenset(expand_questions(settings.questions))
    elif settings.questions:
        raise LemmaError("--questions chooses the questions of a grading without an assignment; an assignment "
                         "file lists its own questions.")
    secret = None
    if a is not None and a.variants:
        if settings.secret_file is None:
            raise LemmaError(f"Assignment {a.id} gives each student a variant of the data: pass the "
                             "assignment's secret with --secret-file (the file you made the codes with).")
        secret = read_secret(settings.secret_file)
    unknown = sorted(set(settings.exports) - set(EXPORTS))
    if unknown:
        raise LemmaError(f"Unknown export {unknown[0]!r}: choose {' or '.join(EXPORTS)} (a plain CSV is always "
                         "written).")
    students = load_roster(settings.roster) if settings.roster else None
    return Plan(key, Marking(key, frozenset(overridden), a, scope), overrides, secret, students)


def public_summative(a: Assignment | None) -> str:
    """The warning for a summative assignment graded against keys every student has: shipped questions that
    could have a key of each student's own (on the data, on given numbers) but are graded with the shipped key,
    without ``variants: true`` or a key of the instructor's own. "" when there are none."""
    if a is None or not a.summative or a.variants:
        return ""
    origin = B._origins()
    public = [q for q in a.questions if origin.get(B.question(q).section) is None and varies(B.question(q))
              and B.same_answer(a.keys[q], B.question(q).key)]
    if not public:
        return ""
    listed = ", ".join(public[:6]) + (f" and {len(public) - 6} more" if len(public) > 6 else "")
    return (f"assignment {a.id} is summative, but {listed} {'is' if len(public) == 1 else 'are'} graded against "
            "the key that ships with the course package, which every student can read: add `variants: true` "
            "(each student then has their own data and numbers, and grading needs the secret) or give keys of "
            "your own under `key:` (docs/VARIANTS.md)")


def expand_questions(items: Sequence[str]) -> list:
    """Question ids for ``items`` of ids (``5.1.q2``) and sections (``5.1``: every question of it)."""
    out = []
    for item in items:
        if ".q" in item.lower():
            out.append(B.question(item).id)
        else:
            out += [q.id for q in B._bank()[B._canonical_section(item)][1]]
    return out


def collect(directory: Path, students: list | None, scratch: Path, exclude: tuple = ()) -> Collected:
    """Find and read every submitted notebook in ``directory`` (a folder or a zip); nothing runs yet. Folders
    in ``exclude`` (the run's own output) are passed over."""
    unzipped = []
    if directory.suffix == ".zip" and directory.is_file():
        folder, unzipped = unzip(directory, scratch / "download")
    else:
        folder = directory
    entries, skipped, layout = find_submissions(folder, exclude)
    skipped = unzipped + skipped
    if not entries:
        raise LemmaError(f"No submitted notebooks (*.ipynb) in {directory}"
                         + (f"; it holds {', '.join(clean_text(x, 40) for x in skipped[:5])}" if skipped else
                            ", which is empty") + ". Point lemma-grade at the folder of submissions.")
    matched = assign(entries, students)
    by_owner = matched.by_owner
    files = {owner: [(owner if len(es) == 1 else f"{owner}/{e.path.name}", e) for e in es]
             for owner, (_, es) in by_owner.items()}
    notebooks = read_all([(fid, e.path) for fs in files.values() for fid, e in fs])
    names, name_notes = file_names(list(by_owner))
    return Collected(layout, skipped, by_owner, files, notebooks, names, name_notes, matched.problems,
                     matched.notes)


def _sandbox_mode(choice: str) -> tuple:
    data, problems = _sandbox.available_data()
    if choice == "none":
        return "none: submissions ran as ordinary processes with your rights (--no-sandbox)", data, problems
    why = _sandbox.probe(data)
    if why:
        raise LemmaError(why)
    return "bubblewrap: each submission alone, no network, read-only course files", data, problems


def _executed_names(found: Collected) -> dict:
    """File id -> the file name of its executed copy: the student's own name, or ``<name>~<notebook>`` for
    each of several notebooks."""
    labels = {fid: found.names[owner] if len(fs) == 1 else f"{found.names[owner]}~{Path(e.path.name).stem}"
              for owner, fs in found.files.items() for fid, e in fs}
    return file_names(labels)[0]


def run(found: Collected, out: Path, settings: Settings, data: dict, scratch: Path) -> tuple:
    """The run stage: ``({file id: Submission}, number taken from the journal)``."""
    from tqdm import tqdm

    journal = Journal(out.with_name(out.stem + ".journal.jsonl"))
    done = journal.read() if settings.resume else {}
    if not settings.resume and journal.path.exists():
        journal.path.unlink()
    executed = _executed_names(found)
    runs = Runs(settings.sandbox != "none", data, settings.jobs, scratch)
    resumed = []
    with tqdm(total=len(found.notebooks), desc="grading", unit="notebook", file=sys.stderr,
              disable=settings.quiet) as bar:
        def on_done(sub: Submission, nb) -> None:
            if nb is None:
                resumed.append(sub.student)
            elif settings.keep_executed:
                _save_executed(sub, nb, out.parent / "executed" / f"{executed[sub.student]}.ipynb")
            sub.executed = None               # written: not kept in memory to the end of the run
            bar.set_postfix_str(clean_text(sub.student, 30), refresh=False)
            bar.update(1)

        results = run_async(run_all(found.notebooks, done, runs, settings.limits, settings.jobs, journal, on_done))
    return results, len(resumed)


def _save_executed(sub: Submission, nb, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
    except Exception as err:   # noqa: BLE001
        sub.notes.append(f"executed copy not saved: {clean_text(err, 120)}")


def _platform(name: str, entries: list) -> dict:
    info = {"name": name}
    for e in entries:
        if "moodle" in e.platform:
            info.update(moodle=e.platform["moodle"], moodle_pid=e.owner)
        if "canvas" in e.platform:
            info.update(canvas=e.platform["canvas"], canvas_uid=e.owner)
    return info


def score(found: Collected, results: dict, p: Plan) -> list:
    """The score stage: one :class:`Graded` per student, each notebook scored once against the student's key,
    and how each started the assignment checked (:mod:`~lemma_helpers.grade.integrity`)."""
    a = p.marking.assignment
    codes = {owner: student_code(p.secret, a.id, owner) for owner in found.by_owner} if p.secret else {}
    owner_of = {c: o for o, c in codes.items()}
    graded = []
    for owner, (student, es) in found.by_owner.items():
        parts = [results[fid] for fid, _ in found.files[owner]]
        if parts:
            sub = merge(owner, parts)
        else:
            sub = Submission(owner, "")
            sub.problem("no notebook was submitted", "missing")
        if p.students is not None and student is None:
            sub.note("not on the roster: check the name of the file or folder")
        code = codes.get(owner)
        key = {**p.key, **variant_keys(a, code)} if code else p.key
        for finding in findings(sub, a, code, owner_of):
            sub.flag(finding)
        marked = [(part.student, part, mark_answers(in_bank_labels(part.answers, code), key, p.marking, part.counts))
                  for part in parts]
        for note in unmarked(sub.answers, p.marking):
            sub.note(note)
        name = (student.name if student else "") or (es[0].name if es else "")
        graded.append(Graded(sub, combine([m for _, _, m in marked]), key, name, _platform(name, es), student,
                             marked, _variant_status(sub, code, owner_of) if code else ""))
    shared = shared_codes([g.sub for g in graded])
    for g in graded:
        if g.sub.student in shared:
            g.sub.flag("used the same variant code as " + ", ".join(shared[g.sub.student]))
    return graded


def _variant_status(sub: Submission, code: str, owner_of: dict) -> str:
    """The gradebook's ``variant`` column: whether the code the notebook recorded is the student's own."""
    used = sorted({d.get("code", "") for d in sub.declared if d.get("code")})
    if sub.status == "missing":
        return ""
    if not used:
        return "no code"
    if used == [code]:
        return "ok"
    others = [owner_of[c] for c in used if c in owner_of and owner_of[c] != sub.student]
    return f"another student's code ({', '.join(others)})" if others else "unknown code"


def grade(directory: str | Path, out: str | Path, *, stream=None, **options) -> list:
    """Grade every submitted notebook in ``directory``; write the gradebook to ``out``.

    ``directory`` is a folder in any layout of :mod:`lemma_helpers.grade.layouts` (flat, one sub-folder per
    student, a Moodle or Canvas download) or a ``.zip`` of one. ``options`` are the fields of
    :class:`Settings`. Returns one :class:`Graded` per student (notebooks of one student merged). See the
    module docstring.
    """
    from .write import write_all

    settings = Settings(**options)
    directory, out = Path(directory), Path(out)
    p = plan(settings)
    public = public_summative(p.marking.assignment)
    if public:
        print(f"lemma-grade: warning: {public}.", file=sys.stderr)
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="lemma-grade-"))
    try:
        found = collect(directory, p.students, scratch, exclude=(out.parent,))
        mode, data, data_problems = _sandbox_mode(settings.sandbox)
        out.parent.mkdir(parents=True, exist_ok=True)
        results, resumed = run(found, out, settings, data, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    graded = score(found, results, p)
    notes = [public] * bool(public) + list(data_problems) + ([f"{resumed} submission(s) taken from the journal of an earlier run (--resume)"]
                                   if resumed else [])
    text = write_all(out, graded, found, p, settings, notes=notes, sandbox=mode, directory=directory,
                     seconds=time.monotonic() - started)
    print(text, end="", file=stream or sys.stdout)
    return graded
