r"""Open the built site in headless Chromium and check it as a reader would see it.

    python scripts/check_site.py SITE [--screenshots DIR]

Serves SITE on 127.0.0.1, then opens the home page, the lessons' index, every lesson
page and every note in headless Chromium (Debian's ``chromium``), driven through the
DevTools protocol over a pipe (``--remote-debugging-pipe``: no websocket library, no
Playwright download). A page passes when

* it loads, its article has text, and no script on it throws;
* every request it makes succeeds and none leaves the machine (the site must work offline);
* every image has loaded (``complete`` with a non-zero natural width);
* on the lesson pages, the footer's previous/next links go through the lessons in order;
* MathJax ran and reported no TeX error, and no ``$$``, ``\(`` or ``\[`` is left unrendered;
* nothing is left over from the build: no warning, traceback or path of the building
  machine (a temporary folder, an absolute path, a printed ``PosixPath``) in an output,
  no section or output shown twice, no formula set as a code block (it must be LaTeX);
* at 1280 px (a laptop) and at 390 px (a phone): nothing wider than the screen, code and
  output scroll instead of being cut off and never break mid-word, figures stay in the
  column, and at 1280 px each figure shows at ≥ 60 % of its pixel size (labels readable);

and the site passes when, besides, every internal link of those pages (to any page,
source pages included) names a file that exists and, for ``#fragment`` links into the
pages opened, an element with that id. Prints one line per page and the failures;
exit status 1 when any check failed. ``--screenshots DIR`` keeps a PNG of each page at
both widths (``DIR/<page>-1280.png``, ``DIR/<page>-390.png``).
"""
import argparse
import base64
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1280,900"]

# runs in the page once it has loaded and MathJax has finished: what the checks need
INSPECT = """(() => {
  const article = document.querySelector('article') || document.body;
  const markdown = Array.from(document.querySelectorAll('.jp-MarkdownOutput, .jp-RenderedMarkdown'))
      .map(e => e.innerText).join('\\n');
  // prose: markdown of a note, or a lesson's markdown cells (never code or its output)
  const inCode = e => !!e.closest('.jp-CodeCell, .jp-OutputArea, pre');
  const prose = Array.from(article.querySelectorAll('p, li, td, th, h1, h2, h3, h4, h5, h6'))
      .filter(e => !inCode(e)).map(e => e.innerText.trim()).filter(t => t);
  const proseBlocks = Array.from(article.querySelectorAll('pre')).filter(e => !e.closest('.jp-CodeCell'))
      .map(e => ({text: e.innerText, language: ((e.closest('[class*="language-"]') || {}).className || '')}));
  const outputs = Array.from(document.querySelectorAll('.jp-OutputArea-output')).map(e => e.innerText).filter(t => t.trim());
  const pres = Array.from(article.querySelectorAll('pre'));
  const scrolls = e => {
    for (let box = e; box && box !== article; box = box.parentElement) {
      const overflow = getComputedStyle(box).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return true;
      if (overflow === 'hidden' || overflow === 'clip') return false;
    }
    return false;
  };
  const articleBox = article.getBoundingClientRect();
  return JSON.stringify({
    title: document.title,
    text: article.innerText.length,
    images: Array.from(document.images).map(i => ({src: i.src.slice(0, 80), ok: i.complete && i.naturalWidth > 0})),
    figures: Array.from(document.querySelectorAll('.jp-OutputArea-output img')).length,
    // each figure and picture: its size on screen beside the size of the file
    pictures: Array.from(article.querySelectorAll('img')).filter(i => i.naturalWidth > 300)
        .map((i, n) => ({src: i.src.startsWith('data:') ? `figure ${n + 1}` : i.src.split('/').pop().slice(0, 60), shown: i.getBoundingClientRect().width, natural: i.naturalWidth,
                    right: i.getBoundingClientRect().right})),
    articleWidth: articleBox.width,
    articleRight: articleBox.right,
    pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
    // a code or output block wider than its box must scroll (itself or a box around it), and
    // nothing may break words
    clipped: pres.filter(e => e.scrollWidth > e.clientWidth + 1 && !scrolls(e)).map(e => e.innerText.slice(0, 60)),
    breaksWords: pres.concat(Array.from(document.querySelectorAll('.jp-OutputArea-output')))
        .filter(e => ['break-all', 'break-word'].includes(getComputedStyle(e).wordBreak) || getComputedStyle(e).overflowWrap === 'anywhere')
        .map(e => e.innerText.slice(0, 60)),
    prose: prose,
    proseBlocks: proseBlocks,
    outputs: outputs,
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
    mathRendered: document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML, .MathJax_SVG').length,
    mathErrors: document.querySelectorAll('.MathJax_Error, merror, .mjx-merror').length,
    mathSources: document.querySelectorAll('script[type^="math/tex"]').length,
    unrendered: (markdown.match(/\\$\\$/g) || []).length + prose.join('\\n').split(/\\\\[\\(\\[]/).length - 1,
    mathjax: typeof window.MathJax !== 'undefined' && !!window.MathJax.Hub,
    previous: (document.querySelector('a.md-footer__link--prev') || {}).href || null,
    next: (document.querySelector('a.md-footer__link--next') || {}).href || null,
  });
})()"""

