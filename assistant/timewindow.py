"""Dates in a question ("from 2024", "since 2023", "before 2020", "recent", "this year") turned into
a window [date_from, date_to] of ISO dates, with the words that said it (removed from the topic)
and a plain description the answer states."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .words import RAW_WORD_RE, written_as_names

# A year, or one written with an apostrophe ("from '23"): _year() reads either.
YEAR = r"((?:19|20)\d{2}|['’]\d{2})"
MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), start=1)}
MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december)"

# Order matters: ranges before single years. Each pattern's groups feed its builder below.
# "early 2023", "mid 2023", "late 2023": the month a "since"/"before" bound falls on.
PART = r"(early|mid|middle of|late|the start of|the end of)"
PART_MONTH = {"early": 1, "the start of": 1, "mid": 6, "middle of": 6, "late": 9, "the end of": 12}

_PATTERNS: list[tuple[str, str]] = [
    # "between 2022 and now", "2021 to present": since that year.
    ("since", rf"\b(?:between |from )?(){YEAR}\s*(?:-|–|to|and|until|till)\s*(?:now|today|(?:the )?present|date)\b"),
    # "not older than 2023" is since 2023; "no later than 2020" is up to 2020.
    ("since", rf"\b(?:not|no) (?:older than|earlier than|before)\s+(?:{MONTH}\s+|{PART}[\s-]+)?{YEAR}\b"),
    ("before", rf"\b(?:not|no) (?:newer than|later than|after)\s+(?:{MONTH}\s+|{PART}[\s-]+)?{YEAR}\b"),
    ("between", rf"\bbetween {YEAR} and {YEAR}\b"),
    ("range", rf"\b(?:from |in )?{YEAR}\s*(?:-|–|to|through|until|and|&|or)\s*{YEAR}\b"),
    ("decade", r"\b(?:the |in the )?((?:19|20)\d)0['’]?s\b"),
    ("since", rf"\b(?:since|after|starting(?: in| from)?|later than|newer than|published after)\s+(?:{MONTH}\s+|{PART}[\s-]+)?{YEAR}\b"),
    ("since", rf"\b(?:from|in)\s+(?:{MONTH}\s+)?{YEAR}\s+(?:on(?:wards?)?(?!\s+[a-z])|and later|or later|and after)\b"),
    # without "from": "onwards" must be said ("2020 on speech" is not "2020 on")
    ("since", rf"\b(?:{MONTH}\s+)?{YEAR}\s*(?:onwards?|and later|or later|and after|\+)(?=\W|$)"),
    ("since", rf"\bpost-?\s?(){YEAR}\b"),
    ("before", rf"\b(?:before|prior to|until|up to|earlier than|older than|through|by)\s+(?:{MONTH}\s+|{PART}[\s-]+)?{YEAR}\b"),
    ("before", rf"\bpre-?\s?(){YEAR}\b"),
    # A bare year needs a preposition or "papers" next to it: "COCO 2017" is a dataset, not a date.
    ("in", rf"\b(?:in|of|during|from|published in)\s+(?:{MONTH}\s+)?{YEAR}\b"),
    ("in", rf"\b(){YEAR}(?:'s)?\s+(?:papers?|works?|articles?|studies|research|publications?|stuff|ones?)\b"),
    # ... or leads the question, keyword style: "2024 model merging".
    ("in", rf"^\s*(){YEAR}(?=\s+[a-z])"),
    # ... or ends it after a plain word: "model quantization 2024". After a name ("COCO 2017",
    # "ImageNet 2012") it is part of the name; Assistant also checks the corpus for the phrase.
    ("trailing", rf"(?<=[a-z\-])\s*,?\s*\(?(){YEAR}\)?\s*[?.!]*\s*$"),
    ("this_year", r"\bthis year(?:'s)?\b"),
    ("since_last_year", r"\bsince last year\b"),
    ("last_year", r"\blast year(?:'s)?\b"),
    ("last_n", r"\b(?:in |from |over )?the (?:last|past) (\d+|two|three|four|five|few|couple of) (years?|months?)\b"),
    ("last_n", r"\b(?:in |from |over )?the (?:last|past) ()(year|month|decade)\b"),
    ("recent", r"\b(?:recent(?:ly)?|latest|newest|(?:most )?up[- ]to[- ]date|state[- ]of[- ]the[- ]art lately)\b"),
]
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "few": 3, "couple of": 2, "": 1}


@dataclass(frozen=True)
class Window:
    date_from: str | None
    date_to: str | None
    said: str  # the words in the question, e.g. "since 2023"
    meaning: str  # what the answer states, e.g. "published since 2023 (2023-01 to today)"
    # A year ending the question ("model quantization 2024"): the word before it, so the caller can
    # check the corpus does not use the two as one name ("coco 2017").
    after_word: str | None = None

    def filters(self) -> dict:
        return {k: v for k, v in (("date_from", self.date_from), ("date_to", self.date_to)) if v}


def _year(text: str, today: dt.date) -> int:
    """ "2023" -> 2023; "'23" -> 2023 ("'98" -> 1998: a two-digit year past this one is last century)."""
    if text[0] in "'’":
        short = int(text[1:])
        return 2000 + short if short <= today.year % 100 else 1900 + short
    return int(text)


def _month_end(year: int, month: int) -> str:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).isoformat()


def parse_window(question: str, today: dt.date, recent_months: int) -> Window | None:
    """The first time expression in the question, or None. `recent_months` is what "recent" means."""
    q = question.lower()
    for name, pattern in _PATTERNS:
        m = re.search(pattern, q)
        if not m:
            continue
        said = m.group(0).strip()
        g = [x for x in m.groups()]
        after_word = None
        if name == "trailing":
            before = RAW_WORD_RE.findall(question[: len(question.rstrip()) - len(said)])
            # Written like a name ("COCO 2017", "ImageNet 2012"): part of it. A lower-case word
            # ("interpretability 2024", "imagenet 2012") is left to the corpus: the caller checks
            # whether any abstract uses the two together (Window.after_word).
            if not before or written_as_names(before[-1]):
                continue
            name, after_word = "in", before[-1].lower()
        if name == "between" or name == "range":
            a, b = sorted((_year(g[0], today), _year(g[1], today)))
            if b - a > 60:
                continue
            return Window(f"{a}-01", f"{b}-12-31", said, f"published {a}–{b}")
        if name == "decade":
            start = int(g[0]) * 10
            return Window(f"{start}-01", f"{start + 9}-12-31", said, f"published in the {start}s")
        if name == "since":
            month, part, year = (g[0], g[1], _year(g[2], today)) if len(g) == 3 else (g[0], None, _year(g[1], today))
            after = re.match(r"(after|later than|newer than|published after|post)", said)
            if part:
                m = PART_MONTH[part]
                return Window(f"{year}-{m:02d}", None, said, f"published since {part} {year} ({year}-{m:02d} on)")
            if month:
                start = (f"{year}-{MONTHS[month]:02d}" if not after
                         else (dt.date.fromisoformat(_month_end(year, MONTHS[month])) + dt.timedelta(days=1)).isoformat()[:7])
                label = f"{month.capitalize()} {year}"
            else:
                start, label = (f"{year + 1}-01", str(year)) if after else (f"{year}-01", str(year))
            word = "after" if after else "since"
            return Window(start, None, said, f"published {word} {label}")
        if name == "before":
            month, part, year = (g[0], g[1], _year(g[2], today)) if len(g) == 3 else (g[0], None, _year(g[1], today))
            inclusive = re.match(r"(until|up to|through|by|not|no)\b", said)
            if part:
                m = PART_MONTH[part]
                end = (dt.date(year, m, 1) - dt.timedelta(days=1)).isoformat()
                return Window(None, end, said, f"published before {part} {year} (up to {end[:7]})")
            if month:
                end = (_month_end(year, MONTHS[month]) if inclusive
                       else (dt.date(year, MONTHS[month], 1) - dt.timedelta(days=1)).isoformat())
                label = f"{month.capitalize()} {year}"
            else:
                end, label = (f"{year}-12-31", str(year)) if inclusive else (f"{year - 1}-12-31", str(year))
            return Window(None, end, said, f"published {'up to' if inclusive else 'before'} {label}")
        if name == "in":
            month, year = g[0], _year(g[1], today)
            if month:
                return Window(f"{year}-{MONTHS[month]:02d}", _month_end(year, MONTHS[month]), said,
                              f"published in {month.capitalize()} {year}")
            return Window(f"{year}-01", f"{year}-12-31", said, f"published in {year}", after_word)
        if name == "this_year":
            return Window(f"{today.year}-01", f"{today.year}-12-31", said, f"published this year ({today.year})")
        if name == "since_last_year":
            y = today.year - 1
            return Window(f"{y}-01", None, said, f"published since last year ({y})")
        if name == "last_year":
            y = today.year - 1
            return Window(f"{y}-01", f"{y}-12-31", said, f"published last year ({y})")
        if name == "last_n":
            n = _NUMBER_WORDS.get(g[0]) or int(g[0])
            months = n * {"y": 12, "d": 120}.get(g[1][0], 1)
            start = _months_before(today, months)
            count = f"{n} " if g[0] else ""  # "the past year" has no number to repeat
            return Window(start.isoformat()[:7], None, said,
                          f"published in the last {count}{g[1]} (since {start.isoformat()[:7]})")
        if name == "recent":
            start = _months_before(today, recent_months)
            return Window(start.isoformat()[:7], None, said,
                          f"published recently (taken to mean the last {recent_months} months, since "
                          f"{start.isoformat()[:7]})")
    return None


def _months_before(today: dt.date, months: int) -> dt.date:
    y, m = divmod(today.year * 12 + today.month - 1 - months, 12)
    return dt.date(y, m + 1, 1)


def in_window(date: str | None, date_from: str | None, date_to: str | None) -> bool:
    """Dates may be YYYY-MM or YYYY-MM-DD: compared on the shorter of the two forms. Window starts
    are written at month precision ("2024-01"), so a paper dated only by month is never cut off."""
    if not (date_from or date_to):
        return True
    if not date:
        return False
    if date_from and date[: len(date_from)] < date_from[: len(date)]:
        return False
    if date_to and date[: len(date_to)] > date_to[: len(date)]:
        return False
    return True
