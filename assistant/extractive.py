"""The default answerer: no LLM, only verbatim sentences from the abstracts, each marked [n]."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from .evidence import PaperEvidence
from .intent import Intent
from .markdown import escape
from .models import Answer, Source
from .settings import Settings


@dataclass
class Plan:
    kind: str  # list | single | code | subset | refuse-none | refuse-meta | subset-none
    intent: Intent
    cited: list[PaperEvidence] = field(default_factory=list)
    corpus_size: int = 0
    pool_size: int = 0  # papers a follow-up chose from
    unknown_terms: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return self.kind.startswith("refuse") or self.kind == "subset-none"


def plan(intent: Intent, evidence: list[PaperEvidence], settings: Settings, max_cited: int,
         corpus_size: int, followup_pool: int = 0, unknown_terms: list[str] | None = None) -> Plan:
    """Decide what the answer cites. How many papers follows the evidence, not a fixed k."""
    p = Plan("refuse-none", intent, corpus_size=corpus_size, pool_size=followup_pool,
             unknown_terms=unknown_terms or [])
    top = evidence[0] if evidence else None
    if intent.meta and not (intent.meta == "authors" and top and top.meta.get("authors") not in (None, "", "[]")):
        p.kind = "refuse-meta"
        return p
    if intent.followup and not intent.subset and evidence:
        # Follow-up evidence carries the previous answer's order: "its" is the paper it led with,
        # "the second one" counts in that order; an ordinal out of range falls back to the best match.
        previous = sorted(evidence, key=lambda e: e.meta.get("_order", 0))
        index = 0 if intent.ordinal is None else intent.ordinal
        target = previous[index] if -len(previous) <= index < len(previous) else evidence[0]
        p.kind = "code" if intent.wants_code else "single"
        p.cited = [target]
        return p
    if intent.subset:
        if top is None or top.relevance < settings.subset_min_relevance:
            p.kind = "subset-none"
            return p
        floor = max(settings.subset_min_relevance, top.relevance * settings.relative_cutoff)
        p.kind = "subset"
        p.cited = [e for e in evidence if e.relevance >= floor][:max_cited]
        return p
    if top is None or top.relevance < settings.min_relevance or (
        top.relevance < settings.weak_relevance and _mostly_unknown(intent, p.unknown_terms, settings)
    ):
        return p
    floor = max(settings.min_relevance, top.relevance * settings.relative_cutoff)
    if intent.wants_list:
        p.kind = "list"
        p.cited = [e for e in evidence if e.relevance >= floor][:max_cited]
        return p
    # One paper asked about: lead with it, add near-ties so a close second is not hidden.
    p.kind = "code" if intent.wants_code else "single"
    margin = 0.02 if intent.wants_detail or intent.wants_code else 0.04
    p.cited = [top] + [e for e in evidence[1:3] if e.relevance >= top.relevance - margin]
    return p


def _mostly_unknown(intent: Intent, unknown: list[str], settings: Settings) -> bool:
    from .evidence import content_terms

    terms = content_terms(intent.topic)
    return bool(terms) and len(unknown) / len(terms) >= settings.unknown_terms_share


def headline(p: Plan) -> str:
    topic = escape(p.intent.topic)
    n = len(p.cited)
    if p.kind == "refuse-meta":
        return (
            f"The corpus holds only the titles and abstracts of its {p.corpus_size} papers: it has no "
            f"{p.intent.meta}, so I can't answer that from it. Each paper's link opens its page, "
            "which may list them."
        )
    if p.kind == "refuse-none":
        missing = ""
        if p.unknown_terms:
            words = ", ".join(f"“{escape(t)}”" for t in p.unknown_terms[:4])
            missing = f" No abstract even uses {words}."
        return (f"None of the {p.corpus_size} papers is about “{topic}”, so I can't answer that from "
                f"this corpus.{missing}")
    if p.kind == "subset-none":
        return f"None of the {p.pool_size} papers from the previous answer is about “{topic}”."
    lead = escape(p.cited[0].title)
    if p.kind == "code":
        code = p.cited[0].meta.get("code_url")
        if code:
            return f"The code for *{lead}* is at {code} [1]."
        return f"The abstract of *{lead}* [1] does not link to any code."
    if p.kind == "subset":
        return f"{n} of the {p.pool_size} papers from the previous answer match “{topic}”:"
    if p.kind == "list":
        noun = "paper matches" if n == 1 else "papers match"
        return f"{n} {noun} “{topic}”; the closest is *{lead}* [1]."
    if n > 1:
        return f"The best match is *{lead}* [1]; {n - 1} more paper{'s' if n > 2 else ''} come close."
    return f"The best match is *{lead}* [1]."


def entry(n: int, e: PaperEvidence, show_code: bool) -> str:
    line = f"**[{n}]** [{escape(e.title)}]({e.meta['url']}): “{escape(e.quote_text())}” [{n}]"
    if show_code and e.meta.get("code_url"):
        line += f" Code: {e.meta['code_url']}"
    return line


def sources(p: Plan) -> list[Source]:
    return [
        Source(n=i + 1, paper_id=e.paper_id, title=e.title, url=e.meta["url"],
               code_url=e.meta.get("code_url") or None, quote=e.quote_text(), score=round(e.relevance, 4),
               date=e.meta.get("date") or None, arxiv_id=e.meta.get("arxiv_id") or None)
        for i, e in enumerate(p.cited)
    ]


def answer_kind(p: Plan) -> str:
    return "refused" if p.refused else p.kind


def render(question: str, p: Plan) -> Iterator[Answer]:
    parts = [headline(p)]
    srcs = sources(p)
    base = dict(question=question, refused=p.refused, mode="extractive", kind=answer_kind(p),
                paper_ids=[e.paper_id for e in p.cited])
    # The headline already says [1]: ship its source with it so the marker links at once.
    yield Answer(answer=parts[0], sources=srcs[:1], **base)
    for i, e in enumerate(p.cited):
        parts.append(entry(i + 1, e, show_code=p.intent.wants_code))
        yield Answer(answer="\n\n".join(parts), sources=srcs[: i + 1], **base)
