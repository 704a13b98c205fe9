"""Answers as data the page and the API show: linked markdown (API, exports, history), the plain
words for what an answer is made of, and the escaped HTML sources panel. Pure functions, no Gradio.

Safety rule: text from the corpus or the user never reaches the page as markup. Answer text is
markdown whose corpus parts are already escaped by the Assistant (assistant.markdown.escape); we
only add links to http(s) URLs and neutralise any other link target. HTML is built from raw
fields, every one of them through `h()`.
"""
from __future__ import annotations

import html
import re
from typing import Iterable

from assistant.markdown import escape, unescape
from assistant.models import Answer, Source

REFUSAL_PREFIX = "**No answer from this corpus.**"
ERROR_PREFIX = "⚠️ **Can't answer that:**"

# A citation marker: [3] or [2, 5] that is not escaped (\[3\] is literal text from a title) and
# not already the text of a link ([3](...)).
MARKER = re.compile(r"(?<!\\)\[(\d+(?:\s*,\s*\d+)*)\](?!\()")
# A link target that is not http(s): "](javascript:...)", "](data:...)", "](/relative)".
_BAD_TARGET = re.compile(r"(?<!\\)\]\((?!https?://)")
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)
# A source whose score is at least this share of the best one's is a "strong" match. Relative, not
# absolute: scores shift with the embedding model, the ranking within one answer does not.
STRONG_SHARE = 0.85


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) URL that is safe to put in an href, else None."""
    if not url:
        return None
    url = str(url).strip()
    return url if _SAFE_URL.match(url) else None


def h(text) -> str:
    """HTML-escape, plus the characters a JS/Handlebars template would act on (gr.HTML templates)."""
    return (html.escape("" if text is None else str(text), quote=True)
            .replace("$", "&#36;").replace("`", "&#96;").replace("{", "&#123;").replace("}", "&#125;"))


_e = h  # older name


def link_markers(text: str, sources: Iterable[Source]) -> str:
    """Rewrite the [n] markers into markdown links to source n's page; neutralise non-http links."""
    urls = {s.n: safe_url(s.url) for s in sources}
    text = _BAD_TARGET.sub(r"]\\(", text)

    def one(m: re.Match) -> str:
        parts = []
        for raw in m.group(1).split(","):
            n = int(raw)
            url = urls.get(n)
            parts.append(f"[\\[{n}\\]]({url})" if url else f"\\[{n}\\]")
        return "".join(parts)

    return MARKER.sub(one, text)


def answer_markdown(answer: Answer) -> str:
    """The answer as linked markdown (the API's `answer`, exports, history for scripted users)."""
    body = link_markers(answer.answer, answer.sources)
    if answer.refused:
        quoted = "\n".join("> " + line if line else ">" for line in body.split("\n"))
        body = f"> {REFUSAL_PREFIX}\n>\n{quoted}"
    if answer.notice:
        body = f"*Note: {escape(answer.notice)}*\n\n{body}"
    return body


def error_markdown(message: str) -> str:
    return f"{ERROR_PREFIX} {escape(str(message))}"


def made_of(mode: str, model: str | None = None, refused: bool = False) -> str:
    """What an answer is made of, in plain words instead of the mode name. A refusal quotes
    nothing, so it does not claim to."""
    if refused:
        return "Searched the abstracts: none answers this"
    if mode == "llm":
        return f"Written by {model or 'a language model'}, checked against the abstracts"
    if mode == "extractive-fallback":
        return "Quoted from the abstracts (the language model was not available)"
    return "Quoted from the abstracts"


def strength(score: float | None, best: float | None) -> str:
    if score is None or not best or best <= 0:
        return "partial match"
    return "strong match" if float(score) >= STRONG_SHARE * float(best) else "partial match"


