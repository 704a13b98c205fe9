"""Run every question through the Assistant the UI uses and score it.

`run_eval` returns a plain dict (the JSON report): per-question records, metrics per kind and
overall, and the baselines when asked for."""
from __future__ import annotations

import sys
import time
import traceback

from . import metrics as M
from .questions import RETRIEVAL_KINDS, SINGLE_PAPER_KINDS, Question, check_known_papers

K = 10
KIND_ORDER = ("topic", "specific", "detail", "code", "comparison", "dated", "followup", "unanswerable")


# ---- what the answer retrieved ----------------------------------------------------------------

# ---- one question -----------------------------------------------------------------------------

def _support_checker(settings):
    """assistant.llm.support.is_supported when that module exists (the LLM answerer's check)."""
    try:
        from assistant.llm.support import is_supported
    except ImportError:
        return None
    return is_supported


def ask_question(assistant, q: Question):
    """Ask the earlier turns, feeding the real answers back as history, then the last one.
    Returns (final answer, seconds for the final ask, the earlier answers, retrieved papers)."""
    history: list[dict] = []
    earlier = []
    for turn in q.turns:
        answer = assistant.ask(turn, history)
        earlier.append(answer)
        history += [{"role": "user", "content": turn},
                    {"role": "assistant", "content": answer.answer, "paper_ids": list(answer.paper_ids)}]
    started = time.perf_counter()
    answer = assistant.ask(q.question, history)
    seconds = time.perf_counter() - started
    return answer, seconds, earlier, set(answer.retrieved_ids)


def retrieval_scores(kind: str, relevant, ranked: list[str]) -> dict:
    if kind == "topic":
        return {"recall@10": M.recall_at(relevant, ranked, K), "ndcg@10": M.ndcg_at(relevant, ranked, K)}
    return {"hit@1": M.hit_at(relevant, ranked, 1), "hit@5": M.hit_at(relevant, ranked, 5),
            "mrr": M.mrr(relevant, ranked, K)}


def citation_scores(q: Question, cited: list[str]) -> tuple[float | None, float | None]:
    p, r = M.citation_pr(cited, q.relevant)
    if q.kind in SINGLE_PAPER_KINDS and r is not None:
        # One paper is asked about; a second relevant id is another version of it, not a second paper.
        r = 1.0 if r > 0 else 0.0
    return p, r


def score_question(q: Question, answer, retrieved: set[str] | None, abstracts, ctx) -> dict:
    rec: dict = {}
    cited = M.cited_papers(answer)
    rec["cited"] = cited
    if q.answerable:
        rec["citation_precision"], rec["citation_recall"] = citation_scores(q, cited)
    rec["invalid_citations"] = M.invalid_citations(answer, retrieved)
    if answer.mode == "llm":
        if ctx["is_supported"] is not None:
            units, uncited = M.llm_grounding(answer, abstracts, ctx["is_supported"], ctx["support_threshold"],
                                             embedder=ctx["embedder"])
            rec["grounding"] = {"mode": "llm", "units": len(units), "supported": sum(u["supported"] for u in units),
                                "uncited_sentences": uncited,
                                "unsupported": [u["text"] for u in units if not u["supported"]]}
        else:
            rec["grounding"] = {"mode": "llm", "units": 0, "supported": 0, "unavailable": True}
    else:
        units = M.extractive_grounding(answer, abstracts)
        rec["grounding"] = {"mode": "extractive", "units": len(units), "supported": sum(u["supported"] for u in units),
                            "unsupported": [u["text"] for u in units if not u["supported"]]}
    if q.kind == "detail" and q.absent:
        # The abstract does not state the fact: the honest answer says so instead of quoting a near miss.
        rec["absent_honest"] = M.says_absent(answer)
    elif q.kind == "detail":
        ok, missing = M.facts_found(answer.answer, q.must_contain)
        rec["facts_found"], rec["facts_missing"] = ok, missing
    if q.sides:
        rec["both_sides"], rec["sides_problem"] = M.comparison_both_sides(answer, q.sides)
    if q.date_from or q.date_to:
        rec["within_window"], rec["window_problem"] = M.within_window(answer, ctx.get("dates", {}), q.date_from, q.date_to)
    if q.kind == "followup" and q.ordinal is not None:
        rec["ordinal_resolved"] = M.ordinal_resolved(answer, q.relevant)
    if q.kind == "followup" and q.code_followup:
        rec["code_followup_resolved"], rec["code_followup_problem"] = M.code_followup_resolved(answer, q.relevant)
    if q.kind == "code":
        rec["code_url_found"] = M.code_url_found(answer, q.code_url, q.relevant)
    if q.kind == "followup":
        ok, why = M.followup_resolved(answer, q)
        rec["followup_resolved"], rec["followup_problem"] = ok, why
    refused = M.refused(answer)
    if q.answerable:
        rec["wrongly_refused"] = bool(answer.refused)
    else:
        rec["refused_ok"] = refused
    return rec


