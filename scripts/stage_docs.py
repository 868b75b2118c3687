"""Lay out the sources of the lesson site for MkDocs; ``scripts/build_docs.sh`` runs it.

    python scripts/stage_docs.py STAGE SITE

writes into the empty folder STAGE:

* ``docs/``: README.md (the home page), docs/*.md with their pictures, tutorials/README.md,
  every lesson ``tutorials/NN_*.py`` *executed* as a notebook (``NN_*.ipynb``, outputs and
  figures inline), one page per source file a page links to (``src/<path>.md``), and a copy
  of MathJax (the browser check runs offline, so nothing may come from a CDN);
* ``mkdocs.yml``: inherits the repository's mkdocs.yml and adds the folders and the
  navigation (lessons in number order, so the footer's previous/next walk through them).

Lessons run with the environment this script has (``MINIGRAD_QUICK=1`` for a quick site),
in ``tutorials/`` as a learner's Jupyter would, with figures written to STAGE/figures.
A lesson that raises stops the build and prints its traceback: the site never shows a
lesson that did not pass.
"""
import argparse
import os
import re
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import jupytext
import nbformat
from markdown.extensions.toc import slugify
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
LESSON_GLOB = "[0-9][0-9]_*.py"
# MathJax 2.7 comes from the jupyter-server-mathjax package, which ships only the STIX-Web
# fonts (the Jupyter notebook's choice): without this MathJax asks for its default TeX
# fonts, which are not there. mkdocs.yml names this
# file in the MathJax URL (config=...,local/minigrad).
MATHJAX_LOCAL_CONFIG = """MathJax.Hub.Config({
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}
});
MathJax.Ajax.loadComplete("[MathJax]/config/local/minigrad.js");
"""
# the MathJax URL of mkdocs.yml's lesson pages, from the site's root
MATHJAX_URL = "assets/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe,local/minigrad"
# TeX in a markdown page: $…$ or $$…$$ (pymdownx.arithmatex hands it to MathJax)
TEX = re.compile(r"(?<![\\\w`])\$\$?[^\s$`]")
# a markdown link: [text](target) where target is relative (no scheme, not only a fragment)
LINK = re.compile(r"(\]\()(?![a-z]+:|#)([^)\s]+?)((?:#[^)\s]*)?\))")


def page_url(src_path):
    """URL of the page made from ``src_path`` (relative to docs/): MkDocs with
    ``use_directory_urls: false`` turns ``a/b.md`` and ``a/b.ipynb`` into ``a/b.html``."""
    stem = src_path[: src_path.rfind(".")]
    return stem + ".html"


def relative(url, from_page):
    """``url`` (site-relative) as seen from the page whose source is ``from_page``."""
    return os.path.relpath(url, os.path.dirname(from_page) or ".").replace(os.sep, "/")


class SourcePages:
    """The ``src/...`` pages: one per repository file or folder that a page links to."""

    def __init__(self):
        self.wanted = set()

    def link(self, repo_path):
        """Site-relative URL of the page showing ``repo_path`` (a file or a folder)."""
        path = (ROOT / repo_path).resolve()
        if not path.exists() or ROOT not in path.parents:
            raise FileNotFoundError(f"stage_docs: a page links to {repo_path!r}, which is not in the repository")
        rel = path.relative_to(ROOT).as_posix()
        self.wanted.add(rel)
        return page_url(f"src/{rel}/index.md" if path.is_dir() else f"src/{rel}.md")

    def write(self, docs):
        done = set()
        while self.wanted - done:
            rel = sorted(self.wanted - done)[0]
            done.add(rel)
            path = ROOT / rel
            if path.is_dir():
                children = sorted(p for p in path.iterdir()
                                  if not p.name.startswith((".", "__pycache__")) and (p.is_dir() or p.suffix in {".py", ".md"}))
                items = []
                for child in children:
                    url = self.link(child.relative_to(ROOT).as_posix())  # may add more to write
                    items.append(f"- [`{child.name}{'/' if child.is_dir() else ''}`]({relative(url, f'src/{rel}/index.md')})")
                text = f"# `{rel}/`\n\n" + "\n".join(items) + "\n"
                target = docs / "src" / rel / "index.md"
            else:
                code = path.read_text(encoding="utf-8")
                longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
                fence = "`" * max(3, longest + 1)
                language = {".py": "python", ".sh": "bash", ".toml": "toml", ".yml": "yaml", ".md": "markdown"}.get(path.suffix, "text")
                text = f"# `{rel}`\n\n{fence}{language} linenums=\"1\"\n{code}{'' if code.endswith(chr(10)) else chr(10)}{fence}\n"
                target = docs / "src" / f"{rel}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")


