"""eval/dev2_questions.jsonl to dev5 (the splits written blind and then tuned on)
against the bundled corpus: their labels must hold in the abstracts, or tuning on them would chase a
wrong key. Pure data checks (no index, no model)."""
from __future__ import annotations

from collections import Counter

import pytest

from assistant.settings import get_settings
from eval.questions import load_split
from ingest.latex import repair
from ingest.pipeline import load_papers


@pytest.fixture(scope="module", params=["dev2", "dev3", "dev4", "dev5"])
def questions(request):
    return load_split(request.param)


@pytest.fixture(scope="module")
def papers() -> dict:
    found, _ = load_papers(None, get_settings())
    return {p.paper_id: p for p in found}


def test_blind_splits_cover_the_wordings_they_were_written_for(questions):
    kinds = Counter(q.kind for q in questions)
    assert len(questions) >= 60 and kinds["comparison"] >= 6 and kinds["dated"] >= 8 and kinds["unanswerable"] >= 6
    assert sum(q.lang != "en" for q in questions) >= 6 and sum(q.absent for q in questions) >= 3


def test_blind_split_labels_hold_in_the_abstracts(questions, papers):
    for q in questions:
        for pid in q.relevant + tuple(p for side in q.sides for p in side):
            assert pid in papers, (q.id, pid)
        abstracts = [papers[pid].title + " " + papers[pid].abstract for pid in q.relevant]
        for fact in q.must_contain:
            # (labels quote the dumps, "2.86times"; ingest puts the symbol back: read them the same way)
            assert any(repair(fact) in a for a in abstracts), (q.id, fact)
        if q.kind == "dated":
            low, high = (q.date_from or "0000-00")[:7], (q.date_to or "9999-99")[:7]
            high = high + "-12" if len(high) == 4 else high  # "to 2024" takes in 2024's months
            for pid in q.relevant:
                assert papers[pid].date and low <= papers[pid].date[:7] <= high, (q.id, pid)
        if q.code_followup:
            assert all(papers[pid].code_url for pid in q.relevant), q.id
