"""`paperchat eval`: run the question set through the Assistant, write JSON + markdown reports,
and exit 1 when a metric falls below eval/thresholds.toml."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from assistant.errors import PaperchatError

REPORTS_DIR = Path(__file__).resolve().parent / "reports"
BASELINE_NAMES = ("bm25", "dense", "starter")


def register(sub) -> None:
    p = sub.add_parser("eval", help="measure retrieval, citations, groundedness and refusals on a question set")
    p.add_argument("--split", choices=["dev", "dev2", "dev3", "dev4", "dev5", "paraphrase", "test"], default="dev",
                   help="dev: eval/questions.jsonl (tuned on); paraphrase: eval/paraphrases.jsonl with the dev "
                   "questions they rephrase; dev2 to dev5: eval/dev<N>_questions.jsonl (written blind, then tuned "
                   "on); test: eval/test_questions.jsonl (written blind, report only)")
    p.add_argument("--questions", type=Path, help="questions JSONL instead of the split's file")
    p.add_argument("--json", type=Path, metavar="OUT", help="JSON report path (default: eval/reports/eval-<time>.json)")
    p.add_argument("--markdown", type=Path, metavar="OUT",
                   help="markdown report path; the PNG chart is written next to it (default: eval/reports/eval-<time>.md)")
    p.add_argument("--baselines", action="store_true",
                   help="also run BM25 only, dense only and the LlamaIndex starter pipeline")
    p.add_argument("--llm", choices=["openai", "llamacpp"], help="answer with a language model")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    p.add_argument("--model", help="model name at the endpoint, or a GGUF file for --llm llamacpp")
    p.add_argument("--thresholds", type=Path,
                   help="floors to enforce (default: eval/thresholds.toml for dev, eval/thresholds_<split>.toml otherwise)")
    p.set_defaults(run=run)


def _settings(args):
    from assistant.settings import get_settings

    overrides = {}
    if args.llm:
        overrides["answerer"] = args.llm
        if args.base_url:
            overrides["llm_base_url"] = args.base_url
        if args.model:
            overrides["llm_model_path" if args.llm == "llamacpp" else "llm_model"] = args.model
    elif args.base_url or args.model:
        raise PaperchatError("--base-url and --model need --llm openai or --llm llamacpp")
    try:
        return get_settings(**overrides)
    except ValueError as exc:
        raise PaperchatError(str(exc).splitlines()[0]) from None


def run(args: argparse.Namespace) -> int:
    from .questions import SPLITS, load_split
    from .report import print_summary, write_json, write_markdown
    from .run import run_eval
    from .thresholds import check, default_thresholds, load_thresholds

    # Everything a user can get wrong is checked before the model loads.
    questions = load_split(args.split, args.questions)
    thresholds_path = args.thresholds or default_thresholds(args.split)
    thresholds = load_thresholds(thresholds_path)
    settings = _settings(args)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    json_path = args.json or REPORTS_DIR / f"eval-{args.split}-{stamp}.json"
    md_path = args.markdown or (json_path.with_suffix(".md") if args.json else REPORTS_DIR / f"eval-{args.split}-{stamp}.md")
    source = args.questions or SPLITS[args.split]
    try:
        shown = Path(source).resolve().relative_to(Path.cwd())
    except ValueError:
        shown = source

    print(f"paperchat eval: {args.split} split, {len(questions)} questions from {shown}, answerer {settings.answerer}",
          file=sys.stderr)
    report = run_eval(settings, questions, baselines=BASELINE_NAMES if args.baselines else (),
                      questions_path=str(shown), split=args.split)
    fails, skipped = check(report["metrics"], thresholds)
    report["thresholds"] = thresholds
    report["threshold_check"] = {"file": str(thresholds_path), "failures": fails, "skipped": skipped}

    write_json(report, json_path)
    md, png = write_markdown(report, md_path)
    print_summary(report, sys.stdout)
    print(f"\nreports: {json_path}  {md}" + (f"  {png}" if png else ""))
    t = report["timing"]
    print(f"took {t['total_seconds']:.0f} s (questions {t['questions_seconds']:.0f} s"
          + (f", baselines {report['baselines']['seconds']:.0f} s" if "baselines" in report else "") + ")")
    if report["metrics"].get("errors"):
        print(f"{report['metrics']['errors']} question(s) raised an error: see the report", file=sys.stderr)
    if fails:
        print(f"FAILED: {len(fails)} metric(s) below the floors in {thresholds_path}:", file=sys.stderr)
        for f in fails:
            print(f"  {f['metric']} = {f['value']:.4g} (needs {f['op']} {f['bound']:g})", file=sys.stderr)
        return 1
    print(f"all floors in {thresholds_path} met" + (f" ({len(skipped)} not measured)" if skipped else ""))
    return 0
