"""Write the JSON and markdown reports (with a PNG chart) and print the compact stdout table."""
from __future__ import annotations

import json
from pathlib import Path

# (label, dotted metric for ours, dotted metric inside a baseline summary, target)
MAIN = [
    ("topic recall@10", "retrieval.topic.recall@10", "retrieval.topic.recall@10", 0.95),
    ("topic nDCG@10", "retrieval.topic.ndcg@10", "retrieval.topic.ndcg@10", 0.90),
    ("single-paper hit@1", "retrieval.single.hit@1", "retrieval.single.hit@1", 0.97),
    ("single-paper hit@5", "retrieval.single.hit@5", "retrieval.single.hit@5", None),
    ("single-paper MRR", "retrieval.single.mrr", "retrieval.single.mrr", None),
    ("topic citation precision", "citations.topic.precision", "citations.topic.precision", 0.85),
    ("topic citation recall", "citations.topic.recall", "citations.topic.recall", None),
    ("all citation precision", "citations.overall.precision", "citations.overall.precision", None),
    ("unanswerable refused", "refusals.unanswerable_refused", "refusals.unanswerable_refused", 0.875),
]
OURS_ONLY = [
    ("groundedness (extractive)", "groundedness.extractive", 1.0),
    ("groundedness (llm)", "groundedness.llm", None),
    ("detail facts found", "answers.detail_facts", 0.9),
    ("code URLs found", "answers.code_urls", 0.9),
    ("follow-ups resolved", "answers.followups_resolved", None),
    ("comparisons citing both sides", "answers.comparisons_both_sides", 5 / 6),
    ("dated answered within window", "answers.dated_within_window", 0.8),
    ("absent facts said absent", "answers.absent_facts_honest", None),
    ("ordinal follow-ups", "answers.ordinal_followups", None),
    ("code follow-ups", "answers.code_followups", 1.0),
    ("paraphrase agreement (Jaccard)", "paraphrase.jaccard_mean", 0.8),
    ("worst style / formal recall", "paraphrase.worst_style_recall_ratio", 0.8),
    ("wrongly refused (answerable)", "refusals.wrongly_refused", 0.02),
    ("invalid citations", "citations.invalid", 0),
    ("LLM answers replaced by guard", "llm.fallback_share", None),
    ("latency p50 ms", "latency.p50_ms", None),
    ("latency p95 ms", "latency.p95_ms", None),
]
BASELINES = ("bm25", "dense", "starter")
BASELINE_LABEL = {"bm25": "BM25 only", "dense": "dense only", "starter": "LlamaIndex starter"}
KIND_COLUMNS = [
    ("n", "n"), ("recall@10", "R@10"), ("ndcg@10", "nDCG@10"), ("hit@1", "hit@1"), ("hit@5", "hit@5"),
    ("mrr", "MRR"), ("cite_precision", "cite P"), ("cite_recall", "cite R"), ("invalid_citations", "invalid"),
    ("grounded", "grounded"), ("facts_found", "facts"), ("code_url_found", "code URL"),
    ("followup_resolved", "resolved"), ("both_sides", "both sides"), ("within_window", "in window"),
    ("absent_honest", "says absent"), ("ordinal_resolved", "ordinal"), ("code_followup_resolved", "code f-up"),
    ("refused", "refused"), ("wrongly_refused", "wrongly refused"),
    ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"),
]


