"""The course website in a real browser (issue 12).

A session fixture builds the site once with ``make site`` (which installs the
``site`` extra into .venv) into a temporary folder, serves it on 127.0.0.1 and
drives Debian's Chromium with Playwright for Python (``executable_path``; no
browser is downloaded). Every request that would leave 127.0.0.1 is blocked and
counted as a failure. Screenshots of three pages at desktop and phone widths go
to ``tests/artifacts/site/`` (git-ignored) for a person to look at.

The browser tests skip, with the reason shown as a warning in the summary, when
Chromium or the tools to build the site are missing (CI installs Chromium: see
``.ci/run``). ``test_repo2docker_accepts_the_repository`` runs wherever
``jupyter-repo2docker`` is installed (the ``site`` extra has it): a dry run
(``--no-build``) that needs no Docker.
"""
from __future__ import annotations

import functools
import http.server
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "site"
CHROMIUM = os.environ.get("LEMMA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HUB = "https://hub.example.org"
REPO = "https://github.com/lemma-course/lemma-course"


def _why_no_browser_tests() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set LEMMA_CHROMIUM)"
    if sys.version_info < (3, 11):
        return "the site's tools (Sphinx 9, the `site` extra) need Python 3.11 or newer"
    if shutil.which("make") is None:
        return "make is missing"
    if not (shutil.which("npm") or (ROOT / "site/_build/mathjax/mathjax/es5/tex-chtml.js").exists()
            or os.environ.get("LEMMA_MATHJAX_TGZ")):
        return "npm is missing, so the site build cannot fetch MathJax (apt-get install npm)"
    return ""


NO_BROWSER = _why_no_browser_tests()
if NO_BROWSER:   # a skip reason that `pytest -q` shows without -rs: the warnings summary
    warnings.warn(f"tests/test_site.py: the browser tests skip: {NO_BROWSER}", UserWarning, stacklevel=1)
browser_test = pytest.mark.skipif(bool(NO_BROWSER), reason=NO_BROWSER or "runs")


# --------------------------------------------------------------------------
# build, serve, browse
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "html"
    env = dict(os.environ, LEMMA_JUPYTERHUB_URL=HUB, LEMMA_REPOSITORY_URL=REPO)
    t0 = time.perf_counter()
    done = subprocess.run(["make", "--no-print-directory", "site", f"SITE_OUT={out}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"make site failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (out / "index.html").exists()
    # warnings of the build that matter to a reader (a broken page, an image not found)
    serious = [ln for ln in done.stderr.splitlines() if re.search(r"(ERROR|CRITICAL|image file not readable)", ln)]
    assert not serious, "\n".join(serious)
    print(f"site built in {time.perf_counter() - t0:.0f} s")
    return out


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser(server):
    importlib.invalidate_caches()            # playwright may have been installed by `make site` just now
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (make site installs the `site` extra)")
    profile = tempfile.mkdtemp(prefix="lemma-chromium-")
    pw = sync_playwright().start()
    context = pw.chromium.launch_persistent_context(
        profile, executable_path=shutil.which(CHROMIUM) or CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900}, service_workers="block")
    state = {"outside": []}

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            state["outside"].append(r.request.url)
            r.abort()

    context.route("**/*", route)
    yield context, state
    context.close()
    pw.stop()
    shutil.rmtree(profile, ignore_errors=True)


class Page:
    """A page opened in the browser, with the errors and outside requests seen while loading it."""

    def __init__(self, browser, server, path, width=1280, height=900):
        context, state = browser
        self.state = state
        self.errors = []
        self.page = context.new_page()
        self.page.set_viewport_size({"width": width, "height": height})
        self.page.on("pageerror", lambda exc: self.errors.append(f"JS error: {exc}"))
        self.page.on("console", lambda msg: self.errors.append(f"console {msg.type}: {msg.text}")
                     if msg.type == "error" else None)
        self.page.on("requestfailed", lambda req: self.errors.append(f"failed request {req.url}")
                     if urlparse(req.url).hostname == "127.0.0.1" else None)
        self.outside_before = len(state["outside"])
        self.page.goto(f"{server}/{path}", wait_until="load")
        self.page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)",
                                    timeout=20000)
        self.page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")

    @property
    def outside(self):
        return self.state["outside"][self.outside_before:]

    def close(self):
        self.page.close()


