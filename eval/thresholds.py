"""Floors (and ceilings) a run must meet: eval/thresholds.toml, keys are dotted metric names."""
from __future__ import annotations

import tomllib
from pathlib import Path

from assistant.errors import PaperchatError

DEFAULT_THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"


def default_thresholds(split: str) -> Path:
    """dev: thresholds.toml; other splits: thresholds_<split>.toml (floors set from measured runs)."""
    return DEFAULT_THRESHOLDS if split == "dev" else DEFAULT_THRESHOLDS.with_name(f"thresholds_{split}.toml")

_GROUPS = {
    "retrieval": {kind: ("recall@10", "ndcg@10") if kind == "topic" else ("hit@1", "hit@5", "mrr")
                  for kind in ("topic", "specific", "detail", "code", "single")},
    "citations": {kind: ("precision", "recall")
                  for kind in ("topic", "specific", "detail", "code", "comparison", "dated", "followup", "overall")},
}
_FLAT = {
    "citations.invalid", "citations.answers_with_invalid",
    "groundedness.extractive", "groundedness.llm",
    "answers.detail_facts", "answers.code_urls", "answers.followups_resolved",
    "answers.comparisons_both_sides", "answers.dated_within_window", "answers.absent_facts_honest",
    "answers.ordinal_followups", "answers.code_followups",
    "paraphrase.jaccard_mean", "paraphrase.worst_style_recall_ratio",
    "refusals.unanswerable_refused", "refusals.wrongly_refused", "refusals.wrongly_refused_count",
    "latency.p50_ms", "latency.p95_ms", "llm.fallback_share", "errors",
}
KNOWN = _FLAT | {f"{g}.{kind}.{m}" for g, kinds in _GROUPS.items() for kind, ms in kinds.items() for m in ms}


class ThresholdsError(PaperchatError):
    pass


def flatten(metrics: dict, prefix: str = "") -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = value
    return out


def load_thresholds(path: str | Path | None = None) -> dict[str, dict[str, float]]:
    path = Path(path) if path else DEFAULT_THRESHOLDS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ThresholdsError(f"{path}: no such thresholds file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThresholdsError(f"{path}: not valid TOML ({exc})") from None
    out: dict[str, dict[str, float]] = {"min": {}, "max": {}}
    for section, values in data.items():
        if section not in out or not isinstance(values, dict):
            raise ThresholdsError(f"{path}: unknown section [{section}] (use [min] and [max])")
        for name, value in values.items():
            if name not in KNOWN:
                raise ThresholdsError(f"{path}: unknown metric {name!r} in [{section}]")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ThresholdsError(f"{path}: {name} in [{section}] must be a number")
            out[section][name] = float(value)
    return out


def check(metrics: dict, thresholds: dict[str, dict[str, float]]) -> tuple[list[dict], list[str]]:
    """(failures, skipped). A metric the run did not measure (no question of that kind) is skipped."""
    flat = flatten(metrics)
    failures, skipped = [], []
    for op, table in (("min", thresholds.get("min", {})), ("max", thresholds.get("max", {}))):
        for name, bound in table.items():
            value = flat.get(name)
            if value is None:
                skipped.append(name)
                continue
            bad = value < bound - 1e-9 if op == "min" else value > bound + 1e-9
            if bad:
                failures.append({"metric": name, "value": value, "op": ">=" if op == "min" else "<=", "bound": bound})
    return failures, skipped