def rewrite_links(text, page, repo_dir, sources):
    """Point the relative links of a markdown page at the site's pages: a lesson ``.py`` at
    its executed notebook, any other repository file at its source page; ``.md`` links and
    pictures are left for MkDocs, which resolves (and checks) them itself."""

    def replace(match):
        target = match.group(2)
        repo_path = os.path.normpath(os.path.join(repo_dir, target))
        if target.endswith(".md") or (ROOT / repo_path).suffix in {".png", ".svg", ".jpg", ".json", ".csv"}:
            return match.group(0)
        if re.fullmatch(r"tutorials/\d\d_[^/]+\.py", repo_path.replace(os.sep, "/")):
            return match.group(1) + target[:-3] + ".ipynb" + match.group(3)
        return match.group(1) + relative(sources.link(repo_path), page) + match.group(3)

    return LINK.sub(replace, text)


def with_mathjax(text, page):
    """``text`` of the markdown page ``page`` with the site's MathJax loaded at its end when
    it holds TeX (mkdocs-jupyter loads it on the lesson pages; MkDocs itself does not)."""
    if not TEX.search(re.sub(r"```.*?```|`[^`]*`", "", text, flags=re.DOTALL)):
        return text
    return text.rstrip("\n") + f'\n\n<script src="{relative(MATHJAX_URL, page)}"></script>\n'


def lesson_sources(readme_text):
    """``{lesson file: [repository paths]}`` from tutorials/README.md's table, whose last
    column lists the source files each lesson opens. A bare name (``adagrad.py``) is in the
    folder of the path before it, as the table writes it."""
    opened = {}
    for line in readme_text.splitlines():
        lesson = re.search(r"\]\((\d\d_[^)]+\.py)\)", line)
        if not lesson:
            continue
        paths, folder = [], ""
        for token in re.findall(r"`([^`]+)`", line.rstrip().rstrip("|").rsplit("|", 1)[-1]):
            if "/" in token:
                paths.append(token.rstrip("/"))
                folder = token if token.endswith("/") else token.rsplit("/", 1)[0] + "/"
            elif token.endswith(".py"):
                paths.append(folder + token)
        opened[lesson.group(1)] = paths
    return opened


def source_cell(lesson, opened, sources):
    page = f"tutorials/{lesson[:-3]}.ipynb"
    own = relative(sources.link(f"tutorials/{lesson}"), page)
    lines = [f"This page is [`tutorials/{lesson}`]({own}), run when the site was built"
             f"{' in quick mode (`MINIGRAD_QUICK=1`)' if os.environ.get('MINIGRAD_QUICK') == '1' else ''}; "
             "the output and figures below are what it printed and drew."]
    if opened:
        links = ", ".join(f"[`{p}`]({relative(sources.link(p), page)})" for p in opened)
        lines.append(f"**Source files it opens:** {links}.")
    return nbformat.v4.new_markdown_cell("\n\n".join(lines))


