"""`paperchat ui`: serve the browser chat."""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ui",
        help="chat with the papers in a browser",
        description="Serve a browser chat over the indexed papers (builds the index of the bundled "
                    "corpus first if there is none).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default: 7860)")
    parser.set_defaults(run=run)


def browser_secret() -> str | None:
    """A stable key for the conversations kept in the browser, so they survive a restart of the
    server: PAPERCHAT_UI_SECRET, else one kept in the user's cache dir, else a fresh one."""
    if os.environ.get("PAPERCHAT_UI_SECRET"):
        return os.environ["PAPERCHAT_UI_SECRET"]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paperchat"
    path = base / "ui_secret"
    try:
        if path.exists():
            value = path.read_text().strip()
            if value:
                return value
        base.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return value
    except OSError:
        return None


def run(args) -> int:
    from assistant.errors import BadInput, IndexDamaged, IndexMissing
    from assistant.settings import get_settings

    if not 0 < args.port < 65536:
        raise BadInput(f"--port must be between 1 and 65535, not {args.port}")
    settings = get_settings()  # a bad PAPERCHAT_* value is one BadSettings line

    from assistant.store import Store
    from ingest.pipeline import ensure_index

    try:
        has_index = Store.open(settings).has_papers()  # not count_papers(): that reads every paper
    except (IndexMissing, IndexDamaged):
        has_index = False
    if not has_index:
        print(f"paperchat: no index at {settings.index_dir}: building it from the bundled corpus "
              f"({settings.data_dir}); this takes about half a minute on 2 cores the first time…", file=sys.stderr, flush=True)
        report = ensure_index(settings, progress=True)
        if report is not None:
            print(report.summary(), file=sys.stderr, flush=True)

    import threading

    from assistant.core import Assistant

    from .app import build_app, launch, warm_up

    print("paperchat: loading the index…", file=sys.stderr, flush=True)
    assistant = Assistant(settings)

    def warm() -> None:
        # In the background: the page is served at once, and the first question rarely arrives
        # before the sentence vectors are read (if it does, it reads the ones it needs itself).
        assistant.warm()
        seconds = warm_up(assistant)
        print(f"paperchat: warmed up ({assistant.paper_count} papers, answer mode {settings.answerer}, "
              f"{seconds:.1f} s)", file=sys.stderr, flush=True)

    demo = build_app(assistant, browser_secret=browser_secret())
    threading.Thread(target=warm, name="paperchat-warm-up", daemon=True).start()
    print(f"paperchat: open http://{args.host}:{args.port}/ (Ctrl+C to stop)", file=sys.stderr, flush=True)
    try:
        launch(demo, args.host, args.port, block=True, quiet=True)
    except ValueError as exc:
        # Gradio checks its own page with a 3 s timeout after the server is up; on a busy machine
        # (a replica starting beside others) that check times out and launch() raises, though the
        # server runs. Keep serving instead of exiting.
        if "localhost is not accessible" not in str(exc):
            raise
        demo.block_thread()
    return 0