def answer_record(answer) -> dict:
    return {
        "text": answer.answer, "refused": answer.refused, "mode": answer.mode, "notice": answer.notice,
        "sources": [{"n": s.n, "paper_id": s.paper_id, "title": s.title, "score": s.score} for s in answer.sources],
    }


# ---- aggregation ------------------------------------------------------------------------------

def _share(flags) -> float | None:
    flags = [bool(f) for f in flags]
    return sum(flags) / len(flags) if flags else None


def aggregate_retrieval(records: list[dict], field: str = "retrieval") -> dict:
    out: dict = {}
    groups = {kind: [r for r in records if r["kind"] == kind and r.get(field)] for kind in RETRIEVAL_KINDS}
    groups["single"] = [r for r in records if r["kind"] in SINGLE_PAPER_KINDS and r.get(field)]
    for name, rs in groups.items():
        if not rs:
            continue
        keys = rs[0][field].keys()
        out[name] = {"n": len(rs), **{key: M.mean(r[field][key] for r in rs) for key in keys}}
    return out


def aggregate_citations(records: list[dict], prefix: str = "") -> dict:
    out: dict = {}
    answerable = [r for r in records if r["kind"] != "unanswerable" and f"{prefix}citation_recall" in r]
    for kind in KIND_ORDER:
        rs = [r for r in answerable if r["kind"] == kind]
        if rs:
            out[kind] = {"n": len(rs), "precision": M.mean(r[f"{prefix}citation_precision"] for r in rs),
                         "recall": M.mean(r[f"{prefix}citation_recall"] for r in rs)}
    if answerable:
        out["overall"] = {"n": len(answerable),
                          "precision": M.mean(r[f"{prefix}citation_precision"] for r in answerable),
                          "recall": M.mean(r[f"{prefix}citation_recall"] for r in answerable)}
    return out