def dig(tree: dict, dotted: str):
    node = tree
    parts = dotted.split(".")
    # metric names such as "recall@10" contain no dots; kinds and groups do not either
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def fmt(value, key: str = "") -> str:
    if value is None:
        return "–"
    if key.endswith("_ms") or key in ("n", "invalid_citations") or key.endswith("invalid"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def ratio(base, ours) -> str:
    if base is None or ours is None:
        return ""
    if ours == 0:
        return " (–)" if base else " (1.00×)"
    return f" ({base / ours:.2f}×)"


def main_rows(report: dict) -> list[dict]:
    rows = []
    base = report.get("baselines", {})
    for label, ours_key, base_key, target in MAIN:
        row = {"label": label, "metric": ours_key, "ours": dig(report["metrics"], ours_key), "target": target}
        for name in BASELINES:
            if name in base:
                row[name] = dig(base[name], base_key)
        rows.append(row)
    for label, key, target in OURS_ONLY:
        value = dig(report["metrics"], key)
        if value is not None:
            rows.append({"label": label, "metric": key, "ours": value, "target": target})
    return rows


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    for r in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def kind_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    per_kind = report["per_kind"]
    used = [(k, h) for k, h in KIND_COLUMNS if any(row.get(k) is not None for row in per_kind.values())]
    rows = [[kind] + [fmt(row.get(k), k) for k, _ in used] for kind, row in per_kind.items()]
    return ["kind"] + [h for _, h in used], rows


STYLE_COLUMNS = [("n", "n"), ("citation_recall", "cite R"), ("citation_precision", "cite P"),
                 ("wrongly_refused", "wrongly refused"), ("unanswerable_refused", "unanswerable refused"),
                 ("detail_facts", "facts")]


def style_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    styles = report["metrics"].get("styles", {})
    used = [(k, h) for k, h in STYLE_COLUMNS if any(row.get(k) is not None for row in styles.values())]
    ratios = report["metrics"].get("paraphrase", {}).get("recall_ratio_by_style", {})
    header = ["style"] + [h for _, h in used] + (["R / formal"] if ratios else [])
    rows = [[style] + [fmt(row.get(k), k) for k, _ in used] + ([fmt(ratios.get(style))] if ratios else [])
            for style, row in styles.items()]
    return header, rows


def summary_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    present = [b for b in BASELINES if b in report.get("baselines", {})]
    header = ["metric", "ours"] + [BASELINE_LABEL[b] for b in present] + ["floor", "target"]
    floors = report.get("thresholds", {})
    rows = []
    for row in main_rows(report):
        floor = floors.get("min", {}).get(row["metric"])
        ceil = floors.get("max", {}).get(row["metric"])
        bound = f">= {floor:g}" if floor is not None else (f"<= {ceil:g}" if ceil is not None else "")
        target = row.get("target")
        tgt = ""
        if target is not None:
            tgt = f"<= {target:g}" if row["metric"] in ("refusals.wrongly_refused", "citations.invalid") else f">= {target:g}"
        rows.append([row["label"], fmt(row["ours"], row["metric"])]
                    + [fmt(row.get(b), row["metric"]) + ratio(row.get(b), row["ours"]) for b in present]
                    + [bound, tgt])
    return header, rows


# ---- failures -----------------------------------------------------------------------------------

def failures(report: dict) -> dict[str, list[str]]:
    """Concrete failing questions, worst first within each group."""
    t = report.get("titles", {})

    def name(pid: str) -> str:
        title = t.get(pid, "")
        return f"{pid} ({title[:60]})" if title else pid

    recs = report["records"]
    out: dict[str, list[str]] = {}
    topic = sorted((r for r in recs if r["kind"] == "topic" and r.get("retrieval")),
                   key=lambda r: r["retrieval"]["recall@10"])
    out["topic retrieval (recall@10 < 1)"] = [
        f"`{r['id']}` R@10 {r['retrieval']['recall@10']:.2f} nDCG {r['retrieval']['ndcg@10']:.2f}: missed "
        + ", ".join(name(p) for p in r["relevant"] if p not in r["retrieved"])
        + "; ranked instead: " + ", ".join(name(p) for p in r["retrieved"] if p not in r["relevant"])[:400]
        for r in topic if r["retrieval"]["recall@10"] < 1
    ]
    single = sorted((r for r in recs if r.get("retrieval") and "hit@1" in r["retrieval"]),
                    key=lambda r: r["retrieval"]["mrr"])
    def first_rank(r):
        ranks = [i + 1 for i, p in enumerate(r["retrieved"]) if p in r["relevant"]]
        return ranks[0] if ranks else ">10"

    out["single-paper retrieval (hit@1 miss)"] = [
        f"`{r['id']}` ({r['kind']}) wanted {' or '.join(name(p) for p in r['relevant'])} at rank "
        f"{first_rank(r)}; rank 1: {name(r['retrieved'][0]) if r['retrieved'] else 'nothing'}"
        for r in single if r["retrieval"]["hit@1"] < 1
    ]
    cite = sorted((r for r in recs if r.get("citation_recall") is not None and r["kind"] != "unanswerable"),
                  key=lambda r: ((r.get("citation_precision") or 0) + r["citation_recall"]))
    out["citations (precision or recall < 1)"] = [
        f"`{r['id']}` ({r['kind']}) P {fmt(r.get('citation_precision'))} R {r['citation_recall']:.2f}: "
        + ("extra " + ", ".join(name(p) for p in r["cited"] if p not in r["relevant"]) + "; " if any(
            p not in r["relevant"] for p in r["cited"]) else "")
        + ("missed " + ", ".join(name(p) for p in r["relevant"] if p not in r["cited"]) if any(
            p not in r["cited"] for p in r["relevant"]) else "")
        for r in cite if (r.get("citation_precision") or 0) < 1 or r["citation_recall"] < 1
    ]
    def cited(r) -> str:
        return ", ".join(name(p) for p in r["cited"]) or "nothing"

    out["detail facts missing"] = [
        f"`{r['id']}` missing {r['facts_missing']}; cited {cited(r)}" for r in recs if r.get("facts_found") is False
    ]
    out["code URL missing"] = [f"`{r['id']}` cited {cited(r)}" for r in recs if r.get("code_url_found") is False]
    out["follow-ups unresolved"] = [
        f"`{r['id']}` {r['followup_problem']}; earlier turns cited {r.get('earlier_cited')}; last cited "
        f"{cited(r)}; relevant {r['relevant']}"
        for r in recs if r.get("followup_resolved") is False
    ]
    out["comparisons missing a side"] = [f"`{r['id']}` {r['sides_problem']}; cited {cited(r)}"
                                         for r in recs if r.get("both_sides") is False]
    out["dated answers outside the window"] = [f"`{r['id']}` {r['window_problem']}"
                                               for r in recs if r.get("within_window") is False]
    out["absent facts not said absent"] = [f"`{r['id']}`: {r['answer']['text'][:160]}"
                                           for r in recs if r.get("absent_honest") is False]
    out["unanswerable not refused"] = [f"`{r['id']}` cited {cited(r)}" for r in recs if r.get("refused_ok") is False]
    out["answerable but refused"] = [
        f"`{r['id']}` ({r['kind']}): {r['answer']['text'][:160]}" for r in recs if r.get("wrongly_refused")
    ]
    out["ungrounded quotes"] = [
        f"`{r['id']}`: {u[:160]}" for r in recs for u in r.get("grounding", {}).get("unsupported", [])
    ]
    out["invalid citations"] = [f"`{r['id']}`: {'; '.join(r['invalid_citations'])}"
                                for r in recs if r.get("invalid_citations")]
    out["errors"] = [f"`{r['id']}`: {r['error']}" for r in recs if r.get("error")]
    return {k: v for k, v in out.items() if v}


# ---- chart ------------------------------------------------------------------------------------

def write_chart(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in main_rows(report)[: len(MAIN)] if r["ours"] is not None]
    systems = ["ours"] + [b for b in BASELINES if b in report.get("baselines", {})]
    labels = {"ours": "paperchat", **BASELINE_LABEL}
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(rows) + 2), 4.5), dpi=110)
    width = 0.8 / len(systems)
    for i, system in enumerate(systems):
        xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(rows))]
        ys = [r.get(system) if system != "ours" else r["ours"] for r in rows]
        ax.bar([x for x, y in zip(xs, ys) if y is not None], [y for y in ys if y is not None], width,
               label=labels[system])
    for j, r in enumerate(rows):
        if r.get("target") is not None:
            ax.hlines(r["target"], j - 0.45, j + 0.45, colors="black", linestyles="dashed", linewidth=1)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r["label"] for r in rows], rotation=25, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (dashed: target)")
    ax.set_title(f"paperchat eval: {report.get('split', 'dev')} split, {report['questions']} questions")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


