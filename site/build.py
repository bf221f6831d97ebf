"""Build the course website: ``make site`` runs this script.

Steps, all offline once the npm package of MathJax is in npm's cache:

1. MathJax: ``npm pack mathjax@<pinned>`` (``--prefer-offline``: npm's cache first,
   the registry only when the cache lacks it), unpacked into
   ``site/_build/mathjax/`` and served from the site itself (no CDN). Only the
   parts the pages load are copied (the CommonHTML output with its fonts and the
   TeX extensions MathJax loads on demand). Set ``LEMMA_MATHJAX_TGZ`` to a
   ``mathjax-*.tgz`` you already have to skip npm.
2. Sources: the committed notebooks, the instructor guides, the data codebook and
   licences are copied into ``site/_build/src/`` under their repository paths (so
   the launch buttons open the right file), with these build-time changes to the
   copies only:
   - the cell ``lh.quiz("5.1")`` shows the section's quiz as clickable options and
     number boxes that check answers in the browser (``site/_static/quiz.js``),
     generated from the YAML bank;
   - check cells (hidden in JupyterLab) and practical solutions are collapsed
     behind a toggle, like the cells tagged ``hide-input``;
   - every figure gets alt text: the cell's ``mystnb.image.alt`` metadata when the
     notebook has it, otherwise a description built from the plotting call and the
     Markdown just before the cell;
   - a practical's page offers its student copy as a download.
3. ``sphinx-build`` (configuration ``site/conf.py``), nothing re-executed: the pages
   show the committed outputs.

Usage: ``python site/build.py [--out DIR]`` (default ``site/_build/html``).
"""
from __future__ import annotations

import argparse
import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
BUILD = SITE / "_build"
SRC = BUILD / "src"
MATHJAX_VERSION = "3.2.2"
MATHJAX_DIR = BUILD / "mathjax"

# repository files that become pages, under the same path
DOC_FILES = ["docs/GRADING.md", "docs/QUIZZES.md", "data/README.md", "DATA_NOTICE.md", "data/EXAM_NOTICE.md",
             "LICENSE"]
# files of the site itself, copied to the top of the source tree
SITE_PAGES = ["index.md", "api.md", "launch.md", "licence.md"]

_QUIZ_CALL = re.compile(r"""^\s*lh\.quiz\(\s*["']([^"']+)["']\s*\)\s*;?\s*$""")


# --------------------------------------------------------------------------
# MathJax from the npm registry's package
# --------------------------------------------------------------------------