# resolves once MathJax has typeset the page (at once where the page has no MathJax)
MATHJAX_DONE = """new Promise(resolve => {
  if (window.MathJax && window.MathJax.Hub) { window.MathJax.Hub.Queue(() => resolve(true)); }
  else { resolve(false); }
})"""


# What a page must never show. Outputs: a warning or a traceback means a lesson ran with a
# problem nobody fixed. Outputs and prose: a path of the machine that built the site (a
# temporary folder, a home, an absolute path, a printed Path object) means nothing to a reader.
WARNING = re.compile(r"\b[A-Z]\w*Warning\b|\bWARNING\b|\bwarnings\.warn|\bwarn\(")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \".*\", line \d+", re.MULTILINE)
MACHINE_PATH = re.compile(r"PosixPath\(|WindowsPath\(|(?<![\w.:/~>-])/(?:tmp|var|home|root|usr|opt|work|private|Users|mnt)/[^\s'\")]*"
                          r"|\b[A-Z]:\\\\[^\s]+|\btmp[a-z0-9_]{6,}\b|minigrad-docs\.\w+")
# a formula set as code: a prose code block whose lines read as mathematics, not as a
# program or a shell line (the symbols of a formula, and no sign of code)
MATH_SYMBOLS = re.compile(r"[∂∑Σ√∇←≈≤≥·‖²³ᵀλβμσθαγηεπ∈×−⊙ŷ̂∞∫]|\b(?:argmin|argmax)\b")
CODE_SIGNS = re.compile(r"^\s*(?:\$ |>>>|python|pip |mpiexec|bash |import |from |def |class |#|for |if )"
                        r"|[\[\]{}]|==|\bprint\(|\w+\.\w+\(", re.MULTILINE)
SECTION_REPEATS = re.compile(r"^(?:\*\*)?(?:source )?files it opens", re.IGNORECASE)
WIDE, PHONE = 1280, 390  # a laptop's window and a phone's screen, in CSS px
MIN_FIGURE_SCALE = 0.6   # matplotlib's 10 pt labels are 14 px at dpi 100: at 0.6 they show at ≥ 8.4 px


def formula_like(block):
    """True for a prose code block that is a formula (it should be LaTeX for MathJax)."""
    if any(name in block["language"] for name in ("language-python", "language-bash", "language-console",
                                                    "language-text", "language-toml", "language-yaml")):
        return False
    text = block["text"]
    return bool(MATH_SYMBOLS.search(text)) and not CODE_SIGNS.search(text)


def leftovers(report):
    """What a page shows that a build should not have left there: warnings, tracebacks,
    paths of the building machine, sections or outputs shown twice, formulas set as code."""
    failures = []
    for output in report["outputs"]:
        for pattern, what in ((WARNING, "a warning"), (TRACEBACK, "a traceback"), (MACHINE_PATH, "a path of the machine that built it")):
            found = pattern.search(output)
            if found:
                start = max(0, found.start() - 40)
                failures.append(f"an output shows {what}: {output[start:found.end() + 60]!r}")
    for line in report["prose"]:
        found = MACHINE_PATH.search(line)
        if found:
            failures.append(f"the prose shows a path of the machine that built it: {line[:120]!r}")
    seen = {}
    for line in report["prose"]:
        if len(line) >= 60 or SECTION_REPEATS.match(line):
            key = "files it opens" if SECTION_REPEATS.match(line) else line
            seen[key] = seen.get(key, 0) + 1
    failures += [f"shows a section twice: {line[:80]!r}" for line, n in seen.items() if n > 1]
    counted = {}
    for output in report["outputs"]:
        if len(output) >= 120:
            counted[output] = counted.get(output, 0) + 1
    failures += [f"shows the same output {n} times: {output[:80]!r}" for output, n in counted.items() if n > 1]
    failures += [f"a formula set as a code block (write it as LaTeX): {b['text'][:80]!r}"
                 for b in report["proseBlocks"] if formula_like(b)]
    return failures