def source_dicts(sources: Iterable[Source | dict]) -> list[dict]:
    """Sources as the plain records the page keeps (no raw score: a match strength instead)."""
    items = [s.model_dump() if isinstance(s, Source) else dict(s) for s in sources or []]
    best = max((float(s.get("score") or 0) for s in items), default=0.0)
    out = []
    for s in items:
        out.append({
            "n": int(s.get("n", 0)), "paper_id": str(s.get("paper_id", "")), "title": str(s.get("title", "")),
            "url": s.get("url"), "code_url": s.get("code_url") or None, "quote": s.get("quote") or "",
            "date": s.get("date") or None, "arxiv_id": s.get("arxiv_id") or None,
            "match": s.get("match") or strength(s.get("score"), best),
        })
    return out


def message_text(message: dict) -> str:
    """The text of a chat message, whether its content is a string or Gradio's list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content
                       if isinstance(p, str) or (isinstance(p, dict) and p.get("type", "text") == "text"))
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return ""


def history_for_assistant(messages: list[dict]) -> list[dict]:
    """Page messages -> the history Assistant.stream takes: what the user typed, and each answer's
    linked markdown with the papers it cited (`paper_ids`, in [n] order)."""
    history = []
    for m in messages or []:
        if not isinstance(m, dict) or m.get("pending"):
            continue
        role = m.get("role")
        if role == "user":
            history.append({"role": "user", "content": message_text(m)})
        elif role == "assistant":
            turn = {"role": "assistant", "content": m.get("linked") or message_text(m)}
            ids = m.get("paper_ids") or [s.get("paper_id") for s in m.get("sources") or [] if isinstance(s, dict)]
            if ids:
                turn["paper_ids"] = [str(i) for i in ids if i]
            history.append(turn)
    return history


def sources_html(sources: list[dict] | list[Source], question: str | None = None, refused: bool = False,
                 error: bool = False) -> str:
    """The sources panel for the latest answer: what the answer does not already show (date, arXiv
    id, code, match strength) and a "more like this" action per paper; no repeated quotes."""
    items = source_dicts(sources)
    head = '<section class="pc-sources" aria-label="Sources"><h2 class="pc-sources-title">Sources</h2>'
    if question and question.strip():
        head += f'<p class="pc-sources-q">for “{h(question[:300])}”</p>'
    if error:
        return head + '<p class="pc-dim">No sources: the question could not be asked.</p></section>'
    if refused:
        return head + '<p class="pc-dim">No sources: the corpus has no answer to this question.</p></section>'
    if not items:
        return head + '<p class="pc-dim">The papers an answer cites are listed here.</p></section>'
    rows = []
    for s in items:
        url = safe_url(s["url"])
        title = h(s["title"])
        title_html = (f'<a class="pc-title" href="{h(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
                      if url else f'<span class="pc-title">{title}</span>')
        meta = [h(s["date"]) if s["date"] else "date unknown"]
        if s["arxiv_id"]:
            meta.append(f"arXiv {h(s['arxiv_id'])}")
        code = safe_url(s["code_url"])
        meta.append(f'<a class="pc-code" href="{h(code)}" target="_blank" rel="noopener noreferrer">code</a>'
                    if code else "no code linked")
        meta.append(f'<span class="pc-match">{h(s["match"])}</span>')
        like = f"which papers are similar to “{s['title']}”?"
        rows.append(
            f'<li class="pc-source" data-n="{s["n"]}" data-paper="{h(s["paper_id"])}">'
            f'<span class="pc-n">[{s["n"]}]</span> {title_html}'
            f'<div class="pc-meta">{" · ".join(meta)}</div>'
            f'<button type="button" class="pc-chip pc-like" data-ask="{h(like)}">More like this</button></li>'
        )
    return head + '<ol class="pc-list">' + "".join(rows) + "</ol></section>"


def corpus_line(paper_count: int, dates: tuple[str | None, str | None]) -> str:
    """One line of HTML saying what the answers come from."""
    first, last = dates
    when = f", dated {h(first[:7])} to {h(last[:7])}" if first and last else ""
    return f"Answers come only from <strong>{int(paper_count)} research-paper abstracts</strong>{when}."


def month_choices(dates: Iterable[str | None]) -> list[str]:
    """The distinct YYYY-MM months the corpus has, oldest first."""
    return sorted({d[:7] for d in dates if d and re.match(r"^\d{4}-\d{2}", d)})


def question_from_echo(content: str) -> str:
    return unescape(content)
