"""Abbreviations the corpus defines ("text-to-speech (TTS)", "Vision Transformer (ViT)"), so a
question that says "tts papers" also finds the paper that only writes "text-to-speech", and one
that says "electrocardiogram" the paper that writes "ECG". Read from the abstracts themselves, not
from a list: each definition is a long form followed by its abbreviation in parentheses, whose
letters the long form spells in order (Schwartz & Hearst, PSB 2003)."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator

from .words import fold

_PAREN_RE = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-]{1,9})\s*\)")
LONG_FORMS_KEPT = 3  # per abbreviation, the most used first ("tts": "text-to-speech", "text to speech")
# An abbreviation defined by one paper is mostly that paper's own method ("CREDIT", "CRAFT"), which
# its name already finds, and its letters are often an English word; one that several papers define
# is the field's ("TTS", "ViT", "LLM"). Only those are looked up.
MIN_PAPERS = 2


def _short(raw: str) -> str | None:
    """The abbreviation as looked up: lower case, a plural "s" off ("CNNs" -> "cnn"); None unless
    it has two capitals ("ViT", "TTS"; not "(i)" or "(Fig)")."""
    if sum(ch.isupper() for ch in raw) < 2:
        return None
    if raw.endswith("s") and raw[:-1].isupper():
        raw = raw[:-1]
    return fold(raw).lower()


def _long_form(short: str, before: str) -> str | None:
    """The words before the parenthesis that spell the abbreviation: its last letter matched
    first, walking back; its first letter must start a word."""
    letters = [c for c in short if c.isalnum()]
    words = before.split()[-min(len(letters) + 5, 2 * len(letters)):]
    text = " ".join(words)
    i = len(text) - 1
    for k in range(len(letters) - 1, -1, -1):
        c = letters[k]
        while i >= 0 and (text[i].lower() != c or (k == 0 and i > 0 and text[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
    long = text[text.rfind(" ", 0, i + 1) + 1:].strip(" ,;:-\"'")
    if len(long) <= len(short) or not re.search(r"[a-z]", long) or "(" in long or ")" in long:
        return None
    return fold(long).lower()


def definitions(text: str) -> Iterator[tuple[str, str]]:
    """(abbreviation, long form) for each definition in one text."""
    for m in _PAREN_RE.finditer(text):
        short = _short(m.group(1))
        if short and (long := _long_form(short, text[max(0, m.start() - 160): m.start()])):
            yield short, long


def paper_definitions(texts: Iterable[str]) -> set[tuple[str, str]]:
    """The definitions of one paper (its chunks), each once: counts are papers, not mentions."""
    return {pair for text in texts for pair in definitions(text)}


def tables(counts: Counter) -> tuple[dict[str, str], dict[str, str]]:
    """From (abbreviation, long form) -> papers: abbreviation -> its long forms, the most used first,
    joined by "|"; and long form -> abbreviation."""
    by_short: dict[str, list[tuple[int, str]]] = {}
    for (short, long), n in counts.items():
        by_short.setdefault(short, []).append((-n, long))
    by_short = {s: longs for s, longs in by_short.items() if -sum(n for n, _ in longs) >= MIN_PAPERS}
    counts = Counter({(s, long): n for (s, long), n in counts.items() if s in by_short})
    shorts = {s: "|".join(long for _, long in sorted(longs)[:LONG_FORMS_KEPT]) for s, longs in by_short.items()}
    longs: dict[str, str] = {}
    for (short, long), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):  # ties: alphabetical, as any build
        longs.setdefault(long, short)
    return shorts, longs
