"""Corpus text goes into markdown answers as text: escape what markdown or HTML would act on."""
from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_ESCAPED = re.compile(r"\\([\\`*_\[\]<>|#~])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)
