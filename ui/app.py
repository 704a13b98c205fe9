"""The browser chat: a Gradio Blocks app around one Assistant, built once and shared by all users.

Layout: a header line saying what the corpus is and which answer mode is on; saved conversations
on the left (kept in the browser's localStorage via gr.BrowserState); the chat with example
questions in the middle; the sources panel of the latest answer and the settings (papers to
cite, date filter) on the right.

Also an API endpoint for scripted users: `/ask` (gradio_client: client.predict(question,
history, max_cited, date_from, date_to, api_name="/ask")) returning the answer as a dict.
"""
from __future__ import annotations

import logging
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import gradio as gr

from assistant.errors import BadInput, PaperchatError
from assistant.models import Answer

from . import render

log = logging.getLogger("paperchat.ui")

EXAMPLES = [
    "which papers merge models without retraining?",
    "which papers make sampling from diffusion models faster?",
    "what work is there on click-through rate prediction?",
    "where is the code for PLeaS?",
]
MAX_SAVED_CONVERSATIONS = 30
MAX_CITED_LIMIT = 20
# All answering events (the chat and the API) share one concurrency limit: 2 cores.
ANSWER_CONCURRENCY_ID = "paperchat-answer"
DEFAULT_CONCURRENCY = 2
DEFAULT_QUEUE_SIZE = 64
STORAGE_KEY = "paperchat_conversations_v1"
NOT_ANSWERED = "Not answered: see the reply above."

CSS = """
#pc-header h1 { margin-bottom: 0.1rem; }
#pc-chat blockquote { border-left: 4px solid #d97706; background: rgba(217, 119, 6, 0.08);
  margin: 0; padding: 0.4rem 0.8rem; }
.pc-sources { font-size: 0.92rem; }
.pc-sources-title { font-weight: 700; font-size: 1rem; margin-bottom: 0.2rem; }
.pc-sources-q { opacity: 0.75; margin-bottom: 0.5rem; font-style: italic; }
.pc-list { padding-left: 0; list-style: none; margin: 0; }
.pc-source { margin: 0 0 0.7rem 0; padding: 0.5rem 0.6rem; border: 1px solid var(--border-color-primary);
  border-radius: 6px; }
.pc-n { font-weight: 700; margin-right: 0.25rem; }
.pc-title { font-weight: 600; }
.pc-meta { font-size: 0.8rem; opacity: 0.75; margin: 0.15rem 0; }
.pc-quote { margin: 0.25rem 0 0 0; padding-left: 0.6rem; border-left: 3px solid var(--color-accent);
  font-size: 0.88rem; }
.pc-empty { opacity: 0.75; }
.pc-refused { color: #b45309; }
#pc-status { font-size: 0.85rem; opacity: 0.8; }
#pc-sources { overflow-y: auto; }
"""


def _now() -> float:
    return time.time()


@dataclass
class Turn:
    """What one answering step shows: the chat messages, the sources panel, the status line and
    the record of the latest answer that gets saved with the conversation."""
    messages: list[dict]
    sources: str
    status: str
    latest: dict


