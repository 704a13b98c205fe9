"""One mapping from a loosely-typed row (JSON object or CSV row) to a RawRecord, shared by the
JSONL, JSON and CSV readers so they accept exactly the same fields."""
from __future__ import annotations

from .records import RawRecord, clean_space, split_authors


def is_arxiv_snapshot(obj: dict) -> bool:
    # The Kaggle/arXiv metadata snapshot: "id" is the arXiv id, dates live in "update_date".
    return "id" in obj and "abstract" in obj and ("update_date" in obj or "versions" in obj or "submitter" in obj)


def record_from_row(row: dict, source: str, line: int) -> RawRecord | str:
    """A RawRecord, or the reason the row cannot be one (without the file:line prefix)."""
    title = clean_space(_text(row.get("title")))
    abstract = clean_space(_text(row.get("abstract")))
    missing = [name for name, value in (("title", title), ("abstract", abstract)) if not value]
    if missing:
        return f"record has no {' or '.join(missing)}"
    snapshot = is_arxiv_snapshot(row)
    arxiv_id = _text(row.get("arxiv_id")) or (_text(row.get("id")) if snapshot else "")
    authors = row.get("authors_parsed") if snapshot and row.get("authors_parsed") else row.get("authors")
    return RawRecord(
        title=title,
        abstract=abstract,
        source=source,
        line=line,
        url=_text(row.get("url")).strip() or None,
        arxiv_id=arxiv_id.strip() or None,
        date=_text(row.get("date") or row.get("update_date") or row.get("published")).strip() or None,
        authors=split_authors(authors),
    )


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
