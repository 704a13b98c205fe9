"""Per-record limits and link hygiene, applied to every parsed record before it becomes a Paper.
Corpus text is data: a runaway record is skipped with its file:line, a link that is not http(s)
(javascript:, data:, file:) is dropped with a warning, and characters that act on a terminal or
reorder text (control and bidi-override characters) never reach the index."""
from __future__ import annotations

import re
from urllib.parse import urlparse

from assistant.settings import Settings

from .records import RawRecord

MAX_URL_CHARS = 2048
# C0/C1 controls (ANSI escapes, bells, NULs) and bidi overrides/isolates: invisible in a title,
# but they move a terminal's cursor or display text in another order than it is stored.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_URL_OK = re.compile(r"^https?://[^\s<>\"'`\\{}|^]+$", re.IGNORECASE)


def safe_http_url(url: str | None) -> bool:
    if not url or len(url) > MAX_URL_CHARS or not _URL_OK.match(url):
        return False
    try:
        return bool(urlparse(url).hostname)
    except ValueError:
        return False


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


def vet(records: list[RawRecord], settings: Settings) -> tuple[list[RawRecord], list[str]]:
    """The records that may be indexed (URLs made safe) and one problem line per skipped record
    or dropped link."""
    kept, problems = [], []
    for record in records:
        if vet_record(record, settings, problems):
            kept.append(record)
    return kept, problems


def vet_record(record: RawRecord, settings: Settings, problems: list[str]) -> bool:
    """Whether this record may be indexed (made safe in place); its problems go to `problems`."""
    record.title = strip_invisible(record.title)
    record.abstract = strip_invisible(record.abstract)
    for name, limit in (("abstract", settings.max_abstract_chars), ("title", settings.max_title_chars)):
        size = len(getattr(record, name))
        if size > limit:
            problems.append(f"{record.place}: {name} is {size:,} characters; the limit is {limit:,} "
                            "(PAPERCHAT_MAX_" + name.upper() + "_CHARS); skipped")
            return False
    if not record.title.strip() or not record.abstract.strip():
        problems.append(f"{record.place}: record has no {'title' if not record.title.strip() else 'abstract'}")
        return False
    if record.url is not None and not safe_http_url(record.url.strip()):
        shown = record.url.strip()[:60] + ("…" if len(record.url.strip()) > 60 else "")
        problems.append(f"{record.place}: url {shown!r} is not an http(s) link; dropped it (the paper is kept)")
        record.url = None
    return True
