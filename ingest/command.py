"""`paperchat ingest`: the CLI face of ingest.pipeline.run_ingest."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.settings import get_settings

from .pipeline import run_ingest

MAX_SHOWN = 50  # problem lines printed; a 2-million-line import with a systematic fault would drown the terminal


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="read paper abstracts into the search index",
        description=(
            "Read Hugging Face Daily Papers page dumps (.txt), JSON Lines / JSON (incl. the arXiv "
            "metadata snapshot) or CSV with title and abstract columns, and index them. Only new "
            "or changed papers are embedded. Default input: the data dir (PAPERCHAT_DATA_DIR)."
        ),
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders to ingest")
    parser.add_argument("--prune", action="store_true", help="drop indexed papers that are not in the inputs")
    parser.add_argument("--rebuild", action="store_true", help="start the index over (e.g. after changing model)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                        help="embed on a Ray cluster (default address: auto, the local one; "
                             "needs the [scale] extra)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()  # a bad PAPERCHAT_* value is one BadSettings line
    report = run_ingest(args.paths or None, settings, prune=args.prune, rebuild=args.rebuild,
                        ray_address=args.ray)
    for warning in report.warnings[:MAX_SHOWN]:
        print(warning, file=sys.stderr)
    if len(report.warnings) > MAX_SHOWN:
        print(f"… and {len(report.warnings) - MAX_SHOWN:,} more problems (`paperchat ingest --json` lists them all)",
              file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.model_dump(), indent=2))
    else:
        print(report.summary())
    return report.exit_code
