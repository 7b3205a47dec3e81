"""The web book builds offline, without warnings, with its figures and without solutions."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder import course as cli
from test_release import LEAKS

REPO = cli.REPO


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run([str(jb), "build", str(REPO), "--path-output", str(out), "--all",
                          "-W", "--keep-going"], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return out / "_build" / "html"


def test_every_chapter_of_the_solutions_is_in_the_table_of_contents():
    assert [f"book/{c}/{c}" for c in cli.chapters()] == \
        [f for f in toc_files() if f.startswith("book/ch")]


def test_every_page_is_built(built):
    for page in toc_files():
        assert (built / f"{page}.html").is_file(), page


def test_chapters_show_their_figures(built):
    for chapter in cli.chapters():
        html = (built / "book" / chapter / f"{chapter}.html").read_text()
        sources = re.findall(r'<img[^>]+src="([^"]+)"', html)
        assert len(sources) >= 2, f"{chapter}: {len(sources)} images"
        for src in sources:
            assert (built / "book" / chapter / src).resolve().is_file(), src


def test_no_solution_or_hidden_test_reaches_the_web_book(built):
    for page in built.rglob("*.html"):
        text = page.read_text()
        for leak in LEAKS:
            assert leak not in text, f"{page.relative_to(built)} contains {leak!r}"


def test_student_notebooks_are_downloadable(built):
    for chapter in cli.chapters():
        assert (built / "_sources" / "book" / chapter / f"{chapter}.ipynb").is_file()
