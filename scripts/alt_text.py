"""Copy the figures' alt text from ``notebooks/alt_text.yaml`` into the notebooks' cell metadata.

Every code cell whose stored output is a figure (an ``image/png`` output) gets
``metadata.lemma.alt``: what the figure shows and what to notice, written for it
in the YAML file (keyed by notebook file name and cell id). The website
(``site/build.py``) uses it as the image's alt text and as its caption.

Only cell metadata changes: sources, outputs, ids and every other key are left as
they are, and the file is rewritten only when a text changed (byte for byte as
nbformat writes it). Run it again after editing a notebook; it says which figures
have no text yet and which texts name a cell that no longer holds a figure.

    python scripts/alt_text.py           # apply the texts to notebooks/*.ipynb
    python scripts/alt_text.py --check   # exit 1 if a figure lacks a text or a notebook is stale

After applying, ``make students`` brings the student copies up to date (they copy
cell metadata).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TEXTS = NOTEBOOKS / "alt_text.yaml"
KEY = "lemma"
SHORTEST, LONGEST = 60, 700   # characters: long enough to say what to notice, short enough to hear


def load_texts(path: Path = TEXTS) -> dict:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for nb, cells in data.items():
        out[str(nb)] = {str(cid): " ".join(str(t).split()) for cid, t in (cells or {}).items()}
    return out


def figure_cells(nb: dict) -> list:
    """The code cells with a figure among their stored outputs."""
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"
            and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]


def apply(path: Path, texts: dict, write: bool = True) -> tuple[bool, list, list]:
    """Set the alt text of the notebook's figures; return (changed, figures without text, unknown ids)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    figs = figure_cells(nb)
    ids = {c.get("id") for c in figs}
    missing = [c.get("id") for c in figs if c.get("id") not in texts]
    unknown = sorted(set(texts) - ids)
    for cell in figs:
        text = texts.get(cell.get("id"))
        if text is None:
            continue
        meta = cell.setdefault("metadata", {}).setdefault(KEY, {})
        meta["alt"] = text
    after = nbformat.writes(nb)
    changed = after != before
    if changed and write:
        nbformat.write(nb, path)
    return changed, missing, unknown


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a figure lacks its text "
                                                         "or a notebook does not carry the text of the file")
    ap.add_argument("--texts", type=Path, default=TEXTS, help="the YAML file of texts")
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    args = ap.parse_args(argv)
    texts = load_texts(args.texts)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    problems = 0
    for path in paths:
        mine = texts.get(path.name, {})
        changed, missing, unknown = apply(path, mine, write=not args.check)
        for cid in missing:
            print(f"{path.name}: the figure of cell {cid} has no alt text in {args.texts.name}")
        for cid in unknown:
            print(f"{path.name}: {args.texts.name} has a text for cell {cid}, which holds no figure")
        for cid, text in sorted(mine.items()):
            if not SHORTEST <= len(text) <= LONGEST:
                print(f"{path.name}: the text for cell {cid} has {len(text)} characters; "
                      f"write {SHORTEST} to {LONGEST}")
                problems += 1
        if changed:
            print(f"{path.name}: {'stale alt text' if args.check else 'alt text written'}")
        problems += len(missing) + len(unknown) + (changed and args.check)
    for name in sorted(set(texts) - {p.name for p in paths}):
        if not args.notebooks:
            print(f"{args.texts.name}: no notebook {name}")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
