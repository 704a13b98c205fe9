"""LLMAnswerer: streams a generated answer over the retrieved abstracts, then lets the guard decide
whether it is shown; otherwise the extractive answer is shown with a notice saying why.

Used by assistant.core.Assistant when settings.answerer is "openai" or "llamacpp"."""
from __future__ import annotations

import logging
import re
import threading
import time
from typing import Iterator, Sequence

from .. import extractive, prompts
from ..evidence import content_terms
from ..intent import FOLLOWUP_RE
from ..markdown import escape
from ..models import Answer, Source
from .backends import LLMFailure, make_backend
from .guard import check_answer

log = logging.getLogger(__name__)

REFUSED_PLAN_SOURCES = 3  # sources given to the model when retrieval found nothing strong
CONDENSE_MAX_TOKENS = 48
CONDENSE_MAX_CHARS = 300
_FAILURE_MEMORY_S = 120.0
FALLBACK_SUFFIX = "; showing the extractive answer"

_UNSAFE_RE = re.compile(r"[<>]|!\[|\]\(")


def display(text: str) -> str:
    """Model output as markdown text: no raw HTML, images or links (which an injected abstract could
    use to exfiltrate or mislead). Character-local, so a growing text keeps its shown prefix."""
    def fix(m: re.Match) -> str:
        s = m.group(0)
        return "\\" + s if len(s) == 1 else s[0] + "\\" + s[1]

    return _UNSAFE_RE.sub(fix, text)


def choose_sources(plan: extractive.Plan, evidence: Sequence) -> list:
    """The papers the model sees, numbered 1..n in this order: what the extractive plan cites, or,
    when the plan refused, the best of whatever retrieval returned."""
    if plan.cited:
        return list(plan.cited)
    if plan.refused and evidence:
        return list(evidence[:REFUSED_PLAN_SOURCES])
    return []


def make_sources(papers: Sequence) -> list[Source]:
    return [
        Source(n=i + 1, paper_id=e.paper_id, title=e.title, url=e.meta["url"],
               code_url=e.meta.get("code_url") or None, quote=e.quote_text(), score=round(e.relevance, 4),
               date=e.meta.get("date") or None, arxiv_id=e.meta.get("arxiv_id") or None)
        for i, e in enumerate(papers)
    ]


def sources_block(sources: Sequence[Source], cited: Sequence[int]) -> str:
    """Links to the cited papers (the follow-up logic reads previous papers from these links)."""
    lines = []
    for s in sources:
        if s.n in cited:
            line = f"**[{s.n}]** [{escape(s.title)}]({s.url})"
            if s.code_url:
                line += f" Code: {s.code_url}"
            lines.append(line)
    return "\n".join(lines)


