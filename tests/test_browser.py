"""The page in a real browser: Debian's chromium, headless, driven by selenium.

Starts the app with the real models on a free loopback port, pastes an invented opinion
article, analyses it, checks the highlights and their tooltips, saves a screenshot (to a
temporary folder; ``make screenshot`` writes the README's ``docs/screenshot.png``), then checks that an article containing ``<script>`` is shown as text.

Needs ``apt-get install chromium chromium-driver`` and ``pip install selenium``; skipped
with a message saying which is missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import CHROMEDRIVER, CHROMIUM, require_chromium, serve_app
from spinscope.pipeline import MODEL_DIR
from spinscope.shells.api import create_app

#: Where to save the page's screenshot (``make screenshot`` sets it to docs/screenshot.png).
SCREENSHOT_ENV = "SPINSCOPE_SCREENSHOT"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)

webdriver = require_chromium()

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

#: An invented opinion piece, loaded on purpose, with named entities and a war narrative.
ARTICLE = "\n".join(
    [
        "NATO Is Dragging Europe Into a War Nobody Voted For",
        "",
        "For the third year running, the so-called leaders in Brussels have thrown our money at a war "
        "while ordinary families struggle to pay their bills.",
        "Every honest citizen knows the truth: NATO provoked this conflict, and Washington will keep feeding it "
        "until Europe burns.",
        "Experts agree that the sanctions against Russia will destroy European industry within months. Once the "
        "factories close, the jobs go, the young people leave, and our towns die.",
        "Kyiv says it fights for freedom, yet its ministers fly to Washington every month to beg for more weapons. "
        "Who are they to lecture anyone about sacrifice?",
        "There are only two choices left: stop the weapons now, or watch a nuclear war destroy everything we love. "
        "The time to act is now!",
        "",
    ]
)
#: An article whose text must appear as text, never run or render as markup.
HOSTILE = "\n".join(
    [
        "Council memo <script>window.__spinscope_xss = 1</script> leaked",
        "",
        'The memo ends with <img src="x" onerror="window.__spinscope_xss = 2"> and a shameful, disgraceful cover-up.',
        "",
    ]
)


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    if not (MODEL_DIR / "techniques.json").is_file():
        pytest.skip(
            f"no trained models in {MODEL_DIR} (techniques.json is missing): "
            "run `spinscope train` to create them, then re-run this test"
        )
    from spinscope.models.embeddings import Embedder, EmbeddingCache
    from spinscope.pipeline import Analyzer

    return Analyzer(embedder=Embedder(EmbeddingCache(tmp_path_factory.mktemp("embeddings") / "cache.sqlite")))


@pytest.fixture(scope="module")
def base_url(analyzer):
    """The app on loopback, as `spinscope serve` runs it by default."""
    yield from serve_app(create_app(analyzer=analyzer))


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="spinscope-chromium-")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def paste_and_analyse(driver, text: str) -> None:
    driver.execute_script(  # records whether the progress indicator ever showed
        "window.__sawProgress = false; const p = document.getElementById('progress');"
        "new MutationObserver(() => { if (!p.hidden) window.__sawProgress = true; })"
        ".observe(p, {attributes: true});"
    )
    driver.execute_script(
        "const box = document.getElementById('text');"
        "box.value = arguments[0]; box.dispatchEvent(new Event('input', {bubbles: true}));",
        text,
    )
    driver.find_element(By.ID, "analyse").click()


def wait_done(driver, timeout: float = 120) -> None:
    WebDriverWait(driver, timeout).until(
        lambda d: (
            d.find_element(By.ID, "progress").get_attribute("hidden") is not None
            and (
                d.find_element(By.ID, "status").text.startswith("Analysed")
                or d.find_element(By.ID, "error").is_displayed()
            )
        )
    )
    error = driver.find_element(By.ID, "error")
    assert not error.is_displayed(), error.text


def tooltip(driver) -> str:
    tip = driver.find_element(By.ID, "tip")
    WebDriverWait(driver, 5).until(lambda d: tip.is_displayed())
    return tip.text


def test_page_highlights_an_article(browser, base_url, tmp_path):
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "screenshot.png")
    browser.get(base_url + "/")
    assert browser.title.startswith("spinscope")
    paste_and_analyse(browser, ARTICLE)
    wait_done(browser)
    assert browser.execute_script("return window.__sawProgress")
    marks = browser.find_elements(By.CSS_SELECTOR, "#article mark")
    assert marks, "no highlighted span in the analysed article"
    # A mark may hold only the space between two underlined names inside a longer span.
    assert all(m.text in ARTICLE for m in marks) and sum(len(m.text) for m in marks) > 100

    # Keyboard: a highlight takes focus and its tooltip names a technique, its definition and score.
    browser.execute_script("arguments[0].focus()", marks[0])
    text = tooltip(browser)
    assert "score" in text and any(
        name.replace("_", " ") in text for name in marks[0].get_attribute("data-techniques").split()
    )
    ActionChains(browser).move_to_element(marks[-1]).perform()
    assert "score" in tooltip(browser)

    assert browser.find_element(By.ID, "language").text.startswith("English")
    assert browser.find_elements(By.CSS_SELECTOR, "#genre-bars li")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#frame-bars li")) == 14
    assert browser.find_elements(By.CSS_SELECTOR, "#legend li")
    # Narratives as a ranked list, entities listed with their role and underlined in the text.
    assert browser.find_elements(By.CSS_SELECTOR, "#narrative-list > li strong")
    entities = browser.find_elements(By.CSS_SELECTOR, "#entity-list li")
    assert entities and all(any(role in e.text for role in ("Protagonist", "Antagonist", "Innocent")) for e in entities)
    underlined = browser.find_elements(By.CSS_SELECTOR, "#article .entity")
    assert underlined and {u.text for u in underlined} <= {"NATO", "Washington", "Europe", "Russia", "Kyiv", "Brussels"}

    # The README's screenshot: the whole page, the dominant narrative's evidence lit, one
    # highlight focused to show its tooltip.
    browser.execute_script("arguments[0].click()", browser.find_element(By.CSS_SELECTOR, "#narrative-list .pick"))
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False}
    )
    try:
        # The new size comes with a resize event, which hides the tooltip: let it pass first.
        WebDriverWait(browser, 5).until(lambda d: d.execute_script("return window.innerHeight") == height)
        browser.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]))")
        browser.execute_script("window.scrollTo(0, 0); arguments[0].focus()", marks[min(1, len(marks) - 1)])
        tooltip(browser)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(screenshot))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert screenshot.stat().st_size > 10_000


def test_choosing_a_narrative_or_an_entity_by_keyboard_lights_its_evidence(browser, base_url):
    browser.get(base_url + "/")
    paste_and_analyse(browser, ARTICLE)
    wait_done(browser)
    picks = browser.find_elements(By.CSS_SELECTOR, "#narrative-list .pick")
    assert picks, "no narrative to choose"
    assert not browser.find_elements(By.CSS_SELECTOR, "#article .ev.lit")  # nothing lit before a choice
    # Tab from the heading of the narratives reaches the first one; Enter chooses it.
    browser.execute_script(
        "const h = document.getElementById('narratives-title'); h.setAttribute('tabindex', '-1'); h.focus();"
    )
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element == picks[0]
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert picks[0].get_attribute("aria-pressed") == "true"
    lit = browser.find_elements(By.CSS_SELECTOR, "#article .ev.lit")
    assert lit and all(span.text in ARTICLE for span in lit)
    assert "highlighted" in browser.find_element(By.ID, "evidence-status").text
    # The lit words are the narrative's evidence sentences of the Analysis JSON, no more.
    evidence = browser.execute_script(
        "const a = document.getElementById('article');"
        "return [...a.querySelectorAll('.ev.lit')].map((s) => s.textContent).join('');"
    )
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    assert not browser.find_elements(By.CSS_SELECTOR, "#article .ev.lit")
    assert picks[0].get_attribute("aria-pressed") == "false"
    assert len(evidence) > 20

    entity = browser.find_element(By.CSS_SELECTOR, "#entity-list .pick")
    browser.execute_script("arguments[0].focus()", entity)
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    lit = browser.find_elements(By.CSS_SELECTOR, "#article .ev.lit")
    name = entity.text.strip()
    assert lit and any(name in span.find_element(By.XPATH, "ancestor::*[contains(@class,'para')]").text for span in lit)
    assert picks[0].get_attribute("aria-pressed") == "false" and entity.get_attribute("aria-pressed") == "true"


def test_page_shows_markup_in_an_article_as_text(browser, base_url):
    browser.get(base_url + "/")
    paste_and_analyse(browser, HOSTILE)
    wait_done(browser)
    article = browser.find_element(By.ID, "article")
    assert "<script>window.__spinscope_xss = 1</script>" in article.text
    assert '<img src="x" onerror=' in article.text
    assert not article.find_elements(By.CSS_SELECTOR, "script, img")
    assert browser.execute_script("return window.__spinscope_xss") is None


TOKEN = "page-token_1234567890"


@pytest.fixture(scope="module")
def shared_url(analyzer):
    """The app as a shared server serves it: every API call needs the token."""
    from spinscope.shells.api.access import Access

    yield from serve_app(create_app(analyzer=analyzer, access=Access(token=TOKEN)))


def test_page_asks_a_shared_server_for_its_token_once(browser, shared_url):
    from selenium.webdriver.common.keys import Keys

    browser.get(shared_url + "/")
    wait = WebDriverWait(browser, 20)
    dialog = browser.find_element(By.ID, "token-dialog")
    wait.until(lambda _: dialog.get_attribute("open") is not None)
    browser.find_element(By.ID, "token").send_keys("wrong-token" + Keys.ENTER)
    wait.until(lambda _: browser.find_element(By.ID, "token-error").is_displayed())
    assert dialog.get_attribute("open") is not None  # refused: asked again
    field = browser.find_element(By.ID, "token")
    field.clear()
    field.send_keys(TOKEN + Keys.ENTER)  # by keyboard, as a reader would
    wait.until(lambda _: dialog.get_attribute("open") is None)
    assert browser.execute_script("return sessionStorage.getItem('spinscope.token')") == TOKEN
    assert browser.execute_script("return localStorage.length") == 0  # kept for the session only
    browser.refresh()
    paste_and_analyse(browser, ARTICLE)
    wait_done(browser)  # analysed with the kept token, no second question
    assert browser.find_element(By.ID, "token-dialog").get_attribute("open") is None
    assert browser.find_elements(By.CSS_SELECTOR, "#article mark")
    browser.execute_script("sessionStorage.clear()")
