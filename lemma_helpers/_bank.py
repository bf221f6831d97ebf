"""The question bank of the self-test quizzes: loading, validating and looking up questions and keys.

One YAML file per course section in ``lemma_helpers/quizzes/`` (``5.0.yaml``
... ``P5.5.yaml``), validated against ``quizzes/schema.json`` by the tests; each question
carries its self-test key. Extra banks come from folders named by the
environment variable ``LEMMA_QUIZ_DIRS`` (several folders separated by
``os.pathsep``, ``:`` on Linux and macOS, ``;`` on Windows) or added with
:func:`add_question_bank`; each of their files is validated on its own, and a
bad one is skipped with a :class:`LemmaWarning` (see :func:`_bank`). An instructor's key file (``lemma-grade --key``)
replaces keys question by question (:func:`load_key`). Learners use the bank
through :mod:`lemma_helpers.quiz`; scoring is in :mod:`lemma_helpers._scoring`.
"""
from __future__ import annotations

import functools
import json
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from . import state as _session
from ._validation import LemmaError, LemmaWarning, did_you_mean, unknown_name

TYPES = ("single", "multiple", "numeric", "text")
BANK_SUFFIXES = (".yaml", ".yml", ".json")
QUIZ_DIRS_VARIABLE = "LEMMA_QUIZ_DIRS"
_SECTION_RE = re.compile(r"^(P?)(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Option:
    """One option of a choice question."""

    label: str
    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class Key:
    """What counts as right for one question and how many points it is worth.

    ``correct`` holds option labels (choice questions), ``low``/``high`` the
    accepted interval (numeric), ``accept`` the accepted forms (text).
    ``distractors`` are anticipated wrong answers with their own feedback:
    ``(low, high, feedback)`` for numeric questions, ``(forms, feedback)`` for
    text questions.
    """

    points: float
    correct: frozenset = frozenset()
    low: float | None = None
    high: float | None = None
    accept: tuple = ()
    distractors: tuple = ()
    explanation: str = ""
    shown: tuple = field(default=(), compare=False)   # the accepted forms as written, for people to read


@dataclass(frozen=True)
class Question:
    """A question of the bank, with its self-test key."""

    id: str
    section: str
    number: int
    type: str
    kind: str
    prompt: str
    options: tuple
    hint: str
    feedback_wrong: str
    key: Key
    compute: Any = None      # how the answer is computed from the data (numeric questions; see variant_keys)
    params: Any = None       # the numbers a question on given numbers quotes (see variant_keys)
    formula: str | None = None
    formula_distractors: tuple = ()     # (formula, tolerance, feedback) of wrong routes on the params
    templates: Any = None    # prompt and explanation with their {params} unfilled

    @property
    def labels(self) -> list:
        return [o.label for o in self.options]


def _bank_dir():
    return resources.files("lemma_helpers") / "quizzes"


@functools.lru_cache(maxsize=None)
def schema() -> dict:
    """The JSON schema of a bank file (``quizzes/schema.json``)."""
    return json.loads((_bank_dir() / "schema.json").read_text(encoding="utf-8"))


def _load_yaml(text: str, source: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)    # JSON is valid YAML too
    except yaml.YAMLError as err:
        raise LemmaError(f"{source} is not valid YAML or JSON: {err}") from None


def _schema_check(data: Any, ref: str, source: str) -> None:
    full = schema()
    sub = {"$schema": full["$schema"], "$defs": full["$defs"], "$ref": f"#/$defs/{ref}"} if ref else full
    import jsonschema  # imported here: it is slow to import and only needed to validate

    validator = jsonschema.Draft202012Validator(sub)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise LemmaError(f"{source} does not follow the quiz schema at {where}: {error.message}")


def section_sort_key(section: str) -> tuple:
    """Concept sections first (5.0 ... 5.6), then practicals (P5.1 ...)."""
    m = _SECTION_RE.match(section)
    return (bool(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (True, 99, 99)


def _interval(spec: dict, default_tol: float | None = None) -> tuple:
    if "value" in spec:
        tol = spec.get("tolerance", default_tol)
        if tol is None:
            tol = 0.005 * abs(spec["value"])
        return float(spec["value"]) - float(tol), float(spec["value"]) + float(tol)
    return float(spec["min"]), float(spec["max"])


def _numeric_distractors(items, answer_spec) -> tuple:
    tol = answer_spec.get("tolerance") if answer_spec else None
    return tuple(_interval(d, tol) + (d["feedback"],) for d in items or ())


def _text_distractors(items) -> tuple:
    return tuple((tuple(_normalise_text(f) for f in d["forms"]), d["feedback"]) for d in items or ())


def _defaults(d: dict) -> dict:
    return {name: spec["value"] for name, spec in (d.get("params") or {}).items()}


def fill(text: str, specs: dict, values: dict, answer: float | None = None) -> str:
    """``text`` with each ``{name}`` of a question's numbers (``values``, shown with the digits of their
    ``specs``) and ``{answer}`` written in; other braces (LaTeX) are left alone."""
    def one(m):
        name = m.group(1)
        if name == "answer" and answer is not None:
            return f"{answer:.4g}"
        if name not in values:
            return m.group(0)
        digits, value = int(specs[name].get("digits", 4)), values[name]
        if digits == 0:
            return f"{int(round(value)):,}" if abs(value) >= 10_000 else str(int(round(value)))
        return f"{value:.{digits}f}"
    return re.sub(r"\{([A-Za-z_]\w*)\}", one, text)


def _fill(text: str, d: dict, answer: float | None = None) -> str:
    """A template of a question on given numbers, filled with its default numbers."""
    return fill(text, d.get("params") or {}, _defaults(d), answer)


def _formula_distractors(d: dict) -> tuple:
    tol = (d.get("answer") or {}).get("tolerance", 0.0)
    return tuple((x["formula"], float(x.get("tolerance", tol)), x["feedback"]) for x in d.get("distractors") or ()
                 if "formula" in x)


def _numeric_key(d: dict) -> Key:
    low, high = _interval(d["answer"])
    distractors = _numeric_distractors([x for x in d.get("distractors") or () if "formula" not in x], d["answer"])
    if d.get("params"):
        from .answers import evaluate    # a question on given numbers: its formula's wrong routes at the defaults

        p = _defaults(d)
        distractors += tuple((evaluate(f, p) - t, evaluate(f, p) + t, _fill(fb, d)) for f, t, fb in _formula_distractors(d))
    return Key(d["points"], low=low, high=high, explanation=_fill(d["explanation"], d, (low + high) / 2),
               distractors=distractors)


def _question_from_dict(d: dict, section: str, source: str) -> Question:
    qtype = d["type"]
    options = tuple(Option(o["label"], o["text"], bool(o.get("correct", False)), o["feedback"])
                    for o in d.get("options", ()))
    if qtype in ("single", "multiple"):
        key = Key(d["points"], correct=frozenset(o.label for o in options if o.correct),
                  explanation=d["explanation"])
    elif qtype == "numeric":
        key = _numeric_key(d)
    else:
        key = Key(d["points"], accept=tuple(dict.fromkeys(map(_normalise_text, d["accept"]))),
                  shown=tuple(d["accept"]), explanation=d["explanation"],
                  distractors=_text_distractors(d.get("distractors")))
    number = int(d["id"].rsplit(".q", 1)[1])
    templates = ({"prompt": d["prompt"].strip(), "explanation": d["explanation"], "hint": d.get("hint", "").strip()}
                 if d.get("params") else None)
    q = Question(d["id"], section, number, qtype, d["kind"], _fill(d["prompt"].strip(), d), options,
                 _fill(d.get("hint", "").strip(), d), _fill(d.get("feedback_wrong", "").strip(), d), key, d.get("compute"),
                 d.get("params"), d.get("formula"), _formula_distractors(d), templates)
    _check_question(q, source)
    return q


def _check_question(q: Question, source: str) -> None:
    """Checks that the schema cannot express."""
    where = f"{source}, question {q.id}"
    if q.compute is not None:
        if q.type != "numeric":
            raise LemmaError(f"{where}: only a numeric question can have compute:.")
        from .answers import check_spec

        check_spec(q.compute, where)
    if q.params is not None or q.formula is not None:
        _check_params(q, where)
    if not q.id.startswith(q.section + ".q"):
        raise LemmaError(f"{where}: the id must start with '{q.section}.q' (the file's section).")
    if len(set(q.labels)) != len(q.labels):
        raise LemmaError(f"{where}: option labels must be unique, got {q.labels}.")
    k = q.key
    if q.type == "single" and len(k.correct) != 1:
        raise LemmaError(f"{where}: a single-choice question needs exactly one correct option.")
    if q.type == "multiple" and not k.correct:
        raise LemmaError(f"{where}: a multiple-choice question needs at least one correct option.")
    if q.type == "numeric":
        if not k.low <= k.high:
            raise LemmaError(f"{where}: the accepted interval is empty ({k.low} > {k.high}).")
        for i, (low, high, _) in enumerate(k.distractors):
            if low <= k.high and k.low <= high:
                raise LemmaError(f"{where}: distractor [{low}, {high}] overlaps the accepted answer.")
            for low2, high2, _ in k.distractors[:i]:
                if low <= high2 and low2 <= high:
                    raise LemmaError(f"{where}: distractors [{low2:.6g}, {high2:.6g}] and [{low:.6g}, {high:.6g}] "
                                     "overlap: an answer in both would get the feedback of the first only.")
    if q.type == "text":
        for forms, _ in k.distractors:
            if set(forms) & set(k.accept):
                raise LemmaError(f"{where}: a distractor form is also an accepted form.")


def _check_params(q: Question, where: str) -> None:
    """A question on given numbers: numeric, with both params and a formula of them, the formula at the
    defaults inside the accepted answer, and every param quoted in the prompt."""
    from .answers import evaluate, names_in

    if q.type != "numeric" or q.params is None or q.formula is None or q.compute is not None:
        raise LemmaError(f"{where}: params: and formula: go together, on a numeric question without compute:.")
    unknown = sorted(names_in(q.formula) - set(q.params))
    if unknown:
        raise LemmaError(f"{where}: the formula uses {', '.join(unknown)}, which params: does not define.")
    value = evaluate(q.formula, {n: s["value"] for n, s in q.params.items()})
    if not q.key.low - 1e-9 <= value <= q.key.high + 1e-9:
        raise LemmaError(f"{where}: the formula gives {value:.6g} at the default params, outside the accepted "
                         f"answer [{q.key.low:.6g}, {q.key.high:.6g}].")
    quoted = set(re.findall(r"\{([A-Za-z_]\w*)\}", q.templates["prompt"]))
    missing = sorted(set(q.params) - quoted)
    if missing:
        raise LemmaError(f"{where}: the prompt does not quote {', '.join('{' + m + '}' for m in missing)}.")
    for spec in q.params.values():
        low, high = spec.get("draw") or (spec["value"], spec["value"])
        if not low <= high:
            raise LemmaError(f"{where}: a draw: range must be [low, high], got {spec['draw']}.")


def parse_bank(data: Any, source: str, section: str | None = None, *, check_schema: bool = True) -> tuple:
    """Validate one bank file's content; return ``(section, title, questions)``.

    ``check_schema=False`` skips the JSON-schema validation (the checks the schema cannot
    express still run): for the shipped files, which the test suite validates, so that
    answering a question does not import jsonschema (about a second, more in a busy kernel).
    """
    if check_schema:
        _schema_check(data, "", source)
    sec = data["section"]
    if section is not None and sec != section:
        raise LemmaError(f"{source} declares section {sec!r} but its file name says {section!r}.")
    questions = tuple(_question_from_dict(d, sec, source) for d in data["questions"])
    numbers_ = [q.number for q in questions]
    if numbers_ != list(range(1, len(questions) + 1)):
        raise LemmaError(f"{source}: questions must be numbered q1, q2, ... in order; got {numbers_}.")
    return sec, data["title"], questions


def _shipped_bank() -> dict:
    """The sections that ship with the package; any problem here is a bug, so it raises."""
    found = {}
    for entry in _bank_dir().iterdir():
        stem, _, ext = entry.name.rpartition(".")
        if ext in ("yaml", "yml", "json") and _SECTION_RE.match(stem):
            sec, title, questions = parse_bank(_load_yaml(entry.read_text(encoding="utf-8"), entry.name),
                                               entry.name, stem, check_schema=False)
            if sec in found:
                raise LemmaError(f"Section {sec} has more than one question file.")
            found[sec] = (title, questions)
    return found


def extra_bank_dirs() -> list:
    """The folders of extra question banks: ``LEMMA_QUIZ_DIRS`` first, then :func:`add_question_bank`'s."""
    listed = os.environ.get(QUIZ_DIRS_VARIABLE, "").split(os.pathsep)
    dirs = [Path(d.strip()).expanduser().resolve() for d in listed if d.strip()]
    dirs += [d for d in _session.session().bank_folders if d not in dirs]
    return dirs


def _bank_files(folder: Path) -> list:
    """The bank files of one extra folder: any name ending .yaml, .yml or .json, hidden files excepted."""
    return sorted((p for p in folder.iterdir()
                   if p.suffix.lower() in BANK_SUFFIXES and not p.name.startswith(".") and p.is_file()),
                  key=lambda p: p.name)


def _warn_bank(message: str) -> None:
    warnings.warn(message, LemmaWarning, stacklevel=2)


def _read_extra_file(path: Path) -> tuple:
    """``(section, title, questions)`` of one extra bank file; raises LemmaError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LemmaError(f"{path} cannot be read: {getattr(err, 'strerror', None) or err}.") from None
    if not text.strip():
        raise LemmaError(f"{path} is empty.")
    return parse_bank(_load_yaml(text, str(path)), str(path))


def _bank() -> dict:
    """All sections: ``{section: (title, questions)}`` in course order (see :func:`_load_banks`)."""
    return _load_banks(tuple(extra_bank_dirs()))[0]


def _origins() -> dict:
    """``{section: the extra file it came from}`` (None for a shipped section)."""
    return _load_banks(tuple(extra_bank_dirs()))[1]


@functools.lru_cache(maxsize=None)
def _load_banks(folders: tuple) -> tuple:
    """``({section: (title, questions)}, {section: origin})`` for the shipped sections and ``folders``.

    The shipped sections come first; then each extra folder's files in name
    order. An extra file is validated on its own: a file that cannot be read,
    is not valid YAML/JSON, does not follow the schema or repeats a section
    that is already loaded is skipped with one :class:`LemmaWarning` naming the
    file and the problem, and the rest of the bank works as before. The
    section of an extra file is its ``section:`` field (the file name does not
    matter).
    """
    found = _shipped_bank()
    origin = {sec: None for sec in found}
    for folder in folders:
        if not folder.is_dir():
            _warn_bank(f"Extra question bank folder {folder} does not exist or is not a folder; "
                       f"nothing was loaded from it (check {QUIZ_DIRS_VARIABLE} or lh.add_question_bank).")
            continue
        for path in _bank_files(folder):
            try:
                sec, title, questions = _read_extra_file(path)
            except LemmaError as err:
                _warn_bank(f"Extra question bank file skipped: {err}")
                continue
            except Exception as err:  # noqa: BLE001 - one odd file must never break the rest of the bank
                _warn_bank(f"Extra question bank file skipped: {path} could not be read as a question bank "
                           f"({type(err).__name__}: {err}).")
                continue
            if sec in found:
                where = f"the shipped file {sec}.yaml" if origin[sec] is None else str(origin[sec])
                _warn_bank(f"Extra question bank file skipped: {path} defines section {sec}, "
                           f"which {where} already defines. Give the file another section.")
                continue
            found[sec] = (title, questions)
            origin[sec] = path
    return {s: found[s] for s in sorted(found, key=section_sort_key)}, origin


def add_question_bank(folder: str | Path) -> list:
    """Add a folder of extra quiz questions to the bank, for this Python session.

    Every file in ``folder`` whose name ends in ``.yaml``, ``.yml`` or
    ``.json`` (hidden files excepted) is read as one section of questions in
    the format of the shipped bank (see ``docs/QUIZZES.md``); the section is
    the file's ``section:`` field, whatever the file is called. Each file is
    checked on its own: a file with a problem is skipped with a warning that
    names it, and every other question keeps working. To add folders for
    every session, list them in the environment variable ``LEMMA_QUIZ_DIRS``
    instead (separated by ``os.pathsep``).

    Parameters
    ----------
    folder : str or Path
        A folder of question files.

    Returns
    -------
    list of str
        The sections loaded from ``folder``, in course order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "W3.yaml").write_text('''
    ... section: "P6.1"
    ... title: Week 3 extra questions
    ... questions:
    ...   - id: P6.1.q1
    ...     type: numeric
    ...     kind: computation
    ...     prompt: What is 0.5 + 0.25?
    ...     points: 1
    ...     answer: {value: 0.75, tolerance: 0.001}
    ...     explanation: 0.5 + 0.25 = 0.75.
    ... ''', encoding="utf-8")
    >>> add_question_bank(folder)
    ['P6.1']
    >>> _forget_added_banks()
    """
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise LemmaError(f"{str(folder)!r} is not a folder: add_question_bank needs the folder that holds "
                         "the question files (.yaml, .yml or .json).")
    path = path.resolve()
    _session.add_bank_folder(path)
    _clear_caches()           # read the folder's files again, even when it was added before
    origins = _origins()
    return [sec for sec in _bank() if origins.get(sec) is not None and origins[sec].parent == path]


def _clear_caches() -> None:
    """Read every bank file again at the next look-up."""
    _load_banks.cache_clear()
    _questions_in.cache_clear()


def _forget_added_banks() -> None:
    """Drop the folders given to add_question_bank (for tests; :func:`lemma_helpers.reset_session` does it too)."""
    _session.session().bank_folders.clear()
    _clear_caches()


def _questions() -> dict:
    return _questions_in(tuple(extra_bank_dirs()))


@functools.lru_cache(maxsize=None)
def _questions_in(folders: tuple) -> dict:
    return {q.id: q for _, qs in _load_banks(folders)[0].values() for q in qs}


def sections() -> list:
    """The course sections that have a quiz, in course order."""
    return list(_bank())


def _canonical_section(section: Any) -> str:
    if not isinstance(section, str):
        raise TypeError(f"section must be a string such as '5.1' or 'P5.3', got {type(section).__name__}.")
    s = section.strip()
    s = re.sub(r"^[Cc](?=\d)", "", s)            # 'C5.1' is what the text calls 5.1
    s = re.sub(r"^p(?=\d)", "P", s)
    if s not in _bank():
        raise unknown_name("section", section, sections())
    return s


def question(qid: str) -> Question:
    """The question with id ``qid`` (e.g. ``'5.1.q3'``)."""
    if not isinstance(qid, str):
        raise TypeError(f"The question id must be a string such as '5.1.q3', got {type(qid).__name__}.")
    s = qid.strip()
    s = re.sub(r"^[Cc](?=\d)", "", s)
    s = re.sub(r"^p(?=\d)", "P", s)
    s = re.sub(r"\.Q(\d+)$", r".q\1", s)
    if s not in _questions():
        sec = s.rsplit(".q", 1)[0]
        in_section = [q for q in _questions() if q.startswith(sec + ".q")]
        if in_section:
            raise LemmaError(f"Unknown question {qid!r}.{did_you_mean(qid, in_section)} "
                             f"Section {sec} has questions {', '.join(in_section)}.")
        raise LemmaError(f"Unknown question {qid!r}: ids look like '5.1.q3' or 'P5.4.q2'."
                         f"{did_you_mean(qid, _questions())} Sections with a quiz: {', '.join(sections())}. "
                         "lh.list_questions() lists every id.")
    return _questions()[s]


def same_answer(a: Key, b: Key) -> bool:
    """Whether two keys accept the same answers (points and feedback aside): a key file that repeats the shipped
    answer keeps the shipped feedback."""
    return (a.correct, a.low, a.high, a.accept) == (b.correct, b.low, b.high, b.accept)


def shipped_key() -> dict:
    """The self-test key that ships with the package: ``{question id: Key}``."""
    return {qid: q.key for qid, q in _questions().items()}


def load_key(path: str | Path) -> dict:
    """Read an instructor's key file (YAML or JSON) into ``{question id: Key}``.

    The file maps question ids to answer specifications that replace the
    shipped ones. Numeric keys take ``value`` with ``tolerance`` or ``min``
    with ``max``; single- and multiple-choice keys take ``correct`` (one
    option label, or a list of them); text keys take ``accept`` (the accepted
    forms). Optional ``points``, ``explanation`` and ``distractors`` replace
    the shipped ones; the shipped numeric distractors and explanation are
    dropped when a numeric answer is replaced, because they were written for
    the shipped numbers.

    Examples
    --------
    A key file with one question of each type (5.1.q1 is numeric, 5.1.q2
    single choice, 5.3.q7 multiple choice, 5.6.q5 text):

    >>> example = '''
    ... 5.1.q1: {value: 0.105, tolerance: 0.001}
    ... 5.1.q2: {correct: c}
    ... 5.3.q7: {correct: [c, d], points: 2}
    ... 5.6.q5: {accept: [cross-classified, cross classification]}
    ... '''
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "key.yaml"
    >>> _ = path.write_text(example, encoding="utf-8")
    >>> key = load_key(path)
    >>> sorted(key)
    ['5.1.q1', '5.1.q2', '5.3.q7', '5.6.q5']
    >>> key["5.3.q7"].points, sorted(key["5.3.q7"].correct)
    (2, ['c', 'd'])
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise LemmaError(f"Cannot read the key file {str(path)!r}: {err.strerror}.") from None
    data = _load_yaml(text, path.name)
    _schema_check(data, "keyfile", path.name)
    out = {}
    for qid, spec in data.items():
        q = question(qid)
        out[q.id] = _override(q, spec, f"{path.name}, {qid}")
    return out


def _override(q: Question, spec: dict, where: str) -> Key:
    k = q.key
    fields = {"points": spec.get("points", k.points), "explanation": spec.get("explanation", k.explanation)}
    kinds = {"forms" in d for d in spec.get("distractors", ())}
    if (q.type != "numeric" and False in kinds) or (q.type != "text" and True in kinds):
        raise LemmaError(f"{where}: these distractors do not fit a {q.type} question "
                         "(numeric questions take value/tolerance or min/max, text questions take forms).")
    wanted = {"single": "correct", "multiple": "correct", "numeric": "value/tolerance or min/max",
              "text": "accept"}[q.type]
    if q.type in ("single", "multiple"):
        if "correct" not in spec:
            raise LemmaError(f"{where}: {q.id} is a {q.type}-choice question; give `correct` (option labels).")
        labels = [spec["correct"]] if isinstance(spec["correct"], str) else list(spec["correct"])
        bad = [lab for lab in labels if lab not in q.labels]
        if bad or (q.type == "single" and len(labels) != 1) or not labels:
            raise LemmaError(f"{where}: `correct` must be {'one' if q.type == 'single' else 'some'} of "
                             f"{q.labels}, got {spec['correct']!r}.")
        return Key(correct=frozenset(labels), **fields)
    if q.type == "numeric":
        if not ("value" in spec or "min" in spec):
            raise LemmaError(f"{where}: {q.id} is a numeric question; give {wanted}.")
        low, high = _interval(spec)
        if low > high:
            raise LemmaError(f"{where}: the accepted range is empty (min {low} > max {high}).")
        if "explanation" not in spec:
            fields["explanation"] = ""
        return Key(low=low, high=high, distractors=_numeric_distractors(spec.get("distractors"), spec), **fields)
    if "accept" not in spec:
        raise LemmaError(f"{where}: {q.id} is a text question; give `accept` (a list of accepted forms).")
    accept = [spec["accept"]] if isinstance(spec["accept"], str) else spec["accept"]
    return Key(accept=tuple(dict.fromkeys(map(_normalise_text, accept))), shown=tuple(map(str, accept)),
               distractors=_text_distractors(spec.get("distractors")) or k.distractors, **fields)


def describe_key(q: Question, key: Key) -> str:
    """The accepted answer of ``q`` under ``key``, in words (for instructors)."""
    if q.type in ("single", "multiple"):
        return ", ".join(sorted(key.correct))
    if q.type == "numeric":
        return f"between {key.low:.6g} and {key.high:.6g}"
    return " | ".join(key.accept)


def _normalise_text(s: str) -> str:
    """Case, spaces, hyphens and punctuation do not matter in text answers."""
    s = unicodedata.normalize("NFKC", str(s)).casefold()
    return "".join(ch for ch in s if ch.isalnum())

