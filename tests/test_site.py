"""Build the lesson site in quick mode and open it in headless Chromium.

``scripts/build_docs.sh`` executes every lesson as a notebook (a lesson that fails stops
the build) and MkDocs builds with ``--strict`` (a broken markdown link stops it);
``scripts/check_site.py`` then opens the home page, the lessons' index, every lesson and
every note in Chromium and checks that each renders, loads every figure and formula from
the site itself, and links to nothing missing. Here we also check that each lesson of
tests/test_tutorials.py has its page, named by its number, showing at least the figures
the lesson writes.

Needs the docs extra (``pip install -e ".[docs]"``) and Debian's ``chromium`` (.ci/run
installs both); skips with the reason otherwise.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_tutorials import LESSONS

ROOT = Path(__file__).resolve().parent.parent


def test_every_lesson_lists_source_files_that_exist():
    """The lesson pages link the files of tutorials/README.md's last column; a bare name
    there (`adagrad.py`) is in the folder of the path before it."""
    pytest.importorskip("mkdocs_jupyter", reason='the docs extra is not installed: pip install -e ".[docs]"')
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from stage_docs import lesson_sources
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    opened = lesson_sources((ROOT / "tutorials" / "README.md").read_text(encoding="utf-8"))
    assert set(LESSONS) <= set(opened), f"no row in tutorials/README.md for {sorted(set(LESSONS) - set(opened))}"
    for lesson, paths in opened.items():
        assert paths, f"{lesson}: its row names no source file"
        missing = [p for p in paths if not (ROOT / p).exists()]
        assert not missing, f"{lesson}: tutorials/README.md names files that do not exist: {missing}"
    assert "minigrad/optim/adagrad.py" in opened["06_optimizers.py"]  # `adagrad.py` after `minigrad/optim/sgd.py`


def test_site_builds_and_every_page_works_in_chromium(tmp_path):
    pytest.importorskip("mkdocs_jupyter", reason='the docs extra is not installed: pip install -e ".[docs]"')
    if not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")):
        pytest.skip("no Chromium: apt-get install chromium (.ci/run does, as root)")
    site = tmp_path / "site"
    env = dict(os.environ, MINIGRAD_QUICK="1", TMPDIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("MINIGRAD_FACE", None)
    build = subprocess.run(["bash", str(ROOT / "scripts" / "build_docs.sh"), str(site)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, f"site build failed:\n{build.stdout[-4000:]}\n{build.stderr[-6000:]}"
    assert not (tmp_path / "tutorial_output").exists() and not (ROOT / "tutorials" / "tutorial_output").exists()

    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_site.py"), str(site)], env=env,
                           capture_output=True, text=True, timeout=600)
    assert check.returncode == 0, f"browser check failed:\n{check.stdout[-6000:]}\n{check.stderr[-3000:]}"
    pages = json.loads(check.stdout.rsplit("site check: ", 1)[1])
    for lesson, figures in LESSONS.items():
        page = f"tutorials/{lesson[:-3]}.html"
        assert page in pages, f"{lesson} has no page in the site (pages: {sorted(pages)})"
        assert pages[page]["figures"] >= len(figures), f"{page} shows {pages[page]['figures']} figures, the lesson writes {len(figures)}"
        if re.search(r"^# .*\$\$", (ROOT / "tutorials" / lesson).read_text(encoding="utf-8"), re.MULTILINE):
            assert pages[page]["formulas"] > 0, f"{page} has TeX in its prose but no formula was typeset"
