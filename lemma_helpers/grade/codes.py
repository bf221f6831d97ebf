"""Variant codes and the secret they are made from: the instructor's side of per-student variants.

``student_code(secret, assignment, student)`` is a short code made from an
HMAC-SHA256 of the assignment and student ids under the instructor's secret:
the same inputs always give the same code, and nobody can compute another
student's code without the secret. A learner's notebook only ever sees its
own code (:mod:`lemma_helpers.variants` turns it into data).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from .._validation import LemmaError


def student_code(secret: bytes, assignment: str, student: str) -> str:
    """The variant code of ``student`` for ``assignment``: 8 characters of base32, as ``ABCD-EFGH``."""
    digest = hmac.new(secret, f"lemma-variant\0{assignment}\0{student}".encode(), hashlib.sha256).digest()
    text = base64.b32encode(digest).decode()[:8]
    return f"{text[:4]}-{text[4:]}"


def read_secret(path) -> bytes:
    """The instructor's assignment secret from a file (at least 16 characters)."""
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as err:
        raise LemmaError(f"Cannot read the secret file {str(path)!r}: {err.strerror}.") from None
    if len(secret) < 16:
        raise LemmaError(f"The secret in {Path(path).name} is too short ({len(secret)} characters): use at least "
                         "16 random characters, e.g. python -c \"import secrets; print(secrets.token_urlsafe(24))\".")
    return secret
