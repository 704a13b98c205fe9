"""LaTeX that lost its backslash in the source dumps ("2.86$\\times$" arrives as "2.86times"): put
back the symbol it meant, so quotes read "2.86×" instead of a glued word. Only forms that cannot be
English: a number glued to "times", "times" between two numbers, an arrow or "leq" between numbers,
"sim" before a number ("sim3.5AP" is "~3.5AP");
and LaTeX that kept its backslash where it cannot be meant as written ("5.84\\%", "{\\it CL}").
"""
from __future__ import annotations

import re

_TIMES = re.compile(r"(?<=\d)\s*times\s*(?=\d)|(?<=\d)times\b")  # "2048times2048", "64 times 64", "3.5times"
_ARROW = re.compile(r"(?<=\d) rightarrow (?=\d)")  # "37.2 rightarrow 23.3 in FID"
_LEQ = re.compile(r"\bleq (?=\d)")  # "the best in leq 0.1 second regime"
_PERCENT = re.compile(r"(?:(?<=\d) )?\\%")  # "5.84\%", "F1-score(\%)": an escaped percent sign
_SIM = re.compile(r"(?<![A-Za-z])sim(?=\d)")  # "$\sim$3.5AP" arrives as "sim3.5AP", "1.5sim3.0" -> "1.5~3.0"
_ITALIC = re.compile(r"\{\\(?:it|em|bf)\s+([^{}]*)\}")  # "{\it CL}inic{\it A}l" -> "CLinicAl"


def repair(text: str) -> str:
    text = _SIM.sub("~", _ITALIC.sub(r"\1", _PERCENT.sub("%", text)))
    return _LEQ.sub("≤ ", _ARROW.sub(" → ", _TIMES.sub("×", text)))
