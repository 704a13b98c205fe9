"""Raw records -> Papers: resolve arXiv ids, links, dates and code URLs, and merge repeats.
Daily Papers dumps repeat a paper across days and a repeat may carry a cut-off abstract, so the
longest abstract wins and missing fields are filled from the other copies."""
from __future__ import annotations

import hashlib
import json

from assistant.ids import normalise_title, paper_id
from assistant.models import Paper

from .codeurl import find_code_url
from .links import arxiv_url, clean_arxiv_id, hf_url, iso_date, month_from_id, strip_version, title_search_url
from .records import RawRecord
from .latex import repair
from .sentences import has_glued_stops

# Bump when chunking/sentence splitting changes so existing papers get re-embedded.
PIPELINE_VERSION = "1"


def resolve_id(record: RawRecord, id_map: dict[str, str]) -> str | None:
    """The record's own id (also read from an arXiv/HF url), else the id map's, else None."""
    return (
        clean_arxiv_id(record.arxiv_id)
        or clean_arxiv_id(record.url)
        or id_map.get(normalise_title(record.title))
    )


def merge_records(records: list[RawRecord], id_map: dict[str, str]) -> list[tuple[RawRecord, str | None, list[RawRecord]]]:
    """Group copies of the same paper (same arXiv id or same normalised title), keeping input order.
    Returns (best record, arXiv id, all copies) per paper."""
    groups: list[list] = []  # [best-so-far record, arXiv id, copies]
    by_key: dict[str, int] = {}
    for record in records:
        rid = resolve_id(record, id_map)
        tkey = f"t:{normalise_title(record.title)}"
        akey = f"a:{strip_version(rid)}" if rid else None
        if akey and akey in by_key:
            index = by_key[akey]
        elif tkey in by_key and not (rid and groups[by_key[tkey]][1]):
            # Same title and no conflicting id. Two different ids with one title (it happens
            # in the arXiv snapshot: "Erratum", "Comment on ...") stay two papers.
            index = by_key[tkey]
        else:
            index = len(groups)
            groups.append([record, None, []])
        group = groups[index]
        group[2].append(record)
        group[1] = group[1] or rid
        by_key.setdefault(tkey, index)
        if group[1]:
            by_key.setdefault(f"a:{strip_version(group[1])}", index)
    out = []
    for _, rid, copies in groups:
        # max() keeps the first of equally long abstracts, so the earliest file stays the source.
        best = max(copies, key=lambda r: len(r.abstract))
        out.append((best, rid, copies))
    return out


def build_paper(best: RawRecord, rid: str | None, copies: list[RawRecord]) -> Paper:
    def first(attr):
        for r in [best] + copies:
            value = getattr(r, attr)
            if value:
                return value
        return None

    given_url = first("url")
    date = month_from_id(rid) or next((d for d in (iso_date(r.date) for r in [best] + copies) if d), None)
    return Paper(
        paper_id=paper_id(best.title, strip_version(rid) if rid else None),
        title=repair(best.title),
        abstract=repair(best.abstract),
        arxiv_id=strip_version(rid) if rid else None,
        url=given_url or (hf_url(rid) if rid else title_search_url(best.title)),
        arxiv_url=arxiv_url(rid) if rid else None,
        code_url=find_code_url(repair(best.abstract)),
        date=date,
        authors=first("authors") or [],
        source=best.source,
    )


def build_papers(records: list[RawRecord], id_map: dict[str, str]) -> list[Paper]:
    return [build_paper(best, rid, copies) for best, rid, copies in merge_records(records, id_map)]


def content_hash(paper: Paper, embed_model: str, max_chunk_tokens: int) -> str:
    """Changes whenever anything stored for the paper would change; `source` is left out so
    moving or renaming an input file does not re-embed it."""
    payload = paper.model_dump(exclude={"source"})
    payload["_pipeline"] = [PIPELINE_VERSION, embed_model, max_chunk_tokens]
    if has_glued_stops(paper.abstract):
        # Its sentences split differently since glued full stops ("wrinkles.The") end sentences:
        # only such papers are re-embedded, not every paper of every index (a version bump would).
        payload["_split"] = "glued-stops"
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]
