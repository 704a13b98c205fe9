"""ui.render, ui.transcript, ui.conversations, ui.exports: what the page shows and keeps, as pure
functions (no server, no model)."""
from __future__ import annotations

import re

import pytest

from assistant.conversation import LINK_RE
from assistant.markdown import escape
from assistant.models import Answer, Source
from ui import conversations as convs
from ui import exports, render, transcript

TIES = Source(n=1, paper_id="2306.01708", title="Resolving Interference When Merging Models",
              url="https://huggingface.co/papers/2306.01708", code_url="https://github.com/prateeky2806/ties-merging",
              quote="we propose TIES-Merging", score=0.61)
PLEAS = Source(n=2, paper_id="2407.02447", title="PLeaS -- Merging Models with Permutations and Least Squares",
               url="https://huggingface.co/papers/2407.02447", quote="permutation symmetries", score=0.45)
EVIL_TITLE = '<script>window.__pwned=1</script> ${x} {{y}} `z`'
EVIL = {"n": 1, "paper_id": "p<1>", "title": EVIL_TITLE, "url": "javascript:alert(1)",
        "code_url": 'https://github.com/a/b" onclick="x', "quote": '<img src=x onerror="window.__pwned=2">',
        "date": "2024-05<b>", "arxiv_id": "2405.1<i>", "score": 0.5}


def assert_inert(html: str):
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert not re.search(r'href="(?!https?://)', html) and 'onclick="x' not in html
    assert "${" not in html and "{{" not in html and "`" not in html
    assert not re.search(r"<[^>]*\son\w+=", html)  # no inline event handlers in any tag


def test_markers_link_to_their_source_and_stay_readable_by_the_assistant():
    text = ("Two papers match; the closest is *Resolving Interference When Merging Models* [1].\n\n"
            "**[1]** [Resolving Interference When Merging Models](https://huggingface.co/papers/2306.01708): "
            "“we propose TIES-Merging” [1]\n\n**[2]** [PLeaS](https://huggingface.co/papers/2407.02447): "
            "“permutation symmetries” [2] and both [1, 2], [1][2], unknown [7]")
    out = render.link_markers(text, [TIES, PLEAS])
    assert "[\\[1\\]](https://huggingface.co/papers/2306.01708)" in out
    assert "unknown \\[7\\]" in out
    assert set(LINK_RE.findall(out)) == {TIES.url, PLEAS.url}
    text = "[click](javascript:alert(1)) and [x](data:text/html,hi) and [ok](https://example.org/a)"
    out = render.link_markers(text, [])
    assert "](javascript:" not in out and "](data:" not in out and "[ok](https://example.org/a)" in out
    assert render.safe_url('https://x.org/"onmouseover=alert(1)') is None


def test_answer_html_has_one_link_per_paper_and_popovers_on_markers():
    answer = Answer(question="q", refused=False, sources=[TIES, PLEAS], answer=(
        "2 papers match; the closest is *Resolving Interference When Merging Models* [1].\n\n"
        "**[1]** [Resolving Interference When Merging Models](https://huggingface.co/papers/2306.01708): "
        "“we propose TIES-Merging” [1]\n\n**[2]** [PLeaS](https://huggingface.co/papers/2407.02447): "
        "“permutation symmetries” [2] [7] Code: https://github.com/x/y."))
    msg = {"role": "assistant", "content": answer.answer, "sources": render.source_dicts(answer.sources),
           "made_of": "Quoted from the abstracts", "done": True, "suggestions": ["which of those have code?"]}
    html = transcript.transcript_html([{"role": "user", "content": "q <b>"}, msg])
    popovers = re.findall(r'class="pc-pop"', html)
    assert len(popovers) == 5  # every [n]: headline, two per entry
    visible = re.sub(r'<span class="pc-pop".*?</span></span>', "", html)  # popovers are hidden until asked
    hrefs = re.findall(r'href="([^"]+)"', visible)
    assert hrefs.count(TIES.url) == 1 and hrefs.count(PLEAS.url) == 1 and "https://github.com/x/y" in hrefs
    assert "[7]" in visible and 'data-n="7"' not in html  # no such source: literal text
    assert "q &lt;b&gt;" in html and "Quoted from the abstracts · 2 papers cited" in html
    assert 'data-ask="which of those have code?"' in html
    dated = transcript.transcript_html([msg | {"filters": {"date_from": "2024-01-01", "date_to": "2024-12-31"}}])
    assert "only papers dated 2024-01-01 to 2024-12-31" in dated
    pop = transcript.popover(msg["sources"][0])
    assert "we propose TIES-Merging" in pop and "ties-merging" in pop


