"""Per-question metric functions. Retrieval metrics come from llama-index
(llama_index.core.evaluation.retrieval.metrics); the rest read an Answer."""
from __future__ import annotations

import math
import re
from typing import Iterable

from assistant.markdown import unescape
from ingest.latex import repair

# ---- retrieval ------------------------------------------------------------------------------


def _llama(metric, expected: Iterable[str], retrieved: Iterable[str]) -> float:
    expected, retrieved = list(expected), list(retrieved)
    if not expected:
        raise ValueError("retrieval metrics need at least one relevant paper")
    if not retrieved:  # llama-index raises on an empty result list; nothing retrieved scores 0
        return 0.0
    return float(metric.compute(expected_ids=expected, retrieved_ids=retrieved).score)


def hit_at(expected: Iterable[str], retrieved: list[str], k: int) -> float:
    from llama_index.core.evaluation.retrieval.metrics import HitRate

    return _llama(HitRate(), expected, retrieved[:k])


def mrr(expected: Iterable[str], retrieved: list[str], k: int = 10) -> float:
    from llama_index.core.evaluation.retrieval.metrics import MRR

    return _llama(MRR(), expected, retrieved[:k])


def recall_at(expected: Iterable[str], retrieved: list[str], k: int) -> float:
    """|relevant in top k| / min(|relevant|, k). llama-index's Recall divides by |relevant|, which
    caps a topic with 15 relevant papers at 10/15 however good the ranking; rescaled here."""
    from llama_index.core.evaluation.retrieval.metrics import Recall

    expected = list(dict.fromkeys(expected))
    raw = _llama(Recall(), expected, retrieved[:k])
    return raw * len(expected) / min(len(expected), k)


def _idcg(n: int) -> float:
    return sum(1.0 / math.log2(i + 1) for i in range(1, n + 1))


def ndcg_at(expected: Iterable[str], retrieved: list[str], k: int) -> float:
    """Binary-relevance nDCG@k. llama-index's NDCG sums the ideal DCG over every relevant paper,
    not the first k, so it is rescaled to the usual ideal of min(|relevant|, k) positions."""
    from llama_index.core.evaluation.retrieval.metrics import NDCG

    expected = list(dict.fromkeys(expected))
    raw = _llama(NDCG(), expected, retrieved[:k])
    return raw * _idcg(len(expected)) / _idcg(min(len(expected), k))


# ---- citations ------------------------------------------------------------------------------

# [n] as a citation: not an escaped bracket from corpus text, not a markdown link's text.
MARKER_RE = re.compile(r"(?<!\\)\[(\d+)\](?!\()")


def markers(answer_text: str) -> list[int]:
    return [int(m) for m in MARKER_RE.findall(answer_text)]


def cited_papers(answer) -> list[str]:
    return list(dict.fromkeys(s.paper_id for s in answer.sources))


def citation_pr(cited: Iterable[str], relevant: Iterable[str]) -> tuple[float | None, float | None]:
    """(precision, recall) of the cited papers. Precision is None when nothing is cited (a refusal
    is counted by the refusal metrics, not as imprecision); recall is None with no relevant paper."""
    cited, relevant = set(cited), set(relevant)
    precision = len(cited & relevant) / len(cited) if cited else None
    recall = len(cited & relevant) / len(relevant) if relevant else None
    return precision, recall


def invalid_citations(answer, retrieved: Iterable[str] | None) -> list[str]:
    """Citations that point at nothing the answer retrieved: a [n] with no source n, a source
    whose paper was not among the papers retrieved for this answer, a source numbered twice."""
    problems = []
    numbers = {s.n for s in answer.sources}
    for n in sorted(set(markers(answer.answer)) - numbers):
        problems.append(f"[{n}] has no source")
    if len(numbers) != len(answer.sources):
        problems.append("two sources share a number")
    if retrieved is not None:
        retrieved = set(retrieved)
        for s in answer.sources:
            if s.paper_id not in retrieved:
                problems.append(f"source [{s.n}] {s.paper_id} was not retrieved")
    return problems


