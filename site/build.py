"""Build the course website: ``make site`` runs this script.

Steps, all offline once the npm package of MathJax is in npm's cache:

1. MathJax: ``npm pack mathjax@<pinned>`` (``--prefer-offline``: npm's cache first,
   the registry only when the cache lacks it), unpacked into
   ``site/_build/mathjax/`` and served from the site itself (no CDN). Only the
   parts the pages load are copied (the CommonHTML output with its fonts and the
   TeX extensions MathJax loads on demand). Set ``LEMMA_MATHJAX_TGZ`` to a
   ``mathjax-*.tgz`` you already have to skip npm.
2. Sources: the committed notebooks, the guides for instructors (not
   ``docs/INSTRUCTOR_GUIDE.md``, which lists every quiz key), the data codebook and
   licences are copied into ``site/_build/src/`` under their repository paths (so
   the launch buttons open the right file), with these build-time changes to the
   copies only:
   - the cell ``lh.quiz("5.1")`` shows the section's quiz as options and answer
     boxes that are checked in the browser (``site/_static/quiz.js``), generated
     from the YAML bank; what the browser needs to check an answer (keys,
     feedback, hints, worked answers) is in each question's ``data-key``,
     lightly obfuscated (see ``quiz_payload``), never as readable text;
   - outputs that record or judge an answer are dropped: the answer records of
     ``lh.check`` (MIME type ``application/vnd.lemma.answer+json``) and its
     verdicts (correct / not correct / worked answer); so are the cells that
     answer quiz questions (``lh.check`` with an answer rather than ``...``), the
     text that introduces them, and instructor-only cells and text;
   - check cells (hidden in JupyterLab) and practical solutions are collapsed
     behind toggles labelled for what they hold; ``# NBVAL_...`` markers and
     JupyterLab-only instructions are left out;
   - every figure gets the alt text written for it (``metadata.lemma.alt``, put
     there by ``scripts/alt_text.py``) as its alt text and caption;
   - a practical's page offers its student copy.
3. ``sphinx-build`` (configuration ``site/conf.py``), nothing re-executed: the pages
   show the committed outputs.
4. Afterwards, in the output: Font Awesome cut down to the icons the pages use,
   the notebook downloads replaced by the committed notebook (a practical: its
   student copy), and the launch links of a practical pointed at its student copy.

Usage: ``python site/build.py [--out DIR]`` (default ``site/_build/html``).
"""
from __future__ import annotations

import argparse
import base64
import copy
import importlib.util
import html
import json
import os
import re
import shutil
import subprocess
import sys
import struct
import tarfile
import time
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
BUILD = SITE / "_build"
SRC = BUILD / "src"
MATHJAX_VERSION = "3.2.2"
MATHJAX_DIR = BUILD / "mathjax"
GENERATED = BUILD / "generated"          # static files made by this script (served as _static/)

# repository files that become pages, under the same path
# the instructor guide lists every quiz key and model answer: never a page of the site
NOT_PUBLISHED = {"docs/INSTRUCTOR_GUIDE.md"}
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
# Quizzes: HTML generated from the bank, checked by site/_static/quiz.js
# --------------------------------------------------------------------------

_DOLLARS = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)
_BLOCK_TAG = re.compile(r"<(ul|ol|pre|table|div|blockquote|h\d)\b")


def _math_delimiters(text: str) -> str:
    """$...$ -> \\(...\\) and $$...$$ -> \\[...\\], the delimiters the site's MathJax reads."""
    return _DOLLARS.sub(lambda m: f"\\[{m.group(1)}\\]" if m.group(1) is not None else f"\\({m.group(2)}\\)", text)


def _md(text: str) -> str:
    from lemma_helpers.quiz import markdown_html

    return _math_delimiters(markdown_html(text)) if text and text.strip() else ""


def _obfuscation_key(qid: str) -> bytes:
    return f"lemma-quiz:{qid}".encode("utf-8")


def quiz_payload(qid: str, data: dict) -> str:
    """What the browser needs to check one question, lightly obfuscated: the JSON's UTF-8 bytes XORed
    with the bytes of ``"lemma-quiz:" + question id`` (repeated), then base64. Not secret (quiz.js
    undoes it), but no key, feedback or worked answer can be read by accident in the page's source,
    in a reader view or in the search index. ``quiz_payload_decode`` is the inverse (for the tests)."""
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    key = _obfuscation_key(qid)
    return base64.b64encode(bytes(b ^ key[i % len(key)] for i, b in enumerate(raw))).decode("ascii")


