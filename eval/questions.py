"""The eval questions: one JSON object a line, validated up front so a typo fails with file:line
instead of quietly lowering a metric."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.errors import PaperchatError

KINDS = ("topic", "specific", "detail", "code", "unanswerable", "followup", "comparison", "dated")
SINGLE_PAPER_KINDS = ("specific", "detail", "code")
RETRIEVAL_KINDS = ("topic",) + SINGLE_PAPER_KINDS
EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_QUESTIONS = EVAL_DIR / "questions.jsonl"
# dev: what the answerer is tuned on. test: written blind to the answerer's code, run to report only.
# paraphrase: rephrasings of dev questions (eval/paraphrases.jsonl) plus the dev originals they rephrase.
SPLITS = {"dev": DEFAULT_QUESTIONS, "test": EVAL_DIR / "test_questions.jsonl",
          "paraphrase": EVAL_DIR / "paraphrases.jsonl",
          # dev2: a second tuning set, written blind to the answerer in a later session (casual and
          # keyword wordings, years at either end, other languages); tuned on like dev.
          "dev2": EVAL_DIR / "dev2_questions.jsonl",
          # dev3: a third set written blind on the evening of 21 Nov, first run to report how the
          # day's changes generalise, then tuned on.
          "dev3": EVAL_DIR / "dev3_questions.jsonl",
          # dev4: a fourth, written blind on the night of 21 Nov by a helper who saw only the corpus;
          # first run on the submitted main of that evening (cef4f6c), then tuned on.
          "dev4": EVAL_DIR / "dev4_questions.jsonl",
          # dev5: a fifth, written blind on 22 Nov (new themes, 6 ideas described without their
          # names, 17 facts); first run on the submitted main 4132155, then tuned on.
          "dev5": EVAL_DIR / "dev5_questions.jsonl"}
FIELDS = {"id", "kind", "question", "turns", "relevant", "must_contain", "code_url", "note",
          "sides", "date_from", "date_to", "absent", "ordinal", "code_followup", "style", "lang"}
PARAPHRASE_FIELDS = {"id", "paraphrase_of", "style", "question", "note", "lang"}
ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


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
    # comparison: one tuple of paper ids per side (an empty tuple: that side is not in the corpus)
    sides: tuple[tuple[str, ...], ...] = ()
    side_names: tuple[str, ...] = ()
    date_from: str | None = None  # dated: the answer must cite only papers inside this window
    date_to: str | None = None
    absent: bool = False  # detail: the abstract does not state the asked fact; the answer must say so
    ordinal: int | None = None  # followup: "the second one" -> 2 (1-based; -1 = last)
    code_followup: bool = False  # followup: "which of those have code?"
    style: str = "formal"  # how it is phrased: formal, keywords, casual, typo, ...
    lang: str = "en"
    paraphrase_of: str | None = None
    line: int = 0  # where it was read, for error messages
    source: str = field(default="", compare=False)

    @property
    def group(self) -> str:
        """The dev question this one rephrases (itself for an original): paraphrase agreement."""
        return self.paraphrase_of or self.id

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
    relevant = _strings(obj.get("relevant", []), "relevant", where,
                        allow_empty=kind in ("unanswerable", "comparison", "dated"))
    if kind == "unanswerable" and relevant:
        raise QuestionsError(f"{where}: an unanswerable question must have an empty 'relevant'")
    # Single-paper kinds name one paper; a second id is allowed for two versions of the same work.
    if len(set(relevant)) != len(relevant):
        raise QuestionsError(f"{where}: 'relevant' lists a paper twice")
    turns = _strings(obj.get("turns", []), "turns", where, allow_empty=kind != "followup")
    if turns and kind != "followup":
        raise QuestionsError(f"{where}: only followup questions have 'turns'")
    must_contain = _strings(obj.get("must_contain", []), "must_contain", where,
                            allow_empty=kind != "detail" or obj.get("absent") is True)
    code_url = obj.get("code_url")
    if code_url is not None and (not isinstance(code_url, str) or not code_url.strip()):
        raise QuestionsError(f"{where}: 'code_url' must be a non-empty string")
    if kind == "code" and not code_url:
        raise QuestionsError(f"{where}: a code question needs 'code_url'")
    note = obj.get("note", "")
    if not isinstance(note, str):
        raise QuestionsError(f"{where}: 'note' must be a string")
    extra = _new_fields(obj, kind, relevant, where)
    if extra.get("sides") and not relevant:  # a comparison's relevant papers are its sides'
        relevant = tuple(dict.fromkeys(p for side in extra["sides"] for p in side))
    return Question(
        id=qid, kind=kind, question=obj["question"], relevant=relevant, turns=turns,
        must_contain=must_contain, code_url=code_url, note=note, line=line, source=source, **extra,
    )


def _side(value, where: str) -> tuple[str | None, tuple[str, ...]]:
    """A comparison side: a paper id, a list of ids (versions of one work), or an object with a
    name and ids ("relevant"/"paper_ids"/"ids"); no ids means the side is not in the corpus."""
    if isinstance(value, str) and value.strip():
        return None, (value,)
    if isinstance(value, list):
        return None, _strings(value, "sides[]", where, allow_empty=True)
    if isinstance(value, dict):
        ids = next((value[k] for k in ("relevant", "paper_ids", "ids", "papers") if k in value), [])
        name = value.get("name")
        if name is not None and not isinstance(name, str):
            raise QuestionsError(f"{where}: a side's 'name' must be a string")
        return name, _strings(ids, "sides[].relevant", where, allow_empty=True)
    raise QuestionsError(f"{where}: each of 'sides' must be a paper id, a list of ids or an object with ids")


def _date(value, name: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not DATE_RE.match(value.strip()):
        raise QuestionsError(f"{where}: {name!r} must be an ISO date YYYY[-MM[-DD]]")
    return value.strip()


def _new_fields(obj: dict, kind: str, relevant: tuple[str, ...], where: str) -> dict:
    out: dict = {}
    if "sides" in obj:
        if not isinstance(obj["sides"], list) or len(obj["sides"]) < 2:
            raise QuestionsError(f"{where}: 'sides' must list at least two sides")
        parsed = [_side(v, where) for v in obj["sides"]]
        out["sides"] = tuple(ids for _, ids in parsed)
        out["side_names"] = tuple(name or "" for name, _ in parsed)
    elif kind == "comparison":
        raise QuestionsError(f"{where}: a comparison question needs 'sides'")
    out["date_from"] = _date(obj.get("date_from"), "date_from", where)
    out["date_to"] = _date(obj.get("date_to"), "date_to", where)
    if kind == "dated" and not (out["date_from"] or out["date_to"]):
        raise QuestionsError(f"{where}: a dated question needs 'date_from' or 'date_to'")
    for name in ("absent", "code_followup"):
        if name in obj and not isinstance(obj[name], bool):
            raise QuestionsError(f"{where}: {name!r} must be true or false")
        out[name] = bool(obj.get(name, False))
    ordinal = obj.get("ordinal")
    if isinstance(ordinal, str):
        ordinal = ORDINAL_WORDS.get(ordinal.strip().lower(), ordinal)
    if ordinal is not None and (isinstance(ordinal, bool) or not isinstance(ordinal, int) or ordinal == 0):
        raise QuestionsError(f"{where}: 'ordinal' must be a 1-based position (-1 = last) or a word like \"second\"")
    out["ordinal"] = ordinal
    for name, default in (("style", "formal"), ("lang", "en")):
        value = obj.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise QuestionsError(f"{where}: {name!r} must be a non-empty string")
        out[name] = value.strip()
    return out


def _lines(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionsError(f"{path}: no such questions file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionsError(f"{path}: cannot read it ({exc})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            yield number, where, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise QuestionsError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None


def _unique(questions: list[Question], path: Path) -> list[Question]:
    seen: dict[str, int] = {}
    for q in questions:
        if q.id in seen:
            raise QuestionsError(f"{q.where}: duplicate id {q.id!r} (first on line {seen[q.id]})")
        seen[q.id] = q.line
    if not questions:
        raise QuestionsError(f"{path}: no questions in the file")
    return questions


def load_questions(path: str | Path | None = None) -> list[Question]:
    path = Path(path) if path else DEFAULT_QUESTIONS
    return _unique([parse_question(obj, where, number, str(path)) for number, where, obj in _lines(path)], path)


def load_paraphrases(path: str | Path | None = None, dev: list[Question] | None = None) -> list[Question]:
    """Each line `{"id", "paraphrase_of", "style", "question"}` inherits everything else (kind,
    relevant, turns, facts, ...) from the dev question it rephrases. Returns the dev originals that
    have paraphrases (style "formal") followed by the paraphrases, so agreement can be measured."""
    path = Path(path) if path else SPLITS["paraphrase"]
    dev = dev if dev is not None else load_questions(DEFAULT_QUESTIONS)
    by_id = {q.id: q for q in dev}
    out: list[Question] = []
    for number, where, obj in _lines(path):
        if not isinstance(obj, dict):
            raise QuestionsError(f"{where}: expected a JSON object, got {type(obj).__name__}")
        unknown = sorted(set(obj) - PARAPHRASE_FIELDS)
        if unknown:
            raise QuestionsError(f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(PARAPHRASE_FIELDS))})")
        for name in ("id", "paraphrase_of", "style", "question"):
            if not isinstance(obj.get(name), str) or not obj[name].strip():
                raise QuestionsError(f"{where}: {name!r} is missing or not a non-empty string")
        original = by_id.get(obj["paraphrase_of"])
        if original is None:
            raise QuestionsError(f"{where} ({obj['id']}): paraphrase_of {obj['paraphrase_of']!r} is not a dev question id")
        out.append(replace(original, id=obj["id"], question=obj["question"], style=obj["style"].strip(),
                           lang=obj.get("lang", original.lang), paraphrase_of=original.id, line=number,
                           source=str(path), note=obj.get("note", "")))
    grouped = list(dict.fromkeys(q.paraphrase_of for q in out))
    return _unique([by_id[g] for g in grouped] + out, path)


def load_split(split: str, path: str | Path | None = None) -> list[Question]:
    if split not in SPLITS:
        raise QuestionsError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    if split == "paraphrase":
        return load_paraphrases(path)
    return load_questions(path or SPLITS[split])


def check_known_papers(questions: list[Question], known: set[str]) -> None:
    """Every relevant id must be a paper of the index, or recall would be silently capped."""
    for q in questions:
        for pid in q.relevant:
            if pid not in known:
                raise QuestionsError(f"{q.where} ({q.id}): relevant paper {pid!r} is not in the index")