def aggregate(records: list[dict], settings, llm: bool) -> dict:
    ok = [r for r in records if "error" not in r]
    m: dict = {"retrieval": aggregate_retrieval(records), "citations": aggregate_citations(ok)}
    m["citations"]["invalid"] = sum(len(r["invalid_citations"]) for r in ok)
    m["citations"]["answers_with_invalid"] = sum(bool(r["invalid_citations"]) for r in ok)

    g: dict = {}
    for mode in ("extractive", "llm"):
        rs = [r for r in ok if r["grounding"]["mode"] == mode]
        units = sum(r["grounding"]["units"] for r in rs)
        supported = sum(r["grounding"]["supported"] for r in rs)
        if rs:
            g[mode] = supported / units if units else None
            g[f"{mode}_units"] = units
            g[f"{mode}_answers"] = len(rs)
    if llm:
        g["support_threshold"] = settings.support_threshold
        g["support_check"] = "assistant.llm.support.is_supported" if any(
            not r["grounding"].get("unavailable") for r in ok if r["grounding"]["mode"] == "llm") else "unavailable"
    m["groundedness"] = g

    a: dict = {}
    applies = {"facts_found": lambda r: r["kind"] == "detail" and not r.get("absent"),
               "code_url_found": lambda r: r["kind"] == "code", "followup_resolved": lambda r: r["kind"] == "followup"}
    for key, field in (("detail_facts", "facts_found"), ("code_urls", "code_url_found"),
                       ("followups_resolved", "followup_resolved"), ("comparisons_both_sides", "both_sides"),
                       ("dated_within_window", "within_window"), ("absent_facts_honest", "absent_honest"),
                       ("ordinal_followups", "ordinal_resolved"), ("code_followups", "code_followup_resolved")):
        # A question that raised an error counts as a failure of every metric that applies to it.
        rs = [r for r in records if field in r or applies.get(field, lambda r: False)(r)]
        if rs:
            a[key] = _share(r.get(field) for r in rs)
            a[f"{key}_n"] = len(rs)
    m["answers"] = a
    m["styles"] = per_style(records)
    groups = paraphrase_agreement(records)
    if groups:
        m["paraphrase"] = groups

    unanswerable = [r for r in records if r["kind"] == "unanswerable"]
    answerable = [r for r in records if r["kind"] != "unanswerable"]
    ref: dict = {}
    if unanswerable:
        ref["unanswerable_refused"] = _share(r.get("refused_ok") for r in unanswerable)
        ref["unanswerable_n"] = len(unanswerable)
    if answerable:
        ref["wrongly_refused"] = _share(r.get("wrongly_refused") for r in answerable)
        ref["wrongly_refused_count"] = sum(bool(r.get("wrongly_refused")) for r in answerable)
        ref["answerable_n"] = len(answerable)
    m["refusals"] = ref

    lat: dict = {}
    times = [r["ask_ms"] for r in ok if r.get("ask_ms") is not None]
    lat["p50_ms"], lat["p95_ms"] = M.percentile(times, 50), M.percentile(times, 95)
    for kind in KIND_ORDER:
        kt = [r["ask_ms"] for r in ok if r["kind"] == kind and r.get("ask_ms") is not None]
        if kt:
            lat[kind] = {"p50_ms": M.percentile(kt, 50), "p95_ms": M.percentile(kt, 95)}
    m["latency"] = lat

    if llm:
        m["llm"] = {"fallback_share": _share(r["answer"]["mode"] == "extractive-fallback" for r in ok),
                    "modes": {mode: sum(r["answer"]["mode"] == mode for r in ok)
                              for mode in sorted({r["answer"]["mode"] for r in ok})}}
    m["errors"] = len(records) - len(ok)
    return m


def per_style(records: list[dict]) -> dict:
    """The headline answer metrics for each phrasing style (formal, keywords, casual, typo, ...)."""
    out: dict = {}
    for style in sorted({r.get("style", "formal") for r in records}):
        rs = [r for r in records if r.get("style", "formal") == style and "error" not in r]
        answerable = [r for r in rs if r["kind"] != "unanswerable"]
        row: dict = {"n": len(rs),
                     "citation_recall": M.mean(r.get("citation_recall") for r in answerable),
                     "citation_precision": M.mean(r.get("citation_precision") for r in answerable),
                     "wrongly_refused": _share(r.get("wrongly_refused") for r in answerable)}
        una = [r for r in rs if r["kind"] == "unanswerable"]
        if una:
            row["unanswerable_refused"] = _share(r.get("refused_ok") for r in una)
        facts = [r for r in rs if "facts_found" in r]
        if facts:
            row["detail_facts"] = _share(r["facts_found"] for r in facts)
        out[style] = {k: v for k, v in row.items() if v is not None}
    return out


