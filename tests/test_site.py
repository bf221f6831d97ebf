"""The course website in a real browser (issues 12 and 26).

A session fixture builds the site once with ``make site`` (which installs the
``site`` extra into .venv) into a temporary folder, serves it on 127.0.0.1 and
drives Debian's Chromium with Playwright for Python (``executable_path``; no
browser is downloaded). Every request that would leave 127.0.0.1 is blocked and
counted as a failure, and so is every answer of 400 or more (a missing favicon,
say). Screenshots of five pages at desktop and phone widths, light and dark, go
to ``tests/artifacts/site/`` (git-ignored) for a person to look at.

What is checked: every page and figure loads offline, with maths typeset; every
figure has the alt text written for it and a caption; result tables are spaced and
aligned; no page scrolls sideways at 1280 or 390 px; a quiz works from the
keyboard (arrows move, Enter or Check answers) and its text keeps its contrast in
light and dark mode; keys and worked answers are never in a page's text before an
answer earns them, and no stored verdict is shown; no button points at a made-up
address or hands out a solved practical; the instructor guide is not published;
internal anchors resolve; the search ranks and excerpts sensibly; page weight; and axe-core
(from its npm package) finds no accessibility problem on the pages of issue 26.

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
def site_without_repository(tmp_path_factory):
    """The site built with no repository address configured (the default)."""
    out = tmp_path_factory.mktemp("site-plain") / "html"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEMMA_") or k == "LEMMA_DATA_DIR"}
    done = subprocess.run(["make", "--no-print-directory", "site", f"SITE_OUT={out}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"make site failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
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

    def __init__(self, browser, server, path, width=1280, height=900, theme="light", cache=True):
        context, state = browser
        self.state = state
        self.errors = []
        self.bytes = 0
        self.urls = []
        self.page = context.new_page()
        self.page.set_viewport_size({"width": width, "height": height})
        self.page.add_init_script(f"localStorage.setItem('theme', '{theme}'); localStorage.setItem('mode', '{theme}');")
        self.page.on("response", self._response)
        if not cache:           # a first visit: nothing from the browser's cache
            cdp = self.page.context.new_cdp_session(self.page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
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

    def _response(self, resp):
        if urlparse(resp.url).hostname != "127.0.0.1":
            return
        if resp.status >= 400:
            self.errors.append(f"HTTP {resp.status} for {resp.url}")
        try:
            self.bytes += len(resp.body())
            self.urls.append((resp.url, len(resp.body())))
        except Exception:       # a redirect or an aborted request has no body
            pass

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
# helpers
# --------------------------------------------------------------------------

def _build_module():
    spec = importlib.util.spec_from_file_location("lemma_site_build", ROOT / "site" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _notebook_alt_texts(path: Path) -> list:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [" ".join(str(c.get("metadata", {}).get("lemma", {}).get("alt", "")).split())
            for c in nb["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if "image/png" in o.get("data", {})]


_RAW_MATH_JS = """() => {
  const root = document.querySelector('article') || document.body;
  const clone = root.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml, textarea, .highlight')
       .forEach(e => e.remove());
  return clone.textContent;
}"""

# WCAG contrast of an element's text against the first opaque background behind it
_CONTRAST_JS = """(el) => {
  function rgb(s) { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(x => parseFloat(x)); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; }
  function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); }
  let bg = null, e = el;
  while (e && e.nodeType === 1) { const c = rgb(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) { bg = c; break; } e = e.parentElement; }
  if (!bg) bg = {r: 255, g: 255, b: 255};
  const fg = rgb(getComputedStyle(el).color);
  const a = lum(fg), b = lum(bg);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


# --------------------------------------------------------------------------
# the pages
# --------------------------------------------------------------------------

