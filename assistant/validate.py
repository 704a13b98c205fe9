"""Arguments of the Python API (Assistant.ask/stream/search), checked before any work: a wrong
type or value is a BadInput, which is also a ValueError, with one line saying what is expected."""
from __future__ import annotations

import re

from .errors import BadInput

MAX_HISTORY_TURNS = 200
MAX_TURN_CHARS = 100_000
MAX_CITED = 100
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
HISTORY_SHAPE = 'a list of {"role": "user" or "assistant", "content": "..."} turns'


def question(value) -> str:
    if value is not None and not isinstance(value, str):
        raise BadInput(f"question must be a string, not {type(value).__name__}")
    return value


def history(value) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise BadInput(f"history must be {HISTORY_SHAPE}, not {type(value).__name__}")
    if len(value) > MAX_HISTORY_TURNS:
        raise BadInput(f"history has {len(value):,} turns; keep the last {MAX_HISTORY_TURNS}")
    turns = []
    for i, turn in enumerate(value):
        if not isinstance(turn, dict):
            raise BadInput(f"history[{i}] must be a dict like {{\"role\": \"user\", \"content\": \"...\"}}, "
                           f"not {type(turn).__name__}")
        role, content = turn.get("role"), turn.get("content", "")
        if role not in ("user", "assistant"):
            raise BadInput(f"history[{i}].role must be \"user\" or \"assistant\", not {str(role)[:40]!r}")
        if not isinstance(content, str):
            raise BadInput(f"history[{i}].content must be a string, not {type(content).__name__}")
        if len(content) > MAX_TURN_CHARS:
            raise BadInput(f"history[{i}].content is {len(content):,} characters; the limit is {MAX_TURN_CHARS:,}")
        ids = turn.get("paper_ids")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(p, str) for p in ids)):
            raise BadInput(f"history[{i}].paper_ids must be a list of paper id strings")
        turns.append(turn)
    return turns


def date(name: str, value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a date string like \"2024-05\" or \"2024-05-17\", not {type(value).__name__}")
    m = _DATE.match(value.strip())
    ok = bool(m) and 1900 <= int(m.group(1)) <= 2200 and (not m.group(2) or 1 <= int(m.group(2)) <= 12) \
        and (not m.group(3) or 1 <= int(m.group(3)) <= 31)
    if not ok:
        raise BadInput(f"{name} must be a date like \"2024\", \"2024-05\" or \"2024-05-17\", not {value[:40]!r}")
    return value.strip()


def count(name: str, value, limit: int = MAX_CITED) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be a whole number from 1 to {limit}, not {type(value).__name__}")
    if not 1 <= value <= limit:
        raise BadInput(f"{name} must be a whole number from 1 to {limit}, not {value}")
    return value


def window(date_from, date_to) -> tuple[str | None, str | None]:
    date_from, date_to = date("date_from", date_from), date("date_to", date_to)
    if date_from and date_to and date_from[:len(date_to)] > date_to:
        raise BadInput(f"the date window runs backwards: date_from {date_from} is after date_to {date_to}")
    return date_from, date_to


def ask_args(question_, history_, max_cited, date_from, date_to):
    """(question, history, max_cited, date_from, date_to), checked."""
    return (question(question_), history(history_), count("max_cited", max_cited)) + window(date_from, date_to)


def search_args(question_, k, date_from, date_to):
    """(question, k, date_from, date_to), checked."""
    return (question(question_), count("k", k, limit=1000)) + window(date_from, date_to)