def layout(report, width):
    """At ``width`` px: nothing wider than the screen, no code or output cut off or broken
    mid-word, and (on a wide screen) figures shown at a size whose labels can be read."""
    failures = []
    if report["pageOverflow"] > 1:
        failures.append(f"at {width} px the page is {report['pageOverflow']} px wider than the screen")
    failures += [f"at {width} px a code block is cut off (no scrolling): {text!r}" for text in report["clipped"]]
    failures += [f"at {width} px code or output breaks words: {text!r}" for text in report["breaksWords"]]
    for picture in report["pictures"]:
        if picture["right"] > report["articleRight"] + 1:
            failures.append(f"at {width} px {picture['src']} sticks out of the column")
        if width >= 1280 and picture["shown"] < MIN_FIGURE_SCALE * picture["natural"]:
            failures.append(f"at {width} px {picture['src']} is shown at {picture['shown']:.0f} of its {picture['natural']} px "
                            f"(column {report['articleWidth']:.0f} px): its labels are too small to read")
    return failures


class Browser:
    """Headless Chromium spoken to with the DevTools protocol: JSON messages separated by
    NUL bytes, read from fd 4 of the browser and written to its fd 3."""

    def __init__(self, executable):
        self.profile = tempfile.mkdtemp(prefix="minigrad-chromium-")
        # a file, not a pipe nobody reads: Chromium's chatter must never fill a pipe and block it
        self._log = open(os.path.join(self.profile, "stderr.log"), "w+b")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        command = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"]
        # the protocol pipe must be the browser's fds 3 and 4: let a shell put them there
        self.process = subprocess.Popen(
            ["sh", "-c", f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}', "sh", *command],
            pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._log)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self.call(f"{domain}.enable", session=True)

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                self._log.seek(0)
                raise RuntimeError(f"Chromium exited: {self._log.read().decode(errors='replace')[-2000:]}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, session=False, timeout=60, **params):
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def evaluate(self, expression, timeout=60):
        result = self.call("Runtime.evaluate", session=True, timeout=timeout, expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def serve(site):
    """Serve ``site`` on a free loopback port, quietly, in a daemon thread."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def pages_to_open(site):
    """The home page, the lessons' index, every lesson and every note: the pages a reader
    reaches from the navigation. (Source pages are only checked as link targets.)"""
    lessons = sorted(p for p in (site / "tutorials").glob("[0-9][0-9]_*.html"))
    notes = sorted((site / "docs").glob("*.html")) if (site / "docs").is_dir() else []
    return [site / "index.html", site / "tutorials" / "index.html", *lessons, *notes]


def check_page(browser, url, origin, width=WIDE):
    """Open one page at ``width`` px; returns (what the page reported, [failures]). The
    checks of content (requests, scripts, MathJax, leftovers) run at the wide width only;
    the layout's at both."""
    browser.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=900 if width == WIDE else 844,
                 deviceScaleFactor=1, mobile=width != WIDE)
    failures = []
    browser.events.clear()
    browser.call("Page.navigate", session=True, url=url)
    browser.wait_for("Page.loadEventFired")
    browser.evaluate(MATHJAX_DONE)
    report = json.loads(browser.evaluate(INSPECT))
    requested = {}
    for event in browser.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            request = requested[params["requestId"]] = params["request"]["url"]
            if not request.startswith((origin, "data:", "blob:", "about:")):
                failures.append(f"requests {request} from outside the site (the site must work offline)")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            failures.append(f"{params['response']['url']} answered {params['response']['status']}")
        elif (method == "Network.loadingFailed" and not params.get("canceled")
              # MathJax 2 probes fonts with @font-face { src: url('about:blank') }, on purpose
              and not requested.get(params["requestId"], "").startswith("about:")):
            failures.append(f"{requested.get(params['requestId'], 'a request')} failed: {params.get('errorText')} ({params.get('type')})")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            failures.append(f"script error: {details.get('exception', {}).get('description') or details.get('text')}")
    if not report["title"] or report["text"] < 200:
        failures.append(f"renders almost nothing (title {report['title']!r}, {report['text']} characters of text)")
    failures += [f"image did not load: {image['src']}" for image in report["images"] if not image["ok"]]
    if report["mathErrors"]:
        failures.append(f"MathJax reported {report['mathErrors']} TeX error(s)")
    if report["unrendered"]:
        failures.append(f"{report['unrendered']} '$$' left unrendered in the prose")
    if report["mathSources"] and report["mathRendered"] == 0:
        failures.append("has TeX but MathJax rendered none of it")
    if width != WIDE:
        failures = [f for f in failures if "answered" in f or "script error" in f]
    else:
        failures += leftovers(report)
    return report, failures + layout(report, width)


def check_links(reports, site, origin):
    """Every same-site link names an existing file; a fragment into a page that was opened
    names an element id on it."""
    ids = {url: set(report["ids"]) for url, report in reports.items()}
    failures = []
    for page, report in reports.items():
        for link in sorted(set(report["links"])):
            if not link.startswith(origin):
                continue
            target, fragment = urldefrag(link)
            path = site / unquote(urlparse(target).path).lstrip("/")
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                failures.append(f"{page}: broken link to {link}")
            elif fragment and target in ids and unquote(fragment) not in ids[target]:
                failures.append(f"{page}: link to {link}, but that page has no element with id {fragment!r}")
    return failures


def check_order(reports, lesson_urls):
    """The footer's previous/next links walk through the lessons in number order."""
    failures = []
    for before, after in zip(lesson_urls, lesson_urls[1:]):
        if reports[before]["next"] != after:
            failures.append(f"{before}: 'next' goes to {reports[before]['next']}, not to {after}")
        if reports[after]["previous"] != before:
            failures.append(f"{after}: 'previous' goes to {reports[after]['previous']}, not to {before}")
    return failures


def chromium_executable():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--screenshots", type=Path, help="write a PNG of each page opened into this folder")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / "index.html").is_file():
        parser.error(f"{site} has no index.html: build it first with scripts/build_docs.sh")
    executable = chromium_executable()
    if executable is None:
        parser.error("no Chromium found (apt-get install chromium)")
    server = serve(site)
    origin = f"http://127.0.0.1:{server.server_address[1]}/"
    browser = Browser(executable)
    reports, failures = {}, []
    try:
        for path in pages_to_open(site):
            url = origin + path.relative_to(site).as_posix()
            name = path.relative_to(site).as_posix().replace("/", "_")
            for width in (WIDE, PHONE):
                report, page_failures = check_page(browser, url, origin, width)
                if width == WIDE:
                    reports[url] = report
                failures += [f"{path.relative_to(site)}: {failure}" for failure in page_failures]
                print(f"{'ok  ' if not page_failures else 'FAIL'} {path.relative_to(site)} at {width} px: {report['title']!r}, "
                      f"{report['figures']} figure(s), {report['mathRendered']} formula(s), {len(set(report['links']))} link(s)")
                if args.screenshots:
                    args.screenshots.mkdir(parents=True, exist_ok=True)
                    shot = browser.call("Page.captureScreenshot", session=True, format="png")["data"]
                    (args.screenshots / f"{name[:-5]}-{width}.png").write_bytes(base64.b64decode(shot))
    finally:
        browser.close()
        server.shutdown()
    failures += check_links(reports, site, origin)
    failures += check_order(reports, [url for url in reports if url.startswith(origin + "tutorials/")
                                      and url.rsplit("/", 1)[1][:2].isdigit()])
    for failure in failures:
        print("FAIL", failure)
    print(f"{len(reports)} pages opened in headless Chromium, {len(failures)} problem(s)")
    print("site check: " + json.dumps({url[len(origin):]: {"figures": r["figures"], "formulas": r["mathRendered"]}
                                        for url, r in reports.items()}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
