"""The guard: decides whether a generated answer may be shown.

Rules, applied to the finished text:
- citations are [n], [n, m] or [n-m]; a number outside 1..len(sources) is removed from the text and
  reported in the notice;
- every sentence that cites must be supported (assistant.llm.support) by at least one source it
  cites, unless it only names cited papers (a reference line);
- a sentence without a citation is allowed only if it is framing ("Here is what the sources say:"),
  a statement that the sources do not cover something, or supported by one of the sources anyway;
- an answer needs at least one valid citation, unless it is a refusal; a refusal is accepted only
  when the caller says retrieval found nothing strong either (allow_refusal).
Anything else fails with a one-line reason; the caller then shows the extractive answer."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..evidence import content_terms
from .support import (
    clean, combine, evidence_sentences, numbers_in, overlap_share,
)

CITE_GROUP_RE = re.compile(r"\[\s*(\d+(?:\s*(?:,|;|–|-|and)\s*\d+)*)\s*\]")
RANGE_RE = re.compile(r"(\d+)\s*[–-]\s*(\d+)")
BULLET_RE = re.compile(r"^\s*(?:[-*•+]|\d+[.)]|#+)\s+")
LEADING_CITES_RE = re.compile(r"^(\s*\[[\d\s,;–\-and]+\])+\s*")
SPLIT_RE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")
ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "approx.", "resp.", "No.")

META_WORDS = """here following sources source abstract abstracts answer answers question questions relevant
information provided given summary summarize summarise according below above based mention mentions
mentioned describe describes described discuss discusses discussed address addresses addressed
several number note however overall also include includes including titled title paper papers
cited cite cites context available detail details specific specifically listed list available
sure help helpful hope let know further say says said state states stated report reports reported
find finds findings key point points main brief briefly short shortly well known best match matches
closest close related relate relates look looking question's""".split()
META_TERMS = content_terms(" ".join(META_WORDS))

REFUSAL_RE = re.compile(
    r"\b(do(?:es)?\s*n[o']?t|cannot|can['’]?t|unable|no|none|neither|not)\b", re.I)
SOURCE_WORD_RE = re.compile(r"\b(sources?|abstracts?|papers?|information|context|corpus|provided|given)\b", re.I)


@dataclass
class SentenceCheck:
    text: str
    cites: list[int]
    kind: str  # claim | reference | framing | refusal | grounded (uncited but supported) | unsupported
    score: float | None = None


@dataclass
class Verdict:
    ok: bool
    text: str  # the answer with invalid citations removed
    reason: str | None = None  # why it failed: shown as the notice of the fallback
    notice: str | None = None  # for an answer that passed but was changed (removed citations)
    refusal: bool = False
    cited: list[int] = field(default_factory=list)  # valid source numbers the text cites, in order
    removed: list[int] = field(default_factory=list)  # citation numbers that named no source
    sentences: list[SentenceCheck] = field(default_factory=list)


def expand(group: str) -> list[int]:
    nums: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", group.strip()):
        m = RANGE_RE.fullmatch(part.strip())
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a <= b and b - a < 20:
                nums.extend(range(a, b + 1))
            else:
                nums.extend([a, b])
        elif part.strip().isdigit():
            nums.append(int(part.strip()))
    return nums


def strip_invalid(text: str, n_sources: int) -> tuple[str, list[int]]:
    """Removes citation numbers outside 1..n_sources; returns the new text and the removed numbers."""
    removed: list[int] = []

    def fix(m: re.Match) -> str:
        nums = expand(m.group(1))
        good = [n for n in nums if 1 <= n <= n_sources]
        removed.extend(n for n in nums if not 1 <= n <= n_sources)
        if good == nums:
            return m.group(0)
        return "".join(f"[{n}]" for n in dict.fromkeys(good))

    out = CITE_GROUP_RE.sub(fix, text)
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", out)
    out = re.sub(r"[ \t]{2,}", " ", out)
    return out, list(dict.fromkeys(removed))


def citations(text: str) -> list[int]:
    return [n for m in CITE_GROUP_RE.finditer(text) for n in expand(m.group(1))]


def split_sentences(text: str) -> list[str]:
    """Sentences of a generated answer, one list item or line at a time. Citation markers that open
    a sentence belong to the sentence before it on the same line ("... merges. [1] It ...")."""
    out: list[str] = []
    for line in text.splitlines():
        line = BULLET_RE.sub("", line).strip()
        if not line:
            continue
        pieces: list[str] = []
        for piece in SPLIT_RE.split(line):
            if pieces and pieces[-1].endswith(ABBREVIATIONS):
                pieces[-1] += " " + piece
            else:
                pieces.append(piece)
        line_sentences: list[str] = []
        for piece in pieces:
            m = LEADING_CITES_RE.match(piece)
            if m and line_sentences:
                line_sentences[-1] += " " + m.group(0).strip()
                piece = piece[m.end():]
            if piece.strip():
                line_sentences.append(piece.strip())
        out.extend(line_sentences)
    return out


