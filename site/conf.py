"""Sphinx configuration of the course website (built by ``make site``, see ``site/build.py``).

The launch buttons on every notebook page are built from one setting, the
repository's public address (``REPOSITORY_URL`` below, or the environment
variable ``LEMMA_REPOSITORY_URL``): Binder builds the repository from its
``environment.yml``, and a JupyterHub pulls it into each learner's home folder
with nbgitpuller. The JupyterHub button appears when ``LEMMA_JUPYTERHUB_URL``
names the class's hub (for example ``https://hub.example.ac.uk``).
"""
import os
import re
import sys
from pathlib import Path, PurePosixPath

SITE = Path(__file__).resolve().parent
sys.path.insert(0, str(SITE.parent))          # lemma_helpers, for the API reference

# --- the one setting: where the repository is published ---------------------------------------
REPOSITORY_URL = os.environ.get("LEMMA_REPOSITORY_URL", "https://github.com/lemma-course/lemma-course")
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
nb_code_prompt_show = "Show code"
nb_code_prompt_hide = "Hide code"
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
suppress_warnings = ["mystnb.unknown_mime_type", "myst.xref_missing", "myst.header", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
html_static_path = ["_static", "_build/mathjax"]
html_css_files = ["lemma.css"]
html_js_files = ["quiz.js", "search-maths.js"]
html_show_sourcelink = False
html_last_updated_fmt = None
html_context = {"default_mode": "light"}
html_theme_options = {
    "repository_url": REPOSITORY_URL,
    "repository_branch": REPOSITORY_BRANCH,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {
        "binderhub_url": BINDERHUB_URL,
        "jupyterhub_url": JUPYTERHUB_URL,
        "notebook_interface": "jupyterlab",
    },
    "show_navbar_depth": 1,
    "home_page_in_toc": True,
}


# --- links from the repository's Markdown pages to files that are not pages of the site -------
# (data/README.md links to lemma_helpers/data/EXAM_NOTICE.md, say): they point at the file in the
# published repository instead of nowhere.
_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def _repository_links(app, docname, source):
    if not str(app.env.doc2path(docname)).endswith(".md"):
        return
    here = PurePosixPath(docname).parent
    srcdir = Path(app.srcdir)

    def fix(m):
        target, _, anchor = m.group(1).partition("#")
        rel = PurePosixPath(os.path.normpath(str(here / target))).as_posix()
        if rel.startswith("..") or (srcdir / rel).exists():
            return m.group(0)
        return f"]({REPOSITORY_URL}/blob/{REPOSITORY_BRANCH}/{rel}{'#' + anchor if anchor else ''})"

    source[0] = _LINK.sub(fix, source[0])


def setup(app):
    app.connect("source-read", _repository_links)
    # MathJax on every page, the search page included (its excerpts carry LaTeX: site/_static/search-maths.js)
    app.set_html_assets_policy("always")
