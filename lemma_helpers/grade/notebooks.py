"""Reading submitted notebooks: their bytes, what is a notebook, and what an executed one recorded.

Everything here runs in the grader, before any submitted code runs, and
treats every file as untrusted: a file that is too large, empty, not UTF-8,
not JSON or not a notebook is reported, never raised.
"""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import nbformat

from .runner import ANSWER_MIME, KERNEL_NAME
from .text import clean_text

MAX_FILE_MB = 20            # a submitted file larger than this is not read
MAX_CELLS = 2_000           # a notebook with more cells is not run
MAX_QUESTIONS = 500         # distinct questions whose answers are kept, a notebook
MAX_ANSWER_BYTES = 1_000_000    # answers kept a notebook (as JSON)
MAX_TEXT = 10_000           # characters of a text answer (what lh.check records at most)
MAX_WRITTEN = 100           # written answers read from a notebook


def _cells(raw_cells: list) -> tuple:
    """``(cells, malformed)``: plain code and Markdown cells rebuilt from a notebook's JSON (nothing else kept)."""
    cells, skipped = [], 0
    for cell in raw_cells:
        source = cell.get("source", "") if isinstance(cell, dict) else None
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            skipped += 1
            continue
        kind = cell.get("cell_type")
        if kind == "code":
            cells.append({"id": f"cell-{len(cells)}", "cell_type": "code", "source": source, "metadata": {},
                          "outputs": [], "execution_count": None})
        elif kind == "markdown":
            tags = (cell.get("metadata") or {}).get("tags") if isinstance(cell.get("metadata"), dict) else None
            keep = {"tags": ["answer"]} if isinstance(tags, list) and "answer" in tags else {}
            cells.append({"id": f"cell-{len(cells)}", "cell_type": "markdown", "source": source,
                          "metadata": keep})   # of the metadata, only the written-answer tag is kept
    return cells, skipped


def read_submission(data: bytes) -> tuple:
    """Parse a submitted file's bytes; return ``(notebook or None, problem or None, notes)``.

    The notebook returned is rebuilt from the code and Markdown cells only:
    stored outputs, attachments and metadata are dropped. A notebook of more
    than ``MAX_CELLS`` cells is refused (a course notebook has under a hundred).
    """
    if not data.strip():
        return None, "empty file", []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "not a text file (not UTF-8), so not a notebook", []
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        msg = f"{err.msg} at line {err.lineno}" if isinstance(err, json.JSONDecodeError) else "nested too deeply"
        return None, f"not valid JSON ({msg}), perhaps cut short or edited by hand", []
    except ValueError as err:     # e.g. an integer with too many digits
        return None, f"not a readable notebook ({clean_text(err, 120)})", []
    if isinstance(raw, dict) and "worksheets" in raw and "cells" not in raw:
        try:                                    # an nbformat 3 notebook
            raw = nbformat.reads(text, as_version=4)
        except Exception:                       # noqa: BLE001 - anything unreadable is reported
            return None, "an old-format notebook that could not be converted", []
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, "valid JSON but not a notebook (it has no list of cells)", []
    if len(raw["cells"]) > MAX_CELLS:
        return None, (f"a notebook of {len(raw['cells']):,} cells: more than any notebook of the course "
                      f"({MAX_CELLS:,} at most), so it was not run"), []
    cells, skipped = _cells(raw["cells"])
    notes = [f"{skipped} malformed cell(s) skipped"] if skipped else []
    nb = nbformat.from_dict({"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": KERNEL_NAME, "display_name": "lemma-grade", "language": "python"}}})
    return nb, None, notes