def paraphrase_agreement(records: list[dict]) -> dict:
    """Mean Jaccard of the cited papers across rephrasings of one question (the original and its
    paraphrases), and each style's citation recall relative to the formal style's."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r.get("group", r["id"]), []).append(r)
    per_group = {g: M.mean_pairwise_jaccard([r.get("cited", []) for r in rs if "error" not in r])
                 for g, rs in groups.items() if len(rs) > 1}
    per_group = {g: v for g, v in per_group.items() if v is not None}
    if not per_group:
        return {}
    out: dict = {"jaccard_mean": M.mean(per_group.values()), "groups": len(per_group),
                 "jaccard_by_kind": {}}
    for kind in KIND_ORDER:
        vals = [v for g, v in per_group.items() if groups[g][0]["kind"] == kind]
        if vals:
            out["jaccard_by_kind"][kind] = M.mean(vals)
    styles = per_style(records)
    formal = styles.get("formal", {}).get("citation_recall")
    if formal:
        ratios = {s: row["citation_recall"] / formal for s, row in styles.items()
                  if s != "formal" and row.get("citation_recall") is not None}
        if ratios:
            out["recall_ratio_by_style"] = ratios
            out["worst_style_recall_ratio"] = min(ratios.values())
    out["low_agreement"] = sorted((g for g, v in per_group.items() if v < 0.5), key=per_group.get)
    return out


_KIND_KEYS = {"detail": ("facts_found",), "code": ("code_url_found",), "followup": ("followup_resolved",),
              "comparison": ("both_sides",), "dated": ("within_window",)}


def per_kind(records: list[dict]) -> dict:
    """One row per kind for the tables: everything that applies to that kind."""
    rows = {}
    for kind in KIND_ORDER:
        rs = [r for r in records if r["kind"] == kind]
        if not rs:
            continue
        ok = [r for r in rs if "error" not in r]
        row: dict = {"n": len(rs)}
        ret = aggregate_retrieval(rs).get(kind, {})
        row.update({k: v for k, v in ret.items() if k != "n"})
        if kind != "unanswerable":
            row["cite_precision"] = M.mean(r.get("citation_precision") for r in ok)
            row["cite_recall"] = M.mean(r.get("citation_recall") for r in ok)
            row["wrongly_refused"] = _share(r.get("wrongly_refused") for r in rs)
        else:
            row["refused"] = _share(r.get("refused_ok") for r in rs)
        row["invalid_citations"] = sum(len(r.get("invalid_citations", [])) for r in ok)
        units = sum(r["grounding"]["units"] for r in ok)
        row["grounded"] = sum(r["grounding"]["supported"] for r in ok) / units if units else None
        for key in ("facts_found", "code_url_found", "followup_resolved", "both_sides", "within_window",
                    "absent_honest", "ordinal_resolved", "code_followup_resolved"):
            applies = [r for r in rs if key in r or ("error" in r and key in _KIND_KEYS.get(kind, ()))]
            if applies:
                row[key] = _share(r.get(key) for r in applies)
        times = [r["ask_ms"] for r in ok if r.get("ask_ms") is not None]
        row["p50_ms"], row["p95_ms"] = M.percentile(times, 50), M.percentile(times, 95)
        rows[kind] = row
    return rows


# ---- baselines --------------------------------------------------------------------------------

def run_baselines(assistant, questions: list[Question], records: list[dict], names, progress) -> dict:
    from .baselines import Baselines

    started = time.perf_counter()
    progress(f"building baselines: {', '.join(names)}")
    b = Baselines(assistant, tuple(names))
    by_id = {r["id"]: r for r in records}
    out: dict = {"build_seconds": b.build_seconds}
    try:
        if "starter" in names:
            out["starter_chunks"] = getattr(b, "starter_chunks", None)
        for name in names:
            recs = []
            for q in questions:
                if q.kind not in RETRIEVAL_KINDS and not (name == "starter"):
                    continue
                ranked = b.rank(name, q.question, K)
                rec = {"id": q.id, "kind": q.kind, "retrieved": ranked}
                if q.kind in RETRIEVAL_KINDS:
                    rec["retrieval"] = retrieval_scores(q.kind, q.relevant, ranked)
                if name == "starter":
                    # No LLM: the "answer" cites what the retriever returned; it never refuses.
                    if q.answerable:
                        rec["citation_precision"], rec["citation_recall"] = citation_scores(q, ranked)
                        rec["wrongly_refused"] = False
                    else:
                        rec["refused_ok"] = False
                recs.append(rec)
                by_id[q.id].setdefault("baselines", {})[name] = ranked
            summary: dict = {"retrieval": aggregate_retrieval(recs)}
            if name == "starter":
                summary["citations"] = aggregate_citations(recs)
                una = [r for r in recs if r["kind"] == "unanswerable"]
                ans = [r for r in recs if r["kind"] != "unanswerable"]
                summary["refusals"] = {}
                if una:
                    summary["refusals"]["unanswerable_refused"] = _share(r["refused_ok"] for r in una)
                if ans:
                    summary["refusals"]["wrongly_refused"] = _share(r["wrongly_refused"] for r in ans)
            out[name] = summary
    finally:
        b.close()
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out


# ---- the run ----------------------------------------------------------------------------------

def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_eval(settings, questions: list[Question], *, baselines: tuple[str, ...] = (), progress=_stderr,
             questions_path: str = "", split: str = "dev") -> dict:
    from assistant.core import Assistant

    progress = progress or (lambda msg: None)
    started = time.perf_counter()
    assistant = Assistant(settings)
    check_known_papers(questions, set(assistant.paper_meta))
    load_seconds = time.perf_counter() - started
    llm = settings.answerer != "extractive"

    ids = list(assistant.paper_meta)
    papers = assistant.store.papers(ids)
    sentences = assistant.store.sentences_of(ids)
    abstracts = {pid: sentences.get(pid, ([], None))[0] or [papers[pid].abstract] for pid in papers}
    ctx = {"is_supported": _support_checker(settings) if llm else None,
           "support_threshold": settings.support_threshold, "embedder": assistant.embedder, "settings": settings,
           "dates": {pid: m.get("date") or None for pid, m in assistant.paper_meta.items()}}

    records = []
    for i, q in enumerate(questions, start=1):
        rec: dict = {"id": q.id, "kind": q.kind, "question": q.question, "turns": list(q.turns),
                     "relevant": list(q.relevant), "style": q.style, "lang": q.lang, "group": q.group}
        if q.absent:
            rec["absent"] = True
        try:
            if q.kind in RETRIEVAL_KINDS:
                t = time.perf_counter()
                ranked = [h.paper_id for h in assistant.search(q.question, k=K)]
                rec["search_ms"] = (time.perf_counter() - t) * 1000
                rec["retrieved"] = ranked
                rec["retrieval"] = retrieval_scores(q.kind, q.relevant, ranked)
            answer, seconds, earlier, retrieved = ask_question(assistant, q)
            rec["ask_ms"] = seconds * 1000
            rec["answer"] = answer_record(answer)
            if earlier:
                rec["earlier_cited"] = [M.cited_papers(a) for a in earlier]
            rec.update(score_question(q, answer, retrieved, abstracts, ctx))
        except Exception as exc:  # one broken question must not hide the other 104
            rec["error"] = f"{type(exc).__name__}: {exc}"
            rec["traceback"] = traceback.format_exc(limit=5)
            rec.setdefault("invalid_citations", [])
        records.append(rec)
        if i % 10 == 0 or i == len(questions):
            progress(f"  {i}/{len(questions)} questions ({time.perf_counter() - started:.0f} s)")
    eval_seconds = time.perf_counter() - started

    report = {
        "split": split,
        "questions_file": questions_path,
        "questions": len(questions),
        "kinds": {k: sum(q.kind == k for q in questions) for k in KIND_ORDER if any(q.kind == k for q in questions)},
        "styles": {s: sum(q.style == s for q in questions) for s in sorted({q.style for q in questions})},
        "settings": {
            "index": settings.chroma_url or str(settings.index_dir), "preset": settings.preset,
            "answerer": settings.answerer, "embed_model": settings.embed_model, "top_k": settings.top_k,
            "dense_k": settings.dense_k, "keyword_k": settings.keyword_k, "max_cited": settings.max_cited,
            "min_relevance": settings.min_relevance, "relative_cutoff": settings.relative_cutoff,
            **({"llm_base_url": settings.llm_base_url, "llm_model": settings.llm_model} if llm else {}),
        },
        "metrics": aggregate(records, settings, llm),
        "per_kind": per_kind(records),
        "records": records,
        "timing": {"load_seconds": round(load_seconds, 2), "questions_seconds": round(eval_seconds - load_seconds, 2)},
    }
    if baselines:
        report["baselines"] = run_baselines(assistant, questions, records, baselines, progress)
    seen = {p for r in records for key in ("relevant", "retrieved", "cited") for p in r.get(key, [])}
    seen |= {p for r in records for ps in r.get("baselines", {}).values() for p in ps}
    report["titles"] = {p: assistant.paper_meta[p]["title"] for p in sorted(seen) if p in assistant.paper_meta}
    report["timing"]["total_seconds"] = round(time.perf_counter() - started, 2)
    return report