def test_everything_from_the_corpus_is_inert():
    sources = render.source_dicts([EVIL])
    msg = {"role": "assistant", "content": f"*{escape(EVIL_TITLE)}* [1] [x](javascript:alert(1))",
           "sources": sources, "done": True, "suggestions": [EVIL_TITLE], "made_of": "x",
           "comparison": [{"aspect": "<b>proposes</b>", "cells": [{"n": 1, "quote": EVIL["quote"]}]}]}
    for html in (transcript.transcript_html([{"role": "user", "content": EVIL_TITLE}, msg]),
                 transcript.transcript_html([msg | {"comparison": None}]),
                 render.sources_html(sources, question=EVIL_TITLE)):
        assert_inert(html)
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert exports.bib_escape("a {b} \\c $d %e") == r"a \{b\} \textbackslash{}c \$d \%e"


def test_sources_panel_adds_date_code_strength_not_quotes_or_scores():
    panel = render.sources_html([TIES.model_dump() | {"date": "2023-06-02", "arxiv_id": "2306.01708"}, PLEAS], "q")
    assert "2023-06-02" in panel and "arXiv 2306.01708" in panel and 'href="https://github.com/prateeky2806' in panel
    assert "strong match" in panel and "partial match" in panel and "0.61" not in panel and "score" not in panel
    assert "we propose TIES-Merging" not in panel and "date unknown" in panel
    assert panel.count("More like this") == 2 and 'data-ask="which papers are similar to' in panel
    assert "No sources" in render.sources_html([], "q", error=True)
    assert "pc-source\"" not in render.sources_html([TIES], "q", refused=True)


def test_comparison_renders_as_a_table_with_a_column_per_paper():
    msg = {"role": "assistant", "content": "Comparing [1] and [2]:\n\nsome text", "done": True,
           "sources": render.source_dicts([TIES, PLEAS]), "kind": "comparison",
           "comparison": [{"aspect": "proposes", "cells": [{"n": 1, "quote": "TIES-Merging"}, {"n": 2, "quote": "PLeaS"}]},
                          {"aspect": "code", "cells": [{"n": 1, "quote": "github"}, {"n": 2, "quote": None}]}]}
    html = transcript.transcript_html([msg])
    assert html.count("<table") == 1 and html.count('<th scope="col">') == 2 and html.count('<th scope="row">') == 2
    assert "“TIES-Merging”" in html and "not stated" in html
    assert "some text" not in html


@pytest.mark.parametrize("kind", ["list", "count", "code-list"])
def test_long_lists_fold_after_the_first_papers(kind):
    n = transcript.LIST_PREVIEW + 3
    sources = [Source(n=i, paper_id=str(i), title=f"T{i}", url=f"https://huggingface.co/papers/{i}", quote="q",
                      score=0.5) for i in range(1, n + 1)]
    text = "\n\n".join([f"{n} papers match [1]."] + [f"**[{i}]** [T{i}](https://huggingface.co/papers/{i}): “q” [{i}]"
                                                     for i in range(1, n + 1)])
    html = transcript.transcript_html([{"role": "assistant", "content": text, "kind": kind, "done": True,
                                        "sources": render.source_dicts(sources)}])
    shown, folded = html.split("<details", 1)
    assert f"Show all {n} papers" in folded
    assert "T5</a>" in shown and "T6</a>" not in shown and "T8</a>" in folded


def test_saved_conversations_rename_delete_undo_search():
    store = convs.empty()
    store, a = convs.upsert(store, None, [{"role": "user", "content": "first question"}], now=1_700_000_000)
    store, b = convs.upsert(store, None, [{"role": "user", "content": "second <b> question " + "x" * 200}],
                            now=1_700_000_100)
    assert [c["id"] for c in store["conversations"]] == [b, a] and store["current"] == b
    assert len(store["conversations"][0]["title"]) <= convs.MAX_TITLE
    labels = dict((i, label) for label, i in convs.choices(store))
    assert "14 Nov 2023" in labels[a]
    store = convs.rename(store, a, "  Merging   papers ")
    assert [i for _, i in convs.choices(store, "merging")] == [a]
    assert [i for _, i in convs.choices(store, "second")] == [b]
    store = convs.delete(store, a)
    assert [c["id"] for c in store["conversations"]] == [b] and store["trash"]["id"] == a
    store, current = convs.undo(store)
    assert current == a and [c["id"] for c in store["conversations"]] == [b, a] and store["trash"] is None
    assert convs.find(store, a)["title"] == "Merging papers"
    assert convs.clean("junk") == convs.empty() and convs.clean({"conversations": [1, {"x": 1}]})["conversations"] == []