@browser_test
def test_site_has_every_page(site):
    pages = _pages(site)
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{nb.stem}.html" in pages
    for page in ["index.html", "search.html", "api.html", "launch.html", "docs/GRADING.html", "docs/QUIZZES.html",
                 "data/README.html", "DATA_NOTICE.html", "data/EXAM_NOTICE.html", "licence.html"]:
        assert page in pages
    assert not any(p.startswith("notebooks/student/") for p in pages)   # downloads, not pages
    # every notebook and guide is in the navigation, in course order, numbered one way ("5.1 ...")
    index = (site / "index.html").read_text(encoding="utf-8")
    order = [index.find(f'href="notebooks/{nb.stem}.html"') for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    assert -1 not in order and order == sorted(order)
    nav = re.findall(r'<li class="toctree-l1[^"]*"><a class="reference internal" href="notebooks/[^"]+">([^<]+)</a>', index)
    assert len(set(nav)) == len(order)
    assert not [t for t in nav if re.match(r"[CP]\d", t)], nav             # no "C5.1" next to "5.0"
    for guide in (ROOT / "docs").rglob("*.md"):
        if guide.name == "INSTRUCTOR_GUIDE.md":
            continue
        assert f'href="{guide.relative_to(ROOT).with_suffix(".html").as_posix()}"' in index
    # the home page's title once in the sidebar (no home link repeating it), one search box
    assert "bd-sidenav__home-link" not in index
    assert index.count("search-button-field") <= 2          # the header's (desktop and phone layouts)
    api = (site / "api.html").read_text(encoding="utf-8")
    for name in ["lemma_helpers.fit", "lemma_helpers.check", "lemma_helpers.plot_caterpillar"]:
        assert f'id="{name}"' in api


@browser_test
def test_instructor_guide_is_not_published(site):
    """docs/INSTRUCTOR_GUIDE.md lists every quiz key: no page, no search entry, no link on the site."""
    assert not (site / "docs" / "INSTRUCTOR_GUIDE.html").exists()
    assert "INSTRUCTOR_GUIDE" not in (site / "searchindex.js").read_text(encoding="utf-8")
    for page in site.rglob("*.html"):
        for href in re.findall(r'href="([^"]*INSTRUCTOR_GUIDE[^"]*)"', page.read_text(encoding="utf-8")):
            assert href.startswith(REPO), (page, href)       # only a link to the file in the repository


@browser_test
def test_every_page_loads_offline_with_figures_and_typeset_maths(site, open_page):
    problems = []
    for path in _pages(site):
        p = open_page(path)
        problems += [f"{path}: {e}" for e in p.errors]
        problems += [f"{path}: request leaving 127.0.0.1: {u}" for u in p.outside]
        p.page.evaluate("""() => Promise.all(Array.from(document.images).map(i => {
            i.loading = 'eager'; return i.complete ? null : new Promise(r => { i.onload = i.onerror = r; }); }))""")
        images = p.page.evaluate("""() => Array.from(document.querySelectorAll('img')).map(i => (
            {src: i.getAttribute('src'), alt: i.getAttribute('alt') || '', w: i.naturalWidth, h: i.naturalHeight,
             shown: i.getBoundingClientRect().width, content: !!i.closest('article'),
             caption: (i.closest('figure') && i.closest('figure').querySelector('figcaption')) ?
                      i.closest('figure').querySelector('figcaption').textContent.trim() : ''}))""")
        for img in images:
            if img["w"] == 0 or img["h"] == 0:
                problems.append(f"{path}: image {img['src']} did not load")
            if img["content"]:
                if not img["alt"].strip() or re.search(r"\.(png|svg|jpe?g)$", img["alt"]):
                    problems.append(f"{path}: image {img['src']} has no alt text ({img['alt']!r})")
                if img["shown"] < 200:
                    problems.append(f"{path}: image {img['src']} is shown only {img['shown']} px wide")
        if path.startswith("notebooks/"):
            # each figure: the alt text written for it in the notebook, shown as its caption too
            wanted = _notebook_alt_texts(ROOT / "notebooks" / (Path(path).stem + ".ipynb"))
            got = [" ".join(i["alt"].split()) for i in images if i["content"]]
            if got != wanted:
                problems.append(f"{path}: alt texts {got} are not the notebook's {wanted}")
            for i in images:       # (the caption's Markdown has typographic quotes)
                if i["content"] and " ".join(i["alt"].split()) not in " ".join(i["caption"].replace("\u2019", "'").split()):
                    problems.append(f"{path}: image {i['src']} has no caption with its description")
        text = p.page.evaluate(_RAW_MATH_JS)
        for m in re.finditer(r"\\(frac|hat|sigma|beta|sum|sqrt|mathrm|text\{|\(|\[)|\$[^$\s][^$\n]{0,200}?\$", text):
            problems.append(f"{path}: untypeset maths {text[max(0, m.start() - 30):m.end() + 30]!r}")
        p.close()
    assert not problems, "\n".join(problems[:60])


@browser_test
def test_every_figure_has_alt_text_written_for_it():
    """In the notebooks' metadata (scripts/alt_text.py), not generated from the text around the figure."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "alt_text.py"), "--check"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for alt in _notebook_alt_texts(nb):
            assert 60 <= len(alt) <= 700, (nb.name, alt)


@browser_test
def test_notebook_pages_have_maths_typeset(open_page):
    p = open_page("notebooks/02_comparing_groups.html")
    assert p.page.locator("article mjx-container").count() > 20


@browser_test
def test_no_page_scrolls_sideways(site, browser, server):
    """At 1280 and 390 px no page is wider than the window (wide tables, figures, maths and code scroll
    inside their own box)."""
    context, _ = browser
    problems = []
    for width, height in ((1280, 900), (390, 844)):
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        for path in _pages(site):
            page.goto(f"{server}/{path}", wait_until="load")
            page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            if wide > width + 1:
                culprit = page.evaluate("""(w) => { let worst = null;
                    document.querySelectorAll('article *').forEach(e => { const r = e.getBoundingClientRect();
                      if (r.right > w + 1 && (!worst || r.right > worst[1])) worst = [e.tagName + '.' + e.className, r.right]; });
                    return worst; }""", width)
                problems.append(f"{path} is {wide} px wide at {width} px ({culprit})")
        page.close()
    assert not problems, "\n".join(problems)


@browser_test
def test_result_tables_are_spaced_and_aligned(open_page):
    """The lh.fit table: its numbers right-aligned with room between the columns, the table at the left
    of the text (not floating in the middle)."""
    p = open_page("notebooks/02_comparing_groups.html")
    table = p.page.locator("article div.cell_output table").first
    table.scroll_into_view_if_needed()
    cells = table.evaluate("""(t) => {
      const row = Array.from(t.querySelectorAll('tr')).find(r => r.textContent.includes('Intercept'));
      return Array.from(row.children).map(c => {
        const range = document.createRange(); range.selectNodeContents(c);
        const text = range.getBoundingClientRect(), cs = getComputedStyle(c);
        return {text: c.textContent.trim(), left: text.left, right: text.right, align: cs.textAlign,
                pad: parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight)}; });
    }""")
    values = [c for c in cells if c["text"]]
    assert [c["text"] for c in values][:5] == ["Intercept", "-0.2032", "0.0672", "-3.02", "0.0025"]
    for a, b in zip(values, values[1:]):
        assert b["left"] - a["right"] >= 12, f"{a['text']!r} and {b['text']!r} are {b['left'] - a['right']:.0f} px apart"
    assert all(c["align"] in ("right", "end") for c in values[1:])
    assert all(c["pad"] >= 12 for c in values)
    offset = p.page.evaluate("""(t) => t.getBoundingClientRect().left -
        t.closest('article').querySelector('p').getBoundingClientRect().left""", table.element_handle())
    assert abs(offset) <= 8, f"the table starts {offset:.0f} px from the text's left edge"
    # no empty header cells in the pages' tables
    empty = p.page.evaluate("""() => Array.from(document.querySelectorAll('article th'))
        .filter(th => !th.textContent.trim()).map(th => th.closest('table').outerHTML.slice(0, 300))""")
    assert not empty, empty


@browser_test
def test_hide_input_toggles_say_what_they_hold(open_page):
    p = open_page("notebooks/02_comparing_groups.html")
    toggles = p.page.locator("details.hide.above-input")
    assert toggles.count() >= 3
    first = toggles.first
    code = first.locator("pre").first
    assert not code.is_visible()
    assert first.locator("summary").inner_text().strip().startswith("Show the check")
    first.locator("summary").click()
    code.wait_for(state="visible", timeout=5000)
    assert "assert" in code.inner_text()
    first.locator("summary").click()
    code.wait_for(state="hidden", timeout=5000)
    p10 = open_page("notebooks/10_p5_3_random_slopes.html")
    labels = p10.page.eval_on_selector_all("details.hide.above-input summary", "els => els.map(e => e.innerText.trim())")
    assert labels and not [t for t in labels if t.startswith(("Show code", "Show the code"))], labels
    assert any(t.startswith("Show the solution") for t in labels) and any(t.startswith("Show the check") for t in labels)
    # code blocks have a copy button
    assert p10.page.locator("article div.highlight button.lemma-copy").count() >= 10


# --------------------------------------------------------------------------
# the quizzes
# --------------------------------------------------------------------------

def _status(q):
    return q.locator(".lq-status").inner_text() if q.locator(".lq-status").count() else ""


@browser_test
def test_quiz_on_the_page(open_page):
    p = open_page("notebooks/02_comparing_groups.html")
    page = p.page
    quiz = page.locator(".lemma-quiz-live[data-section='5.1']")
    assert quiz.count() == 1
    from lemma_helpers.quiz import quiz as bank_quiz
    assert quiz.locator(".lq-question").count() == len(bank_quiz("5.1").questions)
    # the quiz heading follows the page's h2 section
    assert quiz.locator("h3.lq-title").count() == 1 and quiz.locator("h4").count() == 0
    # single choice: a fieldset with a legend; choosing answers nothing, Check does
    q2 = quiz.locator(".lq-question").nth(1)
    assert q2.locator("fieldset legend").count() == 1 and "VPC" in q2.locator("legend").inner_text()
    q2.locator(".lq-option[data-label='a']").click()
    assert _status(q2) == ""
    q2.locator(".lq-check").click()
    feedback = q2.locator(".lq-feedback")
    assert feedback.get_attribute("role") == "status"
    assert _status(q2) == "Not quite." and "share of variance" in feedback.inner_text()   # in the live region
    q2.locator(".lq-option[data-label='c']").click()
    q2.locator(".lq-check").click()
    assert _status(q2) == "Correct!"
    assert "correlation" in feedback.inner_text() and "Worked answer" in feedback.inner_text()
    # numeric: a known mistake gets its feedback, a value within the tolerance is accepted
    q1 = quiz.locator(".lq-question").nth(0)
    q1.locator(".lq-input").fill("0.1014")
    q1.locator(".lq-check").click()
    assert "total" in q1.locator(".lq-feedback").inner_text()
    q1.locator(".lq-input").fill("9.2")
    q1.locator(".lq-input").press("Enter")
    assert "percentage" in q1.locator(".lq-feedback").inner_text()
    assert "Hint" in q1.locator(".lq-feedback").inner_text()                     # second wrong try
    assert "Worked answer" not in q1.locator(".lq-feedback").inner_text()
    q1.locator(".lq-input").fill("0.0922")                                        # 0.0921 +- 0.0002
    q1.locator(".lq-check").click()
    assert _status(q1) == "Correct!"
    assert "0.97483" in q1.locator(".lq-feedback").inner_text()                    # the worked answer
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    q2.screenshot(path=str(ARTIFACTS / "quiz-5.1-q2-after-answers.png"))
    q1.screenshot(path=str(ARTIFACTS / "quiz-5.1-q1-after-answers.png"))
    assert q1.locator(".lq-feedback mjx-container").count() + quiz.locator(".lq-prompt mjx-container").count() > 0
    assert not p.errors and not p.outside


@browser_test
def test_quiz_by_keyboard(open_page):
    """Arrow keys move through the options without answering or using tries; Enter answers."""
    p = open_page("notebooks/02_comparing_groups.html")
    q = p.page.locator(".lemma-quiz-live[data-section='5.1'] .lq-question").nth(1)      # 5.1.q2, answer c
    radio_a = q.locator("input[value='a']")
    radio_a.focus()
    p.page.keyboard.press("Space")
    assert radio_a.is_checked() and _status(q) == ""
    for label in "bcd":
        p.page.keyboard.press("ArrowDown")
        assert q.locator(f"input[value='{label}']").is_checked()
        assert _status(q) == "", f"moving to option {label} answered the question"
    p.page.keyboard.press("ArrowUp")                                   # back to c
    assert q.locator("input[value='c']").is_checked()
    p.page.keyboard.press("Enter")
    assert _status(q) == "Correct!"
    # a wrong answer by keyboard: the first try, not the fourth
    q3 = p.page.locator(".lemma-quiz-live[data-section='5.1'] .lq-question").nth(2)
    q3.locator("input[value='a']").focus()
    p.page.keyboard.press("Space")
    p.page.keyboard.press("ArrowDown")
    p.page.keyboard.press("ArrowDown")
    p.page.keyboard.press("ArrowUp")
    chosen = q3.evaluate("q => q.querySelector('input:checked').value")
    p.page.keyboard.press("Enter")
    from lemma_helpers.quiz import question
    right = sorted(question("5.1.q3").key.correct)
    if chosen in right:
        assert _status(q3) == "Correct!"
    else:
        assert _status(q3) == "Not quite." and "Hint" not in q3.locator(".lq-feedback").inner_text()
    # Tab reaches the Check button, and Enter on it checks
    q.locator("input[value='c']").focus()
    p.page.keyboard.press("Tab")
    assert p.page.evaluate("() => document.activeElement.className") == "lq-check"
    assert not p.errors


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
    assert _status(text) == "Correct!"
    multi = quiz.locator(".lq-question").nth(5)                       # 5.6.q6, choose all that apply
    from lemma_helpers.quiz import question
    key = question("5.6.q6")
    wrong = next(o for o in key.options if not o.correct)
    multi.locator(f".lq-option[data-label='{wrong.label}'] input").check()
    assert _status(multi) == ""                                        # ticking a box answers nothing
    multi.locator(".lq-check").click()
    assert _status(multi) == "Not quite."
    assert wrong.feedback.split()[0] in multi.locator(".lq-feedback").inner_text()
    multi.locator(f".lq-option[data-label='{wrong.label}'] input").uncheck()
    for o in key.options:
        if o.correct:
            multi.locator(f".lq-option[data-label='{o.label}'] input").check()
    multi.locator(".lq-check").click()
    assert _status(multi) == "Correct!"
    assert not p.errors and not p.outside


@browser_test
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_quiz_contrast(open_page, theme):
    """WCAG AA (4.5:1) for the quiz's title, text, inline code, options, Check button and feedback."""
    p = open_page("notebooks/02_comparing_groups.html", theme=theme)
    assert p.page.evaluate("() => document.documentElement.dataset.theme") == theme
    quiz = p.page.locator(".lemma-quiz-live[data-section='5.1']")
    q2 = quiz.locator(".lq-question").nth(1)
    q2.locator("input[value='a']").check()
    q2.locator(".lq-check").click()
    low = []
    for sel in [".lq-title", ".lq-intro", ".lq-intro code", ".lq-intro kbd", ".lq-id", ".lq-kind", ".lq-legend",
                ".lq-text", ".lq-check", ".lq-status", ".lq-feedback > div p"]:
        el = quiz.locator(sel).first
        ratio = el.evaluate(_CONTRAST_JS)
        if ratio < 4.5:
            low.append(f"{sel}: {ratio:.2f}")
    q3 = quiz.locator(".lq-question").nth(3)                    # a right answer: its status and worked answer
    from lemma_helpers.quiz import question
    q3.locator(f"input[value='{sorted(question('5.1.q4').key.correct)[0]}']").check()
    q3.locator(".lq-check").click()
    assert _status(q3) == "Correct!"
    for sel in [".lq-status", ".lq-feedback > div.lq-worked p"]:
        ratio = q3.locator(sel).first.evaluate(_CONTRAST_JS)
        if ratio < 4.5:
            low.append(f"right answer {sel}: {ratio:.2f}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    q2.screenshot(path=str(ARTIFACTS / f"quiz-5.1-q2-{theme}.png"))
    q3.screenshot(path=str(ARTIFACTS / f"quiz-5.1-q4-{theme}.png"))
    assert not low, f"{theme} mode: " + ", ".join(low)


@browser_test
def test_every_quiz_section_is_on_a_page(site):
    from lemma_helpers.quiz import sections
    found = set()
    for path in (site / "notebooks").glob("*.html"):
        found |= set(re.findall(r"lemma-quiz-live mathjax_process' data-section='([^']+)'",
                                path.read_text(encoding="utf-8")))
    assert found == set(sections())


@browser_test
def test_no_answer_is_shown_before_it_is_earned(site, open_page):
    """No page's source holds a readable key, option feedback or worked answer (they are in data-key,
    obfuscated), no stored lh.check verdict or answer record is shown, and a page as loaded shows no
    'Worked answer' anywhere."""
    build = _build_module()
    from lemma_helpers.quiz import quiz as bank_quiz, sections
    sources = {p: p.read_text(encoding="utf-8") for p in site.rglob("*.html")}
    everything = "\n".join(sources.values())
    for path, text in sources.items():
        assert "Worked answer" not in text, f"{path}: 'Worked answer' in the page's source"
        if path.parent.name == "notebooks":
            assert "application/vnd.lemma.answer+json" not in text, path
        assert not re.search(r"\.q\d+</strong>: (correct|not correct)|Answer to \S+ recorded", text), path
    for section in sections():
        for q in bank_quiz(section).questions:
            m = re.search(rf"data-id='{re.escape(q.id)}' data-key='([^']+)'", everything)
            assert m, q.id
            data = build.quiz_payload_decode(q.id, m.group(1))
            if q.type in ("single", "multiple"):
                assert sorted(data["correct"]) == sorted(q.key.correct)
            plain = re.sub(r"[$`*]", "", q.key.explanation or "").split(".")[0][:60]
            if len(plain) > 25:
                assert plain not in everything, f"{q.id}: worked answer readable in a page"
            for o in q.options:
                fb = re.sub(r"\$[^$]*\$|[`*]", "", o.feedback or "")[:50]
                if len(fb) > 30:
                    assert html_escape(fb) not in everything and fb not in everything, f"{q.id} {o.label}: feedback readable"
    for path in ["notebooks/02_comparing_groups.html", "notebooks/10_p5_3_random_slopes.html"]:
        p = open_page(path)
        assert "Worked answer" not in p.page.inner_text("body")
        assert "\u2714" not in p.page.inner_text("article")            # no stored "correct" verdict mark


def html_escape(s):
    import html
    return html.escape(s, quote=False)


# --------------------------------------------------------------------------
# launch and download buttons
# --------------------------------------------------------------------------

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
    # the concept notebook's download: the committed notebook, without site-only cells or answer records
    download = [h for h in hrefs if h.endswith("_sources/notebooks/02_comparing_groups.ipynb")]
    assert download
    got = json.loads(p.page.request.get(download[0]).text())
    committed = json.loads((ROOT / "notebooks/02_comparing_groups.ipynb").read_text(encoding="utf-8"))
    build = _build_module()
    assert [c["source"] for c in got["cells"]] == [c["source"] for c in committed["cells"] if build.for_learners(c)]
    assert not [c for c in got["cells"] if c["cell_type"] == "code" and build._CHECK_WITH_ANSWER.search(
        "".join(c["source"]))]
    assert "lemma-quiz-live" not in json.dumps(got) and "application/vnd.lemma.answer+json" not in json.dumps(got)
    assert "lemma-site-student-copy" not in json.dumps(got)

    p10 = open_page("notebooks/10_p5_3_random_slopes.html")
    student = json.loads((ROOT / "notebooks/student/10_p5_3_random_slopes.ipynb").read_text(encoding="utf-8"))
    hrefs = p10.page.eval_on_selector_all("a", "els => els.map(e => e.href)")
    launch = [h for h in hrefs if "mybinder.org" in h or h.startswith(HUB)]
    assert len(launch) == 2
    assert all(re.search(r"notebooks(/|%2F)student(/|%2F)10_p5_3_random_slopes\.ipynb", h) for h in launch), launch
    downloads = [h for h in hrefs if h.endswith(".ipynb") and h.startswith(server)]
    assert downloads
    for h in downloads:             # the header's download and the tip's: both the student copy
        assert json.loads(p10.page.request.get(h).text()) == student, h
    assert "Student copy" in p10.page.locator("a.btn", has_text=".ipynb").first.inner_text()
    # solutions in the practical are collapsed behind a toggle
    assert p10.page.locator("details.hide.above-input").count() >= 5


@browser_test
def test_no_practical_page_hands_out_its_solutions(site):
    """On every practical's page, the download and both launch buttons give the student copy."""
    practicals = sorted((ROOT / "notebooks" / "student").glob("*.ipynb"))
    assert practicals
    for student in practicals:
        page = (site / "notebooks" / f"{student.stem}.html").read_text(encoding="utf-8")
        downloaded = site / "_sources" / "notebooks" / student.name
        assert json.loads(downloaded.read_text(encoding="utf-8")) == json.loads(student.read_text(encoding="utf-8"))
        launch = [h for h in re.findall(r'href="([^"]+)"', page) if "mybinder.org" in h or h.startswith(HUB)]
        assert len(launch) == 2, (student.name, launch)
        for href in launch:
            assert re.search(rf"notebooks(/|%2F)student(/|%2F){re.escape(student.name)}", href), href


@browser_test
def test_no_made_up_address_without_a_repository(site_without_repository):
    """Built without LEMMA_REPOSITORY_URL: no launch, repository or source button, and no link to a
    repository that nobody configured."""
    for page in site_without_repository.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for href in re.findall(r'href="(https?://[^"]+)"', text):
            assert "lemma-course/lemma-course" not in href, (page, href)
            assert "mybinder.org/v2" not in href and "git-pull?" not in href, (page, href)
        assert "source-repository-button" not in text and "launch-buttons" not in text, page
    practical = site_without_repository / "_sources" / "notebooks" / "10_p5_3_random_slopes.ipynb"
    assert json.loads(practical.read_text(encoding="utf-8")) == json.loads(
        (ROOT / "notebooks/student/10_p5_3_random_slopes.ipynb").read_text(encoding="utf-8"))


@browser_test
def test_internal_anchors_resolve(site):
    ids = {}
    pages = {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8") for p in site.rglob("*.html")
             if "_static" not in p.parts}
    for rel, text in pages.items():
        ids[rel] = set(re.findall(r'\bid="([^"]+)"', text))
    broken = []
    for rel, text in pages.items():
        for href in re.findall(r'href="([^"]*#[^"]+)"', text):
            if href.startswith(("http:", "https:", "mailto:")):
                continue
            target, frag = href.split("#", 1)
            page = (Path(rel).parent / target).as_posix() if target else rel
            page = os.path.normpath(page).replace(os.sep, "/")
            if page in ids and frag not in ids[page]:
                broken.append(f"{rel}: {href}")
    assert not broken, "\n".join(broken[:30])


@browser_test
def test_web_pages_are_edited_for_the_web(site, open_page):
    """No notebook machinery on the pages: no '# NBVAL_' markers, no 'double-click the cell', no
    literal asterisks around the time estimate."""
    for page in (site / "notebooks").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "NBVAL_" not in text, page.name
        assert "ouble-click the cell" not in text, page.name
    p = open_page("notebooks/02_comparing_groups.html")
    first = p.page.locator("article p", has_text="About ").first.inner_text()
    assert first.startswith("Time:") and "*" not in first
    assert p.page.locator("article p em", has_text="About ").count() == 1


# --------------------------------------------------------------------------
# search, weight, phones, screenshots
# --------------------------------------------------------------------------

@browser_test
def test_search_finds_the_vpc(open_page):
    p = open_page("search.html?q=variance+partition+coefficient")
    p.page.wait_for_selector("#search-results li", timeout=30000)
    links = p.page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")
    assert any("02_comparing_groups" in h for h in links), links
    assert not p.errors and not p.outside
    p = open_page("search.html?q=VPC")
    p.page.wait_for_selector("#search-results li p.context", timeout=30000)
    p.page.wait_for_timeout(1500)
    links = p.page.eval_on_selector_all("#search-results li > a", "els => els.map(e => e.getAttribute('href'))")
    ranked = [h.split("?")[0].split("#")[0] for h in links]
    assert "notebooks/02_comparing_groups.html" in ranked[:3], ranked
    assert "notebooks/08_p5_1_comparing_schools.html" in ranked[:8], ranked
    excerpts = " ".join(p.page.eval_on_selector_all("#search-results p.context", "els => els.map(e => e.textContent)"))
    for theme_text in ["Skip to main content", "Back to top", "Ctrl+K", ".ipynb", "Contents"]:
        assert theme_text not in excerpts, theme_text


# bytes a first visit loads (the window's figures only: the others load when scrolled to), measured in
# the browser; before issue 26 every page loaded about 3.6 MB (Font Awesome 1.56 MB, MathJax 1.16 MB)
WEIGHT_LIMIT = {"no maths": 800_000, "maths": 2_200_000}
# the page and every file it loaded, with their sizes (decoded, as served here without compression)
PAGE_WEIGHT_JS = """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
    .map(e => [e.name, e.decodedBodySize || 0])"""


@browser_test
def test_page_weight(site, open_page):
    problems, report = [], []
    for path in ["index.html", "data/README.html", "api.html", "launch.html", "notebooks/00_start.html",
                 "notebooks/02_comparing_groups.html", "notebooks/10_p5_3_random_slopes.html",
                 "notebooks/13_p5_6_exam_practice.html"]:
        p = open_page(path, cache=False)
        p.page.wait_for_load_state("networkidle")
        p.page.wait_for_timeout(500)
        loaded = p.page.evaluate(PAGE_WEIGHT_JS)
        total = sum(n for _, n in loaded)
        maths = any("mathjax" in u for u, _ in loaded)
        limit = WEIGHT_LIMIT["maths" if maths else "no maths"]
        report.append(f"{path}: {total:,} bytes in {len(loaded)} files{' (MathJax)' if maths else ''}")
        if total > limit:
            problems.append(f"{path} loads {total:,} bytes (limit {limit:,})")
        fa = sum(n for u, n in loaded if "fontawesome" in u)
        if fa > 30_000:
            problems.append(f"{path} loads {fa:,} bytes of Font Awesome")
        if maths and not p.page.locator("article mjx-container").count():
            problems.append(f"{path} loads MathJax but shows no maths")
        p.close()
    print("\n".join(report))
    assert not problems, "\n".join(problems + report)


AXE_VERSION = "4.10.2"


@pytest.fixture(scope="session")
def axe_source():
    """axe-core's axe.min.js from the npm package (npm's cache first), as the build gets MathJax."""
    import tarfile
    cache = ROOT / "site" / "_build" / "npm"
    tgz = cache / f"axe-core-{AXE_VERSION}.tgz"
    if not tgz.exists():
        cache.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is missing: axe-core comes from its npm package")
        done = subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--prefer-offline", "--silent",
                               "--pack-destination", str(cache)], capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not tgz.exists():
            pytest.skip(f"npm could not fetch axe-core {AXE_VERSION}: {done.stderr.strip()[-300:]}")
    with tarfile.open(tgz) as tar:
        return tar.extractfile("package/axe.min.js").read().decode("utf-8")