class ChatApp:
    """The Gradio app's logic, independent of the layout so it can be called directly in tests."""

    def __init__(self, assistant, browser_secret: str | None = None):
        self.assistant = assistant
        self.browser_secret = browser_secret
        self.mode = str(assistant.settings.answerer)
        self.default_max_cited = int(assistant.settings.max_cited)
        self.months = render.month_choices(m.get("date") for m in assistant.paper_meta.values())
        self.corpus = render.corpus_line(assistant.paper_count, assistant.corpus_dates(), self.mode)

    # ---- answering ---------------------------------------------------------------------------
    def options(self, max_cited, date_from, date_to) -> dict:
        try:
            n = int(max_cited) if max_cited not in (None, "") else self.default_max_cited
        except (TypeError, ValueError):
            raise BadInput("the number of papers to cite must be a whole number") from None
        if n < 1:
            n = self.default_max_cited
        date_from = (date_from or "").strip() or None
        date_to = (date_to or "").strip() or None
        if date_from and date_to and date_from > date_to:
            raise BadInput(f"the date filter runs backwards: from {date_from} is after to {date_to}")
        return {"max_cited": min(n, MAX_CITED_LIMIT), "date_from": date_from, "date_to": date_to}

    def stream_answers(self, question: str, history: list[dict], max_cited=None, date_from=None,
                       date_to=None) -> Iterator[Answer]:
        options = self.options(max_cited, date_from, date_to)
        yield from self.assistant.stream(question, history, **options)

    def respond(self, question, messages, max_cited, date_from, date_to) -> Iterator[tuple]:
        """Streams the answer to `question` (already echoed as the last message) into the chat."""
        messages = list(messages or [])
        prior = messages[:-1] if messages and messages[-1].get("role") == "user" else messages
        history = render.history_for_assistant(prior)
        shown_q = question if isinstance(question, str) else ""
        latest = {"question": shown_q[:300], "sources": [], "refused": False, "error": False}
        yield self._out(messages + [_assistant(render.THINKING)],
                        render.sources_html([], shown_q[:300]), "Searching…", latest)
        started = time.perf_counter()
        answer = None
        try:
            for answer in self.stream_answers(question, history, max_cited, date_from, date_to):
                latest = {"question": shown_q[:300], "sources": [s.model_dump() for s in answer.sources],
                          "refused": answer.refused, "error": False, "mode": answer.mode}
                yield self._out(messages + [_assistant(render.answer_markdown(answer))],
                                render.sources_html(answer.sources, shown_q, refused=answer.refused),
                                self._status(answer, started, done=False), latest)
        except PaperchatError as exc:
            latest = {"question": shown_q[:300], "sources": [], "refused": False, "error": True}
            yield self._out(messages + [_assistant(render.error_markdown(str(exc)))],
                            render.sources_html([], shown_q[:300], error=True), NOT_ANSWERED, latest)
            return
        except Exception as exc:  # keep the chat usable; the terminal gets the traceback
            log.exception("answering failed")
            latest = {"question": shown_q[:300], "sources": [], "refused": False, "error": True}
            yield self._out(messages + [_assistant(render.error_markdown(
                f"something went wrong while answering ({type(exc).__name__}); please try again"))],
                render.sources_html([], shown_q[:300], error=True), NOT_ANSWERED, latest)
            return
        if answer is not None:
            yield self._out(messages + [_assistant(render.answer_markdown(answer))],
                            render.sources_html(answer.sources, shown_q, refused=answer.refused),
                            self._status(answer, started, done=True), latest)

    @staticmethod
    def _out(messages, sources, status, latest) -> tuple:
        return messages, sources, status, latest

    def _status(self, answer: Answer, started: float, done: bool) -> str:
        n = len(answer.sources)
        cited = "refused: no sources" if answer.refused else f"{n} source{'s' if n != 1 else ''}"
        took = f" · {time.perf_counter() - started:.1f} s" if done else " · answering…"
        return f"Answer mode: **{render.escape(answer.mode)}** · {cited}{took}"

    def ask_api(self, question: str, history: list[dict] | None = None, max_cited: int = 0,
                date_from: str = "", date_to: str = "") -> dict:
        """Answer one question for a scripted user. `history` is the conversation so far as
        [{"role": "user"|"assistant", "content": str}]; pass earlier `answer` fields back as the
        assistant contents so follow-ups ("which of those ...?") resolve. Returns a dict with
        answer (markdown, [n] linked), refused, mode, notice, sources, and error (a one-line
        message when the question could not be asked, else null)."""
        hist = [{"role": str(m.get("role")), "content": render.message_text(m)}
                for m in (history or []) if isinstance(m, dict)]
        try:
            answer = None
            for answer in self.stream_answers(question, hist, max_cited or None, date_from, date_to):
                pass
        except PaperchatError as exc:
            return {"question": question if isinstance(question, str) else "", "answer": render.error_markdown(str(exc)),
                    "refused": False, "mode": self.mode, "notice": None, "sources": [], "error": str(exc)}
        return {
            "question": answer.question,
            "answer": render.answer_markdown(answer),
            "refused": answer.refused,
            "mode": answer.mode,
            "notice": answer.notice,
            "sources": [s.model_dump() for s in answer.sources],
            "error": None,
            "timings_ms": answer.timings_ms,
        }

    # ---- conversations in the browser ---------------------------------------------------------
    @staticmethod
    def _store(store: Any) -> dict:
        if not isinstance(store, dict) or not isinstance(store.get("conversations"), list):
            return {"current": None, "conversations": []}
        return {"current": store.get("current"),
                "conversations": [c for c in store["conversations"] if isinstance(c, dict) and c.get("id")]}

    def _radio(self, store: dict, value=None):
        choices = [(c.get("title") or "Conversation", c["id"]) for c in store["conversations"]]
        return gr.update(choices=choices, value=value)

    def save(self, store, conv_id, messages, latest):
        store = self._store(store)
        plain = [{"role": m.get("role"), "content": render.message_text(m)} for m in (messages or [])
                 if m.get("role") in ("user", "assistant")]
        if not plain:
            return store, conv_id, self._radio(store, conv_id)
        conv = next((c for c in store["conversations"] if c["id"] == conv_id), None) if conv_id else None
        if conv is None:
            conv_id = uuid.uuid4().hex[:12]
            first = next((render.question_from_echo(m["content"]) for m in plain if m["role"] == "user"), "")
            title = " ".join(first.split())
            conv = {"id": conv_id, "title": (title[:48] + "…") if len(title) > 48 else (title or "Conversation")}
        conv.update(messages=plain, latest=latest or {}, updated=_now())
        others = [c for c in store["conversations"] if c["id"] != conv_id]
        store = {"current": conv_id, "conversations": ([conv] + others)[:MAX_SAVED_CONVERSATIONS]}
        return store, conv_id, self._radio(store, conv_id)

    def restore(self, store):
        """On page load: reopen the conversation the browser was last in."""
        store = self._store(store)
        conv = next((c for c in store["conversations"] if c["id"] == store["current"]), None)
        if conv is None:
            return [], render.sources_html([]), None, self._radio(store, None), ""
        return self._show(conv) + (conv["id"], self._radio(store, conv["id"]), "")

    def _show(self, conv: dict) -> tuple:
        latest = conv.get("latest") or {}
        try:
            panel = render.sources_html(latest.get("sources") or [], latest.get("question"),
                                        refused=bool(latest.get("refused")), error=bool(latest.get("error")))
        except Exception:  # an old or hand-edited record: show the chat anyway
            panel = render.sources_html([])
        messages = [{"role": m["role"], "content": str(m.get("content", ""))} for m in conv.get("messages") or []
                    if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
        return messages, panel

    def select(self, conv_id, store):
        store = self._store(store)
        conv = next((c for c in store["conversations"] if c["id"] == conv_id), None)
        if conv is None:
            return [], render.sources_html([]), None, store
        store["current"] = conv_id
        return self._show(conv) + (conv_id, store)

    def new_chat(self, store):
        store = self._store(store)
        store["current"] = None
        return [], render.sources_html([]), None, store, self._radio(store, None), ""

    def clear(self, conv_id, store):
        """Clear the chat on screen and forget it in the browser."""
        store = self._store(store)
        store["conversations"] = [c for c in store["conversations"] if c["id"] != conv_id]
        store["current"] = None
        return [], render.sources_html([]), None, store, self._radio(store, None), ""


def _assistant(content: str) -> dict:
    return {"role": "assistant", "content": content}


def accept(question, messages):
    """Echo the user's message at once (as literal text); clear and lock the box while answering."""
    question = "" if question is None else str(question)
    messages = list(messages or []) + [{"role": "user", "content": render.echo_question(question)}]
    return gr.update(value="", interactive=False), messages, question


def build_app(assistant, browser_secret: str | None = None) -> gr.Blocks:
    chat = ChatApp(assistant, browser_secret)
    with gr.Blocks(title="paperchat", analytics_enabled=False) as demo:
        store = gr.BrowserState({"current": None, "conversations": []}, storage_key=STORAGE_KEY,
                                secret=browser_secret)
        conv_id = gr.State(None)
        pending = gr.State("")
        latest = gr.State({})

        gr.Markdown(f"# paperchat\n{chat.corpus} Every answer cites the papers it comes from; "
                    "click a **[n]** to open that paper.", elem_id="pc-header")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=170):
                new_btn = gr.Button("New chat", variant="primary", size="sm", elem_id="pc-new")
                conv_radio = gr.Radio(choices=[], label="Saved conversations (this browser)", type="value",
                                      elem_id="pc-conversations")
            with gr.Column(scale=5, min_width=380):
                chatbot = gr.Chatbot(
                    elem_id="pc-chat", label="Chat", show_label=False, height=600, layout="bubble",
                    sanitize_html=True, allow_tags=False, render_markdown=True, latex_delimiters=[],
                    feedback_options=None, buttons=["copy"], autoscroll=True,
                    placeholder="Ask which papers study something, then follow up "
                                "(\"which of those use permutations?\", \"where is its code?\").",
                )
                with gr.Row(equal_height=True):
                    textbox = gr.Textbox(show_label=False, placeholder="Ask about the papers… (Enter to send)",
                                         lines=1, max_lines=6, scale=8, elem_id="pc-question",
                                         submit_btn=True, autofocus=True)
                    clear_btn = gr.Button("Clear", scale=1, min_width=80, elem_id="pc-clear")
                status = gr.Markdown("", elem_id="pc-status")
                gr.Markdown("**Examples** (click to ask):")
                with gr.Row(elem_id="pc-examples"):
                    example_btns = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
            with gr.Column(scale=3, min_width=280):
                with gr.Accordion("Settings", open=True, elem_id="pc-settings"):
                    max_cited = gr.Slider(1, MAX_CITED_LIMIT, value=min(chat.default_max_cited, MAX_CITED_LIMIT),
                                          step=1, label="Papers to cite (at most)", elem_id="pc-max-cited")
                    month_opts = [("any", "")] + [(m, m) for m in chat.months]
                    with gr.Row(visible=bool(chat.months)):
                        date_from = gr.Dropdown(month_opts, value="", label="From (YYYY-MM)",
                                                elem_id="pc-date-from")
                        date_to = gr.Dropdown(month_opts, value="", label="To (YYYY-MM)", elem_id="pc-date-to")
                sources = gr.HTML(render.sources_html([]), elem_id="pc-sources", js_on_load=None,
                                  container=True, padding=True, max_height=640)

        answer_kwargs = dict(
            fn=chat.respond, inputs=[pending, chatbot, max_cited, date_from, date_to],
            outputs=[chatbot, sources, status, latest], concurrency_id=ANSWER_CONCURRENCY_ID,
            concurrency_limit="default", api_visibility="undocumented", show_progress="minimal",
        )
        save_kwargs = dict(fn=chat.save, inputs=[store, conv_id, chatbot, latest],
                           outputs=[store, conv_id, conv_radio], queue=False, api_visibility="undocumented")

        unlock = dict(fn=lambda: gr.update(interactive=True), inputs=None, outputs=[textbox], queue=False,
                      api_visibility="undocumented")
        textbox.submit(accept, [textbox, chatbot], [textbox, chatbot, pending], queue=False,
                       api_visibility="undocumented").then(**answer_kwargs).then(**save_kwargs).then(**unlock)
        for btn, q in zip(example_btns, EXAMPLES):
            btn.click(lambda messages, q=q: accept(q, messages)[1:], [chatbot], [chatbot, pending], queue=False,
                      api_visibility="undocumented").then(**answer_kwargs).then(**save_kwargs)

        demo.load(chat.restore, [store], [chatbot, sources, conv_id, conv_radio, status],
                  api_visibility="undocumented", queue=False)
        conv_radio.input(chat.select, [conv_radio, store], [chatbot, sources, conv_id, store],
                         api_visibility="undocumented", queue=False)
        new_btn.click(chat.new_chat, [store], [chatbot, sources, conv_id, store, conv_radio, status],
                      api_visibility="undocumented", queue=False)
        clear_btn.click(chat.clear, [conv_id, store], [chatbot, sources, conv_id, store, conv_radio, status],
                        api_visibility="undocumented", queue=False)
        chatbot.clear(chat.clear, [conv_id, store], [chatbot, sources, conv_id, store, conv_radio, status],
                      api_visibility="undocumented", queue=False)

        def ask(question: str, history: list[dict] | None = None, max_cited: int = 0,
                date_from: str = "", date_to: str = "") -> dict:
            return chat.ask_api(question, history, max_cited, date_from, date_to)

        ask.__doc__ = ChatApp.ask_api.__doc__
        gr.api(ask, api_name="ask", concurrency_id=ANSWER_CONCURRENCY_ID)

    demo.queue(default_concurrency_limit=DEFAULT_CONCURRENCY, max_size=DEFAULT_QUEUE_SIZE)
    demo.paperchat = chat  # for tests and the CLI
    return demo


