"""The browser chat: a Gradio Blocks app around one Assistant, built once and shared by all users.

Layout (ui/static/paperchat.css): a top bar; saved chats and answer settings on the left; the chat
filling the window height with the input pinned below it; the sources of the latest answer on the
right. Narrow screens turn the sides into drawers one tap away. The chat itself is HTML built by
ui/transcript.py, the logic behind it is ui/chat.py; saved chats live in the browser
(gr.BrowserState, ui/conversations.py).

Also an API endpoint for scripted users: `/ask` (gradio_client: client.predict(question,
history, max_cited, date_from, date_to, api_name="/ask")) returning the answer as a dict.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.errors import PaperchatError

from . import conversations as convs
from . import render
from .chat import EXAMPLES, MAX_CITED_LIMIT, ChatApp

# All answering events (the chat and the API) share one concurrency limit: 2 cores.
ANSWER_CONCURRENCY_ID = "paperchat-answer"
DEFAULT_CONCURRENCY = 2
DEFAULT_QUEUE_SIZE = 64
STORAGE_KEY = "paperchat_conversations_v2"
LEGACY_STORAGE_KEY = "paperchat_conversations_v1"  # read once, never written
STATIC = Path(__file__).parent / "static"
CSS = (STATIC / "paperchat.css").read_text(encoding="utf-8")
PAGE_JS = (STATIC / "page.js").read_text(encoding="utf-8")
# The stylesheet goes in <head> as is: Gradio's css= would prefix every rule with its container
# class, which breaks the body-level drawer rules inside media queries.
HEAD = f"<style>{CSS}</style>"
# Inside the chat and the sources panel: a click on anything with data-ask asks that question.
ASK_JS = """
element.addEventListener('click', (e) => {
  const b = e.target.closest && e.target.closest('[data-ask]');
  if (!b || !element.contains(b)) return;
  e.preventDefault();
  if (window.paperchat) window.paperchat.close();
  trigger('submit', {ask: b.getAttribute('data-ask')});
});
"""
# The chat brings the newest question to the top and keeps it there while its answer grows,
# until the answer is done or the reader scrolls or keys around the chat themselves.
SCROLL_JS = ASK_JS + """
let asked = -1, follow = false;
['wheel', 'touchmove', 'keydown'].forEach((ev) => element.addEventListener(ev, () => { follow = false; },
  {passive: true}));