# ---- groundedness ---------------------------------------------------------------------------

# A quoted span attributed to sources: “...” immediately followed by one or more [n].
QUOTE_RE = re.compile(r"“([^“\n]*?)”\s*((?:(?<!\\)\[\d+\](?!\()\s*)+)")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _covered(span: str, abstract: str) -> bool:
    """Every piece of the span is in the abstract verbatim; the extractive answerer joins
    non-adjacent sentences with an ellipsis, never by pretending they were adjacent."""
    return all(piece.strip() in abstract for piece in span.split("…"))


def quote_spans(answer_text: str) -> list[tuple[str, list[int]]]:
    """(unescaped quote, the source numbers it is attributed to) for each attributed quote."""
    return [(unescape(m.group(1)), markers(m.group(2))) for m in QUOTE_RE.finditer(answer_text)]


def extractive_grounding(answer, abstracts: dict[str, list[str]]) -> list[dict]:
    """One record per quoted span: supported when it occurs verbatim in the abstract of a source
    it cites. `abstracts` maps paper_id -> abstract sentences."""
    by_n = {s.n: s.paper_id for s in answer.sources}
    out = []
    for span, ns in quote_spans(answer.answer):
        text = _norm(span)
        supported = False
        for n in ns:
            sents = [_norm(s) for s in abstracts.get(by_n.get(n, ""), [])]
            if sents and _covered(text, " ".join(sents)):
                supported = True
                break
        out.append({"text": span, "cites": ns, "supported": supported})
    return out


# The reference list the LLM answerer appends ("**[1]** [Title](url)"): links, not claims.
REFERENCE_LINE_RE = re.compile(r"^\*\*\[\d+\]\*\* \[")


def llm_grounding(answer, abstracts: dict[str, list[str]], is_supported, threshold: float,
                  embedder=None) -> tuple[list[dict], int]:
    """LLM answers: each sentence carrying [n] is checked with assistant.llm.support.is_supported,
    which returns (supported, score), against one cited abstract at a time (its contract), and is
    supported when any cited abstract supports it. Sentences are split as the guard splits them.
    Returns (records, uncited sentence count)."""
    from assistant.llm.guard import split_sentences

    by_n = {s.n: s.paper_id for s in answer.sources}
    claims = "\n".join(line for line in answer.answer.splitlines() if not REFERENCE_LINE_RE.match(line))
    out, uncited = [], 0
    for sentence in split_sentences(claims):
        ns = markers(sentence)
        if not ns:
            uncited += 1
            continue
        plain = unescape(MARKER_RE.sub("", sentence)).strip()
        cited = [abstracts[by_n[n]] for n in ns if abstracts.get(by_n.get(n, ""))]
        supported = any(is_supported(plain, sents, threshold=threshold, embedder=embedder)[0] for sents in cited)
        out.append({"text": sentence, "cites": ns, "supported": supported})
    return out, uncited


# ---- answers --------------------------------------------------------------------------------


def plain_text(answer_text: str) -> str:
    return " ".join(unescape(answer_text).split())


def facts_found(answer_text: str, must_contain: Iterable[str]) -> tuple[bool, list[str]]:
    text = plain_text(answer_text).lower()
    # Labels quote the dumps as written ("2.86times"); the index stores the symbol ingest put back.
    missing = [s for s in must_contain if repair(" ".join(s.split())).lower() not in text]
    return not missing, missing


def _url_key(url: str) -> str:
    url = url.strip().lower()
    url = re.sub(r"^[a-z]+://", "", url)
    url = re.sub(r"^www\.", "", url)
    url = url.rstrip("/.")
    return url[:-4] if url.endswith(".git") else url


def code_url_found(answer, expected: str, relevant: Iterable[str] = ()) -> bool:
    """The expected code URL is in the answer text, or is the code_url of a source it cites."""
    key = _url_key(expected)
    text = re.sub(r"[a-z]+://", "", plain_text(answer.answer).lower())
    if key in text:
        return True
    return any(s.code_url and _url_key(s.code_url) == key for s in answer.sources)