def quiz_payload_decode(qid: str, payload: str) -> dict:
    raw = base64.b64decode(payload)
    key = _obfuscation_key(qid)
    return json.loads(bytes(b ^ key[i % len(key)] for i, b in enumerate(raw)).decode("utf-8"))


def _legend_prompt(prompt_html: str) -> str | None:
    """The prompt as phrasing content for a <legend> (paragraphs as block spans), or None when it
    holds lists or other blocks that a legend cannot contain."""
    if _BLOCK_TAG.search(prompt_html):
        return None
    return prompt_html.replace("<p>", "<span class='lq-p'>").replace("</p>", "</span>")


def quiz_html(section: str) -> str:
    import importlib

    qz = importlib.import_module("lemma_helpers.quiz").quiz(section)
    anchor = "quiz-" + re.sub(r"[^A-Za-z0-9]+", "-", qz.section).strip("-").lower()
    blocks = []
    for n, q in enumerate(qz.questions, 1):
        k = q.key
        data = {"type": q.type, "hint": _md(q.hint), "explanation": _md(k.explanation),
                "wrong": _md(q.feedback_wrong)}
        if q.type == "numeric":
            data.update(low=k.low, high=k.high,
                        distractors=[[lo, hi, _md(fb)] for lo, hi, fb in k.distractors])
        elif q.type == "text":
            data.update(accept=list(k.accept), distractors=[[list(forms), _md(fb)] for forms, fb in k.distractors])
        else:
            data.update(correct=sorted(k.correct), feedback={o.label: _md(o.feedback) for o in q.options})
        kind = {"single": "choose one", "multiple": "choose all that apply", "numeric": "type a number",
                "text": "type a word or short phrase"}[q.type]
        qid = html.escape(q.id)
        dom = f"lq-{re.sub(r'[^A-Za-z0-9]+', '-', q.id)}"
        prompt = _md(q.prompt)
        inline = _legend_prompt(prompt)
        head = f"<span class='lq-id'>{qid}</span> <span class='lq-kind'>({kind})</span>"
        parts = [f"<div class='lq-question' id='{dom}' data-id='{qid}' data-key='{quiz_payload(q.id, data)}'>"]
        if q.options:
            if inline is not None:
                parts.append(f"<fieldset class='lq-group'><legend class='lq-legend'>{head} "
                             f"<span class='lq-prompt'>{inline}</span></legend>")
            else:
                parts.append(f"<fieldset class='lq-group' aria-describedby='{dom}-prompt'>"
                             f"<legend class='lq-legend'>{head}</legend>"
                             f"<div class='lq-prompt' id='{dom}-prompt'>{prompt}</div>")
            inp = "radio" if q.type == "single" else "checkbox"
            parts.append("<ul class='lq-options'>")
            for o in q.options:
                text = _md(o.text)
                text = text[3:-4] if text.startswith("<p>") and text.endswith("</p>") else text
                parts.append(
                    f"<li class='lq-option-row'><label class='lq-option' data-label='{html.escape(o.label)}'>"
                    f"<input type='{inp}' name='{dom}' value='{html.escape(o.label)}'> "
                    f"<span class='lq-label'>{html.escape(o.label)}.</span> "
                    f"<span class='lq-text'>{text}</span></label></li>")
            parts.append("</ul></fieldset>")
            parts.append("<p class='lq-answer'><button type='button' class='lq-check'>Check</button></p>")
        else:
            parts.append(f"<p class='lq-head'>{head}</p><div class='lq-prompt' id='{dom}-prompt'>{prompt}</div>")
            parts.append(
                f"<p class='lq-answer'><label class='lq-box-label' for='{dom}-input'>Your answer</label> "
                f"<input class='lq-input' id='{dom}-input' type='text' "
                f"inputmode='{'decimal' if q.type == 'numeric' else 'text'}' aria-describedby='{dom}-prompt'> "
                "<button type='button' class='lq-check'>Check</button></p>")
        parts.append("<div class='lq-feedback' role='status' aria-live='polite' aria-atomic='true'></div></div>")
        blocks.append("".join(parts))
    return (f"<section class='lemma-quiz lemma-quiz-live mathjax_process' data-section='{html.escape(qz.section)}' "
            f"aria-labelledby='{anchor}'>"
            f"<h3 class='lq-title' id='{anchor}'>Quiz {html.escape(qz.section)}: {html.escape(qz.title)}</h3>"
            "<p class='lq-intro'>Choose or type an answer, then press <kbd>Enter</kbd> or <em>Check</em>. "
            "A wrong answer gets feedback on the usual mistake behind it, a second wrong try adds a hint and a "
            "third the worked answer, which a right answer shows at once. Nothing is recorded here; in "
            "JupyterLab, <code class='lq-code'>lh.check(id, answer)</code> records your answers for grading.</p>"
            + "".join(blocks) + "</section>")


