"""Sphinx configuration of the course website (built by ``make site``, see ``site/build.py``).

The launch buttons on every notebook page are built from one setting, the
repository's public address (the environment variable ``LEMMA_REPOSITORY_URL``):
Binder builds the repository from its ``environment.yml``, and a JupyterHub pulls
it into each learner's home folder with nbgitpuller. The JupyterHub button appears
when ``LEMMA_JUPYTERHUB_URL`` names the class's hub (for example
``https://hub.example.ac.uk``). Without a repository address the site has no
launch, repository or source buttons at all (never a made-up address), and links
to repository files that are not pages show the file's path as text.
"""
import os
import re
import sys
from pathlib import Path, PurePosixPath

SITE = Path(__file__).resolve().parent
sys.path.insert(0, str(SITE.parent))          # lemma_helpers, for the API reference

# --- the one setting: where the repository is published ---------------------------------------
REPOSITORY_URL = os.environ.get("LEMMA_REPOSITORY_URL", "").strip().rstrip("/")
REPOSITORY_BRANCH = os.environ.get("LEMMA_REPOSITORY_BRANCH", "main")
BINDERHUB_URL = os.environ.get("LEMMA_BINDERHUB_URL", "https://mybinder.org")
JUPYTERHUB_URL = os.environ.get("LEMMA_JUPYTERHUB_URL", "")

project = "lemma-course"
author = "lemma-course contributors"
copyright = "lemma-course contributors; code and text MIT, data under their own licences"
html_title = "Multilevel modelling in Python"

extensions = ["myst_nb", "sphinx.ext.autodoc", "numpydoc"]

# the pages show the committed outputs: nothing is executed
nb_execution_mode = "off"
nb_merge_streams = True
# the answer records of lh.check are for lemma-grade, not for readers
nb_mime_priority_overrides = [("html", "application/vnd.lemma.answer+json", None),
                              # a slider widget needs a kernel: its text says to move the sliders in
                              # JupyterLab, and the notebook shows a still picture of it next
                              ("html", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js = {}                       # no widget manager from a CDN
nb_code_prompt_show = "Show the code"
nb_code_prompt_hide = "Hide the code"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# MathJax from the npm package, unpacked by site/build.py into _build/mathjax: no CDN
mathjax_path = "mathjax/es5/tex-chtml.js"
mathjax3_config = {
    # (myst-parser sets options.processHtmlClass: MathJax reads only elements with class math,
    # mathjax_process, ...; site/build.py gives HTML outputs and quizzes that class)
    # $...$ too: the HTML outputs of lh.check (worked answers) carry LaTeX between dollar signs
    "tex": {"inlineMath": [["\\(", "\\)"], ["$", "$"]], "displayMath": [["\\[", "\\]"], ["$$", "$$"]],
            "processEscapes": True},
}

autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_validation_checks = set()

exclude_patterns = ["notebooks/student/**", "**/.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
# _build/generated: files written by site/build.py (the search terms of each page)
html_static_path = ["_static", "_build/mathjax", "_build/generated"]
html_css_files = ["lemma.css"]
html_js_files = ["quiz.js", "lemma.js", "search-maths.js"]
html_favicon = "_static/favicon.svg"
html_show_sourcelink = False
html_last_updated_fmt = None
html_context = {"default_mode": "light"}
# one search box (the header's), not a second one in the sidebar
html_sidebars = {"**": ["navbar-logo.html", "icon-links.html", "sbt-sidebar-nav.html"]}
html_theme_options = {
    "path_to_docs": "",
    "use_download_button": True,
    "use_fullscreen_button": False,
    "show_navbar_depth": 1,
    "home_page_in_toc": False,          # the sidebar's title already links to the home page
}
if REPOSITORY_URL:
    html_theme_options.update({
        "repository_url": REPOSITORY_URL,
        "repository_branch": REPOSITORY_BRANCH,
        "use_repository_button": True,
        "launch_buttons": {
            "binderhub_url": BINDERHUB_URL,
            "jupyterhub_url": JUPYTERHUB_URL,
            "notebook_interface": "jupyterlab",
        },
    })


# --- links from the repository's Markdown pages to files that are not pages of the site -------
# (data/README.md links to lemma_helpers/data/EXAM_NOTICE.md, say): they point at the file in the
# published repository instead of nowhere.
_LINK = re.compile(r"\[([^\]]*)\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def _repository_links(app, docname, source):
    if not str(app.env.doc2path(docname)).endswith(".md"):
        return
    here = PurePosixPath(docname).parent
    srcdir = Path(app.srcdir)

    def fix(m):
        text, (target, _, anchor) = m.group(1), m.group(2).partition("#")
        rel = PurePosixPath(os.path.normpath(str(here / target))).as_posix()
        if rel.startswith("..") or (srcdir / rel).exists():
            return m.group(0)
        if REPOSITORY_URL:
            return f"[{text}]({REPOSITORY_URL}/blob/{REPOSITORY_BRANCH}/{rel}{'#' + anchor if anchor else ''})"
        # no address to point at: the file's path as text, not a link to nowhere
        bare = text.strip("`")
        return f"`{rel}`" if bare in (rel, target, PurePosixPath(rel).name) else f"{text} (`{rel}`)"

    source[0] = _LINK.sub(fix, source[0])


# --- MathJax only on the pages that show maths --------------------------------------------------
# Sphinx loads it where the page has maths nodes; HTML outputs and quizzes carry LaTeX too, and the
# search page's excerpts may (site/_static/search-maths.js typesets them).
_LATEX = re.compile(r"\\\(|\\\[|\\begin\{|class=\"math")


def _maths_where_needed(app, pagename, templatename, context, doctree):
    if pagename == "search" or _LATEX.search(context.get("body", "") or ""):
        context["has_maths_elements"] = True
    if pagename == "search":
        app.builder.add_js_file("lemma-terms.js")


def setup(app):
    app.connect("source-read", _repository_links)
    app.connect("html-page-context", _maths_where_needed, priority=400)
