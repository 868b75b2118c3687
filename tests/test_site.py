"""Build the lesson site in quick mode and open it in headless Chromium.

``scripts/build_docs.sh`` executes every lesson as a notebook (a lesson that fails stops
the build) and MkDocs builds with ``--strict`` (a broken markdown link stops it);
``scripts/check_site.py`` then opens the home page, the lessons' index, every lesson and
every note in Chromium and checks that each renders, loads every figure and formula from
the site itself, links to nothing missing, typesets its TeX without error, shows no
build leftovers (warnings, tracebacks, paths of the building machine, sections or outputs
shown twice, formulas set as code blocks), and fits a 1280 px and a 390 px screen (a
screenshot of each page at both widths). Here we also check that each lesson of
tests/test_tutorials.py has its page, named by its number, showing at least the figures
the lesson writes. The leftover and layout rules themselves are tested on made-up pages
first, without a browser.

Needs the docs extra (``pip install -e ".[docs]"``) and Debian's ``chromium`` (.ci/run
installs both); skips with the reason otherwise.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from test_tutorials import LESSONS

ROOT = Path(__file__).resolve().parent.parent


def check_site_module():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import check_site
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return check_site


def page(**fields):
    """A made-up page report, as check_site's INSPECT script returns it: clean by default."""
    report = dict(outputs=["loss 0.31 after 2 epochs"], prose=["A paragraph of prose."], proseBlocks=[],
                  pictures=[], pageOverflow=0, clipped=[], breaksWords=[], articleWidth=900, articleRight=1200)
    report.update(fields)
    return report


def test_leftover_rules_catch_what_a_build_must_not_leave():
    site = check_site_module()
    assert site.leftovers(page()) == []
    bad = {
        "a warning": page(outputs=["/x/tqdm/auto.py:21: TqdmWarning: IProgress not found"]),
        "a traceback": page(outputs=["Traceback (most recent call last):\n  File \"a.py\", line 3"]),
        "a temporary folder": page(outputs=["wrote /tmp/minigrad-docs.0d3D50/figures/run/summary.json"]),
        "a printed path object": page(outputs=["PosixPath('figures/15.json')"]),
        "a repeated section": page(prose=["Source files it opens: a.py", "**Source files it opens:** a.py"]),
        "a repeated output": page(outputs=["Sequential(conv1, relu1, pool1, conv2, relu2, pool2) " * 3] * 2),
        "a formula as code": page(proseBlocks=[dict(text="∂f/∂x = tanh(c) + x·(1 − tanh²c)·y", language="")]),
    }
    for what, report in bad.items():
        assert site.leftovers(report), f"check_site.leftovers missed {what}"
    # a printed error message that a lesson shows on purpose, and code in prose, are fine
    assert site.leftovers(page(outputs=["ValueError: conv2d: input has 16 channels but the weight expects 8"])) == []
    assert site.leftovers(page(proseBlocks=[dict(text="python -m admm demo --beta 0.001", language="language-bash"),
                                            dict(text="x = mg.tensor([1.0, 2.0])  # λ", language="")])) == []


def test_layout_rules_catch_cut_code_and_shrunken_figures():
    site = check_site_module()
    assert site.layout(page(pictures=[dict(src="a.png", shown=900, natural=1000, right=1100)]), 1280) == []
    assert site.layout(page(clipped=["def f(x):"]), 390)
    assert site.layout(page(breaksWords=["loss 0.31"]), 1280)
    assert site.layout(page(pageOverflow=120), 390)
    assert site.layout(page(pictures=[dict(src="a.png", shown=584, natural=1474, right=1100)]), 1280), \
        "a figure shown at 40 % of its size has labels too small to read"
    assert site.layout(page(pictures=[dict(src="a.png", shown=900, natural=1000, right=1300)]), 1280), \
        "a figure wider than the column"


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


@pytest.mark.long(200)
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

    shots = tmp_path / "screenshots"
    # Chromium puts a Unix socket in TMPDIR, and a socket's path must stay under 108 bytes:
    # tmp_path under pytest-xdist (.../popen-gw0/test_site_builds_and_every_pag0/) is too long
    with tempfile.TemporaryDirectory(prefix="mg-chromium-") as browser_tmp:
        check = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_site.py"), str(site), "--screenshots", str(shots)],
                               env=dict(env, TMPDIR=browser_tmp), capture_output=True, text=True, timeout=900)
    assert check.returncode == 0, f"browser check failed:\n{check.stdout[-6000:]}\n{check.stderr[-3000:]}"
    pages = json.loads(check.stdout.rsplit("site check: ", 1)[1])
    for width in (1280, 390):
        taken = sorted(shots.glob(f"*-{width}.png"))
        assert len(taken) == len(pages), f"{len(taken)} screenshots at {width} px for {len(pages)} pages"
        assert all(p.stat().st_size > 5_000 for p in taken), f"an empty screenshot at {width} px"
    for lesson, figures in LESSONS.items():
        page = f"tutorials/{lesson[:-3]}.html"
        assert page in pages, f"{lesson} has no page in the site (pages: {sorted(pages)})"
        assert pages[page]["figures"] >= len(figures), f"{page} shows {pages[page]['figures']} figures, the lesson writes {len(figures)}"
        if re.search(r"^# .*\$\$", (ROOT / "tutorials" / lesson).read_text(encoding="utf-8"), re.MULTILINE):
            assert pages[page]["formulas"] > 0, f"{page} has TeX in its prose but no formula was typeset"