# ---- writers ----------------------------------------------------------------------------------

def write_json(report: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def markdown(report: dict, chart_name: str | None) -> str:
    s = report["settings"]
    timing = report["timing"]
    parts = [
        f"# paperchat eval: {report.get('split', 'dev')} split",
        f"{report['questions']} questions from `{report['questions_file']}` "
        f"({', '.join(f'{k} {n}' for k, n in report['kinds'].items())}); index `{s['index']}`, "
        f"answerer **{s['answerer']}**, preset {s['preset']}; run took {timing['total_seconds']:.0f} s "
        f"(questions {timing['questions_seconds']:.0f} s"
        + (f", baselines {report['baselines']['seconds']:.0f} s" if "baselines" in report else "") + ").",
        "",
        "Retrieval uses `Assistant.search(question, k=10)`; answers use `Assistant.ask` (follow-ups replay the "
        "earlier turns with the real answers as history). recall@10 divides by min(|relevant|, 10); "
        "citation precision averages over answers that cite something.",
    ]
    th = report.get("threshold_check")
    if th is not None:
        if th["failures"]:
            parts += ["", "**Below the floors in `" + th["file"] + "`:** " + "; ".join(
                f"{f['metric']} = {f['value']:.3f} (needs {f['op']} {f['bound']:g})" for f in th["failures"])]
        else:
            parts += ["", f"All floors in `{th['file']}` met."]
    header, rows = summary_rows(report)
    parts += ["", "## Main metrics", "", _table(header, rows)]
    if "baselines" in report:
        parts += ["", "Baselines in parentheses: ratio to ours. BM25 only and dense only aggregate chunks of our "
                  "index to papers; the LlamaIndex starter is a VectorStoreIndex over a fresh Chroma "
                  f"collection ({report['baselines'].get('starter_chunks', '?')} default SentenceSplitter chunks "
                  "of title+abstract, same embedding model), citing the papers of its top 10 nodes."]
    if chart_name:
        parts += ["", f"![main metrics vs baselines]({chart_name})"]
    header, rows = kind_rows(report)
    parts += ["", "## Per kind", "", _table(header, rows)]
    if len(report["metrics"].get("styles", {})) > 1:
        header, rows = style_rows(report)
        parts += ["", "## Per phrasing style", "", _table(header, rows)]
    para = report["metrics"].get("paraphrase")
    if para:
        parts += ["", f"Cited papers agree across rephrasings of one question: mean Jaccard "
                  f"{para['jaccard_mean']:.3f} over {para['groups']} questions ("
                  + ", ".join(f"{k} {v:.2f}" for k, v in para.get("jaccard_by_kind", {}).items()) + ")."]
        if para.get("low_agreement"):
            parts += [f"Below 0.5: {', '.join(para['low_agreement'])}."]
    if "baselines" in report:
        bl = report["baselines"]
        kinds = [k for k in ("topic", "specific", "detail", "code", "single") if k in report["metrics"]["retrieval"]]
        brows = []
        for kind in kinds:
            keys = ["recall@10", "ndcg@10"] if kind == "topic" else ["hit@1", "hit@5", "mrr"]
            for key in keys:
                ours = report["metrics"]["retrieval"][kind].get(key)
                brows.append([f"{kind} {key}", fmt(ours)] + [
                    fmt(dig(bl[b], f"retrieval.{kind}.{key}")) + ratio(dig(bl[b], f"retrieval.{kind}.{key}"), ours)
                    for b in BASELINES if b in bl])
        parts += ["", "## Retrieval per kind vs baselines", "",
                  _table(["metric", "ours"] + [BASELINE_LABEL[b] for b in BASELINES if b in bl], brows)]
    fails = failures(report)
    parts += ["", "## Failures", ""]
    if not fails:
        parts.append("None.")
    for group, lines in fails.items():
        parts += [f"### {group} ({len(lines)})", ""] + [f"- {line}" for line in lines] + [""]
    return "\n".join(parts).rstrip() + "\n"


def write_markdown(report: dict, path: Path, chart: bool = True) -> tuple[Path, Path | None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    png = None
    if chart:
        png = write_chart(report, path.with_suffix(".png"))
    path.write_text(markdown(report, png.name if png else None), encoding="utf-8")
    return path, png


def print_summary(report: dict, out) -> None:
    print(f"split: {report.get('split', 'dev')} ({report['questions_file']})", file=out)
    header, rows = kind_rows(report)
    print(_text_table(header, rows), file=out)
    if len(report["metrics"].get("styles", {})) > 1:
        header, rows = style_rows(report)
        print(file=out)
        print(_text_table(header, rows), file=out)
    print(file=out)
    header, rows = summary_rows(report)
    print(_text_table(header, rows), file=out)
