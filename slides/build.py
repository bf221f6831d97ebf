"""Build a reveal.js slide deck from each concept notebook (01-07), offline: ``make slides``.

Steps:

1. **Libraries from the npm registry.** reveal.js, MathJax 2 (the version that
   nbconvert's slide template configures), RequireJS and jQuery (which the
   template uses to load reveal.js and to size scrolling slides) are fetched
   with ``npm pack <name>@<pinned version> --prefer-offline`` into
   ``slides/_build/npm/`` (git-ignored; npm's cache is used first, so a second
   build needs no network), unpacked into ``<out>/vendor/`` and referenced by
   relative paths. No page loads anything from a CDN. ``LEMMA_SLIDES_NPM_DIR``
   may name a folder that already holds the ``.tgz`` files, to build without
   npm. nbconvert's template also imports Mermaid (for diagrams, which the
   notebooks do not use): a two-line local stub stands in for it.
2. **Slide types, on copies.** Each notebook is read, a copy gets the cell
   metadata ``slideshow`` from its structure (:func:`slide_types.set_slide_types`:
   a ``##`` heading starts a slide, a ``###`` heading a sub-slide, a code cell
   that draws a figure is a fragment, set-up, check and reference cells are
   skipped), and the copy is converted with nbconvert's ``SlidesExporter``. The
   notebooks themselves are never written.
3. The decks go to ``<out>/<notebook>.slides.html`` with an ``index.html``
   that lists them.

Usage: ``python slides/build.py [--out DIR] [NOTEBOOK ...]`` (default
``slides/_build/html`` and notebooks 01-07).
"""
from __future__ import annotations

import argparse
import html
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from slide_types import set_slide_types  # noqa: E402

BUILD = HERE / "_build"
NOTEBOOKS = ROOT / "notebooks"
CONCEPTS = "0[1-7]_*.ipynb"

# pinned npm packages: (package, version, folder under vendor/)
PACKAGES = {
    "reveal.js": ("4.6.0", "reveal.js"),
    "mathjax": ("2.7.9", "mathjax"),
    "requirejs": ("2.3.7", "requirejs"),
    "jquery": ("3.7.1", "jquery"),
}
MERMAID_STUB = "// the course's notebooks have no Mermaid diagrams: this stub replaces mermaid.js offline\n" \
               "export default { initialize() {} };\n"


class SlidesError(SystemExit):
    pass


def npm_tgz(name: str, version: str, cache: Path) -> Path:
    """The package's .tgz: from LEMMA_SLIDES_NPM_DIR, the build cache, or ``npm pack`` (npm's cache first)."""
    filename = f"{name}-{version}.tgz"
    given = os.environ.get("LEMMA_SLIDES_NPM_DIR")
    if given and (Path(given) / filename).is_file():
        return Path(given) / filename
    tgz = cache / filename
    if tgz.is_file():
        return tgz
    npm = shutil.which("npm")
    if npm is None:
        raise SlidesError(f"slides/build.py: {name} comes from the npm registry; install npm (Debian: apt-get "
                          f"install npm) or put {filename} into a folder named by LEMMA_SLIDES_NPM_DIR.")
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "pack", f"{name}@{version}", "--prefer-offline", "--silent", "--pack-destination", str(cache)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0 or not tgz.is_file():
        raise SlidesError(f"slides/build.py: '{' '.join(cmd[1:4])}' failed (is the package in npm's cache, "
                          f"or the registry reachable?): {res.stderr.strip()[:300]}")
    return tgz


def unpack(tgz: Path, target: Path) -> None:
    """Unpack an npm .tgz (its files are under ``package/``) into ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with tarfile.open(tgz) as tar:
        members = []
        for m in tar.getmembers():
            if not m.name.startswith("package/") or not (m.isfile() or m.isdir()):
                continue
            m.name = m.name[len("package/"):]
            if m.name and ".." not in Path(m.name).parts:
                members.append(m)
        tar.extractall(target, members=members, filter="data")


def prepare_vendor(out: Path) -> dict:
    """Unpack the pinned packages into ``out/vendor``; return the relative URLs for the exporter."""
    vendor = out / "vendor"
    for name, (version, folder) in PACKAGES.items():
        stamp = vendor / folder / ".lemma-version"
        if stamp.is_file() and stamp.read_text() == version:
            continue
        unpack(npm_tgz(name, version, BUILD / "npm"), vendor / folder)
        stamp.write_text(version)
    (vendor / "mermaid-stub.mjs").write_text(MERMAID_STUB, encoding="utf-8")
    return {
        "reveal_url_prefix": "vendor/reveal.js",
        "mathjax_url": "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
        "require_js_url": "vendor/requirejs/require.js",
        "jquery_url": "vendor/jquery/dist/jquery.min.js",
        "mermaid_js_url": "./vendor/mermaid-stub.mjs",
        "font_awesome_url": "",
        "widget_renderer_url": "",
        "jupyter_widgets_base_url": "",
    }


def build_deck(path: Path, out: Path, urls: dict) -> Path:
    from nbconvert.exporters import SlidesExporter

    nb = nbformat.read(path, as_version=4)
    set_slide_types(nb)
    exporter = SlidesExporter(reveal_scroll=True, reveal_theme="white", reveal_transition="none",
                              reveal_number="c/t", **urls)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    target = out / f"{path.stem}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def index(decks: list, out: Path) -> Path:
    items = "\n".join(f'<li><a href="{html.escape(d.name)}">{html.escape(title)}</a></li>' for d, title in decks)
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lemma-course slides</title>"
            "</head>\n<body><h1>lemma-course: slides of the concept notebooks</h1>\n<ul>\n" + items +
            "\n</ul>\n<p>Each deck is made from its notebook by <code>make slides</code>; press <kbd>?</kbd> in a "
            "deck for the keys, <kbd>s</kbd> for speaker notes.</p></body></html>\n")
    target = out / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


def _title(path: Path) -> str:
    first = nbformat.read(path, as_version=4).cells[0].source.splitlines()
    return first[0].lstrip("# ").strip() if first else path.stem


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=BUILD / "html")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob(CONCEPTS))
    args.out.mkdir(parents=True, exist_ok=True)
    urls = prepare_vendor(args.out)
    decks = []
    for p in paths:
        decks.append((build_deck(p, args.out, urls), _title(p)))
        print(f"slides: {decks[-1][0]}")
    index(decks, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
