"""Where a paper can be read: Hugging Face / arXiv pages for known ids, an arXiv title search
otherwise. We never guess an id, because a wrong link is worse than a search link."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote_plus

from assistant.errors import BadInput
from assistant.ids import normalise_title

# New-style ids (0704.0001 onwards) and old-style archive ids (hep-th/9901001), optional version.
_NEW_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}(v\d+)?$")
_OLD_ID = re.compile(r"^[a-z\-]+(\.[A-Z]{2})?/(\d{2})(\d{2})\d{3}(v\d+)?$")
_ID_IN_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([^\s?#]+?)(?:\.pdf)?/?$|huggingface\.co/papers/([^\s?#/]+)")


def clean_arxiv_id(raw: str | None) -> str | None:
    """The id with any "arXiv:" prefix or abs/pdf URL around it removed; None if it is not one."""
    if not raw:
        return None
    text = raw.strip()
    m = _ID_IN_URL.search(text)
    if m:
        text = m.group(1) or m.group(2)
    text = re.sub(r"^arxiv:\s*", "", text, flags=re.I)
    return text if (_NEW_ID.match(text) or _OLD_ID.match(text)) else None


def strip_version(arxiv_id: str) -> str:
    return re.sub(r"v\d+$", "", arxiv_id)


def hf_url(arxiv_id: str) -> str:
    # Hugging Face paper pages are keyed by the bare id: /papers/2405.01828v2 is a 404.
    return f"https://huggingface.co/papers/{strip_version(arxiv_id)}"


def arxiv_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def title_search_url(title: str) -> str:
    return f"https://arxiv.org/search/?query={quote_plus(title)}&searchtype=title"


def month_from_id(arxiv_id: str | None) -> str | None:
    """The submission month encoded in the id ("2405.01828" -> "2024-05")."""
    if not arxiv_id:
        return None
    m = _NEW_ID.match(arxiv_id)
    if m:
        yy, mm = m.group(1), m.group(2)
        return f"20{yy}-{mm}" if 1 <= int(mm) <= 12 else None
    m = _OLD_ID.match(arxiv_id)
    if m:
        yy, mm = int(m.group(2)), m.group(3)
        return f"{1900 + yy if yy >= 91 else 2000 + yy}-{mm}" if 1 <= int(mm) <= 12 else None
    return None


_ISO = re.compile(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


def iso_date(raw: str | None) -> str | None:
    """An input date as "YYYY-MM-DD" or "YYYY-MM"; None when it has no year (e.g. "Mar 14")."""
    if not raw:
        return None
    text = raw.strip()
    m = _ISO.match(text)
    if m and 1900 < int(m.group(1)) < 2200:
        year, month, day = m.group(1), m.group(2), m.group(3)
        if month and 1 <= int(month) <= 12:
            if day and 1 <= int(day) <= 31:
                return f"{year}-{int(month):02d}-{int(day):02d}"
            return f"{year}-{int(month):02d}"
        return None  # a bare year is too coarse for a month filter
    # "Mon, 2 Apr 2007 19:18:42 GMT" (arXiv versions) or "14 Mar 2024" / "Mar 14, 2024"
    month = next((n for name, n in _MONTHS.items() if re.search(rf"\b{name}", text, re.I)), None)
    year = re.search(r"\b(19|20)\d{2}\b", text)
    if month and year:
        return f"{year.group(0)}-{month:02d}"
    return None


def load_id_map(path: Path) -> dict[str, str]:
    """arxiv_ids.tsv: `title<TAB>arxiv_id` with a header line, keyed by normalised title."""
    ids: dict[str, str] = {}
    if not path.is_file():
        return ids
    from .reader import read_lines

    try:
        lines = [(n, t) for n, t in read_lines(path, [])]
    except BadInput:  # an unreadable id map only costs page-dump papers their arXiv links
        return ids
    for number, line in lines:
        title, _, raw_id = line.rpartition("\t")
        arxiv_id = clean_arxiv_id(raw_id)
        if title.strip() and arxiv_id:  # the header ("title\tarxiv_id") fails the id check
            ids[normalise_title(title)] = arxiv_id
    return ids