class LLMAnswerer:
    name = "llm"

    def __init__(self, settings):
        self.settings = settings
        self.backend = make_backend(settings)
        self._embedder = None
        self._failures: dict[str, tuple[float, str]] = {}
        self._failures_lock = threading.Lock()

    @property
    def label(self) -> str:
        return self.backend.label

    @property
    def embedder(self):
        if self._embedder is None:
            from ..embedder import get_embedder

            self._embedder = get_embedder(self.settings.embed_model)
        return self._embedder

    # ---- follow-ups --------------------------------------------------------------------------
    def condense(self, question: str, history: list[dict]) -> str | None:
        """A standalone version of a follow-up question, or None (failure or an unusable rewrite),
        in which case the extractive follow-up resolution applies."""
        messages = prompts.condense_messages(question, history)
        try:
            text = "".join(self.backend.stream_chat(messages, CONDENSE_MAX_TOKENS, 0.0))
        except LLMFailure as exc:
            # The answer that follows in this same turn would hit the same wall: remember why.
            with self._failures_lock:
                self._failures[question] = (time.monotonic(), exc.notice)
            return None
        except Exception:  # never let a rewrite break the question
            log.debug("condense failed", exc_info=True)
            return None
        return usable_rewrite(text, question, history)

    def _recent_failure(self, question: str) -> str | None:
        with self._failures_lock:
            now = time.monotonic()
            for q in [q for q, (t, _) in self._failures.items() if now - t > _FAILURE_MEMORY_S]:
                del self._failures[q]
            hit = self._failures.pop(question, None)
        return hit[1] if hit else None

    # ---- answers -----------------------------------------------------------------------------
    def stream(self, question: str, history: list[dict], intent, plan: extractive.Plan,
               evidence: Sequence) -> Iterator[Answer]:
        failure = self._recent_failure(question)
        if failure:
            yield fallback(question, plan, failure)
            return
        papers = choose_sources(plan, evidence)
        if not papers:
            yield fallback(question, plan, "retrieval found no paper to give the model" + FALLBACK_SUFFIX)
            return
        sources = make_sources(papers)
        previous = next((t.get("content") for t in reversed(history or []) if t.get("role") == "user"), None)
        messages = prompts.answer_messages(question, papers, previous_question=previous)
        raw = ""
        base = dict(question=question, refused=False, mode="llm", sources=sources)
        try:
            for delta in self.backend.stream_chat(messages, self.settings.llm_max_tokens,
                                                  self.settings.llm_temperature):
                raw += delta
                shown = display(raw).rstrip()
                if shown:
                    yield Answer(answer=shown, **base)
        except LLMFailure as exc:
            yield fallback(question, plan, exc.notice)
            return
        except Exception as exc:  # a bug or a surprise from a client library: still no traceback
            log.debug("LLM stream failed", exc_info=True)
            yield fallback(question, plan, f"{self.label} failed ({type(exc).__name__}){FALLBACK_SUFFIX}")
            return

        if not raw.strip():
            yield fallback(question, plan, f"{self.label} returned an empty answer{FALLBACK_SUFFIX}")
            return
        try:
            verdict = check_answer(raw, papers, question, embedder=self.embedder,
                                   threshold=self.settings.support_threshold, allow_refusal=plan.refused)
        except Exception as exc:
            log.debug("guard failed", exc_info=True)
            yield fallback(question, plan, f"the citation check failed ({type(exc).__name__}){FALLBACK_SUFFIX}")
            return
        if not verdict.ok:
            yield fallback(question, plan, verdict.reason + FALLBACK_SUFFIX)
            return
        text = display(verdict.text).rstrip()
        if verdict.refusal:
            yield Answer(question=question, answer=text, refused=True, mode="llm", notice=verdict.notice, kind="refused")
            return
        cited = [s for s in sources if s.n in verdict.cited]
        yield Answer(question=question, answer=f"{text}\n\n{sources_block(sources, verdict.cited)}",
                     refused=False, mode="llm", notice=verdict.notice, sources=cited,
                     kind=extractive.answer_kind(plan), paper_ids=[s.paper_id for s in cited],
                     filters=plan.window.filters() if plan.window else {})


def fallback(question: str, plan: extractive.Plan, notice: str) -> Answer:
    answer = None
    for answer in extractive.render(question, plan):
        pass
    answer.mode = "extractive-fallback"
    answer.notice = " ".join(notice.split())
    return answer


_PREFIX_RE = re.compile(r"^\s*(?:[-*>#]+\s*)?(?:\*\*)?(?:standalone question|rewritten question|question|"
                        r"answer|assistant|user|human|model)\s*:\s*(?:\*\*)?\s*", re.I)
_ORDINAL_TERMS = content_terms("first second third fourth fifth last former latter one ones")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def usable_rewrite(text: str, question: str, history: Sequence[dict]) -> str | None:
    """The model's rewrite when it looks like a standalone question about this conversation."""
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    line = _PREFIX_RE.sub("", line).strip().strip("\"'“”`*").strip()
    if not line or len(line) > CONDENSE_MAX_CHARS or len(line) < 8 or not re.search(r"[A-Za-z]", line):
        return None
    if _norm(line) == _norm(question):
        return None  # nothing gained; the extractive follow-up logic knows more
    if any(_norm(line) == _norm(str(t.get("content", ""))) for t in history if t.get("role") == "user"):
        return None  # an earlier question repeated: the follow-up's own ask is lost
    if FOLLOWUP_RE.search(line):
        return None  # still leans on the conversation: not standalone
    terms = content_terms(line)
    if not terms:
        return None
    asked = content_terms(question) - _ORDINAL_TERMS
    if asked and not asked & terms:
        return None  # dropped what the follow-up asks for (e.g. "code")
    known = content_terms(question + " " + " ".join(prompts.plain_turn(t.get("content", ""), limit=None) for t in history))
    if len(terms & known) / len(terms) < 0.6:
        return None  # brings in words the conversation never used: likely invented
    return line