# --------------------------------------------------------------------------
# Notebooks as the site shows them
# --------------------------------------------------------------------------

ANSWER_MIME = "application/vnd.lemma.answer+json"
# the text of an lh.check result: "5.1.q1: correct (1 of 1 point)", "... not correct yet ...", "Answer to
# 5.1.q1 recorded: ...", "...: answer recorded. It is marked ...", "...: no answer yet ..."
_VERDICT = re.compile(r"^\s*(Answer to \S+ recorded\b|[A-Za-z0-9][\w.-]*\.[qQ]\d+: (correct\b|not correct\b|"
                      r"answer not understood|answer recorded|no answer yet))", re.M)
_NBVAL = re.compile(r"^[ \t]*#\s*NBVAL_[A-Z_]+[^\n]*\n?", re.M)
# JupyterLab-only instructions in Markdown cells, and what the web page says instead
_LAB_ONLY = [(re.compile(r"\s*Double-click the cell below to edit it, write your answer, then run the cell to show "
                         r"it as text\."), " In JupyterLab, write your answer in the cell below."),
             (re.compile(r"Run the next cell to see the questions for this section\. Answer each one with "
                         r"`lh\.check\(question_id, your_answer\)`; the cells after it show worked answers to some of "
                         r"the questions; check the others yourself with `lh\.check`\."),
              "Answer the questions below on this page. In JupyterLab, run the next cell to see them and answer "
              "each one with `lh.check(question_id, your_answer)`, which records your answers."),
             # text of the instructor's version (about the cell that answers the quiz, which the site leaves out)
             (re.compile(r"<!-- instructor -->.*?<!-- /instructor -->", re.S), "")]
# a cell that answers quiz questions (lh.check with an answer, not the learner's `...`): the site's quiz
# widget is the way to an answer, after a try
_CHECK_WITH_ANSWER = re.compile(r"\blh\.check\(\s*f?[\"'][^\"']+[\"']\s*,(?!\s*\.\.\.)")
_WORKED_ANSWERS_TEXT = re.compile(r"^\s*(Worked answers? (to|for)\b|\*\*P?\d+\.\d+\.q\d+\*\*)")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def is_answer_output(out: dict) -> bool:
    """An output that records or judges a quiz answer (never shown on the site)."""
    data = out.get("data", {})
    if ANSWER_MIME in data:
        return True
    texts = [_text(data.get("text/plain")), _text(data.get("text/html")), _text(out.get("text"))]
    return any(_VERDICT.search(t) or "Worked answer" in t for t in texts)


def for_learners(cell: dict) -> bool:
    """False for a cell the site leaves out: for instructors (reference numbers; not in the student copy
    either), a cell that answers quiz questions, or the text that gives worked answers."""
    src = _source(cell)
    if "instructor" in cell.get("metadata", {}).get("tags", []):
        return False
    if cell.get("cell_type") == "markdown" and _WORKED_ANSWERS_TEXT.match(src):
        return False
    return not (cell.get("cell_type") == "code" and _CHECK_WITH_ANSWER.search(src))


def _png_size(b64: str) -> tuple[int, int]:
    raw = base64.b64decode(b64[:100] if isinstance(b64, str) else _text(b64)[:100])
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0
    return struct.unpack(">II", raw[16:24])


