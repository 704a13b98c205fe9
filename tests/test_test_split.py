"""eval/test_questions.jsonl (the held-out test split) against the bundled corpus: every label must
hold in the abstracts themselves, or the split would score the answerer against a wrong key.
Pure data checks over the parsed corpus (no index, no model)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assistant.settings import get_settings
from ingest.latex import repair
from ingest.pipeline import load_papers

REPO = Path(__file__).resolve().parents[1]
KINDS = ("topic", "specific", "detail", "code", "comparison", "dated", "followup", "unanswerable")
STYLES = {"formal", "casual", "keywords", "tellme", "bestway", "summarize", "typo", "nonenglish"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    text = (REPO / "eval" / "test_questions.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def papers() -> dict:
    found, _ = load_papers(None, get_settings())
    return {p.paper_id: p for p in found}


def test_split_shape(rows):
    assert len(rows) >= 70
    assert len({r["id"] for r in rows}) == len(rows)
    kinds = [r["kind"] for r in rows]
    assert kinds == sorted(kinds, key=KINDS.index), "keep the file grouped by kind"
    counts = Counter(kinds)
    assert counts["comparison"] >= 8 and counts["dated"] >= 6 and counts["followup"] >= 8
    assert counts["unanswerable"] >= 8
    assert {r["style"] for r in rows} == STYLES
    assert sum(r["style"] == "nonenglish" for r in rows) >= 4
    assert sum(bool(r.get("absent")) for r in rows) >= 3
    for r in rows:
        assert r["id"].startswith(f"test-{r['kind']}-"), r["id"]
        assert r["note"].strip(), r["id"]
        assert (r["style"] == "nonenglish") == ("lang" in r), r["id"]


def test_labels_hold_in_the_abstracts(rows, papers):
    for r in rows:
        sides = [pid for side in r.get("sides", []) for pid in side]
        for pid in r["relevant"] + sides:
            assert pid in papers, (r["id"], pid)
        if r["kind"] == "unanswerable":
            assert r["relevant"] == [], r["id"]
        if r["kind"] == "comparison":
            assert len(r["sides"]) == 2 and set(r["relevant"]) == set(sides), r["id"]
        abstracts = [papers[pid].abstract for pid in r["relevant"]]
        for fact in r.get("must_contain", []):
            assert any(repair(fact) in a for a in abstracts), (r["id"], fact)  # as the eval reads labels
        if r["kind"] == "detail":
            assert bool(r.get("absent")) != bool(r["must_contain"]), r["id"]
        if r.get("code_url"):
            assert any(r["code_url"] in a for a in abstracts), r["id"]
        if r.get("code_followup"):
            assert all(papers[pid].code_url for pid in r["relevant"]), r["id"]


def test_dated_relevant_papers_fall_inside_the_window(rows, papers):
    for r in rows:
        if r["kind"] != "dated":
            continue
        assert r.get("date_from") or r.get("date_to"), r["id"]
        low, high = r.get("date_from", "0000-00")[:7], r.get("date_to", "9999-99")[:7]
        for pid in r["relevant"]:
            date = papers[pid].date
            assert date and low <= date[:7] <= high, (r["id"], pid, date)