watch('value', () => {
  const qs = element.querySelectorAll('.pc-user');
  if (qs.length !== asked) { asked = qs.length; follow = true; }
  if (!follow) return;
  const box = document.getElementById('pc-transcript');
  const q = qs[qs.length - 1];
  if (box && q) box.scrollTop += q.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  const bots = element.querySelectorAll('article.pc-bot');
  if (bots.length && bots[bots.length - 1].hasAttribute('data-done')) follow = false;
});
"""


def build_app(assistant, browser_secret: str | None = None) -> gr.Blocks:
    chat = ChatApp(assistant, browser_secret)
    with gr.Blocks(title="paperchat", analytics_enabled=False, fill_height=True, fill_width=True) as demo:
        store = gr.BrowserState(convs.empty(), storage_key=STORAGE_KEY, secret=browser_secret)
        legacy = gr.BrowserState(None, storage_key=LEGACY_STORAGE_KEY, secret=browser_secret)
        conv_id = gr.State(None)
        messages = gr.State([])
        pending = gr.State(None)

        with gr.Row(elem_id="pc-top", equal_height=True):
            hist_btn = gr.Button("☰ Chats", size="sm", variant="secondary", elem_id="pc-toggle-history",
                                 min_width=0, scale=0)
            gr.HTML('<h1>paperchat <span>answers from research-paper abstracts, with citations</span></h1>',
                    elem_id="pc-brand")
            src_btn = gr.Button("Sources", size="sm", variant="secondary", elem_id="pc-toggle-sources",
                                min_width=0, scale=0)
        with gr.Row(elem_id="pc-main", equal_height=False):
            with gr.Column(elem_id="pc-history", scale=0, min_width=200):
                close_hist = gr.Button("Close", size="sm", elem_id="pc-close-history")
                new_btn = gr.Button("New chat", variant="primary", size="sm", elem_id="pc-new")
                search = gr.Textbox(label="Search saved chats", placeholder="words in a title or question",
                                    elem_id="pc-search", lines=1, max_lines=1)
                conv_list = gr.Radio(choices=[], label="Saved chats (this browser)", type="value",
                                     info=f"The {convs.MAX_SAVED} newest are kept; export one to keep it for good.",
                                     elem_id="pc-conversations")
                title_box = gr.Textbox(label="Rename this chat", elem_id="pc-title", lines=1, max_lines=1,
                                       interactive=False, submit_btn="Rename")
                with gr.Row():
                    md_btn = gr.DownloadButton("Export Markdown", size="sm", elem_id="pc-export-md",
                                               interactive=False)
                    bib_btn = gr.DownloadButton("Export BibTeX", size="sm", elem_id="pc-export-bib",
                                                interactive=False)
                del_btn = gr.Button("Delete this chat", size="sm", variant="stop", elem_id="pc-delete",
                                    interactive=False)
                undo_btn = gr.Button("Undo delete", size="sm", elem_id="pc-undo", visible=False)
                with gr.Accordion("Answer settings", open=False, elem_id="pc-settings"):
                    max_cited = gr.Slider(1, MAX_CITED_LIMIT, value=min(chat.default_max_cited, MAX_CITED_LIMIT),
                                          step=1, label="Papers to cite (at most)", elem_id="pc-max-cited")
                    first, last = (chat.months[0], chat.months[-1]) if chat.months else ("", "")
                    hint = f"{first} … {last}" if first else "YYYY-MM"
                    date_from = gr.Textbox(label="From (YYYY or YYYY-MM)", placeholder=hint, elem_id="pc-date-from",
                                           lines=1, max_lines=1)
                    date_to = gr.Textbox(label="To (YYYY or YYYY-MM)", placeholder=hint, elem_id="pc-date-to",
                                         lines=1, max_lines=1)
            with gr.Column(elem_id="pc-center", scale=1, min_width=0):
                chat_view = gr.HTML(chat.chat_html([]).replace('class="pc-welcome"', 'class="pc-welcome pc-first"', 1), elem_id="pc-transcript", js_on_load=SCROLL_JS,
                                    container=False, padding=False)
                textbox = gr.Textbox(show_label=False, label="Your question", placeholder="Ask about the papers… (Enter sends)", lines=1, max_lines=6,
                                     elem_id="pc-question", submit_btn="Ask", autofocus=False)
                counter = gr.HTML(chat.count_html(), elem_id="pc-count", container=False, padding=False)
            with gr.Column(elem_id="pc-side", scale=0, min_width=240):
                close_src = gr.Button("Close", size="sm", elem_id="pc-close-sources")
                sources = gr.HTML(render.sources_html([]), elem_id="pc-sources", js_on_load=ASK_JS,
                                  container=False, padding=False)

        hist_btn.click(None, js="() => window.paperchat && window.paperchat.toggle('history')")
        src_btn.click(None, js="() => window.paperchat && window.paperchat.toggle('sources')")
        close_hist.click(None, js="() => window.paperchat && window.paperchat.close()")
        close_src.click(None, js="() => window.paperchat && window.paperchat.close()")

        quiet = dict(api_visibility="undocumented", queue=False, show_progress="hidden")
        sidebar = [conv_list, title_box, md_btn, bib_btn, undo_btn, del_btn]
        shown = [store, conv_id, messages, chat_view, sources]
        answer_kwargs = dict(
            fn=chat.respond, inputs=[pending, messages, max_cited, date_from, date_to],
            outputs=[messages, chat_view, sources], concurrency_id=ANSWER_CONCURRENCY_ID,
            concurrency_limit="default", api_visibility="undocumented", show_progress="hidden",
        )
        save_kwargs = dict(fn=chat.save, inputs=[store, conv_id, messages, search],
                           outputs=[store, conv_id, messages, chat_view] + sidebar, **quiet)
        accepted = [textbox, messages, pending, chat_view, counter]

        textbox.submit(chat.accept, [textbox, messages], accepted, js=(
            "(q, m) => { setTimeout(() => window.paperchat && window.paperchat.submitted(q), 0); return [q, m]; }"),
            **quiet) \
            .then(**answer_kwargs).then(**save_kwargs)
        for view in (chat_view, sources):
            view.submit(chat.ask_clicked, [messages], accepted, **quiet) \
                .then(**answer_kwargs).then(**save_kwargs)

        demo.load(chat.restore, [store, legacy], shown + [counter] + sidebar, **quiet)
        conv_list.input(chat.select, [conv_list, store, search], shown + sidebar, **quiet)
        new_btn.click(chat.new_chat, [store, search], shown + sidebar, **quiet)
        title_box.submit(chat.rename, [store, conv_id, title_box, search], [store] + sidebar, **quiet)
        del_btn.click(chat.delete, [store, conv_id, search], shown + sidebar, **quiet)
        undo_btn.click(chat.undo, [store, search], shown + sidebar, **quiet)
        search.change(chat.search, [store, conv_id, search], [conv_list], **quiet)

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
    """Serve the app. block=False returns at once (tests, benchmark); close with demo.close().
    Every response passes ui/security.py's gate (headers, CORS, closed routes, body cap)."""
    from . import security

    chat = getattr(demo, "paperchat", None)
    settings = chat.assistant.settings if chat is not None else None
    security.cap_log_lines()
    out = demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=quiet,
                      show_error=False, head=HEAD, js=PAGE_JS, ssr_mode=False, footer_links=[],
                      inbrowser=False, share=False, app_kwargs=security.app_kwargs(settings))
    security.hide_server_banner(demo)
    if block:
        demo.block_thread()
    return out


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
