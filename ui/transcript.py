"""The chat as HTML: messages, [n] popovers, comparison tables, long lists folded, follow-ups.

Built here rather than by Gradio's Chatbot so that a citation can be a button with a popover
(not a second link), a comparison can be a real table, and the follow-ups can sit under the answer.

Safety rule: corpus and user text never reach the page as markup. Answer markdown (corpus parts
already backslash-escaped by the Assistant) goes through markdown-it with raw HTML off and links
limited to http(s); everything else is built here from raw fields with `h()`. Clicks that ask
something are `data-ask` attributes read by the page script, never inline handlers.
"""
from __future__ import annotations

import re
from typing import Iterable

from markdown_it import MarkdownIt

from assistant.models import LIST_KINDS

from .render import MARKER, h, safe_url, source_dicts, strength

# Lists longer than this show their first papers and a "show all N" control.
LIST_PREVIEW = 5
MAX_ECHO_CHARS = 600
THINKING = "Searching the papers…"

# Citation placeholders: private-use characters survive markdown rendering as plain text.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
# A bare http(s) URL in answer text (e.g. "Code: https://github.com/..."), not already a link target.
_BARE_URL = re.compile(r"(?<![(<\[\w])(https?://[^\s<>()\[\]\\]*[^\s<>()\[\]\\.,;:!?'\"”’])")


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    md.validateLink = lambda url: safe_url(url) is not None  # only http(s) links; others stay text

    def link_open(self, tokens, idx, options, env):
        tokens[idx].attrSet("target", "_blank")
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MD = _markdown()


def markdown_html(text: str) -> str:
    """Answer markdown -> HTML with citation placeholders left in place."""
    text = str(text).replace(_OPEN, "").replace(_CLOSE, "")
    text = MARKER.sub(lambda m: "".join(f"{_OPEN}{int(n)}{_CLOSE}" for n in m.group(1).split(",")), text)
    text = _BARE_URL.sub(r"<\1>", text)
    # markdown-it escapes <>&"; the characters gr.HTML's template step acts on need entities too.
    return (_MD.render(text).replace("$", "&#36;").replace("`", "&#96;")
            .replace("{", "&#123;").replace("}", "&#125;"))


class _Cites:
    """Turns placeholders into [n] buttons with a popover, each with an id unique on the page."""

    def __init__(self, msg_index: int, sources: list[dict]):
        self.k = msg_index
        self.by_n = {int(s["n"]): s for s in sources}
        self.count = 0

    def sub(self, html_text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self.button(int(m.group(1))), html_text)

    def button(self, n: int) -> str:
        s = self.by_n.get(n)
        if s is None:
            return f"[{n}]"  # no such source: literal text, not a dead control
        self.count += 1
        pid = f"pc-pop-{self.k}-{n}-{self.count}"
        return (f'<span class="pc-cw"><button type="button" class="pc-cite" data-n="{n}" aria-expanded="false" '
                f'aria-controls="{pid}" aria-label="Source {n}: {h(s.get("title", ""))}">[{n}]</button>'
                f'<span class="pc-pop" id="{pid}" role="note">{popover(s)}</span></span>')


def popover(s: dict) -> str:
    """What hovering or tapping [n] shows: title, date, arXiv id, the quote, code and paper links."""
    meta = [x for x in (s.get("date"), f"arXiv {s['arxiv_id']}" if s.get("arxiv_id") else None) if x]
    url, code = safe_url(s.get("url")), safe_url(s.get("code_url"))
    links = []
    if url:
        links.append(f'<a href="{h(url)}" target="_blank" rel="noopener noreferrer">paper</a>')
    links.append(f'<a href="{h(code)}" target="_blank" rel="noopener noreferrer">code</a>' if code
                 else '<span class="pc-dim">no code linked</span>')
    quote = s.get("quote")
    return (f'<span class="pc-pop-title">{h(s.get("title", ""))}</span>'
            + (f'<span class="pc-pop-meta">{" · ".join(h(x) for x in meta)}</span>' if meta else "")
            + (f'<span class="pc-pop-quote">“{h(quote)}”</span>' if quote else "")
            + f'<span class="pc-pop-links">{" · ".join(links)}</span>')


def _fold_list(md_text: str) -> tuple[str, str, int]:
    """Split a long list answer into (shown, folded, total entries) at LIST_PREVIEW entries."""
    paragraphs = md_text.split("\n\n")
    entries = [i for i, p in enumerate(paragraphs) if p.lstrip().startswith("**[")]
    if len(entries) <= LIST_PREVIEW:
        return md_text, "", len(entries)
    cut = entries[LIST_PREVIEW]
    return "\n\n".join(paragraphs[:cut]), "\n\n".join(paragraphs[cut:]), len(entries)