class _Sources:
    """Embeddings and terms of every source, computed once per check."""

    def __init__(self, sources: Sequence, embedder):
        self.titles = [str(s.title) for s in sources]
        self.sentences = [evidence_sentences(list(s.sentences)) for s in sources]
        self.blobs = [f"{t} " + " ".join(ss) for t, ss in zip(self.titles, self.sentences)]
        self.terms = [content_terms(b) for b in self.blobs]
        self.title_terms = [content_terms(t) for t in self.titles]
        self.numbers = [numbers_in(b) for b in self.blobs]
        flat = [x for ss in self.sentences for x in ss]
        vectors = embedder.embed(flat) if flat else np.zeros((0, 1), dtype=np.float32)
        self.vectors, start = [], 0
        for ss in self.sentences:
            self.vectors.append(vectors[start: start + len(ss)])
            start += len(ss)

    def score(self, i: int, text: str, vector: np.ndarray) -> float:
        if not len(self.vectors[i]):
            return 0.0
        cosine = float(np.max(self.vectors[i] @ vector))
        share = overlap_share(content_terms(text), self.terms[i])
        return combine(cosine, share, bool(numbers_in(text) - self.numbers[i]))


def check_answer(text: str, sources: Sequence, question: str, *, embedder, threshold: float,
                 allow_refusal: bool) -> Verdict:
    """`sources`: objects with .title and .sentences (PaperEvidence), numbered 1..n in order."""
    n = len(sources)
    fixed, removed = strip_invalid(text or "", n)
    verdict = Verdict(ok=False, text=fixed.strip(), removed=removed)
    removed_note = None
    if removed:
        nums = ", ".join(f"[{k}]" for k in removed)
        removed_note = f"removed citation{'s' if len(removed) > 1 else ''} {nums}: the model cited " \
                       f"{'sources' if len(removed) > 1 else 'a source'} it was not given"

    def fail(reason: str) -> Verdict:
        verdict.reason = f"{removed_note}; {reason}" if removed_note else reason
        return verdict

    sentences = split_sentences(verdict.text)
    if not sentences:
        return fail("the model returned an empty answer")
    src = _Sources(sources, embedder)
    question_terms = content_terms(question)
    cleaned = [clean(s) for s in sentences]
    vectors = embedder.embed([c or "-" for c in cleaned])
    refusal_seen = False
    problem = None
    for sent, text_only, vec in zip(sentences, cleaned, vectors):
        cites = [k for k in dict.fromkeys(citations(sent)) if 1 <= k <= n]
        terms = content_terms(text_only) - META_TERMS
        check = SentenceCheck(sent, cites, "claim")
        verdict.sentences.append(check)
        if cites:
            verdict.cited.extend(k for k in cites if k not in verdict.cited)
            check.score = round(max(src.score(k - 1, text_only, vec) for k in cites), 4)
            cited_titles = set().union(*(src.title_terms[k - 1] for k in cites))
            if check.score >= threshold:
                check.kind = "claim"
            elif terms <= cited_titles:
                check.kind = "reference"
            else:
                check.kind = "unsupported"
                problem = problem or (f"its sentence “{_short(text_only)}” is not supported by the "
                                      f"cited source{'s' if len(cites) > 1 else ''} "
                                      + ", ".join(f"[{k}]" for k in cites))
            continue
        all_source_terms = set().union(*src.terms) if n else set()
        if (REFUSAL_RE.search(text_only) and SOURCE_WORD_RE.search(text_only)
                and terms <= question_terms | all_source_terms):
            check.kind = "refusal"
            refusal_seen = True
            continue
        if not terms:
            check.kind = "framing"
            continue
        check.score = round(max((src.score(i, text_only, vec) for i in range(n)), default=0.0), 4)
        if check.score >= threshold:
            check.kind = "grounded"
            continue
        check.kind = "unsupported"
        problem = problem or f"it says “{_short(text_only)}” without citing a source that supports it"

    if problem:
        return fail(f"the model's answer failed the citation check: {problem}")
    if not verdict.cited:
        if refusal_seen:
            verdict.refusal = True
            if allow_refusal:
                verdict.ok = True
                verdict.notice = removed_note
                return verdict
            return fail("the model said the sources do not answer, but retrieval found relevant papers")
        return fail("the model's answer cites no source")
    verdict.ok = True
    verdict.notice = removed_note
    return verdict


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
