"""The browser extension for real: Debian's chromium, headless, with ``extension/`` loaded unpacked.

One browser session. The test serves invented news pages from a local page server on
127.0.0.1, runs the app with the real models on another loopback port (with an API token, as
a shared server would), enters that address and token in the extension's own options page,
then presses the extension's toolbar button on each page and checks what the reader sees:
the exact words of every technique span highlighted in place (offsets mapped from code points
to the page's text nodes, across an emoji and inline links), the tooltip reached by keyboard,
the side panel's labels, the page's own text and scripts unchanged, and the messages for a
stopped server, a page without an article, a page over the API's size limit and a page that
changes while it is analysed.

How the button is pressed: selenium cannot click a browser's toolbar, and the extension reads
a page only after a user gesture (the ``activeTab`` permission; it asks for no host access).
Calling the background's function through its service worker would run without that grant,
and a keyboard shortcut does not reach the browser's accelerators in headless mode. So chromium
is started here with ``--remote-debugging-pipe --enable-unsafe-extension-debugging`` (selenium
attaches to it through its debugging port) and the test sends CDP's
``Extensions.triggerAction`` over the pipe: chromium then runs the extension's action exactly
as a click on its toolbar button does (``action.onClicked`` with the activeTab grant).

The extension is built first when ``extension/dist`` is missing or older than its sources
(``npm ci`` when ``node_modules`` is missing, then ``node build.mjs``); ``web-ext lint`` runs
when npm is there. Skipped, saying why, only when chromium, chromedriver or selenium are missing.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import CHROMEDRIVER, CHROMIUM, free_socket, require_chromium, serve_app
from spinscope.pipeline import MODEL_DIR
from spinscope.shells.api import create_app
from spinscope.shells.api.access import Access
from spinscope.shells.api.cors import EXTENSION_ID

EXTENSION = Path(__file__).resolve().parents[1] / "extension"
BUILT = EXTENSION / "dist" / "extension"
#: Where to save the screenshot of the extension on a page (``make screenshot``: docs/extension.png).
SCREENSHOT_ENV = "SPINSCOPE_EXTENSION_SCREENSHOT"
TOKEN = "extension-token_5Hq2Zr8Wm4"
#: The oldest node web-ext runs on (its package.json's engines).
WEB_EXT_NODE = 20

webdriver = require_chromium()

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# --- the pages (invented for spinscope) -------------------------------------------------------

TITLE = "NATO Is Dragging Europe Into a War Nobody Voted For"
PARAGRAPHS = [
    "For the third year running, the so-called leaders in <a href='/brussels'>Brussels</a> have thrown our money "
    "at a war while ordinary families struggle to pay their bills.",
    "\U0001f4e2 Every honest citizen knows the truth: <em>NATO provoked this conflict</em>, and Washington will keep "
    "feeding it until Europe burns.",
    "Experts agree that the sanctions against Russia will destroy European industry within months. Once the "
    "factories close, the jobs go, the young people leave, and our towns die.",
    "Kyiv says it fights for freedom, yet its ministers fly to Washington every month to beg for more weapons. "
    "Who are they to lecture anyone about sacrifice?",
    "There are only two choices left: stop the weapons now, or watch a nuclear war destroy everything we love. "
    "The time to act is now!",
]


def news_page(body: str, script: str = "") -> str:
    """A news site's page around ``body``: navigation, a sidebar, a footer and a script of its own."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{TITLE} | The Harbour Ledger</title>
