"""The browser chat in real Chromium against the real server (bundled corpus index)."""
from __future__ import annotations

import re
import shutil

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import sync_playwright  # noqa: E402

pytestmark = pytest.mark.browser

MERGE_Q = "which papers merge models without retraining?"
TIES_URL = "https://huggingface.co/papers/2306.01708"
PLEAS_URL = "https://huggingface.co/papers/2407.02447"
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def ui(bundled_index):
    from ui.testing import shared_server

    return shared_server(bundled_index)


@pytest.fixture(scope="module")
def browser():
    from ui.testing import launch_chromium

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def page(browser, ui):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(ui.url)
    page.wait_for_selector("#pc-question textarea", timeout=TIMEOUT_MS)
    yield page
    context.close()


def bots(page):
    return page.locator("#pc-chat [data-testid='bot']")


def wait_answer(page, n_bot: int):
    """Wait until the chat shows n_bot assistant messages and the last one is complete."""
    page.wait_for_function(
        """n => {
            const bots = document.querySelectorAll('#pc-chat [data-testid="bot"]');
            const status = (document.querySelector('#pc-status') || {}).innerText || '';
            return bots.length === n && !bots[n - 1].innerText.includes('Searching the papers')
                && /(\\d s$|\\d s\\s*$|Not answered)/.test(status.trim());
        }""",
        arg=n_bot, timeout=TIMEOUT_MS,
    )
    return bots(page).nth(n_bot - 1)


def ask(page, question: str):
    n = bots(page).count()
    box = page.locator("#pc-question textarea")
    box.fill(question)
    box.press("Enter")
    return wait_answer(page, n + 1)


def links(locator) -> list[tuple[str, str]]:
    return locator.evaluate_all("els => els.map(e => [e.innerText.trim(), e.getAttribute('href')])")


def source_urls(page) -> list[str]:
    return [href for _, href in links(page.locator("#pc-sources .pc-source a.pc-title"))]


def saved(page):
    # the save step runs after the answer; wait for the conversation to appear in the list
    page.wait_for_selector("#pc-conversations input[type=radio]", timeout=TIMEOUT_MS)


def test_answer_cites_merging_papers_with_working_links(page, tmp_path):
    # The page says what the corpus is and which answer mode is on.
    header = page.inner_text("#pc-header")
    assert re.search(r"\b\d{3} research-paper abstracts", header) and "extractive" in header
    assert "dated" in header

    answer = ask(page, MERGE_Q)
    answer_links = links(answer.locator("a"))
    markers = {text: href for text, href in answer_links if re.fullmatch(r"\[\d+\]", text)}
    assert markers, answer_links
    cited = {href for href in markers.values()}
    assert cited & {TIES_URL, PLEAS_URL}, cited
    # The marker and the title link of the same entry point at the same page
    assert any(text.startswith(("Resolving Interference", "PLeaS")) and href in (TIES_URL, PLEAS_URL)
               for text, href in answer_links)
    # Sources panel lists it, linked, with a quote and a score
    panel = source_urls(page)
    assert set(panel) == cited and cited & {TIES_URL, PLEAS_URL}
    first = page.locator("#pc-sources .pc-source").first
    assert first.locator(".pc-quote").inner_text().strip()
    assert re.search(r"score \d\.\d{3}", first.inner_text())
    assert page.locator("#pc-sources a.pc-code").count() >= 1  # TIES-Merging links its code
    # Links open the paper (new tab, no opener)
    assert page.locator(f"#pc-sources a[href='{TIES_URL}'], #pc-sources a[href='{PLEAS_URL}']").first \
        .get_attribute("target") == "_blank"
    assert "Answer mode: extractive" in page.inner_text("#pc-status")

    answer.evaluate("e => e.scrollIntoView({block: 'start'})")  # show the answer from its headline
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "answer.png"))
    shutil.copy(tmp_path / "answer.png", "/tmp/paperchat_answer.png")
    assert not page.errors


