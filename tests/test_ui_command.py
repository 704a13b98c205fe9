"""`paperchat ui`: wiring of the verb (index check, one Assistant, served at once and warmed up in
the background), with the
model and the server replaced by fakes so it runs in a second."""
from __future__ import annotations

import pytest

from assistant.settings import Settings
from ui.cli import build_parser, main


class FakeAssistant:
    instances = []

    def __init__(self, settings):
        self.settings = settings
        self.paper_meta = {"p1": {"url": "https://huggingface.co/papers/1", "date": "2024-05-01"}}
        self.asked = []
        FakeAssistant.instances.append(self)

    paper_count = 1

    def corpus_dates(self):
        return ("2024-05-01", "2024-05-01")

    def corpus_months(self):
        return ["2024-05"]

    def ask(self, question, history=None, **options):
        self.asked.append(question)

    def warm(self):
        self.asked.append("(sentence vectors)")


def test_ui_verb_is_registered_with_host_and_port():
    args = build_parser().parse_args(["ui"])
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    args = build_parser().parse_args(["ui", "--host", "0.0.0.0", "--port", "8000"])
    assert (args.host, args.port) == ("0.0.0.0", 8000)


def test_missing_index_is_built_then_one_warm_assistant_is_served(tmp_path, monkeypatch, capsys):
    import assistant.core
    import assistant.settings
    import ingest.pipeline
    import ui.app

    settings = Settings(_env_file=None, index_dir=tmp_path / "none", chroma_url=None)
    monkeypatch.setattr(assistant.settings, "get_settings", lambda **kw: settings)
    built, launched = [], []
    monkeypatch.setattr(ingest.pipeline, "ensure_index", lambda s, progress=True: built.append((s, progress)))
    monkeypatch.setattr(assistant.core, "Assistant", FakeAssistant)
    monkeypatch.setattr(ui.app, "launch", lambda demo, host, port, block=True, quiet=False:
                        launched.append((demo, host, port, block, len(FakeAssistant.instances[-1].asked))))
    monkeypatch.setenv("PAPERCHAT_UI_SECRET", "test-secret")
    FakeAssistant.instances.clear()

    assert main(["ui", "--port", "7999"]) == 0
    assert built == [(settings, True)]
    assert len(FakeAssistant.instances) == 1
    demo, host, port, block, _ = launched[0]
    assert (host, port, block) == ("127.0.0.1", 7999, True)
    # The server starts at once; the warm-up (sentence vectors, one throwaway query) runs beside it.
    import threading

    for thread in threading.enumerate():
        if thread.name == "paperchat-warm-up":
            thread.join(timeout=30)
    assert FakeAssistant.instances[-1].asked[0] == "(sentence vectors)" and len(FakeAssistant.instances[-1].asked) == 2
    err = capsys.readouterr().err
    assert "no index" in err and "http://127.0.0.1:7999/" in err


def test_bad_port_is_a_one_line_error(capsys):
    assert main(["ui", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


@pytest.mark.parametrize("value", [None, "abc"])
def test_browser_secret_is_stable(tmp_path, monkeypatch, value):
    from ui.command import browser_secret

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PAPERCHAT_UI_SECRET", raising=False)
    if value:
        monkeypatch.setenv("PAPERCHAT_UI_SECRET", value)
        assert browser_secret() == value
        return
    first = browser_secret()
    assert first and browser_secret() == first
    assert (tmp_path / "paperchat" / "ui_secret").stat().st_mode & 0o077 == 0


class StreamingAssistant(FakeAssistant):
    """Yields an answer entry by entry, like the extractive answerer (an LLM: token by token)."""

    def __init__(self, settings):
        super().__init__(settings)
        self.calls = []

    def stream(self, question, history=None, **options):
        from assistant.core import check_question
        from assistant.models import Answer, Source

        self.calls.append((question, history, options))
        check_question(question)
        src = Source(n=1, paper_id="p1", title="T <b>", url="https://huggingface.co/papers/1", quote="q", score=0.5)
        yield Answer(question=question, answer="One paper matches [1].", refused=False, sources=[])
        yield Answer(question=question, answer="One paper matches [1].\n\n**[1]** [T \\<b\\>](https://huggingface.co/papers/1): “q” [1]",
                     refused=False, sources=[src])


def test_respond_streams_and_passes_history_with_paper_ids():
    import gradio as gr

    from ui.app import ChatApp

    assistant = StreamingAssistant(Settings(_env_file=None, chroma_url=None))
    chat = ChatApp(assistant)
    earlier = [{"role": "user", "content": "which papers do *x*?"},
               {"role": "assistant", "content": "see [1]", "linked": "see [\\[1\\]](https://huggingface.co/papers/1)",
                "sources": [{"n": 1, "paper_id": "p1", "title": "T", "url": "https://huggingface.co/papers/1"}],
                "paper_ids": ["p1"], "done": True}]
    _, messages, question, chat_html, _ = chat.accept("and <those>?", earlier)
    assert "and &lt;those&gt;?" in chat_html and "Searching the papers" in chat_html  # echoed at once
    steps = list(chat.respond(question, messages, 3, "", ""))
    assert steps[0][0][-1].get("pending")  # never blank: a placeholder at once
    assert len(steps) >= 3
    contents = [s[0][-1]["content"] for s in steps[1:]]
    assert [c.count("\n\n") for c in contents] == sorted(c.count("\n\n") for c in contents)  # grows
    final_messages, html_out, panel = steps[-1]
    assert final_messages[-1]["final"] and not final_messages[-1]["done"]
    assert "data-done" not in html_out.rsplit("<article", 1)[1]
    # saving marks the answer finished (shown as done only once it is saved)
    _, _, final_messages, html_out, *_ = chat.save({}, None, final_messages)
    last = final_messages[-1]
    assert 'data-done="1"' in html_out and "final" not in last
    assert last["done"] and last["paper_ids"] == ["p1"] and last["made_of"] == "Quoted from the abstracts"
    assert "T &lt;b&gt;" in panel and "score" not in panel and "T &lt;b&gt;" in html_out
    q, history, options = assistant.calls[0]
    assert q == "and <those>?"
    assert history == [{"role": "user", "content": "which papers do *x*?"},
                       {"role": "assistant", "content": earlier[1]["linked"], "paper_ids": ["p1"]}]
    assert options == {"max_cited": 3, "date_from": None, "date_to": None}

    # A PaperchatError becomes the reply, not an exception
    _, messages, question, _, _ = chat.accept("   ", [])
    steps = list(chat.respond(question, messages, 3, "", ""))
    assert "the question is empty" in steps[-1][0][-1]["content"] and "No sources" in steps[-1][2]

    # Too long: nothing is asked and the text stays in the box
    box, messages, question, _, count = chat.accept("x" * 2500, [])
    assert question is None and "2,500 / 2,000" in count  # nothing asked
    # Asked while an answer is still coming: not sent, and the text stays in the box
    _, pending, _, _, _ = chat.accept("first", [])
    box, messages, question, _, count = chat.accept("second", pending)
    assert question is None and "Still answering" in count
    assert box == gr.skip() and messages == gr.skip()  # the box keeps what was typed

    # Conversations saved in the browser state round-trip
    store, conv_id, saved, *_ = chat.save({}, None, final_messages)
    assert saved == gr.skip()  # already finished: nothing to re-render
    assert store["current"] == conv_id and store["conversations"][0]["title"] == "which papers do *x*?"
    restored = chat.restore(store)
    assert restored[2] == final_messages and "T &lt;b&gt;" in restored[4]