def read_bytes(path: Path) -> tuple:
    """``(bytes or None, problem or None)``: a submitted file's bytes, read safely.

    Only a regular file is read: the file is opened without following a link
    and without waiting (a FIFO would block), its type is checked on the opened
    descriptor, and at most ``MAX_FILE_MB`` is read whatever size it claims
    (``/dev/zero`` claims 0).
    """
    limit = MAX_FILE_MB * 1024 * 1024
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        if err.errno == errno.ELOOP:
            return None, "a link, not a file: not read"
        return None, f"could not be read ({err.strerror})"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, "not a regular file (a FIFO, device or socket): not read"
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, min(1 << 20, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        return None, f"could not be read ({err.strerror})"
    finally:
        os.close(fd)
    if size > limit:
        return None, f"a file of more than {MAX_FILE_MB} MB: larger than any notebook"
    return b"".join(chunks), None


def load_submission(path: Path) -> tuple:
    """Read a submitted file; return ``(notebook or None, problem or None, notes)`` (see :func:`read_submission`)."""
    data, problem = read_bytes(Path(path))
    if problem:
        return None, problem, []
    return read_submission(data)


def _depth(value, limit: int) -> int:
    """How deeply ``value`` nests lists and dicts, counted up to ``limit`` without recursion."""
    stack, deepest = [(value, 1)], 0
    while stack:
        item, d = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, d)
            if deepest > limit:
                return deepest
            stack.extend((v, d + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def plain_answer(answer):
    """``answer`` if it has the shape ``lh.check`` records (a number, text, a truth value, a short list of those,
    or ``{"unsupported": ...}``), else a note that it cannot be graded."""
    scalar = (int, float, str, bool, type(None))
    if isinstance(answer, str):
        return answer if len(answer) <= MAX_TEXT else {"unsupported": f"text of more than {MAX_TEXT:,} characters"}
    if isinstance(answer, scalar):
        return answer
    if isinstance(answer, list) and len(answer) <= 50 and all(
            isinstance(a, scalar) and not (isinstance(a, str) and len(a) > 200) for a in answer):
        return answer
    if isinstance(answer, dict) and set(answer) == {"unsupported"} and isinstance(answer["unsupported"], str):
        return {"unsupported": clean_text(answer["unsupported"], 100)}
    return {"unsupported": "value of a shape lh.check does not record"}


def collect_answers(nb, counts: dict | None = None, known=None, unknown: list | None = None) -> dict:
    """The answers recorded by ``lh.check`` in an executed notebook.

    Returns ``{question id: [last answer]}``: only the last answer to a
    question counts, so only that one is kept; ``counts`` (when given) gets
    how many times each question was answered. With ``known`` (a test of a
    question id), answers to other ids are not kept: their ids go to
    ``unknown`` (at most 20). At most ``MAX_QUESTIONS`` questions and
    ``MAX_ANSWER_BYTES`` of answers are kept a notebook, and an answer of a
    shape ``lh.check`` never records is kept as unsupported.
    """
    found, seen, size = {}, {}, 0
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") not in ("display_data", "execute_result"):
                continue
            record = out.get("data", {}).get(ANSWER_MIME)
            if isinstance(record, str):
                try:
                    record = json.loads(record)
                except (ValueError, RecursionError):
                    continue
            if not (isinstance(record, dict) and isinstance(record.get("id"), str) and "answer" in record):
                continue
            qid = record["id"][:40]
            if known is not None and qid not in found and not known(qid):
                if unknown is not None and qid not in unknown and len(unknown) < 20:
                    unknown.append(qid)
                continue
            if qid not in found and len(found) >= MAX_QUESTIONS:
                continue
            answer = plain_answer(record["answer"]) if _depth(record["answer"], 3) <= 2 else \
                {"unsupported": "value nested too deeply"}
            cost = len(json.dumps(answer))
            if size + cost > MAX_ANSWER_BYTES:
                answer, cost = {"unsupported": "answer over the size the grader keeps"}, 60
            size += cost
            found[qid] = [answer]
            seen[qid] = seen.get(qid, 0) + 1
    if counts is not None:
        counts.update(seen)
    return found


def read_all(items: list) -> list:
    """Every submission's bytes, read before any code runs: ``[(id, file name, bytes or None, problem or None)]``
    for ``items`` of ``(id, path)``."""
    return [(sid, p.name, *read_bytes(p)) for sid, p in items]


ASSIGNMENT_MIME = "application/vnd.lemma.assignment+json"


def collect_declared(nb) -> list:
    """What ``lh.start_assignment`` recorded in an executed notebook:
    ``[{"assignment": ..., "mode": ..., "code": ...}]`` (at most 20)."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            record = out.get("data", {}).get(ASSIGNMENT_MIME) if out.get("output_type") == "display_data" else None
            if isinstance(record, dict):
                found.append({"assignment": clean_text(record.get("assignment", ""), 64),
                              "mode": clean_text(record.get("mode", ""), 16),
                              "code": clean_text(record.get("code") or "", 16)})
            if len(found) >= 20:
                return found
    return found


PLACEHOLDER = "*Write your answer here.*"


def written_answers(nb) -> list:
    """The written answers of a notebook: ``[(number, question, answer)]`` for each Markdown cell tagged
    ``answer`` (the practicals' interpretation questions), in order, at most ``MAX_WRITTEN``. The question is
    the Markdown cell before it; an answer still holding the placeholder is ``""``."""
    found, before = [], ""
    for cell in nb.cells if nb is not None else []:
        if cell.cell_type != "markdown":
            continue
        if "answer" in cell.metadata.get("tags", []):
            text = cell.source.strip()
            found.append((len(found) + 1, clean_text(before, 300), "" if text == PLACEHOLDER else text[:5000]))
            if len(found) >= MAX_WRITTEN:
                break
        before = cell.source
    return found