def test_follow_up_and_refusal(page):
    ask(page, MERGE_Q)
    follow = ask(page, "which of those use permutations?")
    hrefs = [href for text, href in links(follow.locator("a")) if re.fullmatch(r"\[\d+\]", text)]
    assert hrefs and hrefs[0] == PLEAS_URL
    assert source_urls(page)[0] == PLEAS_URL

    refusal = ask(page, "which papers study protein folding?")
    text = refusal.inner_text()
    assert "No answer from this corpus" in text
    assert refusal.locator("blockquote").count() >= 1  # styled as a refusal
    assert refusal.locator("a").count() == 0
    assert page.locator("#pc-sources .pc-source").count() == 0
    assert "No sources" in page.inner_text("#pc-sources")
    assert not page.errors


def test_example_click_and_clear(page):
    page.get_by_role("button", name=MERGE_Q).click()
    answer = wait_answer(page, 1)
    assert page.locator("#pc-chat [data-testid='user']").first.inner_text().strip() == MERGE_Q
    assert answer.locator("a").count() > 0 and source_urls(page)

    page.locator("#pc-clear").click()
    page.wait_for_function("document.querySelectorAll('#pc-chat [data-testid=\"bot\"]').length === 0",
                           timeout=TIMEOUT_MS)
    assert page.locator("#pc-sources .pc-source").count() == 0


@pytest.mark.parametrize("message, expect", [
    ("", "the question is empty"), ("     ", "the question is empty"), ("x" * 100_000, "100,000 characters"),
])
def test_bad_messages_get_a_reply_in_the_chat(page, message, expect):
    box = page.locator("#pc-question textarea")
    box.fill(message)
    box.press("Enter")
    reply = wait_answer(page, 1)
    assert expect in reply.inner_text() and "Can't answer that" in reply.inner_text()
    # no error toast
    assert page.locator(".toast-body.error, [data-testid='toast-body']").count() == 0
    assert not page.errors


def test_reload_keeps_conversation_and_citation_links(page, ui):
    ask(page, MERGE_Q)
    saved(page)
    before = [l for l in links(bots(page).first.locator("a"))]
    assert before
    page.reload()
    page.wait_for_selector("#pc-chat [data-testid='bot'] a", timeout=TIMEOUT_MS)
    after = links(bots(page).first.locator("a"))
    assert after == before
    assert source_urls(page)  # the sources panel of the latest answer comes back too
    # and the restored history still drives follow-ups
    follow = ask(page, "which of those use permutations?")
    assert PLEAS_URL in [href for _, href in links(follow.locator("a"))]


def test_planted_script_in_corpus_and_question_does_not_run(browser, tmp_path_factory, bundled_index):
    from assistant.settings import Settings
    from ingest.pipeline import run_ingest
    from ui.testing import PLANTED_QUESTION, shared_server, write_planted_corpus

    root = tmp_path_factory.mktemp("planted")
    corpus = write_planted_corpus(root / "corpus")
    settings = Settings(_env_file=None, index_dir=root / "index", data_dir=root / "corpus", chroma_url=None)
    run_ingest([corpus], settings, progress=False)
    ui = shared_server(settings)

    context = browser.new_context()
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(ui.url)
    page.wait_for_selector("#pc-question textarea", timeout=TIMEOUT_MS)
    answer = ask(page, PLANTED_QUESTION)
    ask(page, 'is <img src=x onerror="window.__pwned=5"><script>window.__pwned=7</script> '
              '[x](javascript:window.__pwned=8) about sneaky retrieval?')
    page.wait_for_timeout(500)

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not dialogs
    # shown as text, not markup
    assert "<script>window.__pwned=1</script>" in answer.inner_text()
    assert "<script>window.__pwned=1</script>" in page.inner_text("#pc-sources")
    assert '<img src=x onerror="window.__pwned=5">' in page.locator("#pc-chat [data-testid='user']").last.inner_text()
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#pc-chat script, #pc-sources script").count() == 0
    bad = page.evaluate("""() => [...document.querySelectorAll('a[href]')]
        .map(a => a.getAttribute('href')).filter(h => !/^(https?:|#|\\/|\\.|$)/i.test(h.trim()))""")
    assert bad == []
    context.close()