def _load_timing():
    spec = importlib.util.spec_from_file_location("lemma_timing", ROOT / "scripts" / "timing.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_DF_EMPTY_TH = re.compile(r"<th>\s*</th>")


# a link to a practical's student copy (the notebooks point learners there): on the site, the practical's page,
# which hides the solutions and whose download and launch buttons give the student copy
_STUDENT_LINK = re.compile(r"\]\((?:\./)?student/([^)#\s]+\.ipynb)")


def prepare_notebook(path: Path, student: Path | None) -> tuple[str, list]:
    """The notebook as the site shows it, and the figures that have no alt text."""
    nb = _read_json(path)
    missing = []
    cells = []
    timing = _load_timing()
    for i, cell in enumerate(nb["cells"]):
        cell = copy.deepcopy(cell)
        src = _source(cell)
        if not for_learners(cell):
            continue
        if cell["cell_type"] == "markdown":
            new = timing.reformat(src) if i == 0 else src
            for pattern, replacement in _LAB_ONLY:
                new = pattern.sub(replacement, new)
            new = _STUDENT_LINK.sub(r"](\1", new)    # a practical's page (which offers the student copy)
            if new != src:
                cell["source"] = new
        elif cell["cell_type"] == "code":
            meta = cell.setdefault("metadata", {})
            tags = meta.setdefault("tags", [])
            hidden = meta.get("jupyter", {}).get("source_hidden", False)
            stripped = _NBVAL.sub("", src)
            if stripped != src:
                cell["source"] = stripped
            if hidden or "solution" in tags:
                if "hide-input" not in tags:
                    tags.append("hide-input")
                show, hide = (("Show the solution", "Hide the solution") if "solution" in tags else
                              ("Show the check", "Hide the check"))
                meta.setdefault("mystnb", {}).update(code_prompt_show=show, code_prompt_hide=hide)
            m = _QUIZ_CALL.match(src)
            if m:
                cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                    "data": {"text/html": quiz_html(m.group(1)),
                                             "text/plain": f"Quiz {m.group(1)}"}}]
            else:
                cell["outputs"] = [o for o in cell.get("outputs", []) if not is_answer_output(o)]
            for out in cell.get("outputs", []):     # MathJax reads LaTeX in HTML outputs
                data = out.get("data", {})
                if "text/html" in data and not m:
                    body = _DF_EMPTY_TH.sub("<td></td>", _text(data["text/html"]))   # no empty header cells
                    data["text/html"] = f"<div class='mathjax_process'>{body}</div>"
            pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            if pngs:
                alt = " ".join(str(meta.get("lemma", {}).get("alt", "")).split())
                if not alt:
                    missing.append((path.name, cell.get("id", i)))
                    alt = "Figure without a description yet (see notebooks/alt_text.yaml)."
                w, h = _png_size(_text(pngs[0]))
                classes = ["lemma-figure"]
                if (h and w / h >= 2.2) or w >= 900:     # side-by-side panels, or panels in rows (explorations)
                    classes.append("lemma-wide-3" if w >= 1300 else "lemma-wide-2")
                mystnb = meta.setdefault("mystnb", {})
                mystnb.setdefault("image", {})["alt"] = alt
                caption = re.sub(r"([\\`*_\[\]<>$#|~])", r"\\\1", alt)     # Markdown: the text as it is
                mystnb["figure"] = {"caption": caption, "classes": " ".join(classes)}
        cells.append(cell)
        if i == 0 and student is not None:
            cells.append({"cell_type": "markdown", "id": "lemma-site-student-copy", "metadata": {}, "source": (
                "```{admonition} Work through this practical yourself\n:class: tip\n"
                f"{{download}}`Download the student copy <student/{student.name}>` (this notebook with blanks "
                "where the solutions are) and work through it in JupyterLab; the download and launch buttons "
                "at the top of this page give you the same copy. This page shows the solutions, collapsed: "
                "open one only after you have tried the step.\n```\n")})
    nb["cells"] = cells
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n", missing


# --------------------------------------------------------------------------
# Search: the terms each page defines (in bold) rank it higher (site/_static/search-maths.js)
# --------------------------------------------------------------------------

_BOLD = re.compile(r"\*\*([^*\n]{2,60})\*\*")


def defined_terms(nb: dict) -> list:
    words = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for phrase in _BOLD.findall(_source(cell)):
            if "?" in phrase or "$" in phrase or len(phrase.split()) > 6 or phrase.rstrip(".:").lower() in {
                    "what you will learn", "prerequisites", "answer", "question", "hint", "note"}:
                continue
            words |= {w for w in re.findall(r"[a-z0-9]+", phrase.lower().replace("(", " ").replace(")", " "))
                      if len(w) > 2 and not w.isdigit()}
    return sorted(words)