SUBSET_QUESTION_RE = re.compile(r"\b(which|what|any) (of|among) (those|these|them)\b|\b(of|among) (those|these)\b", re.I)


def followup_resolved(answer, q) -> tuple[bool, str]:
    cited = cited_papers(answer)
    hits = [p for p in cited if p in q.relevant]
    if not hits:
        return False, "cites no relevant paper"
    if q.code_url and not code_url_found(answer, q.code_url, q.relevant):
        return False, "code URL missing"
    if SUBSET_QUESTION_RE.search(q.question):
        precision = len(hits) / len(cited)
        if precision < 0.5:
            return False, f"precision {precision:.2f} < 0.5"
    return True, ""


def refused(answer) -> bool:
    return bool(answer.refused) and not answer.sources


# ---- aggregation ----------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentile(values: list[float], p: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), p in [0, 100]."""
    vals = sorted(values)
    if not vals:
        return None
    pos = (len(vals) - 1) * p / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


# ---- the kinds that test generalisation --------------------------------------------------------

NOT_IN_CORPUS_RE = re.compile(r"\bnot in (?:the|this) corpus\b|\bno paper\b|\bnone of the\b|\bno abstract\b|"
                              r"\bnot (?:among|found in)\b", re.I)
ABSENT_RE = re.compile(r"\b(?:does not|doesn't|do not|don't|did not) (?:report|state|say|give|mention|list|include)\b|"
                       r"\bnot (?:reported|stated|given|mentioned)\b", re.I)


def comparison_both_sides(answer, sides) -> tuple[bool, str]:
    """Every side in the corpus is cited; a side not in the corpus is said to be missing."""
    cited = set(cited_papers(answer))
    for i, side in enumerate(sides):
        if side and not cited & set(side):
            return False, f"side {i + 1} not cited"
        if not side and not NOT_IN_CORPUS_RE.search(plain_text(answer.answer)):
            return False, f"side {i + 1} is not in the corpus and the answer does not say so"
    return True, ""


def _window_key(date: str, bound: str, upper: bool) -> bool:
    # Compared on the shorter of the two forms, as the assistant filters: a paper dated "2024-11"
    # is inside a window from "2024-11-01" (as a string "2024-11" sorts before "2024-11-01").
    n = min(len(date), len(bound))
    return date[:n] <= bound[:n] if upper else date[:n] >= bound[:n]


def within_window(answer, dates: dict[str, str | None], date_from: str | None, date_to: str | None) -> tuple[bool, str]:
    """The answer cites something, and every cited paper's date (from the index) is in the window."""
    cited = cited_papers(answer)
    if not cited:
        return False, "cites nothing"
    for pid in cited:
        d = dates.get(pid)
        if not d:
            return False, f"{pid} has no date"
        if (date_from and not _window_key(d, date_from, False)) or (date_to and not _window_key(d, date_to, True)):
            return False, f"{pid} dated {d}"
    return True, ""


def says_absent(answer) -> bool:
    """The answer states that the abstract does not report the asked fact."""
    return answer.kind == "detail-missing" or bool(ABSENT_RE.search(plain_text(answer.answer)))


def ordinal_resolved(answer, relevant) -> bool:
    cited = cited_papers(answer)
    return bool(cited) and cited[0] in set(relevant)


def code_followup_resolved(answer, relevant) -> tuple[bool, str]:
    """Every relevant paper (those with code among the previous answer's) is cited with its code link,
    and nothing without a code link is."""
    cited = set(cited_papers(answer))
    missing = set(relevant) - cited
    if missing:
        return False, f"missed {sorted(missing)}"
    no_code = [s.paper_id for s in answer.sources if not s.code_url]
    if no_code:
        return False, f"cited without code {no_code}"
    return True, ""


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def mean_pairwise_jaccard(sets: list) -> float | None:
    pairs = [jaccard(x, y) for i, x in enumerate(sets) for y in sets[i + 1:]]
    return sum(pairs) / len(pairs) if pairs else None