def comparison_table(rows: list[dict], sources: list[dict], cites: _Cites) -> str:
    """One column per paper, one row per aspect; each cell the verbatim quote and its [n]."""
    ns: list[int] = []
    for row in rows:
        for cell in row.get("cells") or []:
            if isinstance(cell, dict) and isinstance(cell.get("n"), int) and cell["n"] not in ns:
                ns.append(cell["n"])
    if not ns:
        return ""
    by_n = {int(s["n"]): s for s in sources}
    head = "".join(f'<th scope="col">{cites.button(n)} {h((by_n.get(n) or {}).get("title", ""))}</th>' for n in ns)
    body = []
    for row in rows:
        cells = {c.get("n"): c.get("quote") for c in row.get("cells") or [] if isinstance(c, dict)}
        tds = "".join(
            f'<td>“{h(cells[n])}” {cites.button(n)}</td>' if cells.get(n) else '<td class="pc-dim">not stated</td>'
            for n in ns)
        body.append(f'<tr><th scope="row">{h(row.get("aspect", ""))}</th>{tds}</tr>')
    return ('<div class="pc-table-wrap" role="region" aria-label="Comparison" tabindex="0">'
            f'<table class="pc-compare"><thead><tr><td></td>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            '</table></div>')


def answer_html(msg: dict, k: int, last: bool) -> str:
    """One assistant message."""
    sources = msg.get("sources") or []
    cites = _Cites(k, sources)
    cls = "pc-msg pc-bot"
    if msg.get("error"):
        body = f'<p class="pc-error"><strong>Can\'t answer that:</strong> {h(msg.get("content", ""))}</p>'
    elif msg.get("pending"):
        body = f'<p class="pc-dim pc-thinking">{THINKING}</p>'
    else:
        text = str(msg.get("content") or "")
        if msg.get("comparison"):
            head = text.split("\n\n", 1)[0]
            body = cites.sub(markdown_html(head)) + comparison_table(msg["comparison"], sources, cites)
        else:
            shown, folded, total = _fold_list(text) if msg.get("kind", "list") in LIST_KINDS else (text, "", 0)
            body = cites.sub(markdown_html(shown))
            if folded:
                body += (f'<details class="pc-more"><summary>Show all {total} papers</summary>'
                         f'{cites.sub(markdown_html(folded))}</details>')
        if msg.get("refused"):
            cls += " pc-refused"
            body = f'<p class="pc-refused-head"><strong>No answer from this corpus.</strong></p>{body}'
        if msg.get("notice"):
            body = f'<p class="pc-notice">Note: {h(msg["notice"])}</p>{body}'
    foot = ""
    if msg.get("made_of") and not msg.get("pending") and not msg.get("error"):
        n = len(sources)
        cited = f" · {n} paper{'s' if n != 1 else ''} cited" if n else ""
        foot = f'<p class="pc-made">{h(msg["made_of"])}{cited}{h(_dates(msg.get("filters")))}</p>'
    if last and msg.get("done") and msg.get("suggestions"):
        buttons = "".join(f'<button type="button" class="pc-chip" data-ask="{h(q)}">{h(q)}</button>'
                          for q in msg["suggestions"][:3])
        foot += f'<div class="pc-suggest" role="group" aria-label="Suggested follow-ups">{buttons}</div>'
    done = ' data-done="1"' if msg.get("done") else ""
    return f'<article class="{cls}" aria-label="paperchat"{done}>{body}{foot}</article>'


def _dates(filters) -> str:
    """The date window an answer was limited to, in words."""
    if not isinstance(filters, dict):
        return ""
    start, end = filters.get("date_from"), filters.get("date_to")
    if start and end:
        return f" · only papers dated {start} to {end}"
    if start:
        return f" · only papers dated from {start}"
    return f" · only papers dated up to {end}" if end else ""


def question_html(text: str) -> str:
    text = str(text or "")
    if not text.strip():
        shown = '<em class="pc-dim">(empty message)</em>'
    elif len(text) > MAX_ECHO_CHARS:
        shown = h(text[:MAX_ECHO_CHARS]) + f' <em class="pc-dim">… ({len(text):,} characters)</em>'
    else:
        shown = h(text)
    return f'<article class="pc-msg pc-user" aria-label="You"><p>{shown}</p></article>'


def empty_html(examples: Iterable[str], corpus: str) -> str:
    buttons = "".join(f'<button type="button" class="pc-chip" data-ask="{h(q)}">{h(q)}</button>' for q in examples)
    return ('<div class="pc-welcome">'
            f'<p>{corpus} Ask which papers study something, then follow up. Every answer cites its papers: '
            'hover or tap a <strong>[n]</strong> to see the quote.</p>'
            f'<div class="pc-examples" role="group" aria-label="Example questions">{buttons}</div></div>')


def transcript_html(messages: list[dict], examples: Iterable[str] = (), corpus: str = "") -> str:
    """The whole chat. An empty chat shows the examples."""
    if not messages:
        return empty_html(examples, corpus)
    out = []
    last_bot = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    for i, m in enumerate(messages):
        if m.get("role") == "user":
            out.append(question_html(m.get("content")))
        elif m.get("role") == "assistant":
            out.append(answer_html(m, i, last=i == last_bot))
    # Busy while an answer streams: screen readers announce it once, finished, not chunk by chunk.
    busy = any(m.get("role") == "assistant" and not m.get("done") for m in messages)
    return (f'<div class="pc-log" role="log" aria-live="polite" aria-busy="{str(busy).lower()}">'
            + "".join(out) + "</div>")


__all__ = ["transcript_html", "answer_html", "markdown_html", "popover", "comparison_table", "source_dicts",
           "strength", "LIST_PREVIEW", "THINKING"]
