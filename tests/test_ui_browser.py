"""The browser chat in real Chromium (Debian's) against the real server on the bundled corpus.

One server and one browser for the module; each test opens its own context (fresh localStorage)
at the viewport it needs. Screenshots of a finished answer at each viewport are kept under
.paperchat/artifacts/ (gitignored) for people to look at.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from assistant.settings import REPO_ROOT  # noqa: E402

pytestmark = pytest.mark.browser

MERGE_Q = "which papers merge models without retraining?"
TIES_URL = "https://huggingface.co/papers/2306.01708"
PLEAS_URL = "https://huggingface.co/papers/2407.02447"
TIMEOUT_MS = 120_000
VIEWPORTS = {"1400x900": (1400, 900), "1366x768": (1366, 768), "390x844": (390, 844)}
ARTIFACTS = REPO_ROOT / ".paperchat" / "artifacts"


@pytest.fixture(scope="module")
def ui(request):
    """The served UI. PAPERCHAT_UI_TEST_URL points the tests at an already running `paperchat ui`
    on the bundled corpus instead (quicker while working on the page)."""
    from types import SimpleNamespace

    from ui.testing import shared_server

    if os.environ.get("PAPERCHAT_UI_TEST_URL"):
        return SimpleNamespace(url=os.environ["PAPERCHAT_UI_TEST_URL"])
    return shared_server(request.getfixturevalue("bundled_index"))


@pytest.fixture(scope="module")
def browser():
    from ui.testing import launch_chromium

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, ui):
    """open_page(size="1400x900", **context_options) -> a loaded page; closed after the test."""
    contexts = []

    def _open(size: str = "1400x900", **options):
        w, h = VIEWPORTS[size]
        context = browser.new_context(viewport={"width": w, "height": h}, accept_downloads=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(ui.url)
        page.wait_for_selector("#pc-question textarea", timeout=TIMEOUT_MS)
        page.wait_for_selector(".pc-welcome, .pc-log", timeout=TIMEOUT_MS)
        return page

    yield _open
    for c in contexts:
        c.close()


@pytest.fixture
def page(open_page):
    return open_page()


def bots(page):
    return page.locator("#pc-transcript article.pc-bot")


def wait_answer(page, n_bot: int, at_least: bool = False):
    """Wait until the chat shows n_bot finished answers (or more, with at_least: a question queued
    while an answer streams may be sent and answered before the page is looked at)."""
    page.wait_for_function(
        f"n => document.querySelectorAll('#pc-transcript article.pc-bot[data-done]').length {'>=' if at_least else '==='} n "
        "&& !document.querySelector('#pc-transcript .pc-thinking')",
        arg=n_bot, timeout=TIMEOUT_MS)
    return bots(page).nth(n_bot - 1)


def ask(page, question: str):
    n = page.locator("#pc-transcript article.pc-bot[data-done]").count()
    box = page.locator("#pc-question textarea")
    box.fill(question)
    box.press("Enter")
    return wait_answer(page, n + 1)


def visible_links(locator) -> list[str]:
    """hrefs of the links a reader sees (popover links are hidden until asked for)."""
    return locator.evaluate("""el => [...el.querySelectorAll('a[href]')]
        .filter(a => a.offsetParent !== null && !a.closest('.pc-pop')).map(a => a.getAttribute('href'))""")


def in_view(page, selector: str) -> bool:
    """The element is rendered and entirely inside the window, without scrolling."""
    return page.evaluate("""sel => { const e = document.querySelector(sel); if (!e || !e.offsetParent) return false;
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
            && r.bottom <= window.innerHeight && r.right <= window.innerWidth; }""", selector)


def saved_titles(page) -> list[str]:
    return [t.strip() for t in page.locator("#pc-conversations label").all_inner_texts()]


def show_history(page):
    """The saved chats: a column on wide screens, a drawer one tap away on phones."""
    if not page.locator("#pc-conversations").is_visible():
        page.locator("#pc-toggle-history").click()
    expect(page.locator("#pc-new")).to_be_visible()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_first_paint_fits_and_a_finished_answer_at_each_viewport(open_page, size):
    page = open_page(size)
    # The input and the examples are on screen at first paint, the page itself does not scroll
    # and nothing moves while the page settles.
    assert in_view(page, "#pc-question textarea")
    examples = page.locator(".pc-examples .pc-chip")
    assert examples.count() >= 3
    assert all(in_view(page, f".pc-examples .pc-chip:nth-child({i + 1})") for i in range(examples.count()))
    box_top = page.locator("#pc-question").bounding_box()["y"]
    page.wait_for_timeout(1000)
    assert page.locator("#pc-question").bounding_box()["y"] == box_top
    assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1")

    answer = ask(page, MERGE_Q)
    # One link per paper in the answer (its title); [n] are buttons, not more links.
    urls = visible_links(answer)
    sources = page.evaluate("""() => [...document.querySelectorAll('#pc-sources .pc-source')]
        .map(li => li.querySelector('a.pc-title').getAttribute('href'))""")
    assert {TIES_URL, PLEAS_URL} <= set(sources)
    paper_links = [u for u in urls if u in sources]
    assert sorted(paper_links) == sorted(set(paper_links)), urls  # never twice
    assert answer.locator("button.pc-cite").count() >= len(sources)
    text = answer.inner_text()
    assert "Quoted from the abstracts" in text and "extractive" not in page.inner_text("body")
    assert not re.search(r"score|\b0\.\d{3}\b", page.inner_text("#pc-sources"))
    # The input is still pinned on screen under a long answer
    assert in_view(page, "#pc-question textarea")

    # The sources: beside the chat on wide screens, one tap away on a phone
    if size == "390x844":
        assert not page.locator("#pc-sources .pc-source").first.is_visible()
        page.locator("#pc-toggle-sources").click()
    first = page.locator("#pc-sources .pc-source").first
    expect(first).to_be_visible()
    meta = first.locator(".pc-meta").inner_text()
    assert re.search(r"\d{4}-\d{2}|date unknown", meta) and re.search(r"strong match|partial match", meta)
    assert page.locator("#pc-sources .pc-like").count() == len(sources)  # "More like this"
    if size == "390x844":
        page.keyboard.press("Escape")
        expect(first).to_be_hidden()

    answer.evaluate("e => document.getElementById('pc-transcript').scrollTop = 0")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"answer-{size}.png"))
    assert not page.errors


def test_popover_long_list_and_follow_ups(open_page):
    page = open_page("1400x900")
    # The saved-chats column collapses and comes back; the chat takes the room
    width = page.locator("#pc-transcript").bounding_box()["width"]
    page.locator("#pc-toggle-history").click()
    expect(page.locator("#pc-history")).to_be_hidden()
    assert page.locator("#pc-transcript").bounding_box()["width"] > width + 150
    page.locator("#pc-toggle-history").click()
    expect(page.locator("#pc-history")).to_be_visible()

    answer = ask(page, MERGE_Q)
    n_sources = page.locator("#pc-sources .pc-source").count()

    # Hovering [n] shows that paper's quote, date / arXiv id and code link
    cite = answer.locator("button.pc-cite").first
    pop = answer.locator(".pc-pop").first
    expect(pop).to_be_hidden()
    cite.hover()
    expect(pop).to_be_visible()
    assert "“" in pop.inner_text() and pop.locator(".pc-pop-title").inner_text().strip()
    ties = answer.locator(f".pc-pop:has(a[href='{TIES_URL}'])").first
    assert "2306.01708" in ties.text_content() and ties.locator("a", has_text="code").count() == 1
    page.mouse.move(0, 0)
    expect(pop).to_be_hidden()

    # A long list shows its first papers and "show all N"
    if n_sources > 5:
        more = answer.locator("details.pc-more")
        assert more.locator("summary").inner_text().strip() == f"Show all {n_sources} papers"
        hidden = more.locator("p > a[href]").first
        expect(hidden).to_be_hidden()
        more.locator("summary").click()
        expect(hidden).to_be_visible()

    # Two or three follow-ups under the answer; one click asks
    chips = answer.locator(".pc-suggest .pc-chip")
    assert 2 <= chips.count() <= 3
    question = chips.first.inner_text().strip()
    chips.first.click()
    follow = wait_answer(page, 2)
    assert page.locator("#pc-transcript article.pc-user").last.inner_text().strip() == question
    assert not follow.locator(".pc-error").count() and follow.locator("button.pc-cite").count() >= 1
    assert answer.locator(".pc-suggest").count() == 0  # follow-ups only under the latest answer

    # "More like this" asks for papers similar to that source
    title = page.locator("#pc-sources .pc-source .pc-title").first.inner_text().strip()
    page.locator("#pc-sources .pc-like").first.click()
    similar = wait_answer(page, 3)
    assert title[:30] in page.locator("#pc-transcript article.pc-user").last.inner_text()
    assert similar.locator(".pc-error").count() == 0
    assert not page.errors


def test_comparison_is_a_side_by_side_table(page):
    ask(page, MERGE_Q)
    answer = ask(page, "compare [1] and [2]")
    table = answer.locator("table.pc-compare")
    expect(table).to_have_count(1)
    assert table.locator("thead th").count() == 2  # one column per paper
    cells = table.locator("tbody td:not(.pc-dim)")
    assert cells.count() >= 2 and all("“" in t for t in cells.all_inner_texts())
    assert table.locator("tbody td button.pc-cite").count() == cells.count()  # each quote cited


def test_tap_popover_on_a_phone(open_page):
    page = open_page("390x844", has_touch=True, is_mobile=True)
    answer = ask(page, MERGE_Q)
    cite = answer.locator("button.pc-cite").first
    pop = answer.locator(".pc-pop").first
    cite.tap()
    expect(pop).to_be_visible()
    assert cite.get_attribute("aria-expanded") == "true"
    page.locator(".pc-user").first.tap()  # tapping elsewhere closes it
    expect(pop).to_be_hidden()


def test_saved_chats_rename_delete_undo_survive_reload(page):
    ask(page, MERGE_Q)
    show_history(page)
    expect(page.locator("#pc-conversations label")).to_have_count(1)
    assert re.search(r"\d{1,2} \w{3} \d{4}", saved_titles(page)[0])  # dated
    page.locator("#pc-new").click()  # a new chat never deletes the last one
    expect(page.locator(".pc-welcome")).to_be_visible()
    ask(page, "what work is there on click-through rate prediction?")
    expect(page.locator("#pc-conversations label")).to_have_count(2)

    # Rename the current chat
    title = page.locator("#pc-title textarea, #pc-title input").first
    title.fill("CTR papers")
    title.press("Enter")
    expect(page.locator("#pc-conversations label").first).to_contain_text("CTR papers")
    # Search
    page.locator("#pc-search textarea, #pc-search input").first.fill("merge")
    expect(page.locator("#pc-conversations label")).to_have_count(1)
    page.locator("#pc-search textarea, #pc-search input").first.fill("")
    page.locator("#pc-search textarea, #pc-search input").first.press("Backspace")
    expect(page.locator("#pc-conversations label")).to_have_count(2)

    # Delete, then undo
    page.locator("#pc-delete").click()
    expect(page.locator("#pc-conversations label")).to_have_count(1)
    expect(page.locator("#pc-undo")).to_be_visible()
    page.locator("#pc-undo").click()
    expect(page.locator("#pc-conversations label")).to_have_count(2)
    expect(page.locator("#pc-transcript article.pc-bot")).to_have_count(1)

    # Reopening the page shows the saved chat without first flashing the welcome over it: every
    # frame from the first paint on is watched for a visible welcome.
    page.add_init_script("""(() => {
        window.__welcomeSeen = false;
        const look = () => {
            const el = document.querySelector('.pc-welcome');
            if (el && el.getBoundingClientRect().height > 0 && parseFloat(getComputedStyle(el).opacity) > 0.05)
                window.__welcomeSeen = true;
            if (!document.querySelector('#pc-transcript article.pc-bot')) requestAnimationFrame(look);
        };
        requestAnimationFrame(look);
    })()""")
    page.reload()
    page.wait_for_selector("#pc-transcript article.pc-bot[data-done]", timeout=TIMEOUT_MS)
    assert page.evaluate("window.__welcomeSeen") is False
    labels = saved_titles(page)
    assert len(labels) == 2 and labels[0].startswith("CTR papers")
    # the reopened chat still answers follow-ups from its saved papers
    follow = ask(page, "which of those use deep learning?")
    assert follow.locator(".pc-error").count() == 0

    # Delete without undo: gone after a reload too
    page.locator("#pc-conversations label", has_text=MERGE_Q[:20]).click()
    expect(page.locator("#pc-transcript article.pc-user").first).to_contain_text(MERGE_Q)
    page.locator("#pc-delete").click()
    expect(page.locator("#pc-conversations label")).to_have_count(1)
    page.reload()
    page.wait_for_selector("#pc-conversations label", timeout=TIMEOUT_MS)
    assert [t.startswith("CTR papers") for t in saved_titles(page)] == [True]
    assert not page.errors


def test_many_saved_chats_leave_the_phone_input_in_place(open_page):
    page = open_page("390x844")
    from ui.app import EXAMPLES

    for i in range(8):
        if i:
            page.locator("#pc-toggle-history").click()
            page.locator("#pc-new").click()
            expect(page.locator(".pc-welcome")).to_be_visible()
        ask(page, EXAMPLES[i % len(EXAMPLES)] + (" " * (i // len(EXAMPLES))))
    expect(page.locator("#pc-conversations label")).to_have_count(8)  # saved before the reload
    page.reload()
    page.wait_for_selector("#pc-transcript article.pc-bot[data-done]", timeout=TIMEOUT_MS)
    assert in_view(page, "#pc-question textarea")
    page.locator("#pc-toggle-history").click()
    expect(page.locator("#pc-conversations label")).to_have_count(8)
    assert in_view(page, "#pc-new")


def test_exports_markdown_and_bibtex(page):
    ask(page, MERGE_Q)
    show_history(page)
    expect(page.locator("#pc-export-md")).to_be_enabled()
    with page.expect_download() as got:
        page.locator("#pc-export-md").click()
    md = Path(got.value.path()).read_text(encoding="utf-8")
    assert md.startswith("# which papers merge models without retraining?")
    assert f"**You:** {MERGE_Q}" in md and "Quoted from the abstracts" in md
    assert f"]({TIES_URL})" in md and "Sources:" in md and "arXiv:2306.01708" in md
    with page.expect_download() as got:
        page.locator("#pc-export-bib").click()
    bib = Path(got.value.path()).read_text(encoding="utf-8")
    entries = re.findall(r"@misc\{[^@]+", bib)
    cited = page.locator("#pc-sources .pc-source").count()
    assert len(entries) == cited
    ties = next(e for e in entries if "2306.01708" in e)
    assert "title = {{Resolving Interference When Merging Models}}" in ties
    assert re.search(r"year = \{20\d\d\}", ties) and "eprint = {2306.01708}" in ties
    assert f"url = {{{TIES_URL}}}" in ties and "archivePrefix = {arXiv}" in ties


# Installed by `make axe` (part of `make test`).
AXE = Path(os.environ.get("AXE_DIR") or Path.home() / ".cache" / "paperchat" / "npm") / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[dict]:
    page.wait_for_timeout(400)  # let colour transitions (buttons just enabled) finish
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_audit_and_theme_follows_the_system(open_page, scheme):
    if not AXE.exists():
        pytest.skip(f"axe-core not installed at {AXE}: run `make axe`")
    page = open_page("1366x768", color_scheme=scheme)
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    rgb = [int(x) for x in re.findall(r"\d+", bg)[:3]]
    assert (sum(rgb) / 3 < 100) if scheme == "dark" else (sum(rgb) / 3 > 200), bg
    assert axe_violations(page) == []
    answer = ask(page, MERGE_Q)
    answer.locator("button.pc-cite").first.hover()  # with a popover open
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"popover-1366x768-{scheme}.png"))


def test_keyboard_only(page):
    focused = "document.activeElement"

    def tab_to(predicate_js: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(() => {{ const a = {focused}; return !!a && ({predicate_js}); }})()"):
                return
        raise AssertionError(f"Tab never reached {predicate_js}")

    def focus_ring() -> bool:
        return page.evaluate(f"""(() => {{ const s = getComputedStyle({focused});
            return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }})()""")

    tab_to("a.tagName === 'TEXTAREA' && !!a.closest('#pc-question')")
    page.keyboard.type(MERGE_Q)
    page.keyboard.press("Enter")
    wait_answer(page, 1)
    # the box kept the focus: the next question can be typed straight away
    assert page.evaluate(f"{focused}.tagName === 'TEXTAREA' && !!{focused}.closest('#pc-question')")
    page.keyboard.press("Shift+Tab")  # back into the chat: the last control is a follow-up
    for _ in range(60):
        if page.evaluate(f"{focused}.classList.contains('pc-cite')"):
            break
        page.keyboard.press("Shift+Tab")
    assert page.evaluate(f"{focused}.classList.contains('pc-cite')")
    assert focus_ring()
    pop = page.locator(".pc-cw:focus-within .pc-pop")
    expect(pop).to_be_visible()  # focus opens the popover, Escape closes it
    page.keyboard.press("Escape")
    expect(pop).to_be_hidden()
    tab_to("a.classList.contains('pc-chip') && !!a.closest('.pc-suggest')")
    assert focus_ring()
    question = page.evaluate(f"{focused}.innerText").strip()
    page.keyboard.press("Enter")
    wait_answer(page, 2)
    assert page.locator("#pc-transcript article.pc-user").last.inner_text().strip() == question


def test_length_limit_shown_while_typing_and_text_kept(page):
    box = page.locator("#pc-question textarea")
    box.fill("x" * 1990)
    box.press("End")
    page.keyboard.type("y" * 20)
    expect(page.locator("#pc-count")).to_contain_text("2,010 / 2,000 characters")
    box.press("Enter")
    expect(page.locator("#pc-count")).to_contain_text("too long")
    page.wait_for_timeout(500)
    assert page.locator("#pc-transcript article.pc-user").count() == 0  # nothing was sent
    assert len(box.input_value()) == 2010  # and nothing was lost
    box.fill("")
    box.press("Enter")
    reply = wait_answer(page, 1)
    assert "the question is empty" in reply.inner_text()
    # The next question can be typed (and Enter pressed) while an answer streams: it is either
    # sent after it or still in the box, never lost
    follow = "which of those use permutations?"
    box.fill(MERGE_Q)
    box.press("Enter")
    box.fill(follow)
    box.press("Enter")
    wait_answer(page, 2, at_least=True)  # the follow-up may already be answered too (a fast machine)
    page.wait_for_timeout(300)
    asked = [t.strip() for t in page.locator("#pc-transcript article.pc-user").all_inner_texts()]
    assert follow in asked or box.input_value() == follow
    # A draft survives a reload
    box.fill("which papers study")
    page.reload()
    page.wait_for_selector("#pc-question textarea", timeout=TIMEOUT_MS)
    expect(page.locator("#pc-question textarea")).to_have_value("which papers study")


def test_planted_script_in_corpus_and_question_does_not_run(browser, tmp_path_factory):
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
    for cite in answer.locator("button.pc-cite").all()[:2]:
        cite.hover()  # popovers carry the corpus text too
        page.mouse.move(0, 0)
    ask(page, 'is <img src=x onerror="window.__pwned=5"><script>window.__pwned=7</script> '
              '[x](javascript:window.__pwned=8) about sneaky retrieval?')
    page.wait_for_timeout(500)

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not dialogs
    # shown as text, not markup
    assert "<script>window.__pwned=1</script>" in answer.inner_text()
    assert "<script>window.__pwned=1</script>" in page.inner_text("#pc-sources")
    assert '<img src=x onerror="window.__pwned=5">' in page.locator("#pc-transcript article.pc-user").last.inner_text()
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#pc-transcript script, #pc-sources script").count() == 0
    bad = page.evaluate("""() => [...document.querySelectorAll('a[href]')]
        .map(a => a.getAttribute('href')).filter(h => !/^(https?:|#|\\/|\\.|$)/i.test(h.trim()))""")
    assert bad == []
    context.close()
