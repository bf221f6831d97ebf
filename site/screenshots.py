"""Screenshots of the built site for a person to look at: ``python site/screenshots.py``.

Serves ``site/_build/html`` (or ``--site DIR``) on 127.0.0.1 and takes full-page
screenshots in Debian's Chromium (Playwright, no browser download) of a few
pages at 1280 and 390 px, light and dark, into ``tests/artifacts/site/look/``
(git-ignored). Requests that would leave 127.0.0.1 are blocked. Prints each
page's width (a page wider than the window scrolls sideways) and bytes loaded.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["index.html", "notebooks/02_comparing_groups.html", "notebooks/10_p5_3_random_slopes.html",
         "data/README.html", "api.html"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", default=str(ROOT / "site/_build/html"))
    ap.add_argument("--out", default=str(ROOT / "tests/artifacts/site/look"))
    ap.add_argument("--full", action="store_true", help="full-page screenshots (default: the first screen)")
    ap.add_argument("pages", nargs="*", default=PAGES)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=args.site))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    chromium = os.environ.get("LEMMA_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which(chromium) or chromium, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        for theme in ("light", "dark"):
            for width, height in ((1280, 900), (390, 844)):
                ctx = browser.new_context(viewport={"width": width, "height": height})
                ctx.add_init_script(f"localStorage.setItem('theme', '{theme}'); localStorage.setItem('mode', '{theme}');")
                ctx.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1"
                          or r.request.url.startswith(("data:", "blob:")) else r.abort())
                for path in args.pages:
                    page = ctx.new_page()
                    page.goto(f"{base}/{path}", wait_until="networkidle")
                    page.wait_for_timeout(500)
                    # what a first visit loads: the page and every file it fetched (sizes as served, uncompressed)
                    loaded = page.evaluate("""() => performance.getEntriesByType('navigation')
                        .concat(performance.getEntriesByType('resource')).map(e => e.decodedBodySize || 0)""")
                    total = sum(loaded)
                    sw = page.evaluate("() => document.documentElement.scrollWidth")
                    name = f"{path.replace('/', '_').removesuffix('.html')}-{width}-{theme}.png"
                    page.screenshot(path=str(out / name), full_page=args.full)
                    print(f"{name}: page width {sw} px at {width}; {total} bytes in {len(loaded)} responses")
                    page.close()
                ctx.close()
        browser.close()
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
