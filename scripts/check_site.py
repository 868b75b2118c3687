"""Open the built site in headless Chromium and check it as a reader would see it.

    python scripts/check_site.py SITE [--screenshots DIR]

Serves SITE on 127.0.0.1, then opens the home page, the lessons' index, every lesson
page and every note in headless Chromium (Debian's ``chromium``), driven through the
DevTools protocol over a pipe (``--remote-debugging-pipe``: no websocket library, no
Playwright download). A page passes when

* it loads, its article has text, and no script on it throws;
* every request it makes succeeds and none leaves the machine (the site must work offline);
* every image has loaded (``complete`` with a non-zero natural width);
* on the lesson pages, the footer's previous/next links go through the lessons in order;
* MathJax ran and reported no TeX error, and no ``$$`` is left unrendered;

and the site passes when, besides, every internal link of those pages (to any page,
source pages included) names a file that exists and, for ``#fragment`` links into the
pages opened, an element with that id. Prints one line per page and the failures;
exit status 1 when any check failed. ``--screenshots`` keeps a PNG of each page.
"""
import argparse
import base64
import functools
import http.server
import json
import os
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
  return JSON.stringify({
    title: document.title,
    text: article.innerText.length,
    images: Array.from(document.images).map(i => ({src: i.src.slice(0, 80), ok: i.complete && i.naturalWidth > 0})),
    figures: Array.from(document.querySelectorAll('.jp-OutputArea-output img')).length,
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
    mathRendered: document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML, .MathJax_SVG').length,
    mathErrors: document.querySelectorAll('.MathJax_Error, merror, .mjx-merror').length,
    mathSources: document.querySelectorAll('script[type^="math/tex"]').length,
    unrendered: (markdown.match(/\\$\\$/g) || []).length,
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


def check_page(browser, url, origin):
    """Open one page; returns (what the page reported, [failures])."""
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
    return report, failures


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
            report, page_failures = check_page(browser, url, origin)
            reports[url] = report
            failures += [f"{path.relative_to(site)}: {failure}" for failure in page_failures]
            print(f"{'ok  ' if not page_failures else 'FAIL'} {path.relative_to(site)}: {report['title']!r}, "
                  f"{report['figures']} figure(s), {report['mathRendered']} formula(s), {len(set(report['links']))} link(s)")
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                shot = browser.call("Page.captureScreenshot", session=True, format="png")["data"]
                (args.screenshots / (path.relative_to(site).as_posix().replace("/", "_") + ".png")).write_bytes(base64.b64decode(shot))
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
