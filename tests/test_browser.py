"""The web book as a reader sees it: every page opened in headless Chromium, offline.

The book is built (the ``built`` fixture of test_book.py), served on 127.0.0.1 and opened
page by page in Chromium, driven by Playwright with the system's browser (Debian's
``chromium`` package; ``playwright install`` is never needed).  Any request that leaves
127.0.0.1 is blocked and counts as a failure, so the book must work without a network: the
math is typeset by the MathJax copy served from ``_static/mathjax``.

Checked on every page: no console error and no failed request; every image loads
(``naturalWidth > 0``) and has a real alt text; every equation is typeset by MathJax and no
raw ``$$`` or ``\\(`` is left in the text; no solution code or hidden test; every internal
link answers 200.  Also: each chapter page links to its student notebook, which downloads;
the search page finds a word.  Screenshots of a few pages are kept under pytest's temporary
folder (their paths are printed; ``pytest -s`` shows them).
"""
from __future__ import annotations

import functools
import http.server
import json
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

from autograder import course as cli
import test_book
from test_book import toc_files

if hasattr(test_book, "built"):   # the book build of test_book.py (unless conftest.py has it)
    from test_book import built  # noqa: F401
from test_release import LEAKS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ["book/intro", "book/ch10_modern/ch10_modern", "book/instructor_guide"]
IMAGE_FILE = re.compile(r"\.(png|jpe?g|gif|svg)$", re.I)
# Console errors that come from the tools, not from the book, each with why it is harmless.
# Keep this list short and exact: anything else on the console fails the test.
UPSTREAM_ERRORS = {
    "Identifier 'THEBE_JS_URL' has already been declared":
        "sphinx-thebe 0.3.1 (loaded by Jupyter Book whatever the configuration) writes its "
        "configuration script twice into every page under Sphinx 7.4; the second copy fails "
        "to redeclare a constant. Thebe (live code) is off in this book, nothing uses it.",
}


# JavaScript: ``walk(node)`` pushes onto ``text`` the text of ``node`` outside code, scripts
# and typeset math (where a raw "$" or "\\(" would mean math left untypeset).
PROSE_TEXT_JS = """
    const walk = (node) => {
        if (node.nodeType === Node.TEXT_NODE) { text.push(node.textContent); return; }
        if (node.nodeType !== Node.ELEMENT_NODE) return;
        if (['PRE', 'CODE', 'SCRIPT', 'STYLE', 'MJX-CONTAINER'].includes(node.tagName)) return;
        for (const child of node.childNodes) walk(child);
    };"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(built):  # noqa: F811  (built: the session's book build)
    handler = functools.partial(_Quiet, directory=str(built))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    """Chromium through Playwright; missing either is a failure, never a skip."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        pytest.fail(f"Playwright for Python is not installed ({err}); it is in requirements.txt")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium package "
                    "(apt-get install -y chromium), as .ci/run does")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _pages() -> list[str]:
    return toc_files() + ["search", "genindex"]


