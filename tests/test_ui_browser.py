"""The real app in a real browser: headless Chromium driven by Playwright (DESIGN.md §4).

One app server per module (in this process, sharing the session's index and model); one
browser per module, a fresh page per test. Screenshots go to tests/artifacts/; set
UI_UPDATE_SCREENSHOT=1 to refresh docs/screenshot.png (written only when missing otherwise).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from app import server
from tests.conftest import ROOT
from tests.test_ui import xss_project_assistant

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    # Gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium "
                       "(apt-get install -y chromium); `playwright install` cannot download here"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


def _launch(assistant):
    """Serve the app as `python -m app serve` does (UI and API on one port) on a free
    loopback port in this process; return (server, url)."""
    running = server.start_in_thread(assistant)
    return running, running.url + "/"


@pytest.fixture(scope="module")
def app_url(assistant):
    running, url = _launch(assistant)
    yield url
    running.stop()


@pytest.fixture(scope="module")
def xss_url(tmp_path_factory, assistant):
    """The app over a corpus whose text holds <script> and <img onerror> payloads."""
    xss = xss_project_assistant(tmp_path_factory.mktemp("xss_browser"), assistant.embedder)
    running, url = _launch(xss)
    yield url
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.dialogs = []  # any alert() from injected markup lands here

    def on_dialog(dialog):
        pg.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    yield pg
    context.close()


def open_app(page, url):
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("#rag-question textarea")
    page.wait_for_selector("#rag-citations .rag-panel")


def ask(page, question):
    """Type ``question``, press Ask, wait until the streamed answer is complete; return it."""
    page.fill("#rag-question textarea", question)
    page.click("#rag-ask")
    return wait_answer(page)


def wait_answer(page):
    panel = page.wait_for_selector('#rag-citations .rag-panel[data-complete="true"][data-found]')
    bot = page.locator('#rag-chat [data-testid="bot"] .message-content').last
    return bot.inner_text(), panel.get_attribute("data-found") == "true"


def test_chinese_question_streams_a_cited_answer(page, app_url, artifacts_dir):
    open_app(page, app_url)
    text, found = ask(page, "华为的异构计算架构叫什么？")
    assert found and "CANN" in text and "[1]" in text
    card = page.locator("#rag-citations #cite-1")
    assert card.count() == 1
    assert card.locator(".rag-num").inner_text() == "[1]"
    assert card.locator(".rag-src").inner_text() == "ai_compute_war.txt"
    marks = [m.strip() for m in card.locator("mark").all_inner_texts()]
    assert marks and all(m and m in text for m in marks) and any("CANN" in m for m in marks)
    # Every marker in the answer has its card, and no card lacks a marker.
    markers = set(re.findall(r"\[(\d+)\]", text))
    cards = {i.removeprefix("cite-") for i in page.locator("#rag-citations [id^=cite-]").evaluate_all(
        "els => els.map(e => e.id)")}
    assert markers == cards
    # The marker is a link that brings its card into view.
    page.locator('#rag-chat a[href="#cite-1"]').click()
    page.wait_for_function("() => { const r = document.getElementById('cite-1').getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= window.innerHeight; }")
    page.mouse.move(0, 0)
    page.wait_for_timeout(1700)  # let the highlight flash fade before the screenshot
    page.evaluate("window.scrollTo(0, 0)")
    shot = artifacts_dir / "ui_desktop.png"
    page.screenshot(path=str(shot), full_page=True)
    docs = ROOT / "docs" / "screenshot.png"
    if os.environ.get("UI_UPDATE_SCREENSHOT") == "1" or not docs.exists():
        docs.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, docs)
    assert not page.dialogs


def test_english_question_is_answered_from_the_chinese_corpus(page, app_url):
    open_app(page, app_url)
    question = "Which Nvidia chip is Huawei's Ascend 910B comparable to?"
    page.get_by_role("button", name=question).click()  # an example button asks at once
    text, found = wait_answer(page)
    assert page.locator('#rag-chat [data-testid="user"]').last.inner_text() == question
    assert found and "A100" in text
    assert page.locator("#rag-citations #cite-1").count() == 1


def test_off_topic_question_shows_the_abstention_notice(page, app_url, artifacts_dir):
    open_app(page, app_url)
    text, found = ask(page, "红烧肉的家常做法是什么？")
    assert not found, text
    notice = page.locator("#rag-citations .rag-notice")
    assert notice.is_visible() and "do not answer" in notice.inner_text()
    assert page.locator("#rag-citations .rag-card").count() >= 1  # the closest passages
    assert page.locator("#rag-citations [id^=cite-]").count() == 0
    page.screenshot(path=str(artifacts_dir / "ui_abstention.png"), full_page=True)


def test_empty_question_shows_an_error_not_a_traceback(page, app_url):
    open_app(page, app_url)
    page.click("#rag-ask")
    toast = page.get_by_text("the question is empty", exact=False)
    toast.first.wait_for()
    assert "Traceback" not in page.content()


def test_phone_width_layout(page, app_url, artifacts_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    open_app(page, app_url)
    ask(page, "英伟达在2022年底推出了哪些特供版芯片？")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"
    box = page.locator("#rag-citations").bounding_box()
    assert box and box["width"] <= 390
    page.screenshot(path=str(artifacts_dir / "ui_phone.png"), full_page=True)
    # Below the fold on a phone: the marker link scrolls its card into view.
    assert page.locator('#rag-chat a[href="#cite-1"]').count() >= 1
    page.locator('#rag-chat a[href="#cite-1"]').first.click()
    page.wait_for_function("() => { const r = document.getElementById('cite-1').getBoundingClientRect();"
                           " return r.top < window.innerHeight && r.bottom > 0; }")
    page.click("#rag-clear")
    page.wait_for_function("() => !document.querySelector('#rag-chat [data-testid=bot]')")
    assert page.locator("#rag-citations .rag-card").count() == 0


def test_xss_corpus_stays_inert(page, xss_url, artifacts_dir):
    open_app(page, xss_url)
    payload = "<img src=x onerror=alert(1)>"
    ask(page, payload + " 图片标签测试内容是什么？")
    page.wait_for_timeout(500)  # give any injected handler time to fire
    panel = page.locator("#rag-citations").inner_text()
    assert "<script>alert(1)</script>" in panel and payload in panel  # shown as text
    assert payload in page.locator('#rag-chat [data-testid="user"]').last.inner_text()
    assert page.locator("img[onerror]").count() == 0
    assert page.locator("script", has_text="alert(1)").count() == 0
    page.screenshot(path=str(artifacts_dir / "ui_xss.png"), full_page=True)
    assert page.dialogs == []


def test_settings_and_corpus_status_and_reingest(page, xss_url, artifacts_dir):
    open_app(page, xss_url)
    page.locator("#rag-settings").get_by_text("Settings", exact=True).click()
    page.get_by_text("Passages to retrieve (top-k)").wait_for()
    page.locator("#rag-corpus").get_by_text("Corpus", exact=True).click()
    status = page.locator("#rag-status")
    status.wait_for()
    assert "xss_probe.txt" in status.inner_text() and "Last ingest" in status.inner_text()
    page.get_by_role("button", name="Re-ingest corpus/").click()
    page.wait_for_function("() => (document.querySelector('#rag-ingest-summary textarea') || {}).value"
                           "?.includes('files: 1 indexed')")
    page.screenshot(path=str(artifacts_dir / "ui_corpus.png"), full_page=True)
    assert page.dialogs == []
