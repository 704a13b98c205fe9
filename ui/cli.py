"""`paperchat` console script: one verb per package, each registered by that package's command module.

This is the CLI's one error boundary: whatever goes wrong below becomes one line on stderr that
says what to do, and a non-zero exit. `--debug` (anywhere on the line) or PAPERCHAT_DEBUG=1 shows
the traceback instead."""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from assistant.errors import PaperchatError, explain

VERBS = ("ingest.command", "assistant.command", "eval.command", "ui.command")
DEBUG_FLAG = "--debug"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage + message; keep it to one line
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="paperchat",
        description="Answer questions about research-paper abstracts, citing the papers.",
        epilog='e.g.  paperchat ingest  ·  paperchat ask "which papers merge models without retraining?"  ·  paperchat ui'
               "   (add --debug to any command to see a traceback on errors)",
    )
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for module_name in VERBS:
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(sub)
    return parser


def _debug_requested(argv: list[str]) -> tuple[bool, list[str]]:
    """--debug is accepted anywhere before a `--`; PAPERCHAT_DEBUG=1 does the same."""
    head, sep, tail = (argv[: argv.index("--")], ["--"], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [], [])
    flagged = DEBUG_FLAG in head
    env = os.environ.get("PAPERCHAT_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
    return flagged or env, [a for a in head if a != DEBUG_FLAG] + sep + tail


def _say(message: str) -> None:
    try:
        print(f"paperchat: {message}", file=sys.stderr, flush=True)
    except (BrokenPipeError, OSError):
        pass


def _quiet_stdout() -> None:
    """The reader went away (`| head`): send what is left to /dev/null so the interpreter's
    final flush does not print a BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    debug, argv = _debug_requested(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.run(args) or 0)
    except SystemExit as exc:  # argparse's usage errors and --help
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except PaperchatError as exc:
        if debug:
            traceback.print_exc()
        _say(" ".join(str(exc).split()) or type(exc).__name__)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the boundary: nothing below may print a traceback
        if debug:
            traceback.print_exc()
            return 1
        known = explain(exc)
        if known:
            _say(known)
            return 2
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        _say(f"unexpected error ({type(exc).__name__}{': ' + detail if detail else ''}); "
             "run the command again with --debug for the details and report them")
        return 1


if __name__ == "__main__":
    sys.exit(main())