@pytest.fixture(scope="module")
def visits(server, browser, tmp_path_factory) -> dict[str, dict]:
    """Open every page once; page -> what was seen there."""
    shots = tmp_path_factory.mktemp("screenshots")
    seen = {}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def route(r):
        if urlparse(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    for name in _pages():
        page = context.new_page()
        errors, failed = [], []
        page.on("console", lambda m, errors=errors: errors.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.on("requestfailed", lambda r, failed=failed: failed.append(r.url))
        page.on("response", lambda r, failed=failed: failed.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)
        outside.clear()
        page.goto(server + name + ".html", wait_until="networkidle")
        typeset = page.evaluate("""() => (window.MathJax && MathJax.startup && MathJax.startup.promise)
                                     ? MathJax.startup.promise.then(() => true) : false""")
        info = page.evaluate("""() => {
            const main = document.querySelector('main') || document.body;
            const text = [];
            """ + PROSE_TEXT_JS + """
            walk(main);
            return {
              images: [...document.images].map(i => ({src: i.currentSrc || i.src, alt: i.getAttribute('alt'),
                        width: i.naturalWidth, content: !!i.closest('main')})),
              math: document.querySelectorAll('main .math').length,
              typeset: document.querySelectorAll('main .math mjx-container').length,
              mjx: document.querySelectorAll('mjx-container').length,
              text: text.join(''),
              links: [...document.querySelectorAll('a[href]')].map(a => a.href),
              html: document.documentElement.outerHTML,
            };
        }""")
        if name in SCREENSHOTS:
            path = shots / (name.replace("/", "_") + ".png")
            page.screenshot(path=str(path), full_page=name.startswith("book/ch"))
            print(f"screenshot of {name}: {path}")
            info["screenshot"] = path
        info.update(errors=list(errors), failed=list(failed), outside=list(outside),
                    mathjax=typeset)
        seen[name] = info
        page.close()
    seen["_context"] = context
    return seen


@pytest.mark.parametrize("name", _pages())
def test_page_has_no_console_error_and_stays_offline(visits, name):
    info = visits[name]
    assert not info["outside"], f"{name} requested outside 127.0.0.1: {info['outside']}"
    assert not info["failed"], f"{name}: failed requests {info['failed']}"
    errors = [e for e in info["errors"] if e not in UPSTREAM_ERRORS]
    assert not errors, f"{name}: console errors {errors}"


@pytest.mark.parametrize("name", _pages())
def test_images_load_and_have_alt_text(visits, name):
    for image in visits[name]["images"]:
        assert image["width"] > 0, f"{name}: image {image['src']} did not load"
        if image["content"]:
            alt = (image["alt"] or "").strip()
            assert alt and not IMAGE_FILE.search(alt), (
                f"{name}: image {image['src']} has no alt text (alt={image['alt']!r}); give "
                "notebook figures one with the cell metadata mystnb.image.alt, Markdown figures "
                "with :alt:")


@pytest.mark.parametrize("name", _pages())
def test_math_is_typeset(visits, name):
    info = visits[name]
    if info["math"]:   # Sphinx loads MathJax only on pages that have math
        assert info["mathjax"], f"{name}: MathJax did not load"
    assert info["typeset"] == info["math"], (
        f"{name}: {info['math']} equations, {info['typeset']} typeset by MathJax")
    for raw in ("$$", "\\(", "\\["):
        assert raw not in info["text"], f"{name}: raw {raw!r} left in the text"


def test_the_chapters_and_the_intro_have_math(visits):
    assert visits["book/ch10_modern/ch10_modern"]["typeset"] >= 5
    assert visits["book/ch01_input/ch01_input"]["typeset"] >= 3


@pytest.mark.parametrize("name", _pages())
def test_no_solution_or_hidden_test_is_shown(visits, name):
    for leak in LEAKS:
        assert leak not in visits[name]["html"], f"{name} shows {leak!r}"


def test_internal_links_resolve(visits, server):
    targets = set()
    for name, info in visits.items():
        if name.startswith("_"):
            continue
        for href in info["links"]:
            url, _ = urldefrag(href)
            if url.startswith(server):
                targets.add(url)
    assert len(targets) > 10
    broken = []
    for url in sorted(targets):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status != 200:
                    broken.append(f"{response.status} {url}")
        except urllib.error.HTTPError as err:
            broken.append(f"{err.code} {url}")
    assert not broken, broken


@pytest.mark.parametrize("chapter", cli.chapters())
def test_chapter_page_links_its_student_notebook(visits, server, chapter):
    page = f"book/{chapter}/{chapter}"
    assert page in visits, f"{page} is not in the table of contents"
    links = [h for h in visits[page]["links"]
             if urldefrag(h)[0].endswith(f"/{chapter}.ipynb")]
    assert links, f"book/{chapter}: no link to {chapter}.ipynb"
    with urllib.request.urlopen(urldefrag(links[0])[0], timeout=10) as response:
        body = response.read().decode()
    notebook = json.loads(body)
    assert notebook["nbformat"] == 4
    assert "raise NotImplementedError()" in body
    for leak in LEAKS:
        assert leak not in body


def test_search_finds_a_word(visits, server, tmp_path):
    page = visits["_context"].new_page()
    page.goto(server + "search.html?q=subsampling", wait_until="networkidle")
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    page.screenshot(path=str(tmp_path / "search.png"))
    print(f"screenshot of the search for 'subsampling': {tmp_path / 'search.png'}")
    page.close()
    assert any("ch10_modern" in h or "intro" in h for h in hits), hits


def test_screenshots_were_taken(visits):
    for name in SCREENSHOTS:
        path = visits[name]["screenshot"]
        assert path.stat().st_size > 10_000, path


# ------------------------------------------------------------------------ feedback pages

# Feedback pages of the graded class opened as a student opens them: a file, no network.
FEEDBACK_PAGES = {
    "pads_with_zero": "must be -0.1, not 0",          # lost points, with a picture
    "reference": "Your score: 10 of 10 points",       # full marks
    "kills_own_kernel": "it was killed (SIGKILL)",    # a limit named
    "loops_forever": "read_idx: TimeoutError: this cell ran past its time limit of 20 s",
}
FEEDBACK_SHOTS = cli.REPO / "_build" / "screenshots" / "feedback"


@pytest.mark.parametrize("student", sorted(FEEDBACK_PAGES))
def test_feedback_page_reads_offline(browser, graded_class, student):
    from conftest import needs

    needs("ch01_input")
    out, _ = graded_class
    (path,) = (out / "feedback" / student / "ch01_input").glob("*.html")
    context = browser.new_context(viewport={"width": 1000, "height": 1400})
    outside, errors = [], []
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
        ("file:", "data:")) else (outside.append(r.request.url), r.abort()))
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    assert page.evaluate("() => MathJax.startup.promise.then(() => true)")
    seen = page.evaluate("""() => {
        const text = [];
        """ + PROSE_TEXT_JS + """
        walk(document.body);
        return {text: text.join(''), typeset: document.querySelectorAll('mjx-container').length,
                images: [...document.images].map(i => i.naturalWidth),
                pictured: (() => {  // images between the two to_lenet_input test cells
                    const [a, b] = ['test-to_lenet_input_visible', 'test-to_lenet_input_hidden']
                        .map(id => document.getElementById(id));
                    return [...document.images].filter(i =>
                        (a.compareDocumentPosition(i) & Node.DOCUMENT_POSITION_FOLLOWING) &&
                        (b.compareDocumentPosition(i) & Node.DOCUMENT_POSITION_PRECEDING)).length;
                })(),
                rows: [...document.querySelectorAll('table.lenet5-summary tr')].slice(1)
                    .map(r => r.querySelector('a').getAttribute('href')),
                all: document.body.innerText};
    }""")
    FEEDBACK_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(FEEDBACK_SHOTS / f"{student}_ch01_input.png"))
    context.close()
    assert not outside and not errors, (outside, errors)
    assert seen["typeset"] >= 10 and "$" not in seen["text"], "math not typeset offline"
    assert all(width > 0 for width in seen["images"])
    assert FEEDBACK_PAGES[student] in seen["all"]
    for leak in ("HIDDEN TESTS", "autograder.checks", "def check_"):  # the student's code
        assert leak not in seen["all"]                                  # may show the rest
    release = json.loads((cli.BOOK / "ch01_input" / path.name.replace(".html", ".ipynb"))
                         .read_text())
    graded = [c["metadata"]["nbgrader"]["grade_id"] for c in release["cells"]
              if c["metadata"].get("nbgrader", {}).get("grade")
              and not c["metadata"]["nbgrader"].get("solution")]
    assert seen["rows"] == [f"#test-{g}" for g in graded]  # every graded cell, in order
    # a lost to_lenet_input shows the student's input beside the expected one; a pass, none
    assert seen["pictured"] == (1 if student == "pads_with_zero" else 0)
