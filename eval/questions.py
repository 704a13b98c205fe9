"""The eval questions: one JSON object a line, validated up front so a typo fails with file:line
instead of quietly lowering a metric."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import PaperchatError

KINDS = ("topic", "specific", "detail", "code", "unanswerable", "followup")
SINGLE_PAPER_KINDS = ("specific", "detail", "code")
RETRIEVAL_KINDS = ("topic",) + SINGLE_PAPER_KINDS
DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"
FIELDS = {"id", "kind", "question", "turns", "relevant", "must_contain", "code_url", "note"}


class QuestionsError(PaperchatError):
    """A malformed questions file: the message is `FILE:LINE: what is wrong`."""


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    question: str
    relevant: tuple[str, ...] = ()
    turns: tuple[str, ...] = ()
    must_contain: tuple[str, ...] = ()
    code_url: str | None = None
    note: str = ""
    line: int = 0  # where it was read, for error messages
    source: str = field(default="", compare=False)

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


def _strings(value, name: str, where: str, allow_empty: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise QuestionsError(f"{where}: {name!r} must be a list of non-empty strings")
    if not allow_empty and not value:
        raise QuestionsError(f"{where}: {name!r} must not be empty")
    return tuple(value)


def parse_question(obj, where: str, line: int, source: str) -> Question:
    if not isinstance(obj, dict):
        raise QuestionsError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - FIELDS)
    if unknown:
        raise QuestionsError(f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(FIELDS))})")
    for name in ("id", "kind", "question"):
        if not isinstance(obj.get(name), str) or not obj[name].strip():
            raise QuestionsError(f"{where}: {name!r} is missing or not a non-empty string")
    qid, kind = obj["id"], obj["kind"]
    where = f"{where} ({qid})"
    if kind not in KINDS:
        raise QuestionsError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    relevant = _strings(obj.get("relevant", []), "relevant", where, allow_empty=kind == "unanswerable")
    if kind == "unanswerable" and relevant:
        raise QuestionsError(f"{where}: an unanswerable question must have an empty 'relevant'")
    # Single-paper kinds name one paper; a second id is allowed for two versions of the same work.
    if len(set(relevant)) != len(relevant):
        raise QuestionsError(f"{where}: 'relevant' lists a paper twice")
    turns = _strings(obj.get("turns", []), "turns", where, allow_empty=kind != "followup")
    if turns and kind != "followup":
        raise QuestionsError(f"{where}: only followup questions have 'turns'")
    must_contain = _strings(obj.get("must_contain", []), "must_contain", where, allow_empty=kind != "detail")
    code_url = obj.get("code_url")
    if code_url is not None and (not isinstance(code_url, str) or not code_url.strip()):
        raise QuestionsError(f"{where}: 'code_url' must be a non-empty string")
    if kind == "code" and not code_url:
        raise QuestionsError(f"{where}: a code question needs 'code_url'")
    note = obj.get("note", "")
    if not isinstance(note, str):
        raise QuestionsError(f"{where}: 'note' must be a string")
    return Question(
        id=qid, kind=kind, question=obj["question"], relevant=relevant, turns=turns,
        must_contain=must_contain, code_url=code_url, note=note, line=line, source=source,
    )


def load_questions(path: str | Path | None = None) -> list[Question]:
    path = Path(path) if path else DEFAULT_QUESTIONS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionsError(f"{path}: no such questions file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionsError(f"{path}: cannot read it ({exc})") from None
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise QuestionsError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        q = parse_question(obj, where, number, str(path))
        if q.id in seen:
            raise QuestionsError(f"{where}: duplicate id {q.id!r} (first on line {seen[q.id]})")
        seen[q.id] = number
        questions.append(q)
    if not questions:
        raise QuestionsError(f"{path}: no questions in the file")
    return questions


def check_known_papers(questions: list[Question], known: set[str]) -> None:
    """Every relevant id must be a paper of the index, or recall would be silently capped."""
    for q in questions:
        for pid in q.relevant:
            if pid not in known:
                raise QuestionsError(f"{q.where} ({q.id}): relevant paper {pid!r} is not in the index")