# --------------------------------------------------------------------------
# Source tree
# --------------------------------------------------------------------------

def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _source(cell) -> str:
    return _text(cell.get("source", ""))


def _read_json(path: Path, tries: int = 5):
    """A notebook's JSON; read again after a pause if it is being rewritten at this moment."""
    for attempt in range(tries):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            if attempt == tries - 1:
                raise
            time.sleep(1)


_TITLE_NUMBER = re.compile(r"^(?:[CP]?(\d+\.\d+)\s+)?(.*)$")


def nav_title(nb: dict) -> str:
    """The notebook's title for the navigation, numbered one way: "5.1 Comparing groups: ..." (the
    section number without the C or P of the page title; the caption says Concepts or Practicals)."""
    first = _source(nb["cells"][0]).splitlines()[0] if nb["cells"] else ""
    number, rest = _TITLE_NUMBER.match(first.lstrip("# ").strip()).groups()
    return f"{number} {rest}" if number else rest


def _toctrees(notebooks: list) -> str:
    """The navigation's notebook lists: every notebook, in course order, with one style of numbering."""
    concepts, practicals = [], []
    for path in notebooks:
        title = nav_title(_read_json(path)).replace("<", "").replace(">", "")
        (practicals if re.search(r"_p\d+_\d+_", path.name) else concepts).append(
            f"{title} <notebooks/{path.stem}>")
    return ("```{toctree}\n:caption: Concepts\n:maxdepth: 1\n\n" + "\n".join(concepts) + "\n```\n\n"
            "```{toctree}\n:caption: Practicals\n:maxdepth: 1\n\n" + "\n".join(practicals) + "\n```\n")


_NOTEBOOK_TOCTREES = re.compile(r"```\{toctree\}\n:caption: Concepts\n.*?```\n\n```\{toctree\}\n:caption: "
                                r"Practicals\n.*?```\n", re.S)


def prepare_sources() -> list:
    missing = []
    keep = set()
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for name in SITE_PAGES:
        text = (SITE / name).read_text(encoding="utf-8")
        if name == "index.md":
            text = _NOTEBOOK_TOCTREES.sub(lambda m: _toctrees(notebooks), text)
        _write_if_changed(SRC / name, text)
        keep.add(SRC / name)
    guides = sorted(str(f.relative_to(ROOT)) for f in (ROOT / "docs").rglob("*.md"))   # docs/GRADING.md, ...
    for rel in DOC_FILES + [g for g in guides if g not in DOC_FILES]:
        if rel in NOT_PUBLISHED:
            continue
        _write_if_changed(SRC / rel, (ROOT / rel).read_text(encoding="utf-8"))
        keep.add(SRC / rel)
    terms = {}
    for nb in notebooks:
        student = ROOT / "notebooks" / "student" / nb.name
        text, miss = prepare_notebook(nb, student if student.exists() else None)
        missing += miss
        terms[f"notebooks/{nb.stem}"] = defined_terms(json.loads(text))
        _write_if_changed(SRC / "notebooks" / nb.name, text)
        keep.add(SRC / "notebooks" / nb.name)
        if student.exists():
            _write_if_changed(SRC / "notebooks" / "student" / nb.name, student.read_text(encoding="utf-8"))
            keep.add(SRC / "notebooks" / "student" / nb.name)
    for f in SRC.rglob("*"):     # files that are no longer sources (a renamed notebook, say)
        if f.is_file() and f not in keep:
            f.unlink()
    _write_if_changed(GENERATED / "lemma-terms.js",
                      "/* the terms each page defines, for the search ranking (site/build.py) */\n"
                      f"window.LEMMA_TERMS = {json.dumps(terms, separators=(',', ':'))};\n")
    return missing


# --------------------------------------------------------------------------
# After Sphinx: icons, downloads, launch links of practicals
# --------------------------------------------------------------------------

_FA_ICON = re.compile(r'(?:"([a-z0-9-]+)"|([a-z0-9]+)):\[(\d+),(\d+),\[([^\]]*)\],"[0-9a-f]+","([^"]*)"\]')
_FA_PACK = re.compile(r'p\("(fa[bsr])",')
_FA_USED = re.compile(r"\bfa-([a-z0-9-]+)")
_FA_GLYPHS = re.compile(r'(?:\.fa-[a-z0-9-]+,?)+\{--fa:"[^"]*"\}')
_FA_NOT_ICONS = {"solid", "regular", "brands", "lg", "fw", "xs", "sm", "xl", "2x", "3x", "spin", "pulse", "inverse",
                 "stack", "rotate-90", "rotate-180", "rotate-270", "flip-horizontal", "flip-vertical"}

