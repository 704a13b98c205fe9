"""Sentences -> chunks that fit the embedding model. all-MiniLM-L6-v2 silently truncates at 256
word pieces and nearly every abstract is longer, so without chunking the end of each abstract
would never be searchable."""
from __future__ import annotations

from typing import Callable

from assistant.models import Chunk


def chunk_text(title: str, sentences: list[str]) -> str:
    # The title rides along in every chunk: a chunk about "the proposed module" needs the
    # paper's name to match a question about it.
    return title + "\n" + " ".join(sentences)


def make_chunks(
    paper_id: str,
    title: str,
    sentences: list[str],
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> tuple[list[Chunk], list[str]]:
    """Greedy grouping of consecutive sentences. Returns the chunks and notes about sentences
    too long to fit even alone (embedded anyway, truncated by the model).

    The title and each sentence are tokenized once and the counts added up: BERT's tokenizer
    splits on whitespace first, so a chunk's count is the sum of its parts' (tests check it on
    the whole corpus). Counting every candidate chunk text anew tokenized each sentence as many
    times as the chunk grew, most of the "chunk" phase of an ingest."""
    chunks: list[Chunk] = []
    notes: list[str] = []
    title_tokens = count_tokens(title)
    sentence_tokens = [count_tokens(s) for s in sentences]

    def size(start: int, end: int) -> int:
        return title_tokens + sum(sentence_tokens[start:end])

    start = 0
    while start < len(sentences):
        end = start + 1
        if size(start, end) > max_tokens:
            notes.append(
                f"{paper_id}: sentence {start + 1} alone is over {max_tokens} word pieces; "
                "its end is truncated in the chunk embedding"
            )
        else:
            while end < len(sentences) and size(start, end + 1) <= max_tokens:
                end += 1
        chunks.append(
            Chunk(
                chunk_id=f"{paper_id}#{len(chunks)}",
                paper_id=paper_id,
                title=title,
                text=chunk_text(title, sentences[start:end]),
                sentence_start=start,
                sentence_end=end,
            )
        )
        start = end
    if not chunks:  # an abstract with no sentence at all still gets its title indexed
        chunks.append(Chunk(chunk_id=f"{paper_id}#0", paper_id=paper_id, title=title, text=title,
                            sentence_start=0, sentence_end=0))
    return chunks, notes
