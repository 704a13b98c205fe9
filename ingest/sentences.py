"""Abstract -> sentences. The assistant quotes these verbatim, so every sentence is an exact
substring of the abstract: we only choose cut points, never rewrite text."""
from __future__ import annotations

import re

# A word ending in one of these is not the end of a sentence even when a capital follows
# ("e.g. ImageNet", "Fig. 2", "Smith et al. Their"). Compared case-insensitively, without the dot.
ABBREVIATIONS = {
    "e.g", "i.e", "al", "vs", "cf", "fig", "figs", "eq", "eqs", "sec", "secs", "tab", "no", "nos",
    "approx", "resp", "ref", "refs", "dr", "mr", "ms", "prof", "st", "vol", "pp", "ca", "viz",
    "w.r.t", "a.k.a", "u.s", "e.t.c", "incl", "est", "min", "max", "avg", "dept", "univ", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "ch", "app", "thm", "def",
}

# Candidate boundary: terminal punctuation (plus closing quotes/brackets) then whitespace.
# Decimals ("3.5") and URLs ("github.com/x") have no whitespace after the dot, so never match.
# ... or a full stop glued to the next sentence ("wrinkles.The main insights"), as some abstracts
# are typed: a word's letters, ".", then a capitalised word.
_GLUED_STOP = r"(?<=[a-z)][a-z)])\.(?=[A-Z][a-z]|[A-Z]{2,}\s)"
_BOUNDARY = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s+)|" + _GLUED_STOP)
_WORD_BEFORE = re.compile(r"(\S+)$")
_GLUED = re.compile(_GLUED_STOP)


def has_glued_stops(text: str) -> bool:
    """Whether the text has a full stop glued to the next sentence (split since 21 Nov 2026)."""
    return _GLUED.search(text) is not None


def _starts_sentence(rest: str) -> bool:
    """Whether the text after a candidate boundary looks like a new sentence."""
    word = rest.split(None, 1)[0] if rest.strip() else ""
    if not word:
        return False
    first = word[0]
    if first.isupper() or first.isdigit() or first in "\"'\u201c\u2018([":
        return True
    # Names like "mIoU", "iTransformer", "pHDBSCAN" start lowercase but begin sentences.
    return first.islower() and any(c.isupper() for c in word[1:])


def _is_abbreviation(text_before: str) -> bool:
    m = _WORD_BEFORE.search(text_before)
    if not m:
        return False
    word = m.group(1).lstrip("([\"'").rstrip(".").casefold()
    # A lone initial ("J. Smith") is almost always part of a name, not a sentence end.
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_sentences(text: str) -> list[str]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        # Only a single bare "." can belong to an abbreviation; "?", "!", "..." and ".)" end sentences.
        if m.group(0) == "." and _is_abbreviation(text[max(0, m.start() - 40):m.start() + 1]):
            continue
        if not _starts_sentence(text[end:]):
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        piece = text[a:b].strip()
        if piece:
            out.append(piece)
    return out