@pytest.fixture
def open_page(browser, server):
    pages = []

    def _open(path, **kw):
        p = Page(browser, server, path, **kw)
        pages.append(p)
        return p

    yield _open
    for p in pages:
        p.close()


def _pages(site):
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if "_static" not in p.parts)


# --------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------

_RAW_MATH_JS = """() => {
  const root = document.querySelector('article') || document.body;
  const clone = root.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml, textarea, .highlight')
       .forEach(e => e.remove());
  return clone.textContent;
}"""


@browser_test
def test_site_has_every_page(site):
    pages = _pages(site)
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{nb.stem}.html" in pages
    for page in ["index.html", "search.html", "api.html", "launch.html", "docs/GRADING.html", "docs/QUIZZES.html",
                 "data/README.html", "DATA_NOTICE.html", "data/EXAM_NOTICE.html", "licence.html"]:
        assert page in pages
    assert not any(p.startswith("notebooks/student/") for p in pages)   # downloads, not pages
    # every notebook and guide is in the navigation, in course order
    index = (site / "index.html").read_text(encoding="utf-8")
    order = [index.find(f'href="notebooks/{nb.stem}.html"') for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    assert -1 not in order and order == sorted(order)
    for guide in (ROOT / "docs").rglob("*.md"):
        assert f'href="{guide.relative_to(ROOT).with_suffix(".html").as_posix()}"' in index
    api = (site / "api.html").read_text(encoding="utf-8")
    for name in ["lemma_helpers.fit", "lemma_helpers.check", "lemma_helpers.plot_caterpillar"]:
        assert f'id="{name}"' in api


@browser_test
def test_every_page_loads_offline_with_figures_and_typeset_maths(site, open_page):
    problems = []
    for path in _pages(site):
        p = open_page(path)
        problems += [f"{path}: {e}" for e in p.errors]
        problems += [f"{path}: request leaving 127.0.0.1: {u}" for u in p.outside]
        images = p.page.evaluate("""() => Array.from(document.querySelectorAll('img')).map(i => (
            {src: i.getAttribute('src'), alt: i.getAttribute('alt') || '', w: i.naturalWidth, h: i.naturalHeight,
             shown: i.getBoundingClientRect().width, content: !!i.closest('article')}))""")
        for img in images:
            if img["w"] == 0 or img["h"] == 0:
                problems.append(f"{path}: image {img['src']} did not load")
            if img["content"]:
                if not img["alt"].strip() or re.search(r"\.(png|svg|jpe?g)$", img["alt"]):
                    problems.append(f"{path}: image {img['src']} has no alt text ({img['alt']!r})")
                if img["shown"] < 200:
                    problems.append(f"{path}: image {img['src']} is shown only {img['shown']} px wide")
        text = p.page.evaluate(_RAW_MATH_JS)
        for m in re.finditer(r"\\(frac|hat|sigma|beta|sum|sqrt|mathrm|text\{|\(|\[)|\$[^$\s][^$\n]{0,200}?\$", text):
            problems.append(f"{path}: untypeset maths {text[max(0, m.start() - 30):m.end() + 30]!r}")
        p.close()
    assert not problems, "\n".join(problems[:60])


@browser_test
def test_notebook_pages_have_maths_typeset(open_page):
    p = open_page("notebooks/02_comparing_groups.html")
    assert p.page.locator("article mjx-container").count() > 20


@browser_test
def test_hide_input_toggle(open_page):
    p = open_page("notebooks/02_comparing_groups.html")
    toggles = p.page.locator("details.hide.above-input")
    assert toggles.count() >= 3
    first = toggles.first
    code = first.locator("pre").first
    assert not code.is_visible()
    first.locator("summary").click()
    code.wait_for(state="visible", timeout=5000)
    assert "assert" in code.inner_text()
    first.locator("summary").click()
    code.wait_for(state="hidden", timeout=5000)


@browser_test
def test_quiz_on_the_page(open_page):
    p = open_page("notebooks/02_comparing_groups.html")
    page = p.page
    quiz = page.locator(".lemma-quiz-live[data-section='5.1']")
    assert quiz.count() == 1
    from lemma_helpers.quiz import quiz as bank_quiz
    assert quiz.locator(".lq-question").count() == len(bank_quiz("5.1").questions)
    # single choice: a wrong option shows its own feedback, the right one says correct
    q2 = quiz.locator(".lq-question").nth(1)
    q2.locator(".lq-option[data-label='a']").click()
    fb = q2.locator(".lq-option[data-label='a'] + .lq-option-feedback")
    fb.wait_for(state="visible", timeout=5000)
    assert "share of variance" in fb.inner_text()
    assert q2.locator(".lq-status").inner_text() == "Not quite."
    q2.locator(".lq-option[data-label='c']").click()
    assert q2.locator(".lq-status").inner_text() == "Correct!"
    assert not fb.is_visible()
    assert "correlation" in q2.locator(".lq-option[data-label='c'] + .lq-option-feedback").inner_text()
    # numeric: a known mistake gets its feedback, a value within the tolerance is accepted
    q1 = quiz.locator(".lq-question").nth(0)
    q1.locator(".lq-input").fill("0.1014")
    q1.locator(".lq-check").click()
    assert "total" in q1.locator(".lq-feedback").inner_text()
    q1.locator(".lq-input").fill("9.2")
    q1.locator(".lq-input").press("Enter")
    assert "percentage" in q1.locator(".lq-feedback").inner_text()
    assert "Hint" in q1.locator(".lq-feedback").inner_text()                     # second wrong try
    q1.locator(".lq-input").fill("0.0925")                                        # 0.0921 +- 0.001
    q1.locator(".lq-check").click()
    assert q1.locator(".lq-status").inner_text() == "Correct!"
    assert "0.97483" in q1.locator(".lq-feedback").inner_text()                    # the worked answer
    q1.locator(".lq-input").fill("0.0935")
    q1.locator(".lq-check").click()
    assert q1.locator(".lq-status").inner_text() == "Not quite."
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    quiz.locator(".lq-question").nth(1).screenshot(path=str(ARTIFACTS / "quiz-5.1-q2-after-answers.png"))
    q1.screenshot(path=str(ARTIFACTS / "quiz-5.1-q1-after-answers.png"))
    # maths in the feedback is typeset
    assert q1.locator(".lq-feedback mjx-container").count() + quiz.locator(".lq-prompt mjx-container").count() > 0
    assert not p.errors and not p.outside


@browser_test
def test_quiz_text_and_multiple_choice(open_page):
    p = open_page("notebooks/07_summary.html")
    quiz = p.page.locator(".lemma-quiz-live[data-section='5.6']")
    text = quiz.locator(".lq-question").nth(4)                        # 5.6.q5, a short text answer
    text.locator(".lq-input").fill("nested")
    text.locator(".lq-check").click()
    assert "Three levels need strict nesting" in text.locator(".lq-feedback").inner_text()
    text.locator(".lq-input").fill("Cross classified")               # case, spaces and hyphens do not matter
    text.locator(".lq-check").click()
    assert text.locator(".lq-status").inner_text() == "Correct!"
    multi = quiz.locator(".lq-question").nth(5)                       # 5.6.q6, choose all that apply
    from lemma_helpers.quiz import question
    key = question("5.6.q6")
    wrong = next(o.label for o in key.options if not o.correct)
    multi.locator(f".lq-option[data-label='{wrong}'] input").check()
    multi.locator(".lq-check").click()
    assert multi.locator(".lq-status").inner_text() == "Not quite."
    assert multi.locator(f".lq-option[data-label='{wrong}'] + .lq-option-feedback").is_visible()
    multi.locator(f".lq-option[data-label='{wrong}'] input").uncheck()
    for o in key.options:
        if o.correct:
            multi.locator(f".lq-option[data-label='{o.label}'] input").check()
    multi.locator(".lq-check").click()
    assert multi.locator(".lq-status").inner_text() == "Correct!"
    assert not p.errors and not p.outside


@browser_test
def test_every_quiz_section_is_on_a_page(site):
    from lemma_helpers.quiz import sections
    found = set()
    for path in (site / "notebooks").glob("*.html"):
        found |= set(re.findall(r"lemma-quiz-live mathjax_process' data-section='([^']+)'",
                                path.read_text(encoding="utf-8")))
    assert found == set(sections())


@browser_test
def test_search_finds_the_vpc(open_page):
    p = open_page("search.html?q=variance+partition+coefficient")
    p.page.wait_for_selector("#search-results li", timeout=30000)
    links = p.page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")
    assert any("02_comparing_groups" in h for h in links), links
    assert not p.errors and not p.outside


@browser_test
def test_navigation_launch_buttons_and_student_copy(open_page, server):
    p = open_page("notebooks/02_comparing_groups.html")
    prev = p.page.locator("a.left-prev").get_attribute("href")
    nxt = p.page.locator("a.right-next").get_attribute("href")
    assert prev.endswith("01_why_multilevel.html") and nxt.endswith("03_random_intercepts.html")
    hrefs = p.page.eval_on_selector_all("a", "els => els.map(e => e.href)")
    assert ("https://mybinder.org/v2/gh/lemma-course/lemma-course/main"
            "?urlpath=lab/tree/notebooks/02_comparing_groups.ipynb") in hrefs
    hub = [h for h in hrefs if h.startswith(f"{HUB}/hub/user-redirect/git-pull?")]
    assert hub and "urlpath=lab/tree/lemma-course/notebooks/02_comparing_groups.ipynb" in hub[0]
    assert f"repo={REPO.replace(':', '%3A')}" in hub[0]

    p8 = open_page("notebooks/08_p5_1_comparing_schools.html")
    link = p8.page.locator("a.download", has_text="student copy")
    assert link.count() == 1
    href = link.get_attribute("href")
    assert href.endswith("/08_p5_1_comparing_schools.ipynb")
    got = p8.page.request.get(f"{server}/notebooks/{href}")
    assert got.ok
    student = json.loads(got.text())
    assert student == json.loads((ROOT / "notebooks/student/08_p5_1_comparing_schools.ipynb").read_text(encoding="utf-8"))
    # solutions in the practical are collapsed behind a toggle
    assert p8.page.locator("details.hide.above-input").count() >= 5


@browser_test
@pytest.mark.parametrize("path, target", [("index.html", None),
                                          ("notebooks/02_comparing_groups.html", "article .cell_output img"),
                                          ("notebooks/08_p5_1_comparing_schools.html", "article .lemma-quiz")])
def test_screenshots_desktop_and_phone(open_page, path, target):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = path.replace("/", "_").removesuffix(".html")
    for label, (w, h) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
        p = open_page(path, width=w, height=h)
        if target:
            p.page.locator(target).first.scroll_into_view_if_needed()
        p.page.screenshot(path=str(ARTIFACTS / f"{stem}-{label}.png"))
        if label == "phone":
            # readable on a phone: no sideways scrolling of the page, body text at least 14 px
            overflow = p.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} scrolls sideways by {overflow} px at phone width"
            size = p.page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('article p')).fontSize)")
            assert size >= 14
        assert not p.errors and not p.outside


def test_repo2docker_accepts_the_repository():
    exe = shutil.which("jupyter-repo2docker") or str(Path(sys.executable).parent / "jupyter-repo2docker")
    if not Path(exe).exists():
        pytest.skip("jupyter-repo2docker is not installed (make site installs the `site` extra)")
    done = subprocess.run([exe, "--no-build", "--no-run", "--debug", str(ROOT)], capture_output=True, text=True,
                          timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    # the conda buildpack, from environment.yml at the top, with the repository copied in before the
    # environment is built (environment.yml installs the package itself with `pip install -e .`)
    assert 'env update -p ${NB_PYTHON_PREFIX} --file "environment.yml"' in out
    assert out.index("src/ ${REPO_DIR}/") < out.index('--file "environment.yml"')
