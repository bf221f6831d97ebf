"""Write one benchmark's figures into benchmarks/README.md, between its markers (shared by the scripts here)."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_section(marker: str, heading: str, lines: list, readme: Path = README) -> None:
    """Replace the text between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` by ``lines``; when the
    markers are not there yet, add them at the end under ``## heading``."""
    text = readme.read_text(encoding="utf-8")
    block = f"<!-- {marker}:start -->\n" + "\n".join(lines) + f"\n<!-- {marker}:end -->"
    pattern = rf"<!-- {re.escape(marker)}:start -->.*?<!-- {re.escape(marker)}:end -->"
    if re.search(pattern, text, flags=re.S):
        text = re.sub(pattern, lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + f"\n\n## {heading}\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")
