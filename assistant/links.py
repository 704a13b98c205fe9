"""Every link shown in an answer passes here: a well-formed http(s) URL or nothing."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

# Characters a real URL in an abstract never ends with or contains unescaped: quotation marks
# (straight and typographic), angle brackets, braces, whitespace, backslashes.
_BAD_CHARS = re.compile(r"[\s\"'<>{}|\\^`“”‘’«»‹›]")
_TRAILING = ".,;:!?)]}\"'“”‘’«»‹›"
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?::\d{1,5})?$|^127\.0\.0\.1(?::\d{1,5})?$",
                   re.I)


def safe_url(url: str | None) -> str | None:
    """The URL when it is a well-formed http(s) link with a real host; punctuation or a quotation
    mark glued to its end (by an older ingest) is dropped first. None otherwise: no link is shown."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    while url and url[-1] in _TRAILING and not (url[-1] == ")" and url.count("(") >= url.count(")")):
        url = url[:-1]
    if not url or _BAD_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return url if _HOST.match(parts.netloc) else None