FA_SCRIPT = """/* Font Awesome icons of this site only (site/build.py cuts the theme's 1.5 MB fontawesome.js down to
   the icons its pages use). Each <i>/<span> with fa-* classes gets the icon as an inline SVG. */
(function () {
  "use strict";
  var ICONS = %s;
  function pack(cl) {
    if (cl.contains("fa-brands") || cl.contains("fab")) { return "fab"; }
    if (cl.contains("fa-regular") || cl.contains("far")) { return "far"; }
    return "fas";
  }
  function draw(el) {
    if (el.firstElementChild && el.firstElementChild.classList.contains("lemma-fa")) { return; }
    var p = pack(el.classList);
    for (var i = 0; i < el.classList.length; i++) {
      var c = el.classList[i];
      var d = c.indexOf("fa-") === 0 && (ICONS[p + ":" + c.slice(3)] || ICONS["fas:" + c.slice(3)]);
      if (d) {
        el.insertAdjacentHTML("afterbegin", '<svg class="lemma-fa" aria-hidden="true" focusable="false" ' +
          'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ' + d[0] + " " + d[1] + '"><path fill="currentColor" d="' +
          d[2] + '"/></svg>');
        return;
      }
    }
  }
  function run(root) {
    if (root.nodeType !== 1) { return; }
    if (root.matches("i[class*='fa-'], span[class*='fa-']")) { draw(root); }
    root.querySelectorAll("i[class*='fa-'], span[class*='fa-']").forEach(draw);
  }
  function start() {
    run(document.body);
    new MutationObserver(function (records) {
      records.forEach(function (r) { r.addedNodes.forEach(run); });
    }).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
"""


def subset_fontawesome(out: Path) -> int:
    """Replace _static/scripts/fontawesome.js by the icons the site uses; return its new size in bytes."""
    fa = out / "_static" / "scripts" / "fontawesome.js"
    if not fa.exists():
        return 0
    bundle = fa.read_text(encoding="utf-8")
    if "lemma-fa" in bundle:          # already cut down (an incremental build)
        return len(bundle.encode())
    used = set()
    for f in list(out.rglob("*.html")) + list((out / "_static").rglob("*.js")):
        if f != fa:
            used |= set(_FA_USED.findall(f.read_text(encoding="utf-8", errors="replace")))
    used -= _FA_NOT_ICONS
    packs = [(m.start(), m.group(1)) for m in _FA_PACK.finditer(bundle)]
    icons = {}
    for m in _FA_ICON.finditer(bundle):
        prefix = next((p for pos, p in packs if pos > m.start()), "fas")
        names = [m.group(1) or m.group(2)] + re.findall(r'"([a-z0-9-]+)"', m.group(5))
        for name in names:
            if name in used:
                icons.setdefault(f"{prefix}:{name}", [int(m.group(3)), int(m.group(4)), m.group(6)])
    text = FA_SCRIPT % json.dumps(icons, separators=(",", ":"), sort_keys=True)
    fa.write_text(text, encoding="utf-8")
    for extra in ("fontawesome.js.map", "fontawesome.js.LICENSE.txt"):
        if (fa.parent / extra).exists() and extra.endswith(".map"):
            (fa.parent / extra).unlink()
    for m in (out / "_static").rglob("*.map"):          # source maps: for the theme's developers only
        m.unlink()
    # the glyph of each of Font Awesome's 1,970 icons in the theme's CSS (--fa: "\f..."): the icons are SVGs now
    css = out / "_static" / "styles" / "pydata-sphinx-theme.css"
    if css.exists():
        text_css = css.read_text(encoding="utf-8")
        css.write_text(_FA_GLYPHS.sub("", text_css), encoding="utf-8")
    return len(text.encode())


def _practicals() -> set:
    return {p.name for p in (ROOT / "notebooks" / "student").glob("*.ipynb")}


