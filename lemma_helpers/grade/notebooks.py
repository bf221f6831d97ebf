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
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .runner import ANSWER_MIME, KERNEL_NAME
from .text import clean_text

MAX_FILE_MB = 20            # a submitted file larger than this is not read



def read_submission(data: bytes) -> tuple:
    """Parse a submitted file's bytes; return ``(notebook or None, problem or None, notes)``.

    The notebook returned is rebuilt from the code and Markdown cells only:
    stored outputs, attachments and metadata are dropped.
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
    cells, skipped = [], 0
    for cell in raw["cells"]:
        source = cell.get("source", "") if isinstance(cell, dict) else None
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            skipped += 1
            continue
        kind = cell.get("cell_type")
        if kind == "code":
            cells.append(new_code_cell(source))
        elif kind == "markdown":
            tags = (cell.get("metadata") or {}).get("tags") if isinstance(cell.get("metadata"), dict) else None
            keep = {"tags": ["answer"]} if isinstance(tags, list) and "answer" in tags else {}
            cells.append(new_markdown_cell(source, metadata=keep))   # only the written-answer tag is kept
    notes = [f"{skipped} malformed cell(s) skipped"] if skipped else []
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": KERNEL_NAME, "display_name": "lemma-grade", "language": "python"}})
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


def collect_answers(nb) -> dict:
    """The answers recorded by ``lh.check`` in an executed notebook, in order.

    Returns ``{question id: [answer, answer, ...]}``; the last one counts.
    """
    found: dict = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") not in ("display_data", "execute_result"):
                continue
            record = out.get("data", {}).get(ANSWER_MIME)
            if isinstance(record, str):
                try:
                    record = json.loads(record)
                except ValueError:
                    continue
            if isinstance(record, dict) and isinstance(record.get("id"), str) and "answer" in record:
                found.setdefault(record["id"][:40], []).append(record["answer"])
    return found


def read_all(items: list) -> list:
    """Every submission's bytes, read before any code runs: ``[(id, file name, bytes or None, problem or None)]``
    for ``items`` of ``(id, path)``."""
    return [(sid, p.name, *read_bytes(p)) for sid, p in items]


ASSIGNMENT_MIME = "application/vnd.lemma.assignment+json"


def collect_declared(nb) -> list:
    """What ``lh.start_assignment`` recorded in an executed notebook: ``[{"assignment": ..., "code": ...}]``."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            record = out.get("data", {}).get(ASSIGNMENT_MIME) if out.get("output_type") == "display_data" else None
            if isinstance(record, dict):
                found.append({"assignment": clean_text(record.get("assignment", ""), 64),
                              "code": clean_text(record.get("code") or "", 16)})
    return found[:20]


PLACEHOLDER = "*Write your answer here.*"


def written_answers(nb) -> list:
    """The written answers of a notebook: ``[(number, question, answer)]`` for each Markdown cell tagged
    ``answer`` (the practicals' interpretation questions), in order. The question is the Markdown cell before
    it; an answer still holding the placeholder is ``""``."""
    found = []
    for i, cell in enumerate(nb.cells if nb is not None else []):
        if cell.cell_type == "markdown" and "answer" in cell.metadata.get("tags", []):
            before = next((c.source for c in reversed(nb.cells[:i]) if c.cell_type == "markdown"), "")
            text = cell.source.strip()
            found.append((len(found) + 1, clean_text(before, 300), "" if text == PLACEHOLDER else text[:5000]))
    return found
