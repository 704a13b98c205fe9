"""The chat's logic behind the page: answering (streamed into page messages), the input box, and
the saved conversations. No layout here (ui/app.py builds the page), so tests can call it directly.
"""
from __future__ import annotations

import logging
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import gradio as gr

from assistant.core import MAX_QUESTION_CHARS
from assistant.errors import BadInput, PaperchatError
from assistant.models import Answer

from . import conversations as convs
from . import exports, render, transcript

log = logging.getLogger("paperchat.ui")

EXAMPLES = [
    "which papers merge models without retraining?",
    "which papers make sampling from diffusion models faster?",
    "what work is there on click-through rate prediction?",
    "where is the code for PLeaS?",
]
MAX_CITED_LIMIT = 20


@dataclass
class Shown:
    """What one step shows: the page messages, the chat HTML and the sources panel."""
    messages: list[dict]
    chat: str
    sources: str


class ChatApp:
    """The app's logic, independent of the layout so it can be called directly in tests."""

    def __init__(self, assistant, browser_secret: str | None = None, export_dir: Path | None = None):
        self.assistant = assistant
        self.browser_secret = browser_secret
        settings = assistant.settings
        self.mode = str(settings.answerer)
        self.model_name = getattr(settings, "llm_model", None) or None
        self.default_max_cited = int(settings.max_cited)
        self.months = render.month_choices(assistant.corpus_months())  # computed at ingest, not per page
        self.corpus = render.corpus_line(assistant.paper_count, assistant.corpus_dates())
        self.export_dir = Path(export_dir or tempfile.mkdtemp(prefix="paperchat-exports-"))

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
        for label, d in (("from", date_from), ("to", date_to)):
            if d and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", d):
                raise BadInput(f"the date filter's “{label}” should look like 2024 or 2024-05, not “{d[:20]}”")
        if date_from and date_to and date_from > date_to:
            raise BadInput(f"the date filter runs backwards: from {date_from} is after to {date_to}")
        return {"max_cited": min(n, MAX_CITED_LIMIT), "date_from": date_from, "date_to": date_to}

    def stream_answers(self, question: str, history: list[dict], max_cited=None, date_from=None,
                       date_to=None) -> Iterator[Answer]:
        options = self.options(max_cited, date_from, date_to)
        yield from self.assistant.stream(question, history, **options)

    def made_of(self, mode: str, refused: bool = False) -> str:
        return render.made_of(mode, self.model_name, refused)

    def record(self, answer: Answer, done: bool, seconds: float | None = None) -> dict:
        """An answer as the page keeps it (and saves it in the browser)."""
        sources = render.source_dicts(answer.sources)
        for s in sources:  # date and arXiv id from the index when the answer does not carry them
            meta = self.assistant.paper_meta.get(s["paper_id"]) or {}
            s["date"] = s["date"] or meta.get("date") or None
            s["arxiv_id"] = s["arxiv_id"] or meta.get("arxiv_id") or None
        rec = {
            "role": "assistant", "content": answer.answer, "linked": render.answer_markdown(answer),
            "sources": sources, "refused": bool(answer.refused), "notice": answer.notice,
            "kind": getattr(answer, "kind", None) or None,
            "paper_ids": list(getattr(answer, "paper_ids", None) or [s["paper_id"] for s in sources]),
            "comparison": _plain(getattr(answer, "comparison", None)) or None,
            "suggestions": [str(q) for q in (getattr(answer, "suggestions", None) or [])][:3]
            or self.fallback_suggestions(answer),
            "filters": _plain(getattr(answer, "filters", None)) or None,
            "made_of": self.made_of(answer.mode, bool(answer.refused)), "done": done,
        }
        if seconds is not None:
            rec["seconds"] = round(seconds, 1)
        return rec

    @staticmethod
    def fallback_suggestions(answer: Answer) -> list[str]:
        """Follow-ups from the answer itself when the Assistant offers none (older answerers)."""
        if answer.refused or not answer.sources:
            return []
        out = []
        if len(answer.sources) > 1:
            out.append("which of those have code?")
        out.append("where is its code?" if len(answer.sources) == 1 else "tell me more about the first one")
        return out

    def show(self, messages: list[dict]) -> Shown:
        return Shown(messages, self.chat_html(messages), self.sources_for(messages))

    def chat_html(self, messages: list[dict]) -> str:
        return transcript.transcript_html(messages, EXAMPLES, self.corpus)

    @staticmethod
    def sources_for(messages: list[dict]) -> str:
        """The sources panel of the latest answer in these messages."""
        for i in range(len(messages) - 1, -1, -1):
            m = messages[i]
            if m.get("role") == "assistant" and not m.get("pending"):
                q = next((p.get("content") for p in reversed(messages[:i]) if p.get("role") == "user"), None)
                try:
                    return render.sources_html(m.get("sources") or [], q, refused=bool(m.get("refused")),
                                               error=bool(m.get("error")))
                except Exception:  # an old or hand-edited record: show the chat anyway
                    break
        return render.sources_html([])

    def respond(self, question, messages, max_cited, date_from, date_to) -> Iterator[tuple]:
        """Streams the answer to `question` (already echoed as the last message) into the chat."""
        if question is None:  # nothing was accepted (too long: the text stays in the box)
            yield gr.skip(), gr.skip(), gr.skip()
            return
        messages = [m for m in messages or [] if not m.get("pending")]
        if not (messages and messages[-1].get("role") == "user" and messages[-1].get("content") == question):
            messages.append({"role": "user", "content": question})  # e.g. "New chat" raced the question
        prior = messages[:-1]
        history = render.history_for_assistant(prior)
        pending = {"role": "assistant", "content": "", "pending": True}
        yield self._out(messages + [pending])
        started = time.perf_counter()
        answer = None
        try:
            for answer in self.stream_answers(question, history, max_cited, date_from, date_to):
                yield self._out(messages + [self.record(answer, done=False)])
        except PaperchatError as exc:
            yield self._out(messages + [_error(str(exc))])
            return
        except Exception as exc:  # keep the chat usable; the terminal gets the traceback
            log.exception("answering failed")
            yield self._out(messages + [_error(
                f"something went wrong while answering ({type(exc).__name__}); please try again")])
            return
        if answer is not None:
            # Complete, but shown as finished (data-done, follow-ups) only by save(): a click on
            # "New chat" the moment an answer looks done must find it saved already.
            final = self.record(answer, done=False, seconds=time.perf_counter() - started)
            yield self._out(messages + [final | {"final": True}])

    def _out(self, messages: list[dict]) -> tuple:
        shown = self.show(messages)
        return shown.messages, shown.chat, shown.sources

    def ask_api(self, question: str, history: list[dict] | None = None, max_cited: int = 0,
                date_from: str = "", date_to: str = "") -> dict:
        """Answer one question for a scripted user. `history` is the conversation so far as
        [{"role": "user"|"assistant", "content": str, "paper_ids": [...] (optional)}]; pass earlier
        `answer` and `paper_ids` fields back as the assistant turns so follow-ups ("which of those
        ...?") resolve. Returns a dict with answer (markdown, [n] linked), refused, mode, made_of,
        notice, sources, paper_ids, kind, comparison, suggestions, and error (a one-line message
        when the question could not be asked, else null)."""
        hist = []
        for m in history or []:
            if isinstance(m, dict):
                turn = {"role": str(m.get("role")), "content": render.message_text(m)}
                if isinstance(m.get("paper_ids"), list):
                    turn["paper_ids"] = [str(p) for p in m["paper_ids"]]
                hist.append(turn)
        try:
            answer = None
            for answer in self.stream_answers(question, hist, max_cited or None, date_from, date_to):
                pass
        except PaperchatError as exc:
            # Never echo a refused question whole (a 20 MB one would come back as 20 MB).
            return {"question": question if isinstance(question, str) and len(question) <= 2000 else "",
                    "answer": render.error_markdown(str(exc)), "refused": False, "mode": self.mode,
                    "made_of": None, "notice": None, "sources": [], "paper_ids": [], "kind": None,
                    "comparison": None, "suggestions": [], "error": str(exc)}
        rec = self.record(answer, done=True)
        return {
            "question": answer.question, "answer": render.answer_markdown(answer), "refused": answer.refused,
            "mode": answer.mode, "made_of": rec["made_of"], "notice": answer.notice,
            "sources": [s.model_dump() for s in answer.sources], "paper_ids": rec["paper_ids"],
            "kind": rec["kind"], "comparison": rec["comparison"], "suggestions": rec["suggestions"],
            "error": None, "timings_ms": answer.timings_ms,
        }

    # ---- the input box -------------------------------------------------------------------------
    def accept(self, question, messages):
        """Echo the question at once with a placeholder answer. The box stays usable: the next
        question can be typed while this one is answered. Too long, or asked while an answer is
        still coming: the text stays in the box and the line under it says why."""
        if messages and isinstance(messages[-1], dict) and messages[-1].get("pending"):
            return (gr.skip(), gr.skip(), None, gr.skip(),
                    self.count_html("Still answering the last question: press Enter again when it is done"))
        question = "" if question is None else str(question)
        length = len(" ".join(question.split()))
        if length > MAX_QUESTION_CHARS:
            return (gr.skip(), gr.skip(), None, gr.skip(),
                    self.count_html(f"{length:,} / {MAX_QUESTION_CHARS:,} characters: too long to send, "
                                    "please shorten it", over=True))
        messages = list(messages or []) + [{"role": "user", "content": question},
                                           {"role": "assistant", "content": "", "pending": True}]
        # The page empties the box itself as it sends (page.js submitted()): clearing it from here
        # could wipe what was typed after Enter.
        return gr.skip(), messages, question, self.chat_html(messages), self.count_html()

    def ask_clicked(self, messages, evt: gr.EventData):
        """An example, a suggested follow-up or "more like this" was clicked."""
        data = getattr(evt, "_data", None) or {}
        question = data.get("ask") if isinstance(data, dict) else None
        if not isinstance(question, str) or not question.strip():
            return gr.skip(), gr.skip(), None, gr.skip(), gr.skip()
        return self.accept(question, messages)

    @staticmethod
    def count_html(text: str = "", over: bool = False) -> str:
        cls = "pc-count pc-over" if over else "pc-count"
        return f'<p class="{cls}" data-max="{MAX_QUESTION_CHARS}" aria-live="polite">{render.h(text)}</p>'

    # ---- saved conversations ------------------------------------------------------------------
    def _sidebar(self, store: dict, conv_id, query: str = "") -> tuple:
        """The list, the title box, both exports and the undo row for this store."""
        conv = convs.find(store, conv_id)
        trash = store.get("trash")
        undo_label = f"Undo delete of “{trash.get('title', 'conversation')[:40]}”" if trash else "Undo delete"
        md_path = bib_path = None
        if conv is not None:
            md_path, bib_path = self.export_files(conv)
        found = convs.choices(store, query)
        return (
            gr.update(choices=found, value=conv_id if conv and any(i == conv_id for _, i in found) else None),
            gr.update(value=conv.get("title", "") if conv else "", interactive=conv is not None),
            gr.update(value=md_path, interactive=md_path is not None),
            gr.update(value=bib_path, interactive=bib_path is not None),
            gr.update(value=undo_label, visible=trash is not None),
            gr.update(interactive=conv is not None),
        )

    def export_files(self, conv: dict) -> tuple[str, str]:
        stem = f"{conv.get('title', '')[:32]}-{conv['id'][:6]}"
        messages = conv.get("messages") or []
        md = exports.markdown(conv.get("title", ""), messages, convs.when(conv.get("updated")))
        return (exports.write(self.export_dir, stem, md, ".md"),
                exports.write(self.export_dir, stem, exports.bibtex(messages), ".bib"))

    def save(self, store, conv_id, messages, query=""):
        """Save the chat on screen; a complete answer is marked finished in the same step."""
        messages = list(messages or [])
        finished = bool(messages) and bool(messages[-1].get("final")) and not messages[-1].get("done")
        if finished:
            messages[-1] = {k: v for k, v in messages[-1].items() if k != "final"} | {"done": True}
        store, conv_id = convs.upsert(store, conv_id, messages)
        shown = (messages, self.chat_html(messages)) if finished else (gr.skip(), gr.skip())
        return (convs.for_browser(store), conv_id) + shown + self._sidebar(store, conv_id, query)

    def restore(self, store, legacy=None):
        """On page load: reopen the conversation the browser was last in (bringing in chats an
        earlier version saved, once)."""
        store = convs.migrate(store, legacy)
        conv = convs.find(store, store["current"])
        messages = list(conv.get("messages") or []) if conv else []
        shown = self.show(messages)
        return (convs.for_browser(store), conv["id"] if conv else None, shown.messages, shown.chat, shown.sources, self.count_html()) \
            + self._sidebar(store, store["current"])

    def select(self, conv_id, store, query=""):
        store = convs.clean(store)
        conv = convs.find(store, conv_id)
        if conv is None:
            return (gr.skip(),) * 5 + self._sidebar(store, store["current"], query)
        store["current"] = conv_id
        shown = self.show(list(conv.get("messages") or []))
        return (convs.for_browser(store), conv_id, shown.messages, shown.chat, shown.sources) + self._sidebar(store, conv_id, query)

    def new_chat(self, store, query=""):
        """A fresh chat; the one on screen stays saved."""
        store = convs.clean(store)
        store["current"] = None
        shown = self.show([])
        return (convs.for_browser(store), None, shown.messages, shown.chat, shown.sources) + self._sidebar(store, None, query)

    def rename(self, store, conv_id, title, query=""):
        store = convs.rename(store, conv_id, title)
        return (convs.for_browser(store),) + self._sidebar(store, conv_id, query)

    def delete(self, store, conv_id, query=""):
        store = convs.delete(store, conv_id)
        shown = self.show([])
        return (convs.for_browser(store), None, shown.messages, shown.chat, shown.sources) + self._sidebar(store, None, query)

    def undo(self, store, query=""):
        store, conv_id = convs.undo(store)
        conv = convs.find(store, conv_id)
        shown = self.show(list(conv.get("messages") or []) if conv else [])
        return (convs.for_browser(store), conv_id, shown.messages, shown.chat, shown.sources) + self._sidebar(store, conv_id, query)

    def search(self, store, conv_id, query):
        store = convs.clean(store)
        found = convs.choices(store, query)
        return gr.update(choices=found, value=conv_id if any(i == conv_id for _, i in found) else None)


def _error(message: str) -> dict:
    return {"role": "assistant", "content": message, "error": True, "done": True, "sources": []}


def _plain(value):
    """Pydantic models (e.g. comparison rows) as plain JSON data for the page."""
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
