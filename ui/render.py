"""Turning Answers into what the page shows: chat markdown with linked [n] markers and an escaped
HTML sources panel. Pure functions, no Gradio: unit-testable and shared by the app and its API.

Safety rule: text from the corpus or the user never reaches the page as markup. Answer text is
markdown whose corpus parts are already escaped by the Assistant (assistant.markdown.escape); we
only add links to http(s) URLs and neutralise any other link target. The sources panel is built
from raw Source fields, every one of them HTML-escaped here.
"""
from __future__ import annotations

import html
import re
from typing import Iterable

from assistant.markdown import escape, unescape
from assistant.models import Answer, Source

REFUSAL_PREFIX = "**No answer from this corpus.**"
ERROR_PREFIX = "⚠️ **Can't answer that:**"
THINKING = "*Searching the papers…*"
MAX_ECHO_CHARS = 600

# A citation marker: [3] or [2, 5] that is not escaped (\[3\] is literal text from a title) and
# not already the text of a link ([3](...)).
_MARKER = re.compile(r"(?<!\\)\[(\d+(?:\s*,\s*\d+)*)\](?!\()")
# A link target that is not http(s): "](javascript:...)", "](data:...)", "](/relative)".
_BAD_TARGET = re.compile(r"(?<!\\)\]\((?!https?://)")
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) URL that is safe to put in an href, else None."""
    if not url:
        return None
    url = str(url).strip()
    return url if _SAFE_URL.match(url) else None


def link_markers(text: str, sources: Iterable[Source]) -> str:
    """Rewrite the [n] markers into markdown links to source n's page; neutralise non-http links."""
    urls = {s.n: safe_url(s.url) for s in sources}
    text = _BAD_TARGET.sub(r"]\\(", text)

    def one(m: re.Match) -> str:
        parts = []
        for raw in m.group(1).split(","):
            n = int(raw)
            url = urls.get(n)
            # Link text \[n\] renders as "[n]". No link title: Assistant.papers_in_history reads
            # earlier answers' papers from the bare "](url)".
            parts.append(f"[\\[{n}\\]]({url})" if url else f"\\[{n}\\]")
        return "".join(parts)

    return _MARKER.sub(one, text)


def answer_markdown(answer: Answer) -> str:
    """The chat message for an answer (partial or complete)."""
    body = link_markers(answer.answer, answer.sources)
    if answer.refused:
        quoted = "\n".join("> " + line if line else ">" for line in body.split("\n"))
        body = f"> {REFUSAL_PREFIX}\n>\n{quoted}"
    if answer.notice:
        body = f"*Note: {escape(answer.notice)}*\n\n{body}"
    return body


def error_markdown(message: str) -> str:
    return f"{ERROR_PREFIX} {escape(str(message))}"


def echo_question(question: str | None) -> str:
    """The user's message as shown in the chat: literal text, long ones shortened."""
    text = "" if question is None else str(question)
    if not text.strip():
        return "*(empty message)*"
    if len(text) > MAX_ECHO_CHARS:
        return escape(text[:MAX_ECHO_CHARS]) + f" *… ({len(text):,} characters)*"
    return escape(text)


def question_from_echo(content: str) -> str:
    return unescape(content)


def message_text(message: dict) -> str:
    """The text of a chat message, whether its content is a string or Gradio's list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict) and part.get("type", "text") == "text":
                out.append(str(part.get("text", "")))
        return "".join(out)
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return ""


def history_for_assistant(messages: list[dict]) -> list[dict]:
    """Chat messages -> the [{"role","content"}] history Assistant.stream takes. User messages go
    back to what was typed; assistant messages keep their markdown links (the Assistant finds the
    papers of earlier answers through them)."""
    history = []
    for m in messages or []:
        role = m.get("role")
        text = message_text(m)
        if role == "user":
            history.append({"role": "user", "content": question_from_echo(text)})
        elif role == "assistant":
            history.append({"role": "assistant", "content": text})
    return history


def _e(text) -> str:
    # html.escape plus the characters a JS/Handlebars template would act on (gr.HTML templates).
    return (html.escape(str(text), quote=True)
            .replace("$", "&#36;").replace("`", "&#96;").replace("{", "&#123;").replace("}", "&#125;"))


def sources_html(sources: list[Source] | list[dict], question: str | None = None, refused: bool = False,
                 error: bool = False) -> str:
    """The sources panel for the latest answer."""
    items = [s if isinstance(s, Source) else Source(**s) for s in (sources or [])]
    head = '<div class="pc-sources"><div class="pc-sources-title">Sources for the latest answer</div>'
    if question and question.strip():
        head += f'<div class="pc-sources-q">“{_e(question[:300])}”</div>'
    if error:
        return head + '<p class="pc-empty">No sources: the question could not be asked.</p></div>'
    if refused:
        return head + '<p class="pc-empty pc-refused">No sources: the corpus has no answer to this question.</p></div>'
    if not items:
        return head + '<p class="pc-empty">Ask a question: the papers an answer cites are listed here.</p></div>'
    rows = []
    for s in items:
        url = safe_url(s.url)
        title = _e(s.title)
        title_html = (f'<a class="pc-title" href="{_e(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
                      if url else f'<span class="pc-title">{title}</span>')
        code = safe_url(s.code_url)
        code_html = (f' · <a class="pc-code" href="{_e(code)}" target="_blank" rel="noopener noreferrer">code</a>'
                     if code else "")
        rows.append(
            f'<li class="pc-source" data-n="{int(s.n)}" data-paper="{_e(s.paper_id)}">'
            f'<span class="pc-n">[{int(s.n)}]</span> {title_html}'
            f'<div class="pc-meta">score {float(s.score):.3f}{code_html}</div>'
            f'<blockquote class="pc-quote">{_e(s.quote)}</blockquote></li>'
        )
    return head + '<ol class="pc-list">' + "".join(rows) + "</ol></div>"


def corpus_line(paper_count: int, dates: tuple[str | None, str | None], mode: str) -> str:
    first, last = dates
    when = f", dated {escape(first)} to {escape(last)}" if first and last else ""
    return (f"Answers come only from **{paper_count} research-paper abstracts**{when}. "
            f"Answer mode: **{escape(mode)}**.")


def month_choices(dates: Iterable[str | None]) -> list[str]:
    """The distinct YYYY-MM months the corpus has, oldest first."""
    return sorted({d[:7] for d in dates if d and re.match(r"^\d{4}-\d{2}", d)})