def warm_up(assistant) -> float:
    """One throwaway query so the first user doesn't pay for lazy loading. Returns seconds."""
    started = time.perf_counter()
    try:
        assistant.ask(EXAMPLES[0])
    except PaperchatError:
        pass
    return time.perf_counter() - started


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, block: bool = True,
           quiet: bool = False):
    """Serve the app. block=False returns at once (tests, benchmark); close with demo.close()."""
    return demo.launch(server_name=host, server_port=port, prevent_thread_lock=not block, quiet=quiet,
                       show_error=False, css=CSS, ssr_mode=False, footer_links=["api"],
                       inbrowser=False, share=False)


@dataclass
class RunningUI:
    demo: gr.Blocks
    url: str
    assistant: Any

    def close(self) -> None:
        self.demo.close()


def serve(settings=None, assistant=None, host: str = "127.0.0.1", port: int | None = None,
          warm: bool = True, browser_secret: str | None = None) -> RunningUI:
    """Build the Assistant (unless given), warm it, and serve the UI in a background thread."""
    if assistant is None:
        from assistant.core import Assistant

        assistant = Assistant(settings)
    if warm:
        warm_up(assistant)
    demo = build_app(assistant, browser_secret=browser_secret)
    port = port or free_port(host)
    launch(demo, host, port, block=False, quiet=True)
    return RunningUI(demo=demo, url=f"http://{host}:{port}/", assistant=assistant)
