"""paperchat eval: metric functions against hand-computed values, the questions loader, and the
CLI on a five-question file over the bundled index."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from assistant.models import Answer, Source
from eval import metrics as M
from eval.questions import QuestionsError, load_questions
from eval.thresholds import check, flatten, load_thresholds
from ui.cli import main

REPO = Path(__file__).resolve().parents[1]


def _answer(text: str, sources: list[tuple[int, str]], refused: bool = False, code_url=None) -> Answer:
    return Answer(
        question="q", answer=text, refused=refused,
        sources=[Source(n=n, paper_id=pid, title=f"T{pid}", url=f"https://x/{pid}", code_url=code_url,
                        quote="", score=0.5) for n, pid in sources],
    )


# ---- retrieval metrics ------------------------------------------------------------------------

def test_recall_and_ndcg_by_hand():
    # 2 of 3 relevant papers in the top 10
    assert M.recall_at(["a", "b", "c"], ["a", "x", "b", "y"], 10) == pytest.approx(2 / 3)
    # 12 relevant, 10 retrieved all relevant: the denominator is min(|relevant|, k)
    rel = [f"p{i}" for i in range(12)]
    assert M.recall_at(rel, rel[:10], 10) == pytest.approx(1.0)
    assert M.ndcg_at(rel, rel[:10], 10) == pytest.approx(1.0)
    # relevant at ranks 2 and 3: DCG = 1/log2(3) + 1/log2(4); ideal = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert M.ndcg_at(["a", "b"], ["x", "a", "b"], 10) == pytest.approx(expected)
    assert M.ndcg_at(["a", "b"], ["x", "a", "b"], 10) == pytest.approx(0.6934, abs=1e-4)
    # only the top k count
    assert M.recall_at(["a"], [f"x{i}" for i in range(10)] + ["a"], 10) == 0.0
    assert M.recall_at(["a"], [], 10) == 0.0


def test_hit_and_mrr_by_hand():
    assert M.hit_at(["b"], ["a", "b", "c"], 1) == 0.0
    assert M.hit_at(["b"], ["a", "b", "c"], 5) == 1.0
    assert M.mrr(["b"], ["a", "b", "c"]) == pytest.approx(0.5)
    assert M.mrr(["z"], ["a", "b", "c"]) == 0.0
    assert M.hit_at(["a"], ["a"], 1) == 1.0


# ---- citations, groundedness, answers ----------------------------------------------------------

def test_citation_precision_recall():
    assert M.citation_pr(["a", "b", "c"], ["a", "d"]) == (pytest.approx(1 / 3), pytest.approx(1 / 2))
    assert M.citation_pr([], ["a"]) == (None, 0.0)


def test_invalid_citations():
    ok = _answer("Best is *T* [1]. “x” [2]", [(1, "a"), (2, "b")])
    assert M.invalid_citations(ok, {"a", "b", "c"}) == []
    dangling = _answer("see [1] and [3]; a title with \\[7\\] and a [2](http://link)", [(1, "a")])
    assert M.invalid_citations(dangling, {"a"}) == ["[3] has no source"]
    not_retrieved = _answer("see [1] [2]", [(1, "a"), (2, "z")])
    assert M.invalid_citations(not_retrieved, {"a"}) == ["source [2] z was not retrieved"]


def test_extractive_grounding_checks_quotes_verbatim():
    abstracts = {"a": ["We merge models.", "It is fast.", "TIES uses *signs* [sic]."], "b": ["Other text."]}
    text = (
        "2 papers match “merging models”; the closest is *A* [1].\n\n"
        "**[1]** [A](u): “We merge models. … TIES uses \\*signs\\* \\[sic\\].” [1]\n\n"  # non-adjacent: an ellipsis
        "**[2]** [B](u): “Other text, altered.” [2]\n\n"
        "**[3]** [A](u): “We merge models. TIES uses \\*signs\\* \\[sic\\].” [1]"  # pretends they were adjacent
    )
    units = M.extractive_grounding(_answer(text, [(1, "a"), (2, "b")]), abstracts)
    assert [u["supported"] for u in units] == [True, False, False]  # the headline's “topic” is not a quote
    # a verbatim quote attributed to the wrong source is not supported
    wrong = M.extractive_grounding(_answer("**[1]** [B](u): “It is fast.” [1]", [(1, "b")]), abstracts)
    assert [u["supported"] for u in wrong] == [False]


def test_llm_grounding_uses_support_check():
    abstracts = {"a": ["Alpha beta."], "b": ["Gamma."]}
    answer = _answer("Alpha is beta [1]. Gamma is delta [2]. No citation here.\n\n**[1]** [A](u)\n**[2]** [B](u)",
                     [(1, "a"), (2, "b")])
    seen = []

    # A hand-written stand-in for assistant.llm.support.is_supported, with its (supported, score) result.
    def is_supported(sentence, source_sentences, *, threshold=0.5, embedder=None):
        seen.append(threshold)
        ok = "Alpha" in sentence and "Alpha beta." in source_sentences
        return ok, 0.9 if ok else 0.1  # a tuple is always truthy: only its first item may count

    units, uncited = M.llm_grounding(answer, abstracts, is_supported, 0.55)
    assert [u["supported"] for u in units] == [True, False] and uncited == 1  # the reference lines are no claims
    assert set(seen) == {0.55}


def test_llm_grounding_with_the_real_support_check():
    from assistant.embedder import get_embedder
    from assistant.llm.support import is_supported

    abstracts = {"a": ["We merge fine-tuned models by resolving sign conflicts between their parameters."]}
    answer = _answer("The method merges fine-tuned models by resolving sign conflicts [1]. "
                     "It also cures the common cold in mice [1].", [(1, "a")])
    units, _ = M.llm_grounding(answer, abstracts, is_supported, 0.55, embedder=get_embedder("all-MiniLM-L6-v2"))
    assert [u["supported"] for u in units] == [True, False]


def test_facts_and_code_urls():
    ok, missing = M.facts_found("trained for **199 A100 GPU days** on 10\\_000 images", ["199 a100 gpu days", "10_000"])
    assert ok and not missing
    ok, missing = M.facts_found("nothing", ["7.93"])
    assert not ok and missing == ["7.93"]
    a = _answer("The code for *X* is at https://github.com/jacobdunefsky/ObservablePropagation [1].", [(1, "a")])
    assert M.code_url_found(a, "github.com/jacobdunefsky/ObservablePropagation")
    b = _answer("The abstract of *X* [1] ...", [(1, "a")], code_url="https://github.com/u/r/")
    assert M.code_url_found(b, "https://github.com/u/r")
    assert M.code_url_found(b, "https://github.com/u/r.git")
    assert not M.code_url_found(b, "https://github.com/u/other")


def test_percentile_and_mean():
    assert M.percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert M.percentile([10.0], 95) == 10.0
    assert M.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert M.mean([1, None, 3]) == 2.0 and M.mean([]) is None


def test_thresholds_check(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[min]\n"retrieval.topic.recall@10" = 0.9\n"answers.code_urls" = 0.5\n[max]\n"citations.invalid" = 0\n')
    th = load_thresholds(path)
    metrics = {"retrieval": {"topic": {"n": 3, "recall@10": 0.8}}, "citations": {"invalid": 2}}
    fails, skipped = check(metrics, th)
    assert {f["metric"] for f in fails} == {"retrieval.topic.recall@10", "citations.invalid"}
    assert skipped == ["answers.code_urls"]
    assert flatten(metrics)["retrieval.topic.recall@10"] == 0.8
    path.write_text('[min]\n"retrieval.topic.recal@10" = 0.9\n')
    with pytest.raises(Exception, match="unknown metric"):
        load_thresholds(path)


def test_default_thresholds_and_questions_load():
    th = load_thresholds()
    assert th["min"]["groundedness.extractive"] == 1.0 and th["max"]["citations.invalid"] == 0
    qs = load_questions()
    assert len(qs) >= 105 and len({q.id for q in qs}) == len(qs)
    # Every split's questions and floors load (a typo in one fails here, not halfway through CI).
    from eval.questions import SPLITS, load_split
    from eval.thresholds import default_thresholds
    for split in SPLITS:
        assert load_split(split) and load_thresholds(default_thresholds(split))["max"]["citations.invalid"] == 0


# ---- questions file errors ----------------------------------------------------------------------

def test_malformed_questions_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "kind": "topic", "question": "x?", "relevant": ["p"]}\n{"id": "b", "kind": \n')
    with pytest.raises(QuestionsError, match=r"q\.jsonl:2: not valid JSON"):
        load_questions(path)
    path.write_text('{"id": "a", "kind": "topik", "question": "x?", "relevant": ["p"]}\n')
    with pytest.raises(QuestionsError, match=r"q\.jsonl:1 \(a\): kind 'topik'"):
        load_questions(path)
    path.write_text('{"id": "a", "kind": "detail", "question": "x?", "relevant": ["p"]}\n')
    with pytest.raises(QuestionsError, match="must_contain"):
        load_questions(path)


def test_cli_malformed_questions_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "kind": "topic", "question": "x?", "relevant": ["p"]}\n\n{not json}\n')
    code = main(["eval", "--questions", str(path), "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and f"{path}:3:" in err and err.startswith("paperchat: ")
    assert not (tmp_path / "r.json").exists()


# ---- the generalisation kinds: comparisons, dates, absent facts, follow-ups, paraphrases ------------

def test_new_question_fields_load(tmp_path):
    path = tmp_path / "q.jsonl"
    rows = [
        {"id": "c", "kind": "comparison", "question": "TIES vs Fisher?", "sides": [["2306.01708"], "2111.09832"],
         "style": "casual"},
        {"id": "c2", "kind": "comparison", "question": "A vs B?", "sides": [{"name": "A", "relevant": ["a"]},
                                                                             {"name": "B", "relevant": []}]},
        {"id": "d", "kind": "dated", "question": "video papers from 2024", "date_from": "2024-01-01",
         "date_to": "2024-12-31", "relevant": ["v"], "lang": "en"},
        {"id": "a", "kind": "detail", "question": "how many GPUs?", "relevant": ["p"], "absent": True},
        {"id": "f", "kind": "followup", "question": "the second one?", "turns": ["x?"], "relevant": ["p"],
         "ordinal": "second"},
        {"id": "g", "kind": "followup", "question": "which have code?", "turns": ["x?"], "relevant": ["p"],
         "code_followup": True},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    c, c2, d, a, f, g = load_questions(path)
    assert c.sides == (("2306.01708",), ("2111.09832",)) and set(c.relevant) == {"2306.01708", "2111.09832"}
    assert c.style == "casual" and c2.sides == (("a",), ()) and c2.side_names == ("A", "B")
    assert (d.date_from, d.date_to) == ("2024-01-01", "2024-12-31")
    assert a.absent and not a.must_contain  # an absent fact needs no must_contain
    assert f.ordinal == 2 and g.code_followup
    path.write_text(json.dumps({"id": "x", "kind": "dated", "question": "q", "date_from": "last year"}) + "\n")
    with pytest.raises(QuestionsError, match="ISO date"):
        load_questions(path)


def test_paraphrases_inherit_from_the_dev_question(tmp_path):
    from eval.questions import load_paraphrases

    dev = tmp_path / "dev.jsonl"
    dev.write_text(json.dumps({"id": "t1", "kind": "topic", "question": "Which papers merge models?",
                               "relevant": ["a", "b"]}) + "\n")
    para = tmp_path / "p.jsonl"
    para.write_text(json.dumps({"id": "t1-p1", "paraphrase_of": "t1", "style": "keywords", "question": "model merging"})
                    + "\n" + json.dumps({"id": "t1-p2", "paraphrase_of": "t1", "style": "typo",
                                         "question": "papres on mergin models"}) + "\n")
    qs = load_paraphrases(para, load_questions(dev))
    assert [q.id for q in qs] == ["t1", "t1-p1", "t1-p2"]
    assert qs[1].relevant == ("a", "b") and qs[1].style == "keywords" and qs[1].group == "t1"
    assert qs[0].style == "formal" and qs[0].group == "t1"
    para.write_text(json.dumps({"id": "z", "paraphrase_of": "nope", "style": "typo", "question": "q"}) + "\n")
    with pytest.raises(QuestionsError, match="not a dev question"):
        load_paraphrases(para, load_questions(dev))


def _dated(pid, date=None):
    ans = _answer("x [1]", [(1, pid)])
    ans.sources[0].date = date
    return ans


def test_generalisation_metrics_by_hand():
    both = _answer("A [1] B [2]", [(1, "a"), (2, "b")])
    assert M.comparison_both_sides(both, [("a",), ("b", "b2")]) == (True, "")
    assert M.comparison_both_sides(_answer("A [1]", [(1, "a")]), [("a",), ("b",)])[0] is False
    one_missing = _answer("Zorblax is not in the corpus. A [1]", [(1, "a")])
    assert M.comparison_both_sides(one_missing, [("a",), ()])[0] is True
    assert M.comparison_both_sides(_answer("A [1]", [(1, "a")]), [("a",), ()])[0] is False

    dates = {"a": "2024-03", "b": "2023-11-02", "c": None}
    assert M.within_window(_dated("a"), dates, "2024-01-01", "2024-12-31") == (True, "")
    assert M.within_window(_dated("b"), dates, "2024-01-01", "2024-12-31")[0] is False
    assert M.within_window(_dated("c"), dates, "2024-01-01", None)[0] is False  # date unknown: not shown as in
    assert M.within_window(_answer("none", []), dates, "2024-01-01", None)[0] is False
    # A month-dated paper is inside a window opening on that month's first day ("2024-11" from "2024-11-01").
    assert M.within_window(_dated("a"), {"a": "2024-11"}, "2024-11-01", None) == (True, "")
    assert M.within_window(_dated("a"), {"a": "2024-10"}, "2024-11-01", None)[0] is False

    assert M.says_absent(_answer("The abstract does not report GPU counts.", [(1, "a")]))
    assert not M.says_absent(_answer("It used hundreds of GPU days [1].", [(1, "a")]))
    assert M.ordinal_resolved(_answer("x", [(1, "b"), (2, "a")]), ["b"])
    assert not M.ordinal_resolved(_answer("x", [(1, "a"), (2, "b")]), ["b"])
    with_code = _answer("x", [(1, "a"), (2, "b")], code_url="https://github.com/x/y")
    assert M.code_followup_resolved(with_code, ["a", "b"]) == (True, "")
    assert M.code_followup_resolved(with_code, ["a", "b", "c"])[0] is False
    assert M.code_followup_resolved(_answer("x", [(1, "a")]), ["a"])[0] is False  # cited without a code link

    assert M.jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)
    assert M.jaccard(set(), set()) == 1.0  # two refusals agree
    assert M.mean_pairwise_jaccard([{"a"}, {"a"}, {"a", "b"}]) == pytest.approx((1 + 0.5 + 0.5) / 3)


def test_paraphrase_agreement_and_styles_aggregate():
    from eval.run import paraphrase_agreement, per_style

    recs = [
        {"id": "t1", "kind": "topic", "group": "t1", "style": "formal", "cited": ["a", "b"], "citation_recall": 1.0,
         "citation_precision": 1.0, "wrongly_refused": False},
        {"id": "t1-k", "kind": "topic", "group": "t1", "style": "keywords", "cited": ["a"], "citation_recall": 0.5,
         "citation_precision": 1.0, "wrongly_refused": False},
    ]
    agreement = paraphrase_agreement(recs)
    assert agreement["jaccard_mean"] == pytest.approx(0.5) and agreement["groups"] == 1
    assert agreement["recall_ratio_by_style"] == {"keywords": pytest.approx(0.5)}
    assert per_style(recs)["keywords"]["citation_recall"] == 0.5


# ---- the run on the bundled index --------------------------------------------------------------

SMALL_IDS = ("topic-02", "specific-01", "detail-01", "followup-04", "unanswerable-01")


@pytest.fixture
def small_questions(tmp_path) -> Path:
    lines = [line for line in (REPO / "eval" / "questions.jsonl").read_text().splitlines()
             if line.strip() and json.loads(line)["id"] in SMALL_IDS]
    assert len(lines) == 5
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def index_env(bundled_index, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no developer .env
    for key in ("PAPERCHAT_CHROMA_URL", "PAPERCHAT_ANSWERER", "PAPERCHAT_PRESET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(bundled_index.index_dir))
    monkeypatch.setenv("PAPERCHAT_DATA_DIR", str(bundled_index.data_dir))
    return bundled_index


@pytest.mark.slow
def test_cli_run_writes_reports(index_env, small_questions, tmp_path, capsys):
    loose = tmp_path / "loose.toml"
    loose.write_text('[min]\n"retrieval.topic.recall@10" = 0.0\n[max]\n"errors" = 0\n')
    out = tmp_path / "out"
    code = main(["eval", "--questions", str(small_questions), "--json", str(out / "r.json"),
                 "--markdown", str(out / "r.md"), "--thresholds", str(loose)])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    report = json.loads((out / "r.json").read_text())
    assert (out / "r.md").read_text().startswith("# paperchat eval")
    png = out / "r.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert report["questions"] == 5 and report["metrics"]["errors"] == 0
    m = report["metrics"]
    assert set(m["retrieval"]) >= {"topic", "single", "specific", "detail"}
    assert set(m["retrieval"]["topic"]) >= {"recall@10", "ndcg@10"}
    assert set(m["retrieval"]["single"]) >= {"hit@1", "hit@5", "mrr"}
    assert set(m["citations"]) >= {"topic", "overall", "invalid"}
    assert m["citations"]["invalid"] == 0
    assert m["groundedness"]["extractive"] == 1.0
    assert set(m["answers"]) >= {"detail_facts", "followups_resolved"}
    assert set(m["refusals"]) >= {"unanswerable_refused", "wrongly_refused"}
    assert m["latency"]["p50_ms"] > 0 and m["latency"]["p95_ms"] >= m["latency"]["p50_ms"]
    assert set(report["per_kind"]) == {"topic", "specific", "detail", "followup", "unanswerable"}
    follow = next(r for r in report["records"] if r["id"] == "followup-04")
    assert follow["earlier_cited"] and "followup_resolved" in follow
    assert "recall@10" in stdout.lower() or "R@10" in stdout


@pytest.mark.slow
def test_cli_exits_1_below_threshold(index_env, small_questions, tmp_path, capsys):
    strict = tmp_path / "strict.toml"
    strict.write_text('[min]\n"retrieval.topic.ndcg@10" = 1.01\n')
    code = main(["eval", "--questions", str(small_questions), "--json", str(tmp_path / "r.json"),
                 "--thresholds", str(strict)])
    err = capsys.readouterr().err
    assert code == 1
    assert "retrieval.topic.ndcg@10" in err and "1.01" in err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["threshold_check"]["failures"][0]["metric"] == "retrieval.topic.ndcg@10"


@pytest.mark.slow
def test_run_eval_with_baselines(index_env, small_questions):
    """BM25-only and dense-only baselines in the same run (the starter pipeline re-embeds the whole
    corpus, minutes on a shared CPU, so it is exercised by the full `paperchat eval --baselines`)."""
    from assistant.settings import get_settings
    from eval.report import markdown
    from eval.run import run_eval

    report = run_eval(get_settings(), load_questions(small_questions), baselines=("bm25", "dense"), progress=None)
    for name in ("bm25", "dense"):
        ret = report["baselines"][name]["retrieval"]
        assert set(ret) >= {"topic", "single"} and 0 <= ret["topic"]["recall@10"] <= 1
    rec = next(r for r in report["records"] if r["id"] == "topic-02")
    assert len(rec["baselines"]["bm25"]) == 10
    text = markdown(report, None)
    assert "BM25 only" in text and "×)" in text