def _mathjax_tgz(cache: Path) -> Path:
    given = os.environ.get("LEMMA_MATHJAX_TGZ")
    if given:
        return Path(given)
    tgz = cache / f"mathjax-{MATHJAX_VERSION}.tgz"
    if tgz.exists():
        return tgz
    cache.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("site/build.py: MathJax comes from the npm package 'mathjax'; install npm (Debian: "
                 "apt-get install npm) or set LEMMA_MATHJAX_TGZ to a mathjax-*.tgz file.")
    cmd = [npm, "pack", f"mathjax@{MATHJAX_VERSION}", "--prefer-offline", "--silent",
           "--pack-destination", str(cache)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not tgz.exists():
        sys.exit(f"site/build.py: '{' '.join(cmd[1:])}' failed (is the package in npm's cache, or the "
                 f"registry reachable?):\n{done.stderr.strip()}")
    return tgz


def _wanted(name: str) -> bool:
    """The parts of the MathJax package the pages use (tex-chtml.js loads the rest on demand)."""
    rel = name.split("/", 1)[1] if "/" in name else name
    return (rel in ("es5/tex-chtml.js", "LICENSE", "package.json")
            or rel.startswith(("es5/input/tex/extensions/", "es5/output/chtml/fonts/woff-v2/",
                               "es5/ui/", "es5/a11y/", "es5/adaptors/")))


def prepare_mathjax() -> Path:
    """Unpack MathJax into site/_build/mathjax/mathjax (served as _static/mathjax)."""
    target = MATHJAX_DIR / "mathjax"
    stamp = MATHJAX_DIR / f".version-{MATHJAX_VERSION}"
    if stamp.exists() and (target / "es5" / "tex-chtml.js").exists():
        return MATHJAX_DIR
    tgz = _mathjax_tgz(BUILD / "npm")
    shutil.rmtree(MATHJAX_DIR, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not _wanted(member.name):
                continue
            rel = Path(member.name.split("/", 1)[1])
            if ".." in rel.parts:
                continue
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(member).read())
    stamp.write_text(str(tgz) + "\n")
    return MATHJAX_DIR


# --------------------------------------------------------------------------
# Quizzes: HTML + JSON generated from the bank, checked by site/_static/quiz.js
# --------------------------------------------------------------------------

_DOLLARS = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


def _math_delimiters(text: str) -> str:
    """$...$ -> \\(...\\) and $$...$$ -> \\[...\\], the delimiters the site's MathJax reads."""
    return _DOLLARS.sub(lambda m: f"\\[{m.group(1)}\\]" if m.group(1) is not None else f"\\({m.group(2)}\\)", text)


def _md(text: str) -> str:
    from lemma_helpers.quiz import markdown_html

    return _math_delimiters(markdown_html(text)) if text and text.strip() else ""


def quiz_html(section: str) -> str:
    import importlib

    qz = importlib.import_module("lemma_helpers.quiz").quiz(section)
    blocks = []
    for q in qz.questions:
        k = q.key
        data = {"id": q.id, "type": q.type, "hint": _md(q.hint), "explanation": _md(k.explanation),
                "wrong": _md(q.feedback_wrong)}
        if q.type == "numeric":
            data.update(low=k.low, high=k.high,
                        distractors=[[lo, hi, _md(fb)] for lo, hi, fb in k.distractors])
        elif q.type == "text":
            data.update(accept=list(k.accept), distractors=[[list(forms), _md(fb)] for forms, fb in k.distractors])
        else:
            data.update(correct=sorted(k.correct))
        kind = {"single": "choose one", "multiple": "choose all that apply", "numeric": "type a number",
                "text": "type a word or short phrase"}[q.type]
        parts = [f"<div class='lq-question' data-question='{html.escape(json.dumps(data), quote=True)}'>",
                 f"<p class='lq-head'><strong>{html.escape(q.id)}</strong> <small>({kind})</small></p>",
                 f"<div class='lq-prompt'>{_md(q.prompt)}</div>"]
        if q.options:
            inp = "radio" if q.type == "single" else "checkbox"
            parts.append("<ul class='lq-options'>")
            for o in q.options:
                parts.append(
                    f"<li><label class='lq-option' data-label='{html.escape(o.label)}'>"
                    f"<input type='{inp}' name='{html.escape(q.id)}' value='{html.escape(o.label)}'> "
                    f"<span class='lq-text'>{_md(o.text)[3:-4]}</span></label>"
                    f"<div class='lq-option-feedback' hidden>{_md(o.feedback)}</div></li>")
            parts.append("</ul>")
        if q.type != "single":
            box = "" if q.options else (
                "<input class='lq-input' type='text' "
                f"inputmode='{'decimal' if q.type == 'numeric' else 'text'}' aria-label='Your answer to {q.id}'> ")
            parts.append(f"<p class='lq-answer'>{box}<button type='button' class='lq-check'>Check</button></p>")
        parts.append("<div class='lq-feedback' role='status' aria-live='polite'></div></div>")
        blocks.append("".join(parts))
    return (f"<div class='lemma-quiz lemma-quiz-live mathjax_process' data-section='{html.escape(qz.section)}'>"
            f"<h4>Quiz {html.escape(qz.section)}: {html.escape(qz.title)}</h4>"
            "<p class='lq-intro'><small>Answer on this page: the feedback explains what a wrong answer usually "
            "means, a hint follows a second wrong try and the worked answer a third. Nothing is recorded here; "
            "in JupyterLab, <code>lh.check(id, answer)</code> records your answers for grading.</small></p>"
            + "".join(blocks) + "</div>")


# --------------------------------------------------------------------------
# Alt text for figures
# --------------------------------------------------------------------------

_PLOTS = {
    "plot_caterpillar": "Caterpillar plot: each group's estimated residual with its 95% interval, ranked from lowest to highest",
    "plot_group_lines": "Predicted lines, one for each group, from the fitted model",
    "plot_group_means": "Group means with their intervals",
    "plot_variance_function": "Variance function: the estimated variance plotted against the explanatory variable",
    "plot_residual_pairs": "Scatter plot of pairs of group-level residuals",
    "plot_residual_qq": "Normal quantile plot of residuals",
    "plot_se_comparison": "Standard errors from the single-level and the multilevel model side by side",
    "plot_single_level_residuals": "Residuals of the single-level model, grouped",
    "plot_two_level_decomposition": "How each response splits into the overall mean, its group's residual and its own residual",
    "hist": "Histogram",
    "scatter": "Scatter plot",
    "boxplot": "Box plots",
    "errorbar": "Estimates with error bars",
}


def _speak_math(tex: str) -> str:
    """LaTeX as plain words for a screen reader: \\hat\\beta_0 -> beta_0, \\sigma^2_u -> sigma^2_u."""
    tex = re.sub(r"\\(hat|bar|tilde|mathrm|text|mathbf|boldsymbol|left|right|quad|,|;|!)", " ", tex)
    tex = re.sub(r"\\([a-zA-Z]+)", r"\1", tex).replace("\\", " ")
    return re.sub(r"\s+", " ", tex.replace("{", "").replace("}", "")).strip()


def _plain(md: str) -> str:
    text = re.sub(r"```.*?```", " ", md, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\$\$?([^$]+)\$\$?", lambda m: _speak_math(m.group(1)), text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[#*`>]|(?<!\w)_|_(?!\w)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def alt_text(source: str, before_md: str) -> str:
    kinds = [desc for name, desc in _PLOTS.items() if re.search(rf"\b{name}\(", source)]
    explore = re.search(r"\bexplore_(\w+)\(", source)
    if explore:
        kinds.insert(0, f"A still picture of the interactive exploration {explore.group(1).replace('_', ' ')}, "
                        "at the fitted model's values")
    lead = kinds[0] if kinds else "Figure"
    context = _plain(before_md)
    sentences = re.split(r"(?<=[.!?:])\s+", context)
    tail = next((s for s in reversed(sentences) if len(s) > 20), context)[:220]
    return f"{lead}. {tail}".strip() if tail else lead


# --------------------------------------------------------------------------
# Source tree
# --------------------------------------------------------------------------

def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _source(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _read_json(path: Path, tries: int = 5):
    """A notebook's JSON; read again after a pause if it is being rewritten at this moment."""
    for attempt in range(tries):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            if attempt == tries - 1:
                raise
            time.sleep(1)


def prepare_notebook(path: Path, student: Path | None) -> tuple[str, list]:
    """The notebook as the site shows it, and the figures whose alt text was generated."""
    nb = _read_json(path)
    generated = []
    last_md = ""
    cells = []
    for i, cell in enumerate(nb["cells"]):
        cell = copy.deepcopy(cell)
        src = _source(cell)
        if cell["cell_type"] == "markdown":
            last_md = src
        elif cell["cell_type"] == "code":
            meta = cell.setdefault("metadata", {})
            tags = meta.setdefault("tags", [])
            hidden = meta.get("jupyter", {}).get("source_hidden", False)
            if (hidden or "solution" in tags) and "hide-input" not in tags:
                tags.append("hide-input")
            m = _QUIZ_CALL.match(src)
            if m:
                cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                    "data": {"text/html": quiz_html(m.group(1)),
                                             "text/plain": f"Quiz {m.group(1)}"}}]
            for out in cell.get("outputs", []):     # MathJax reads LaTeX in HTML outputs (lh.check's answers)
                data = out.get("data", {})
                if "text/html" in data and not m:
                    body = data["text/html"]
                    body = "".join(body) if isinstance(body, list) else body
                    data["text/html"] = f"<div class='mathjax_process'>{body}</div>"
            n_png = sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
            if n_png:
                image = meta.setdefault("mystnb", {}).setdefault("image", {})
                if not image.get("alt"):
                    image["alt"] = alt_text(src, last_md)
                    generated.append((path.name, i, image["alt"]))
        cells.append(cell)
        if i == 0 and student is not None:
            cells.append({"cell_type": "markdown", "id": "lemma-site-student-copy", "metadata": {}, "source": (
                "```{admonition} Student copy\n:class: tip\n"
                f"{{download}}`Download the student copy of this practical <student/{student.name}>` "
                "(the same notebook without the solutions) and work through it in JupyterLab.\n```\n")})
    nb["cells"] = cells
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n", generated


def prepare_sources() -> list:
    generated = []
    keep = set()
    for name in SITE_PAGES:
        _write_if_changed(SRC / name, (SITE / name).read_text(encoding="utf-8"))
        keep.add(SRC / name)
    guides = sorted(str(f.relative_to(ROOT)) for f in (ROOT / "docs").rglob("*.md"))   # docs/GRADING.md, ...
    for rel in DOC_FILES + [g for g in guides if g not in DOC_FILES]:
        _write_if_changed(SRC / rel, (ROOT / rel).read_text(encoding="utf-8"))
        keep.add(SRC / rel)
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        student = ROOT / "notebooks" / "student" / nb.name
        text, gen = prepare_notebook(nb, student if student.exists() else None)
        generated += gen
        _write_if_changed(SRC / "notebooks" / nb.name, text)
        keep.add(SRC / "notebooks" / nb.name)
        if student.exists():
            _write_if_changed(SRC / "notebooks" / "student" / nb.name, student.read_text(encoding="utf-8"))
            keep.add(SRC / "notebooks" / "student" / nb.name)
    for f in SRC.rglob("*"):     # files that are no longer sources (a renamed notebook, say)
        if f.is_file() and f not in keep:
            f.unlink()
    return generated


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(BUILD / "html"), help="output folder (default site/_build/html)")
    ap.add_argument("--alt-report", action="store_true", help="list the figures whose alt text is generated")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    prepare_mathjax()
    generated = prepare_sources()
    if args.alt_report:
        for name, i, alt in generated:
            print(f"{name} cell {i}: {alt}")
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(SITE), "-d", str(BUILD / "doctrees"),
           str(SRC), args.out]
    done = subprocess.run(cmd)
    if done.returncode != 0:
        return done.returncode
    out = Path(args.out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"site built in {time.perf_counter() - t0:.0f} s: {out} ({size / 1e6:.1f} MB); "
          f"open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
