"""`paperchat` console script: one verb per package, each registered by that package's command module."""
from __future__ import annotations

import argparse
import sys

from assistant.errors import PaperchatError

VERBS = ("ingest.command", "assistant.command", "eval.command", "ui.command")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperchat",
        description="Answer questions about research-paper abstracts, citing the papers.",
        epilog='e.g.  paperchat ingest  ·  paperchat ask "which papers merge models without retraining?"  ·  paperchat ui',
    )
    sub = parser.add_subparsers(dest="verb", required=True)
    for module_name in VERBS:
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except PaperchatError as exc:
        print(f"paperchat: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("paperchat: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
