"""eval/paraphrases.jsonl: every dev question has hand-written rephrasings in at least three styles,
so per-style metrics and cross-rephrasing agreement cover the whole dev split. Pure data checks."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STYLES = {"keywords", "casual", "tellme", "typo"}


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (REPO / "eval" / name).read_text().splitlines() if line.strip()]


def _edits(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_every_dev_question_has_three_styles_of_new_wording():
    originals = {q["id"]: q["question"] for q in _rows("questions.jsonl")}
    rows = _rows("paraphrases.jsonl")
    assert len({r["id"] for r in rows}) == len(rows), "paraphrase ids must be unique"
    styles: dict[str, set[str]] = {}
    for r in rows:
        assert set(r) == {"id", "paraphrase_of", "style", "question"}, r["id"]
        assert r["paraphrase_of"] in originals, r["id"]
        assert r["style"] in STYLES, r["id"]
        assert r["question"].strip().lower() != originals[r["paraphrase_of"]].strip().lower(), r["id"]
        styles.setdefault(r["paraphrase_of"], set()).add(r["style"])
    assert set(styles) == set(originals), sorted(set(originals) - set(styles))
    assert all(len(s) >= 3 for s in styles.values())
    counts = Counter(r["style"] for r in rows)
    assert min(counts[s] for s in STYLES) >= len(originals) // 2, counts


def test_styles_look_like_their_label():
    originals = {q["id"]: q["question"] for q in _rows("questions.jsonl")}
    for r in _rows("paraphrases.jsonl"):
        if r["style"] == "keywords":
            assert r["question"] == r["question"].lower() and "?" not in r["question"], r["id"]
        elif r["style"] == "typo":  # the formal question with one slip, not a rewrite
            assert 1 <= _edits(r["question"], originals[r["paraphrase_of"]]) <= 2, r["id"]
