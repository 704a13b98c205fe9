"""The Assistant: retrieval, evidence and an answerer behind one object that the CLI, the UI and
the eval all use."""
from __future__ import annotations

import re
import time
from typing import Iterator

from . import extractive
from .embedder import get_embedder
from .errors import BadInput
from .evidence import PaperEvidence, PaperSentences, content_terms, score_papers
from .intent import Intent, classify
from .models import Answer, Hit
from . import derived
from .retrieve import HybridRetriever
from .settings import Settings, get_settings
from .store import Store

MAX_QUESTION_CHARS = 2000
PRELOAD_PAPERS = 20_000  # up to this many papers, warm() reads every sentence vector up front
LINK_RE = re.compile(r"\]\((https?://[^)\s]+)(?:\s+\"[^\"]*\")?\)")


def check_question(question: str) -> str:
    if question is None or not str(question).strip():
        raise BadInput("the question is empty: ask something, e.g. \"which papers merge models without retraining?\"")
    question = " ".join(str(question).split())
    if len(question) > MAX_QUESTION_CHARS:
        raise BadInput(
            f"the question is {len(question):,} characters long; keep it under {MAX_QUESTION_CHARS:,}"
        )
    return question


class Assistant:
    def __init__(self, settings: Settings | None = None, **overrides):
        self.settings = settings or get_settings(**overrides)
        self.store = Store.open(self.settings)
        self.embedder = get_embedder(self.settings.embed_model, self.settings.embed_runtime)
        # Sentence vectors are read from Chroma once per paper, then kept: each answer re-scores
        # dozens of papers sentence by sentence, and a store round trip per answer is the slow part.
        # Filled on demand (a one-off `ask` reads only its candidates); warm() fills it up front.
        self._sentences: dict[str, PaperSentences] = {}
        self._load_serving_data()
        self.answerer = self._make_answerer()

    def _load_serving_data(self) -> None:
        """Keyword index, paper metadata and vocabulary as ingest published them (assistant/derived.py):
        loaded, memory-mapped, not rebuilt from every chunk."""
        data = derived.load(self.store, self.settings)
        self.serving = data
        self.retriever = HybridRetriever(self.store, data, self.settings, self.embedder)
        self.paper_meta = data.paper_meta
        self.url_to_paper = {m["url"]: pid for pid, m in self.paper_meta.items()}
        self._sentences = {}
        self._checked_at = time.monotonic()

    def refresh(self, force: bool = False) -> bool:
        """Pick up a new index generation (another process ingested) without a restart. Checks at
        most every settings.reload_check_s; returns whether it reloaded."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.settings.reload_check_s:
            return False
        self._checked_at = now
        if derived.current_generation(self.store, self.settings) == self.serving.generation:
            return False
        self.store.refresh()  # a --rebuild switches to new collections
        self._load_serving_data()
        return True

    def warm(self) -> None:
        """Read every paper's sentence vectors now (small corpora) so no user waits for them."""
        if self.paper_count <= PRELOAD_PAPERS:
            self.sentences_for(list(self.paper_meta))

    @property
    def vocabulary(self) -> set[str]:
        return self.serving.vocabulary

    def _make_answerer(self):
        if self.settings.answerer == "extractive":
            return None
        from .llm.answerer import LLMAnswerer  # optional path: imported only when configured

        return LLMAnswerer(self.settings)

    @property
    def paper_count(self) -> int:
        return len(self.paper_meta)

    def corpus_dates(self) -> tuple[str | None, str | None]:
        dates = sorted(m["date"] for m in self.paper_meta.values() if m.get("date"))
        return (dates[0], dates[-1]) if dates else (None, None)

    # ---- search ------------------------------------------------------------------------------
    def search(self, question: str, k: int | None = None, date_from: str | None = None, date_to: str | None = None) -> list[Hit]:
        question = check_question(question)
        self.refresh()
        k = k or self.settings.top_k
        intent = classify(question, has_history=False)
        evidence = self._evidence(intent, self.embedder.embed_query(intent.topic), limit=max(k, self.settings.candidates),
                                  date_from=date_from, date_to=date_to)
        return [self._hit(i + 1, e) for i, e in enumerate(evidence[:k])]

    @staticmethod
    def _hit(rank: int, e: PaperEvidence) -> Hit:
        return Hit(
            rank=rank, paper_id=e.paper_id, title=e.title, url=e.meta["url"],
            code_url=e.meta.get("code_url") or None, score=round(e.rank_score, 4), date=e.meta.get("date") or None,
        )

    def _evidence(self, intent: Intent, query_vector, limit: int, restrict: list[str] | None = None,
                  date_from: str | None = None, date_to: str | None = None) -> list[PaperEvidence]:
        from .retrieve import PaperCandidate

        if restrict is not None:
            # Follow-ups re-rank the papers already on the table, whatever the index would return.
            candidates = [PaperCandidate(pid, {**self.paper_meta[pid], "_order": i}, fused=1.0 / (60 + i))
                          for i, pid in enumerate(restrict) if pid in self.paper_meta]
            dense = {c.paper_id: c for c in self.retriever.retrieve(intent.topic, query_vector, limit=200)}
            for c in candidates:
                c.dense = dense[c.paper_id].dense if c.paper_id in dense else 0.0
        else:
            # The date window is applied inside retrieval, so in-window papers fill the list.
            candidates = self.retriever.retrieve(intent.topic, query_vector, limit=limit,
                                                 date_from=date_from, date_to=date_to)
        candidates = [c for c in candidates if _in_dates(c.meta.get("date"), date_from, date_to)]
        sentences = self.sentences_for([c.paper_id for c in candidates])
        return score_papers(
            candidates, sentences, query_vector, intent.topic,
            wants_detail=intent.wants_detail, wants_code=intent.wants_code,
            quotes_per_paper=self.settings.quotes_per_paper,
        )

    # ---- ask ---------------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict] | None = None, **options) -> Answer:
        answer = None
        for answer in self.stream(question, history, **options):
            pass
        return answer

    def stream(self, question: str, history: list[dict] | None = None, *, max_cited: int | None = None,
               date_from: str | None = None, date_to: str | None = None) -> Iterator[Answer]:
        """Yields the answer as it grows (entry by entry, or token by token with an LLM); the last
        yielded Answer is the complete one."""
        started = time.perf_counter()
        question = check_question(question)
        self.refresh()
        history = history or []
        previous = self.papers_in_history(history)
        intent = classify(question, has_history=bool(previous))
        timings: dict[str, float] = {}

        t = time.perf_counter()
        if self.answerer is not None and history and hasattr(self.answerer, "condense"):
            # An LLM can rewrite "where is its code?" into a standalone question first.
            standalone = self.answerer.condense(question, history)
            timings["condense_ms"] = (time.perf_counter() - t) * 1000
            if standalone:
                intent = classify(standalone, has_history=False)
        query_vector = self.embedder.embed_query(intent.topic)
        restrict = previous if intent.followup else None
        evidence = self._evidence(intent, query_vector, limit=self.settings.candidates, restrict=restrict,
                                  date_from=date_from, date_to=date_to)
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000

        plan = extractive.plan(intent, evidence, self.settings, max_cited or self.settings.max_cited,
                               self.paper_count, followup_pool=len(restrict or []),
                               unknown_terms=self.unknown_terms(intent.topic))
        t = time.perf_counter()
        if self.answerer is None:
            stream = extractive.render(question, plan)
        else:
            stream = self.answerer.stream(question, history, intent, plan, evidence)
        answer = None
        retrieved = [e.paper_id for e in evidence]
        for answer in stream:
            answer.timings_ms = {**timings, "answer_ms": (time.perf_counter() - t) * 1000,
                                 "total_ms": (time.perf_counter() - started) * 1000}
            yield answer.with_retrieved(retrieved)

    def sentences_for(self, paper_ids: list[str]) -> dict[str, PaperSentences]:
        missing = [pid for pid in paper_ids if pid not in self._sentences]
        if missing:
            if len(self._sentences) > 50_000:  # a bound for arXiv-sized corpora
                self._sentences.clear()
            for pid, (sents, vecs) in self.store.sentences_of(missing, with_vectors=True).items():
                self._sentences[pid] = PaperSentences.build(self.paper_meta[pid]["title"], sents, vecs)
        return {pid: self._sentences[pid] for pid in paper_ids if pid in self._sentences}

    def unknown_terms(self, text: str) -> list[str]:
        """The question's content words that no paper in the corpus uses."""
        return sorted(t for t in content_terms(text) if t not in self.vocabulary)

    def papers_in_history(self, history: list[dict]) -> list[str]:
        """Papers cited by the latest assistant turn that cited any, in the order it cited them.
        A turn's `paper_ids` (conversation state as data) wins; a history without it (saved by an
        older client or written by hand) is read from the answer's links."""
        for turn in reversed(history):
            if turn.get("role") != "assistant":
                continue
            if isinstance(turn.get("paper_ids"), list):
                ids = [pid for pid in turn["paper_ids"] if isinstance(pid, str) and pid in self.paper_meta]
                if ids:
                    return list(dict.fromkeys(ids))
                continue
            ids = []
            for url in LINK_RE.findall(str(turn.get("content", ""))):
                pid = self.url_to_paper.get(url)
                if pid and pid not in ids:
                    ids.append(pid)
            if ids:
                return ids
        return []


def _in_dates(date: str | None, date_from: str | None, date_to: str | None) -> bool:
    if not (date_from or date_to):
        return True
    if not date:
        return False
    return (not date_from or date[: len(date_from)] >= date_from) and (not date_to or date[: len(date_to)] <= date_to)