<style>body {{ font: 18px/1.6 Georgia, serif; max-width: 46rem; margin: 0 auto; padding: 1rem; }}
nav a {{ margin-right: 1rem; }} aside {{ color: #555; font-size: .9rem; }}</style></head>
<body>
<header><strong>The Harbour Ledger</strong>
<nav><a href="/">Home</a><a href="/world">World</a><a href="/opinion">Opinion</a><a href="/sport">Sport</a></nav></header>
<main>{body}</main>
<aside><h2>Most read</h2><ul><li><a href="/a">Ferry timetable changes</a></li><li><a href="/b">Council budget</a></li></ul></aside>
<footer><p>&copy; The Harbour Ledger. <button id="page-button" type="button">Clicked 0 times</button></p></footer>
<script>
window.pageClicks = 0;
document.getElementById("page-button").addEventListener("click", (e) => {{
  window.pageClicks += 1; e.target.textContent = "Clicked " + window.pageClicks + " times";
}});
{script}
</script>
</body></html>"""


def article_body(frame: bool = False) -> str:
    paragraphs = "\n".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    inset = '<iframe src="/frame.html" title="poll" width="300" height="80"></iframe>' if frame else ""
    return f'<article><h1>{TITLE}</h1><p class="byline">By A. Columnist</p>\n{paragraphs}\n{inset}</article>'


FRAME = "<!doctype html><html><body><p>Reader poll: should the harbour ferry run at night? Vote now!</p></body></html>"
#: A page that rewrites its second paragraph as soon as the extension's panel appears.
CHANGING = """
new MutationObserver((_, observer) => {
  if (!document.querySelector("spinscope-panel")) return;
  observer.disconnect();
  setTimeout(() => { document.querySelectorAll("main p")[2].textContent = "Live update: this paragraph was rewritten."; }, 0);
}).observe(document.documentElement, { childList: true });
"""
NO_ARTICLE = "<ul>" + "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(12)) + "</ul>"
#: Over the API's 200,000 characters.
HUGE = (
    "<article><h1>Minutes of every harbour meeting</h1>"
    + "".join(
        f"<p>Item {i}: the harbour board discussed the ferry timetable, the quay repairs and the budget "
        "of the coming year at great length, and agreed to meet again.</p>"
        for i in range(1700)
    )
    + "</article>"
)

#: A site with a strict Content-Security-Policy: no inline style or script of anyone's.
STRICT = news_page(article_body()).replace(
    "<head>", "<head><meta http-equiv='Content-Security-Policy' content=\"default-src 'self'\">", 1
)

PAGES = {
    "article.html": news_page(article_body(frame=True)),
    "strict.html": STRICT,
    "frame.html": FRAME,
    "changing.html": news_page(article_body(), CHANGING),
    "empty.html": news_page(NO_ARTICLE),
    "huge.html": news_page(HUGE),
}


# --- the extension, the servers and the browser -----------------------------------------------


def test_manifest_key_gives_the_id_the_api_allows():
    """Chromium's id is the SHA-256 of the manifest's public key, in the letters a-p."""
    key = json.loads((EXTENSION / "manifest.json").read_text())["key"]
    digest = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
    assert "".join(chr(ord("a") + int(c, 16)) for c in digest) == EXTENSION_ID


def _stale() -> bool:
    if not (BUILT / "manifest.json").is_file() or not (BUILT / "content.js").is_file():
        return True
    built = (BUILT / "content.js").stat().st_mtime
    sources = [EXTENSION / "manifest.json", EXTENSION / "build.mjs", *(EXTENSION / "src").iterdir()]
    return any(path.stat().st_mtime > built for path in sources)


@pytest.fixture(scope="module")
def extension() -> Path:
    """``extension/dist/extension``, built when missing or older than its sources."""
    npm = shutil.which("npm")
    if _stale() or (npm and not (EXTENSION / "node_modules").is_dir()):
        if not shutil.which("node") or not npm:
            pytest.fail("the extension is not built and node/npm are missing: apt-get install nodejs npm")
        if not (EXTENSION / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, check=True, timeout=600)
        subprocess.run(["node", "build.mjs"], cwd=EXTENSION, check=True, timeout=120)
    return BUILT


def test_web_ext_lint_finds_no_error_for_firefox(extension):
    if not (EXTENSION / "node_modules" / ".bin" / "web-ext").exists():
        pytest.skip("web-ext is not installed: run `npm ci` in extension/")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    if int(node.strip().lstrip("v").split(".")[0]) < WEB_EXT_NODE:
        pytest.skip(f"web-ext needs node {WEB_EXT_NODE} or later (this is node {node.strip()})")
    done = subprocess.run(
        ["npx", "--no-install", "web-ext", "lint", "--source-dir", str(extension), "--output", "json"],
        cwd=EXTENSION,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stdout[done.stdout.index("{") :])
    assert report["summary"]["errors"] == 0, report["errors"]
    # What remains are notes about Chromium's service worker key and Readability's own innerHTML.
    assert {w["code"] for w in report["warnings"]} <= {"BACKGROUND_SERVICE_WORKER_IGNORED", "UNSAFE_VAR_ASSIGNMENT"}


class Recording:
    """The real Analyzer, keeping what it was asked and answered (to check the page against)."""

    def __init__(self, analyzer):
        self.analyzer = analyzer
        self.analyses: list[dict] = []

    def __getattr__(self, name):
        return getattr(self.analyzer, name)

    def analyze(self, article):
        analysis = self.analyzer.analyze(article)
        self.analyses.append(analysis.to_dict())
        return analysis


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    if not (MODEL_DIR / "techniques.json").is_file():
        pytest.skip(f"no trained models in {MODEL_DIR} (techniques.json is missing): run `spinscope train` first")
    from spinscope.models.embeddings import Embedder, EmbeddingCache
    from spinscope.pipeline import Analyzer

    cache = EmbeddingCache(tmp_path_factory.mktemp("embeddings") / "cache.sqlite")
    return Recording(Analyzer(embedder=Embedder(cache)))


@pytest.fixture(scope="module")
def api_url(analyzer):
    """The app with the real models on loopback, asking for a token (the extension's origin is allowed by default)."""
    yield from serve_app(create_app(analyzer=analyzer, access=Access(token=TOKEN)))


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The news pages, served from 127.0.0.1 by a plain static server."""
    folder = tmp_path_factory.mktemp("pages")
    for name, html in PAGES.items():
        (folder / name).write_text(html, encoding="utf-8")

    asked: list[str] = []

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            asked.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Pages(f"http://127.0.0.1:{server.server_address[1]}", asked)
    server.shutdown()


class Pages(str):
    """The page server's address, and the paths it was asked for."""

    def __new__(cls, url: str, asked: list[str]):
        made = super().__new__(cls, url)
        made.asked = asked
        return made


class OldServer(http.server.BaseHTTPRequestHandler):
    """A spinscope older than the extension supports: only its health check, answered to the extension
    (on ``/unlisted/...``, as a server that does not list the extension's origin answers)."""

    def do_GET(self):
        body = json.dumps({"status": "ok", "version": "0.0.9", "models": {}}).encode()
        self.send_response(200 if self.path.endswith("/health") else 404)
        self.send_header("Content-Type", "application/json")
        if not self.path.startswith("/unlisted/"):
            self.send_header("Access-Control-Allow-Origin", f"chrome-extension://{EXTENSION_ID}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def old_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OldServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class Chromium:
    """Chromium with the extension, a CDP pipe to press its button, and selenium attached to it."""

    FLAGS = (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--remote-debugging-pipe",
        "--enable-unsafe-extension-debugging",
    )

    def __init__(self, extension: Path):
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="spinscope-extension-")
        sock = free_socket()
        port = sock.getsockname()[1]
        sock.close()
        commands, self._answers = os.pipe(), os.pipe()
        # The pipe is fds 3 (chromium reads) and 4 (chromium writes) in the browser's process.
        self.process = subprocess.Popen(
            [
                str(CHROMIUM),
                *self.FLAGS,
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                f"--load-extension={extension}",
                f"--disable-extensions-except={extension}",
                "about:blank",
            ],
            preexec_fn=lambda: (os.dup2(commands[0], 3), os.dup2(self._answers[1], 4)),
            pass_fds=(3, 4, commands[0], self._answers[1]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands[0])
        os.close(self._answers[1])
        self._commands = commands[1]
        self._buffer = b""
        self._calls = 0
        self._wait_for_port(port)
        options = Options()
        options.debugger_address = f"127.0.0.1:{port}"
        self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        self.driver.set_page_load_timeout(60)

    def _wait_for_port(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=2).close()
                return
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, "chromium did not start"
                time.sleep(0.1)

    def cdp(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """One CDP command over the pipe (where the Extensions domain is allowed)."""
        self._calls += 1
        command = {"id": self._calls, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        os.write(self._commands, json.dumps(command).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._answers[0], 1 << 16)
                assert chunk, "chromium closed its debugging pipe"
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            message = json.loads(raw)
            if message.get("id") == self._calls:
                assert "error" not in message, message["error"]
                return message["result"]

    def in_service_worker(self, expression: str):
        """The value of ``expression`` evaluated in the extension's service worker (awaited)."""
        targets = self.cdp("Target.getTargets")["targetInfos"]
        [worker] = [t for t in targets if t["type"] == "service_worker" and EXTENSION_ID in t["url"]]
        session = self.cdp("Target.attachToTarget", {"targetId": worker["targetId"], "flatten": True})["sessionId"]
        try:
            params = {"expression": expression, "awaitPromise": True, "returnByValue": True}
            return self.cdp("Runtime.evaluate", params, session)["result"].get("value")
        finally:
            self.cdp("Target.detachFromTarget", {"sessionId": session})

    def press_button(self, url: str) -> None:
        """The extension's toolbar button, pressed on the tab once it shows ``url``, loaded.

        Leaving the options page (an extension page) for a web page switches processes, and
        selenium may report the load before the tab has committed the new page: a press then
        would be granted to the options page, and the grant dropped as the page commits. And on
        a loaded machine chromium now and then drops the press while it wakes the extension's
        stopped service worker. So the press waits for the page, and is repeated (at most
        twice) when the panel has not appeared after 15 seconds, as a reader would press again.
        """
        WebDriverWait(self.driver, 30).until(
            lambda d: d.execute_script("return [location.href, document.readyState]") == [url, "complete"]
        )
        for _ in range(3):
            tabs = self.cdp("Target.getTargets", {"filter": [{"type": "tab"}]})["targetInfos"]
            [tab] = [t for t in tabs if t["url"] == url]
            self.cdp("Extensions.triggerAction", {"id": EXTENSION_ID, "targetId": tab["targetId"]})
            try:
                WebDriverWait(self.driver, 15).until(lambda d: panel_status(d))
                return
            except TimeoutException:
                continue

    def close(self) -> None:
        self.driver.quit()  # attached: the browser stays until it is ended here
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._commands)
        os.close(self._answers[0])
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(extension):
    chromium = Chromium(extension)
    yield chromium
    chromium.close()


# --- what the page shows ------------------------------------------------------------------------

#: The normalised text of an element and, per code point, whether a technique mark covers it.
MASK_JS = """
const el = arguments[0];
let text = "", mask = "", space = null;
const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const covered = node.parentElement.closest(".spinscope-technique") ? "1" : "0";
  for (const ch of node.data) {
    if (/\\s/.test(ch)) { if (text && space === null) space = covered; continue; }
    if (space !== null) { text += " "; mask += space; space = null; }
    text += ch; mask += covered;
  }
}
return [text, mask];
"""


def shadow_text(driver, host: str) -> str:
    return driver.execute_script(
        "const h = document.querySelector(arguments[0]); return h && !h.hidden ? h.shadowRoot.textContent : ''", host
    )


def panel_status(driver) -> str:
    return driver.execute_script(
        "const h = document.querySelector('spinscope-panel');"
        "return h ? h.shadowRoot.querySelector('.status').textContent : ''"
    )


def wait_status(chromium: Chromium, expect: str, timeout: float = 120) -> str:
    """The panel's message once it says ``expect`` (or an error), failing with what it says."""
    driver = chromium.driver
    try:
        WebDriverWait(driver, timeout).until(lambda d: expect in panel_status(d) or "error" in _status_kind(d))
    except TimeoutException:
        titles = chromium.in_service_worker(
            "chrome.tabs.query({}).then((tabs) => Promise.all(tabs.map((t) => chrome.action.getTitle({tabId: t.id})"
            ".then((title) => [t.url, title])))).then((titles) => [titles, spinscope.state.lastError])"
        )
        pytest.fail(f"after {timeout} s the panel says {panel_status(driver)!r}, not {expect!r}; the button: {titles}")
    status = panel_status(driver)
    assert expect in status, (status, chromium.in_service_worker("spinscope.state.lastError"))
    return status


def analyse(chromium: Chromium, url: str, expect: str) -> str:
    """Open ``url``, press the extension's button and wait for the panel to say ``expect``."""
    chromium.driver.get(url)
    chromium.press_button(url)
    return wait_status(chromium, expect)


def _status_kind(driver) -> str:
    return driver.execute_script(
        "const h = document.querySelector('spinscope-panel');"
        "return h ? h.shadowRoot.querySelector('.status').className : ''"
    )


def set_options(chromium: Chromium, address: str, token: str) -> None:
    """Type the server's address and token into the extension's options page, as its user does."""
    driver = chromium.driver
    driver.get(f"chrome-extension://{EXTENSION_ID}/options.html")
    for field, value in (("address", address), ("token", token)):
        box = driver.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "result").text == "Saved.")
    assert driver.find_element(By.ID, "origin").text == f"chrome-extension://{EXTENSION_ID}"


def expected_masks(analysis: dict) -> dict[str, str]:
    """Each line of the analysed text and, per code point, whether a technique span covers it."""
    text = analysis["text"]
    covered = [False] * len(text)
    for span in analysis["spans"]:
        for i in range(span["start"], span["end"]):
            covered[i] = True
    masks, at = {}, 0
    for line in text.split("\n"):
        if line.strip():
            masks[line] = "".join("1" if covered[at + i] else "0" for i in range(len(line)))
        at += len(line) + 1
    return masks


def test_extension_highlights_a_news_page(browser, api_url, pages, old_server, analyzer, tmp_path):
    driver = browser.driver
    set_options(browser, "http://127.0.0.1:9", "")  # nothing listens on port 9
    assert "spinscope is not running at http://127.0.0.1:9" in analyse(browser, pages + "/article.html", "not running")
    set_options(browser, old_server, "")
    assert "is version 0.0.9; this extension needs 0.1.0" in analyse(browser, pages + "/article.html", "version")
    set_options(browser, old_server + "/unlisted", "")
    refused = analyse(browser, pages + "/article.html", "does not let this extension")
    assert f"spinscope serve --allow-origin chrome-extension://{EXTENSION_ID}" in refused
    set_options(browser, api_url, "")
    assert "needs its API token" in analyse(browser, pages + "/article.html", "token")
    set_options(browser, api_url, TOKEN)

    driver.get(pages + "/article.html")
    before = driver.execute_script("return [document.body.textContent, document.body.innerText]")
    browser.press_button(pages + "/article.html")
    wait_status(browser, "Analysed")
    analysis = analyzer.analyses[-1]
    assert analysis["text"].startswith(TITLE + "\n\n")
    assert "Most read" not in analysis["text"] and "Reader poll" not in analysis["text"]  # the article only

    # The page's own text and script are as they were; the frame was left alone.
    assert driver.execute_script("return [document.body.textContent, document.body.innerText]") == before
    driver.switch_to.frame(driver.find_element(By.TAG_NAME, "iframe"))
    assert not driver.find_elements(By.CSS_SELECTOR, "spinscope-mark")
    driver.switch_to.default_content()

    # Exactly the words of every span are marked, in every paragraph (code points and UTF-16 alike).
    masks = expected_masks(analysis)
    checked = 0
    for element in driver.find_elements(By.CSS_SELECTOR, "main h1, main p"):
        text, mask = driver.execute_script(MASK_JS, element)
        if text not in masks:
            continue
        want = masks[text]
        assert len(mask) == len(want) == len(text)
        # Spaces between two text nodes may stay outside a mark: compare the other characters.
        assert [m for m, c in zip(mask, text, strict=True) if c != " "] == [
            w for w, c in zip(want, text, strict=True) if c != " "
        ], text
        checked += 1
    assert checked == len(PARAGRAPHS) + 1
    marks = driver.find_elements(By.CSS_SELECTOR, "spinscope-mark.spinscope-technique")
    assert marks and any("\U0001f4e2" not in m.text for m in marks)
    overlapping = any(
        a["start"] < b["end"] and b["start"] < a["end"] and a["technique"] != b["technique"]
        for a in analysis["spans"]
        for b in analysis["spans"]
    )
    assert overlapping == bool(driver.find_elements(By.CSS_SELECTOR, ".spinscope-overlap"))

    # Keyboard: from the link before the first highlight, Tab reaches a highlight and its tooltip.
    link = driver.find_element(By.CSS_SELECTOR, "main a[href='/brussels']")
    driver.execute_script("arguments[0].focus()", driver.find_element(By.CSS_SELECTOR, "nav a[href='/sport']"))
    ActionChains(driver).send_keys(Keys.TAB).perform()
    focused = driver.switch_to.active_element
    assert focused.tag_name == "spinscope-mark" or focused == link
    while focused.tag_name != "spinscope-mark":
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.switch_to.active_element
    tip = shadow_text(driver, "spinscope-tip")
    names = focused.get_attribute("data-spinscope-techniques").split()
    assert "score" in tip and names[0].replace("_", " ").split("-")[0] in tip
    ActionChains(driver).move_to_element(marks[-1]).perform()
    last = marks[-1].get_attribute("data-spinscope-techniques").split()[0]
    WebDriverWait(driver, 5).until(lambda d: last.replace("_", " ").split("-")[0] in shadow_text(d, "spinscope-tip"))

    # The panel: genre, frames, techniques per paragraph, narratives and entities with their roles.
    panel = shadow_text(driver, "spinscope-panel")
    assert analysis["genre"]["label"] in panel
    assert all(f["label"].replace("_", " ") in panel for f in analysis["frames"])
    assert all(n["label"] in panel for n in analysis["narratives"])
    assert all(e["name"] in panel and e["role"] in panel for e in analysis["entities"])
    assert analysis["entities"], "the article names NATO, Washington, Europe and Russia"
    # Choosing an entity scrolls to its mention on the page.
    entity = analysis["entities"][-1]["name"]
    driver.execute_script("window.scrollTo(0, 0)")
    driver.execute_script(
        "const root = document.querySelector('spinscope-panel').shadowRoot;"
        "[...root.querySelectorAll('.entities .go')].find((b) => b.textContent === arguments[0]).click()",
        entity,
    )
    flashed = f"spinscope-mark.spinscope-flash[data-spinscope-entity='{entity}']"
    WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, flashed))
    WebDriverWait(driver, 5).until(
        lambda d: d.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight",
            d.find_element(By.CSS_SELECTOR, flashed),
        )
    )
    # The README's screenshot: the page at the top, a highlight of the first paragraph focused.
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "extension.png")
    time.sleep(2)  # the smooth scroll and the chosen entity's flash end first
    driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'})")
    time.sleep(0.3)  # the page's scroll event hides the tooltip: let it pass first
    driver.execute_script(
        "document.querySelector('main p:not(.byline) spinscope-mark.spinscope-technique').focus({preventScroll: true})"
    )
    WebDriverWait(driver, 5).until(lambda d: "score" in shadow_text(d, "spinscope-tip"))
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000

    # A second press analyses again without doubling the marks (one cached analysis).
    count = len(marks)
    driver.execute_script(
        "document.querySelector('spinscope-panel').shadowRoot.querySelector('.status').textContent = ''"
    )
    browser.press_button(pages + "/article.html")
    wait_status(browser, "Analysed")
    assert len(driver.find_elements(By.CSS_SELECTOR, "spinscope-mark.spinscope-technique")) == count
    assert driver.execute_script("return [document.body.textContent, document.body.innerText]") == before
    driver.find_element(By.ID, "page-button").click()  # the page's own script still runs
    assert driver.execute_script("return window.pageClicks") == 1

    # Bad pages: no article, over the API's size limit, a page that changes while it is analysed.
    assert "No article found" in analyse(browser, pages + "/empty.html", "No article")
    assert "too long" in analyse(browser, pages + "/huge.html", "too long")
    changed = analyse(browser, pages + "/changing.html", "Analysed")
    assert "1 paragraph changed while it was analysed" in changed
    rewritten = driver.find_elements(By.CSS_SELECTOR, "main p")[2]
    assert rewritten.text == "Live update: this paragraph was rewritten."
    assert not rewritten.find_elements(By.CSS_SELECTOR, "spinscope-mark")
    assert driver.find_elements(By.CSS_SELECTOR, "main spinscope-mark.spinscope-technique")

    # A site's strict CSP does not stop the marks' colours nor the panel's styles.
    analyse(browser, pages + "/strict.html", "Analysed")
    styled = driver.execute_script(
        "const mark = document.querySelector('spinscope-mark.spinscope-technique');"
        "const panel = document.querySelector('spinscope-panel').shadowRoot.querySelector('.panel');"
        "return [getComputedStyle(mark).backgroundColor, getComputedStyle(panel).position]"
    )
    assert styled[0] not in ("rgba(0, 0, 0, 0)", "transparent") and styled[1] == "fixed"
    # The extension sent nothing to the sites it read: they only served their pages.
    assert {path.split("?")[0] for path in pages.asked} <= {f"/{name}" for name in PAGES} | {"/favicon.ico"}
