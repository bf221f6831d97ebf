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
import math
import os
import secrets
from collections import Counter
from pathlib import Path

from .._validation import LemmaError


def student_code(secret: bytes, assignment: str, student: str) -> str:
    """The variant code of ``student`` for ``assignment``: 8 characters of base32, as ``ABCD-EFGH``."""
    digest = hmac.new(secret, f"lemma-variant\0{assignment}\0{student}".encode(), hashlib.sha256).digest()
    text = base64.b32encode(digest).decode()[:8]
    return f"{text[:4]}-{text[4:]}"


MIN_BITS = 80          # a secret's estimated entropy must reach this


def estimated_bits(secret: bytes) -> float:
    """A generous estimate of a secret's entropy: its length times the entropy of its own character counts.
    A random 32-character secret from ``lemma-grade secret`` scores about 150; ``aaaaaaaaaaaaaaaa`` scores 0."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    return max(0.0, -len(secret) * sum(c / len(secret) * math.log2(c / len(secret)) for c in counts.values()))


def make_secret() -> str:
    """A new secret: 32 random URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def write_secret(path) -> str:
    """Write a new secret to ``path`` (readable by its owner only; an existing file is never replaced)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LemmaError(f"{path} exists: a secret is never overwritten (the codes made from it would no longer "
                         "match). Choose another file name.") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(make_secret() + "\n")
    return str(path)


def read_secret(path) -> bytes:
    """The instructor's assignment secret from a file; a short or guessable one is refused."""
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as err:
        raise LemmaError(f"Cannot read the secret file {str(path)!r}: {err.strerror}.") from None
    if len(secret) < 16:
        raise LemmaError(f"The secret in {Path(path).name} is too short ({len(secret)} characters): use at least "
                         "16 random characters. Make one with: lemma-grade secret --out secret.txt")
    bits = estimated_bits(secret)
    if bits < MIN_BITS:
        raise LemmaError(f"The secret in {Path(path).name} is too easy to guess (about {bits:.0f} bits; at least "
                         f"{MIN_BITS} are needed): anyone who guesses it can work out every student's code. Make "
                         "one with: lemma-grade secret --out secret.txt")
    return secret