@browser_test
def test_axe_finds_no_accessibility_problem(open_page, axe_source):
    """axe-core (WCAG 2.1 A and AA and best practice) on the pages of the issue, light and dark, with a quiz
    answered wrongly and rightly (its feedback in the live region): every page at the desktop width, and the
    quiz page at the phone's too (its layout changes most; an axe run on a long page takes seconds, and
    the phone widths of the other pages are checked for sideways scrolling and screenshots above)."""
    problems = []
    runs = [(w, path) for w in (1280, 390) for path in _SCREENSHOT_PAGES + ["search.html?q=VPC"]
            if w == 1280 or "02_comparing" in path]
    for theme in ("light", "dark"):
        for width, path in runs:
            p = open_page(path, width=width, theme=theme)
            if path.startswith("search"):
                p.page.wait_for_selector("#search-results li p.context", timeout=30000)
            if "02_comparing" in path:
                q = p.page.locator(".lemma-quiz-live .lq-question").nth(1)
                q.locator("input[value='a']").check()
                q.locator(".lq-check").click()
                q = p.page.locator(".lemma-quiz-live .lq-question").nth(0)
                q.locator(".lq-input").fill("0.0921")
                q.locator(".lq-check").click()
            p.page.wait_for_timeout(300)
            p.page.add_script_tag(content=axe_source)
            result = p.page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})""")
            for v in result["violations"]:
                problems.append(f"{theme} {width} {path}: {v['id']} ({v['impact']}, {len(v['nodes'])} elements, "
                                f"first {v['nodes'][0]['target']})")
            p.close()
    assert not problems, "\n".join(problems)


_SCREENSHOT_PAGES = ["index.html", "notebooks/02_comparing_groups.html", "notebooks/10_p5_3_random_slopes.html",
                     "data/README.html", "api.html"]


@browser_test
@pytest.mark.parametrize("path", _SCREENSHOT_PAGES)
def test_screenshots_desktop_and_phone(open_page, path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = path.replace("/", "_").removesuffix(".html")
    for theme in ("light", "dark"):
        for label, (w, h) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
            p = open_page(path, width=w, height=h, theme=theme)
            p.page.screenshot(path=str(ARTIFACTS / f"{stem}-{label}-{theme}.png"))
            if label == "phone":
                overflow = p.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 1, f"{path} scrolls sideways by {overflow} px at phone width"
                size = p.page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('article p')).fontSize)")
                assert size >= 14
                # a title takes at most three lines
                lines = p.page.evaluate("""() => { const h = document.querySelector('article h1');
                    return h.getBoundingClientRect().height / parseFloat(getComputedStyle(h).lineHeight); }""")
                assert lines <= 3.2, f"{path}: the title takes {lines:.1f} lines on a phone"
            assert not p.errors and not p.outside
            p.close()


@browser_test
def test_phone_figures_and_equations(open_page):
    """On a phone a figure of several panels keeps readable text (it scrolls sideways in its own box,
    and says so) and a display equation too wide for the screen scrolls in its box."""
    p = open_page("notebooks/10_p5_3_random_slopes.html", width=390, height=844)
    fig = p.page.locator("figure.lemma-wide-3").first
    fig.scroll_into_view_if_needed()
    shown = fig.locator("img").evaluate("i => i.getBoundingClientRect().width")
    assert shown >= 900                                             # 1500 px of figure drawn at >= 60%
    assert fig.evaluate("f => getComputedStyle(f).overflowX") == "auto"
    assert "Scroll sideways" in fig.evaluate("f => getComputedStyle(f.querySelector('figcaption'), '::before').content")
    p2 = open_page("notebooks/02_comparing_groups.html", width=390, height=844)
    over = p2.page.evaluate("""() => Array.from(document.querySelectorAll('article mjx-container[display="true"]'))
        .filter(m => m.scrollWidth > m.clientWidth + 1).map(m => getComputedStyle(m).overflowX)""")
    assert over and all(o == "auto" for o in over)


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
