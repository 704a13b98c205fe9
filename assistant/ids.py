"""Stable paper ids: the arXiv id when known, else a hash of the normalised title."""
from __future__ import annotations

import hashlib
import re
import unicodedata


def normalise_title(title: str) -> str:
    text = unicodedata.normalize("NFKC", title).casefold()
    return re.sub(r"[^\w]+", " ", text).strip()


def paper_id(title: str, arxiv_id: str | None = None) -> str:
    if arxiv_id:
        return arxiv_id.strip()
    return "t-" + hashlib.sha1(normalise_title(title).encode("utf-8")).hexdigest()[:12]
