"""Dates as numbers, so a date window can be a range filter inside retrieval (a Chroma `where` on
chunk metadata, a mask over the keyword index) instead of a filter applied after it.

A paper's date is ISO `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; missing parts count as 00, which keeps
the numeric comparison equal to the prefix comparison the assistant has always made ("2024-03"
is inside a window starting "2024-03" but not one starting "2024-03-15")."""
from __future__ import annotations

import re

_ISO = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
UNKNOWN = 0  # papers without a date: never inside a window


def date_number(date: str | None, *, end: bool = False) -> int:
    """YYYYMMDD as an int; 0 when unknown. end=True fills missing parts with 99, for the upper
    bound of a window ("to 2024-06" includes every day of June)."""
    m = _ISO.match(str(date or "").strip())
    if not m:
        return UNKNOWN
    fill = "99" if end else "00"
    return int(m.group(1) + (m.group(2) or fill) + (m.group(3) or fill))


def window(date_from: str | None, date_to: str | None) -> tuple[int, int] | None:
    """(lowest, highest) date numbers a paper must fall between, or None for no window."""
    if not (date_from or date_to):
        return None
    low = max(date_number(date_from), 1) if date_from else 1  # 1: an undated paper is outside any window
    high = date_number(date_to, end=True) if date_to else 99_999_999
    return low, high
