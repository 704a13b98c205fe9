"""Score each candidate paper's sentences against the question: which sentences to quote, and how
strongly the paper as a whole answers it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

STOPWORDS = frozenset(
    """a an the of for in on to and or with without by from at as is are be been was were that which
    what who whom whose how why when where do does did can could should would will any some all each
    there their they them those these this it its into via using use used about paper papers work works
    study studies research approach approaches method methods model models me find list show give tell
    propose proposes proposed new based than more most other such not no between over under one two
    i we you our your is has have had if then so also only just like make makes made""".split()
)
WORD_RE = re.compile(r"[a-z0-9][a-z0-9\-\.]*[a-z0-9]|[a-z0-9]")
NUMBER_RE = re.compile(r"\d")
URL_RE = re.compile(r"https?://|www\.", re.I)


def stem(word: str) -> str:
    # Crude but dependable: enough to match "merging"/"merge"/"merged", "transformers"/"transformer".
    for suffix in ("ization", "ations", "ation", "ings", "ing", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> set[str]:
    return {stem(w) for w in WORD_RE.findall(text.lower()) if w not in STOPWORDS and len(w) > 1}


@dataclass
class PaperSentences:
    """A paper's abstract sentences with their embeddings and content words, computed once."""

    sentences: list[str]
    vectors: np.ndarray
    terms: list[set[str]]
    title_terms: set[str]
    all_terms: set[str]
    has_number: np.ndarray
    has_url: np.ndarray

    @classmethod
    def build(cls, title: str, sentences: list[str], vectors: np.ndarray) -> "PaperSentences":
        terms = [content_terms(s) for s in sentences]
        title_terms = content_terms(title)
        return cls(sentences, vectors, terms, title_terms, set().union(title_terms, *terms),
                   np.array([bool(NUMBER_RE.search(s)) for s in sentences]),
                   np.array([bool(URL_RE.search(s)) for s in sentences]))


def _share(query_terms: set[str], terms: set[str]) -> float:
    return len(query_terms & terms) / len(query_terms) if query_terms else 0.0


@dataclass
class PaperEvidence:
    paper_id: str
    meta: dict
    sentences: list[str]
    sentence_scores: list[float]
    relevance: float
    rank_score: float
    quotes: list[int] = field(default_factory=list)  # indices into sentences, in abstract order

    @property
    def title(self) -> str:
        return self.meta["title"]

    def quote_text(self) -> str:
        """The quoted sentences; an ellipsis marks skipped ones, so every piece stays verbatim."""
        text = ""
        for k, i in enumerate(self.quotes):
            if k:
                text += " " if i == self.quotes[k - 1] + 1 else " … "
            text += self.sentences[i]
        return text


def score_papers(
    candidates,
    sentences: dict[str, PaperSentences],
    query_vector: np.ndarray,
    topic: str,
    *,
    wants_detail: bool,
    wants_code: bool,
    quotes_per_paper: int,
) -> list[PaperEvidence]:
    """Relevance blends the best dense match (chunk with title, or one sentence) with how many of
    the question's content words the paper uses; quotes are the sentences that best answer."""
    terms = content_terms(topic)
    out = []
    top_fused = max((c.fused for c in candidates), default=1.0) or 1.0
    for cand in candidates:
        paper = sentences.get(cand.paper_id)
        if paper is None or not paper.sentences:
            continue
        sims = paper.vectors @ query_vector
        scores = sims + 0.25 * np.array([_share(terms, t) for t in paper.terms])
        if wants_detail:
            scores += 0.15 * paper.has_number
        if wants_code:
            scores += 0.5 * paper.has_url
        best_sentence = float(sims.max())
        title_terms = _share(terms, paper.title_terms)
        relevance = 0.75 * max(cand.dense, best_sentence) + 0.15 * _share(terms, paper.all_terms) + 0.1 * title_terms
        rank_score = relevance + 0.05 * (cand.fused / top_fused)
        # Facts hide in results sentences, which rarely name the method: quote one more.
        n_quotes = quotes_per_paper + 1 if wants_detail else quotes_per_paper
        order = np.argsort(-scores, kind="stable")[:n_quotes].tolist()
        # A second sentence is quoted only when it is nearly as good as the first, or when a fact is
        # asked for: the fact often sits in the sentence after the one that names the method.
        margin = 1.0 if wants_detail else 0.06
        picked = [order[0]] + [i for i in order[1:] if scores[i] >= scores[order[0]] - margin]
        out.append(PaperEvidence(cand.paper_id, cand.meta, paper.sentences, scores.tolist(), relevance,
                                 rank_score, sorted(picked)))
    out.sort(key=lambda e: e.rank_score, reverse=True)
    return out
