"""A conversation as a Markdown file, and the papers it cites as BibTeX (@misc entries).

Corpus text is data here too: titles go into Markdown through assistant.markdown.escape and into
BibTeX with its special characters escaped, so a title can't close a brace or start a command.
"""
from __future__ import annotations

import re
from pathlib import Path

from assistant.markdown import escape

from assistant.models import Source

from .render import link_markers, safe_url

_BIB_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$",
                "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


def bib_escape(text: str) -> str:
    return "".join(_BIB_SPECIAL.get(ch, ch) for ch in " ".join(str(text or "").split()))


def _bib_url(url: str) -> str:
    # URLs stay verbatim (url fields are not TeX); only braces could break the entry.
    return url.replace("{", "%7B").replace("}", "%7D")


def cited_papers(messages: list[dict]) -> list[dict]:
    """Every paper the conversation's answers cite, first citation first, once each."""
    seen: dict[str, dict] = {}
    for m in messages or []:
        if isinstance(m, dict) and m.get("role") == "assistant" and not m.get("refused"):
            for s in m.get("sources") or []:
                if isinstance(s, dict) and s.get("paper_id") and s["paper_id"] not in seen:
                    seen[s["paper_id"]] = s
    return list(seen.values())


def _key(s: dict, used: set[str]) -> str:
    base = s.get("arxiv_id") or s.get("paper_id") or "paper"
    words = re.findall(r"[A-Za-z]+", str(s.get("title") or ""))
    key = re.sub(r"[^A-Za-z0-9:.\-]", "", f"{(words[0].lower() if words else 'paper')}{str(base)}") or "paper"
    out, i = key, 1
    while out in used:
        i += 1
        out = f"{key}-{i}"
    used.add(out)
    return out


def bibtex(messages: list[dict]) -> str:
    entries, used = [], set()
    for s in cited_papers(messages):
        fields = [("title", "{" + bib_escape(s.get("title")) + "}")]
        year = str(s.get("date") or "")[:4]
        if re.fullmatch(r"\d{4}", year):
            fields.append(("year", year))
        if s.get("arxiv_id"):
            fields += [("eprint", bib_escape(s["arxiv_id"])), ("archivePrefix", "arXiv")]
        url = safe_url(s.get("url"))
        if url:
            fields.append(("url", _bib_url(url)))
        code = safe_url(s.get("code_url"))
        if code:
            fields.append(("note", "Code: \\url{" + _bib_url(code) + "}"))
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)  # title double-braced: keeps its capitals
        entries.append(f"@misc{{{_key(s, used)},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


def markdown(title: str, messages: list[dict], exported_at: str) -> str:
    out = [f"# {escape(title or 'paperchat conversation')}", "", f"*Exported from paperchat, {exported_at}.*", ""]
    for m in messages or []:
        if not isinstance(m, dict) or m.get("pending"):
            continue
        if m.get("role") == "user":
            out += [f"**You:** {escape(str(m.get('content') or ''))}", ""]
        elif m.get("role") == "assistant":
            if m.get("error"):
                out += [f"**paperchat:** Can't answer that: {escape(str(m.get('content') or ''))}", ""]
                continue
            sources = [Source(n=int(s.get("n") or 0), paper_id=str(s.get("paper_id") or ""),
                              title=str(s.get("title") or ""), url=str(s.get("url") or ""), quote="", score=0.0)
                       for s in m.get("sources") or [] if isinstance(s, dict)]
            body = link_markers(str(m.get("content") or ""), sources)
            prefix = "**paperchat** (no answer from this corpus):" if m.get("refused") else "**paperchat:**"
            out += [prefix, "", body, ""]
            if m.get("made_of"):
                out += [f"*{escape(m['made_of'])}.*", ""]
            if sources:
                out.append("Sources:")
                for s in m.get("sources") or []:
                    bits = [x for x in (s.get("date"), f"arXiv:{s['arxiv_id']}" if s.get("arxiv_id") else None) if x]
                    url = safe_url(s.get("url"))
                    line = f"{s.get('n')}. {escape(str(s.get('title') or ''))}"
                    line += f" <{url}>" if url else ""
                    line += f" ({', '.join(escape(b) for b in bits)})" if bits else ""
                    code = safe_url(s.get("code_url"))
                    line += f" code: <{code}>" if code else ""
                    out.append(line)
                out.append("")
    return "\n".join(out).rstrip() + "\n"


def write(folder: Path, stem: str, text: str, suffix: str) -> str:
    """Write an export for download; the file name says what it is."""
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "conversation"
    path = folder / f"paperchat-{slug}{suffix}"
    path.write_text(text, encoding="utf-8")
    return str(path)
