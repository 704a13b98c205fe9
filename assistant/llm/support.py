"""Is a sentence supported by an abstract? Reusable by the guard and by the eval.

score = 0.6 * cosine(sentence, best sentence of the abstract)
      + 0.4 * share of the sentence's content words found in the title + abstract
(the share is taken over at least three words, so a one-word "sentence" cannot score by echoing a
single word). Numbers in the sentence that appear nowhere in the source halve the score. Source
sentences that read as instructions to an AI ("ignore previous instructions ...") are not evidence:
an injected abstract cannot vouch for the text it asks the model to write."""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from ..evidence import content_terms

COSINE_WEIGHT = 0.6
OVERLAP_WEIGHT = 0.4
MIN_TERMS = 3
DEFAULT_THRESHOLD = 0.55

CITATION_RE = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")
MARKUP_RE = re.compile(r"[*_`#>]+")
INSTRUCTION_RE = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|above|previous|prior)\b|"
    r"\b(reply|respond|answer|output|say|print|write)\b.{0,20}\b(only|exactly|with)\b.{0,40}$|"
    r"\b(system prompt|you are now|as an ai|language model,)\b",
    re.I,
)


def clean(sentence: str) -> str:
    """The sentence without citation markers and markdown emphasis."""
    return " ".join(MARKUP_RE.sub(" ", CITATION_RE.sub(" ", sentence)).split())


def is_instruction(sentence: str) -> bool:
    return bool(INSTRUCTION_RE.search(sentence))


def evidence_sentences(source_sentences: Sequence[str]) -> list[str]:
    return [s for s in source_sentences if s and not is_instruction(s)]


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER_RE.findall(text)}


def overlap_share(sentence_terms: set[str], source_terms: set[str]) -> float:
    if not sentence_terms:
        return 0.0
    return len(sentence_terms & source_terms) / max(len(sentence_terms), MIN_TERMS)


def combine(cosine: float, share: float, missing_numbers: bool) -> float:
    score = COSINE_WEIGHT * max(0.0, cosine) + OVERLAP_WEIGHT * share
    return score * 0.5 if missing_numbers else score


def _embedder(embedder, embed_model: str):
    if embedder is not None:
        return embedder
    from ..embedder import get_embedder

    return get_embedder(embed_model)


def support_score(sentence: str, source_sentences: Sequence[str], *, title: str = "", embedder=None,
                  embed_model: str = "all-MiniLM-L6-v2", sentence_vector: np.ndarray | None = None,
                  source_vectors: np.ndarray | None = None) -> float:
    """The support score in [0, 1] of `sentence` (citation markers are ignored) against one source.
    Pass `sentence_vector`/`source_vectors` (normalised, one row per entry of source_sentences) to
    skip embedding; otherwise `embedder` (anything with .embed(list[str]) -> normalised rows) or the
    named model embeds them."""
    text = clean(sentence)
    keep = [i for i, s in enumerate(source_sentences) if s and not is_instruction(s)]
    if not text or not keep:
        return 0.0
    kept = [source_sentences[i] for i in keep]
    if sentence_vector is None or source_vectors is None:
        model = _embedder(embedder, embed_model)
        if sentence_vector is None:
            sentence_vector = model.embed([text])[0]
        if source_vectors is None:
            vectors = model.embed(kept)
        else:
            vectors = np.asarray(source_vectors)[keep]
    else:
        vectors = np.asarray(source_vectors)[keep]
    cosine = float(np.max(vectors @ np.asarray(sentence_vector))) if len(vectors) else 0.0
    source_blob = f"{title} " + " ".join(kept)
    share = overlap_share(content_terms(text), content_terms(source_blob))
    missing = bool(numbers_in(text) - numbers_in(source_blob))
    return combine(cosine, share, missing)


def is_supported(sentence: str, source_sentences: Sequence[str], *, threshold: float = DEFAULT_THRESHOLD,
                 title: str = "", embedder=None, embed_model: str = "all-MiniLM-L6-v2",
                 sentence_vector: np.ndarray | None = None,
                 source_vectors: np.ndarray | None = None) -> tuple[bool, float]:
    """(supported, score): supported when support_score(...) >= threshold (use
    settings.support_threshold). `source_sentences` are the sentences of ONE cited abstract; for a
    sentence citing several sources, take the best of the per-source results."""
    score = support_score(sentence, source_sentences, title=title, embedder=embedder, embed_model=embed_model,
                          sentence_vector=sentence_vector, source_vectors=source_vectors)
    return score >= threshold, round(score, 4)