def test_a_heavy_users_saved_chats_stay_under_the_request_limit_and_round_trip(bundled_index):
    """Every save sends all saved chats. Thirty chats of four real answers (~12 kB each unpacked)
    must not pass the server's request limit (a 413 would break every later save), and what the
    browser keeps must come back as the same messages."""
    import json

    from assistant.core import Assistant
    from ui.chat import ChatApp
    from ui.security import MAX_BODY_BYTES

    app = ChatApp(Assistant())
    turns = []
    for q in ["which papers merge models without retraining?", "compare TIES-Merging and Fisher merging",
              "which papers make sampling from diffusion models faster?", "tell me about mamba"]:
        turns += [{"role": "user", "content": q}, app.record(app.assistant.ask(q), True, 1.0)]
    store, conv_ids = convs.empty(), []
    for i in range(convs.MAX_SAVED):
        chat = [dict(m, content=f"{m['content']} ({i})") if m["role"] == "user" else m for m in turns]
        store, cid = convs.upsert(store, None, chat, now=1_700_000_000 + i)
        conv_ids.append(cid)
    raw = len(json.dumps({"conversations": [c["messages"] for c in store["conversations"]]}))
    sent = json.dumps(convs.for_browser(store))
    assert raw > MAX_BODY_BYTES  # the problem is real
    assert len(sent) + len(json.dumps(turns)) < 0.9 * MAX_BODY_BYTES  # plus the chat on screen, unpacked
    back = convs.clean(json.loads(sent))
    kept = [c["id"] for c in back["conversations"]]
    assert kept == conv_ids[::-1] == [c["id"] for c in store["conversations"]]  # all thirty, newest first
    assert convs.find(back, conv_ids[-1])["messages"] == convs.find(store, conv_ids[-1])["messages"]
    # A save re-packs only the chat it changed: the others go back as the browser sent them.
    sent_convs = {c["id"]: c["z"] for c in json.loads(sent)["conversations"]}
    again, cid = convs.upsert(json.loads(sent), conv_ids[-1], turns[:2])
    packed = {c["id"]: c["z"] for c in convs.for_browser(again)["conversations"]}
    assert packed[cid] != sent_convs[cid] and all(packed[i] == sent_convs[i] for i in packed if i != cid)
    assert convs.find(convs.clean(convs.for_browser(again)), cid)["messages"] == turns[:2]
    # A packed chat that is not ours (edited, truncated) is dropped, not a crash.
    broken = json.loads(sent)
    broken["conversations"][0]["z"] = broken["conversations"][0]["z"][:40]
    assert len(convs.clean(broken)["conversations"]) == len(kept) - 1


def test_chats_saved_by_the_earlier_version_come_over_once():
    legacy = {"current": "old1", "conversations": [{
        "id": "old1", "title": "which papers do *x*?", "updated": 1_700_000_000,
        "messages": [{"role": "user", "content": "which papers do \\*x\\*?"},
                     {"role": "assistant", "content": "see [\\[1\\]](https://huggingface.co/papers/1)"}],
        "latest": {"sources": [{"n": 1, "paper_id": "p1", "title": "T", "url": "https://huggingface.co/papers/1"}]}}]}
    store = convs.migrate(convs.empty(), legacy)
    conv = convs.find(store, "old1")
    assert conv["messages"][0] == {"role": "user", "content": "which papers do *x*?"}
    assert conv["messages"][1]["sources"][0]["paper_id"] == "p1" and store["migrated"]
    html = transcript.transcript_html(conv["messages"])
    assert 'href="https://huggingface.co/papers/1"' in html
    store = convs.delete(store, "old1")
    assert convs.find(convs.migrate(store, legacy), "old1") is None  # a delete sticks


def test_exports_markdown_and_bibtex():
    msgs = [{"role": "user", "content": "which papers merge models?"},
            {"role": "assistant", "content": "Closest is *Resolving* [1]; also [2].", "made_of": "Quoted from the abstracts",
             "sources": render.source_dicts([TIES.model_dump() | {"date": "2023-06-02", "arxiv_id": "2306.01708"},
                                             PLEAS.model_dump() | {"title": "PLeaS {50%} & more_x"}])}]
    md = exports.markdown("Merging", msgs, "21 Nov 2026")
    assert md.startswith("# Merging") and "**You:** which papers merge models?" in md
    assert "[\\[1\\]](https://huggingface.co/papers/2306.01708)" in md and "(2023-06-02, arXiv:2306.01708)" in md
    bib = exports.bibtex(msgs)
    entries = re.findall(r"@misc\{([^,]+),", bib)
    assert len(entries) == 2 and len(set(entries)) == 2
    assert "title = {{Resolving Interference When Merging Models}}" in bib and "year = {2023}" in bib
    assert "eprint = {2306.01708}" in bib and "archivePrefix = {arXiv}" in bib
    assert "url = {https://huggingface.co/papers/2407.02447}" in bib
    assert r"PLeaS \{50\%\} \& more\_x" in bib
    assert bib.count("{") - bib.count(r"\{") == bib.count("}") - bib.count(r"\}")  # balanced


def test_plain_words_and_months():
    assert render.made_of("extractive") == "Quoted from the abstracts"
    # A refusal quotes nothing, so its label must not say it does.
    assert "Quoted" not in render.made_of("extractive", refused=True)
    assert render.made_of("llm", "qwen2.5-1.5b") == "Written by qwen2.5-1.5b, checked against the abstracts"
    assert render.month_choices(["2024-05-01", "2023-11", None, "", "2024-05-17", "junk"]) == ["2023-11", "2024-05"]