def fix_downloads_and_launch_links(out: Path) -> None:
    """The .ipynb download of a notebook page is the committed notebook (no site-only cells; no answers:
    see ``for_learners`` and ``is_answer_output``); on a practical's page it is the student copy, and
    Binder and JupyterHub open the student copy."""
    import nbformat

    practicals = _practicals()
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        target = out / "_sources" / "notebooks" / nb_path.name
        if not target.parent.exists():
            continue
        if nb_path.name in practicals:
            shutil.copyfile(ROOT / "notebooks" / "student" / nb_path.name, target)
        else:                       # the committed notebook, less what the site leaves out (answers)
            nb = nbformat.read(nb_path, as_version=4)
            nb.cells = [c for c in nb.cells if for_learners(c)]
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs = [o for o in cell.outputs if not is_answer_output(o)]
            nbformat.write(nb, target)
        page = out / "notebooks" / (nb_path.stem + ".html")
        if nb_path.name not in practicals or not page.exists():
            continue
        text = page.read_text(encoding="utf-8")
        name = re.escape(nb_path.name)
        new = re.sub(rf"(urlpath=[^\"'&]*?notebooks)(/|%2F)({name})", r"\1\2student\2\3", text)
        new = new.replace('<span class="btn__text-container">.ipynb</span>',
                          '<span class="btn__text-container">Student copy (.ipynb)</span>')
        if new != text:
            page.write_text(new, encoding="utf-8")


_SEARCH_SCRIPTS = re.compile(r'\s*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|'
                             r'searchindex\.js)"></script>')


def search_index_on_search_page_only(out: Path) -> None:
    """The theme loads the search index (about 90 kB) on every page for a search-as-you-type box this site
    does not use; the header's search opens the search page, which loads it."""
    for page in out.rglob("*.html"):
        if page.relative_to(out).as_posix() in ("search.html",) or "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        new = _SEARCH_SCRIPTS.sub("", text)
        if new != text:
            page.write_text(new, encoding="utf-8")


_FIGCAPTION = re.compile(r"(<figure class=\"[^\"]*lemma-figure[^\"]*\"[^>]*>.*?)<figcaption>(.*?)</figcaption>", re.S)
_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.S)


_EMPTY_HEAD = re.compile(r'<th class="head">(?:<p></p>|\s)*</th>')


def tidy_pages(out: Path) -> None:
    """A figure's caption repeats its alt text: hide the caption from screen readers (they read the alt).
    Figures load when they come near the window (loading="lazy"), not all with the page. The empty
    corner cell of a Markdown table is not a header cell (an empty header says nothing to a screen reader)."""
    for page in out.rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        new = _EMPTY_HEAD.sub('<td class="head"></td>', text)
        # the sidebar (the site's title and the navigation) as a landmark, like the rest of the page
        new = new.replace('<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">',
                          '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar" role="complementary" '
                          'aria-label="Course navigation">')
        if new != text:
            page.write_text(new, encoding="utf-8")
    for page in (out / "notebooks").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = _FIGCAPTION.sub(lambda m: f'{m.group(1)}<figcaption aria-hidden="true">'
                                        f'{_HEADERLINK.sub("", m.group(2))}</figcaption>', text)
        new = re.sub(r'<img (?![^>]*\bloading=)(?=[^>]*src="\.\./_images/)', '<img loading="lazy" decoding="async" ', new)
        if new != text:
            page.write_text(new, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(BUILD / "html"), help="output folder (default site/_build/html)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    prepare_mathjax()
    missing = prepare_sources()
    for name, cid in missing:
        print(f"site/build.py: the figure of {name} cell {cid} has no alt text: write it in notebooks/alt_text.yaml "
              "and run python scripts/alt_text.py", file=sys.stderr)
    # the repository's address is written into the pages when they are read: one doctree cache per address
    repo = os.environ.get("LEMMA_REPOSITORY_URL", "").strip().rstrip("/")
    doctrees = BUILD / "doctrees" / (re.sub(r"[^A-Za-z0-9]+", "-", repo).strip("-")[-60:] or "no-repository")
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(SITE), "-d", str(doctrees),
           str(SRC), args.out]
    done = subprocess.run(cmd)
    if done.returncode != 0:
        return done.returncode
    out = Path(args.out)
    subset_fontawesome(out)
    fix_downloads_and_launch_links(out)
    tidy_pages(out)
    search_index_on_search_page_only(out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"site built in {time.perf_counter() - t0:.0f} s: {out} ({size / 1e6:.1f} MB); "
          f"open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