def anchor_code_headings(notebook):
    """mkdocs-jupyter builds the table of contents with the code spans of each heading
    removed (`## 5. CuPy and `x.to()`` → id ``5-cupy-and``) while the page's heading gets
    an id with them, so such a contents link would jump nowhere. Put an anchor with the
    contents' id just before each such heading."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = []
        for line in cell.source.split("\n"):
            heading = re.match(r"#{1,6}\s+(.*`.*)$", line)
            if heading:
                lines += [f'<a id="{slugify(re.sub(r"`[^`]*`", "", heading.group(1)).strip(), "-")}"></a>', ""]
            lines.append(line)
        cell.source = "\n".join(lines)


def execute_lesson(lesson):
    """Run one lesson as a notebook, in a kernel started in tutorials/ with this process's
    environment (the pool calls this in a worker). Returns the executed notebook as JSON
    text, or raises with the lesson's name and traceback."""
    notebook = jupytext.read(TUTORIALS / lesson)
    client = NotebookClient(notebook, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": str(TUTORIALS)}})
    try:
        client.execute()
    except CellExecutionError as error:
        raise RuntimeError(f"lesson {lesson} failed while building the site:\n{error}") from None
    return nbformat.writes(notebook)


def stage(stage_dir, site_dir, jobs):
    docs = stage_dir / "docs"
    sources = SourcePages()
    (docs / "tutorials").mkdir(parents=True)

    (docs / "README.md").write_text(with_mathjax(rewrite_links((ROOT / "README.md").read_text(encoding="utf-8"), "README.md", "", sources), "README.md"))
    notes = []
    for path in sorted((ROOT / "docs").rglob("*")):
        rel = path.relative_to(ROOT).as_posix()
        if path.is_dir():
            continue
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".md":
            (docs / rel).write_text(with_mathjax(rewrite_links(path.read_text(encoding="utf-8"), rel, os.path.dirname(rel), sources), rel))
            if path.parent == ROOT / "docs":
                notes.append(rel)
        else:
            shutil.copyfile(path, docs / rel)
    readme = (TUTORIALS / "README.md").read_text(encoding="utf-8")
    (docs / "tutorials" / "README.md").write_text(rewrite_links(readme, "tutorials/README.md", "tutorials", sources))

    lessons = sorted(p.name for p in TUTORIALS.glob(LESSON_GLOB))
    opened = lesson_sources(readme)
    for lesson in lessons:
        if lesson not in opened:
            print(f"stage_docs: tutorials/README.md has no row for {lesson}: its page lists no source files", file=sys.stderr)
    # the kernels inherit this environment: figures into a folder of the stage (never the
    # repository), minigrad found from a plain clone too (not only after pip install -e),
    # and the kernel's own inline backend, as in a learner's Jupyter
    os.environ["MINIGRAD_TUTORIAL_OUT"] = str(stage_dir / "figures")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ.pop("MPLBACKEND", None)
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(lessons)))) as pool:
        for lesson, text in zip(lessons, pool.map(execute_lesson, lessons)):
            notebook = nbformat.reads(text, as_version=4)
            notebook.cells.insert(1, source_cell(lesson, opened.get(lesson, []), sources))
            anchor_code_headings(notebook)
            nbformat.write(notebook, docs / "tutorials" / f"{lesson[:-3]}.ipynb")
            print(f"stage_docs: executed {lesson}", flush=True)

    sources.write(docs)
    import jupyter_server_mathjax  # MathJax 2.7 as a PyPI package (the docs extra installs it)

    mathjax = docs / "assets" / "mathjax"
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", mathjax)
    (mathjax / "config" / "local").mkdir(exist_ok=True)
    (mathjax / "config" / "local" / "minigrad.js").write_text(MATHJAX_LOCAL_CONFIG)

    nav = ["  - Home: README.md", "  - Lessons:", "    - tutorials/README.md"]
    nav += [f"    - tutorials/{lesson[:-3]}.ipynb" for lesson in lessons]
    nav += ["  - Notes:"] + [f"    - {note}" for note in notes]
    (stage_dir / "mkdocs.yml").write_text("\n".join([
        f"INHERIT: {ROOT / 'mkdocs.yml'}",
        f"docs_dir: {docs}",
        f"site_dir: {site_dir}",
        "nav:", *nav, ""]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", type=Path, help="an empty folder for the staged sources")
    parser.add_argument("site", type=Path, help="where MkDocs will write the site")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="lessons executed at once")
    args = parser.parse_args()
    if args.stage.exists() and any(args.stage.iterdir()):
        parser.error(f"{args.stage} is not empty")
    stage(args.stage.resolve(), args.site.resolve(), args.jobs)


if __name__ == "__main__":
    main()
