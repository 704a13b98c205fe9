"""`paperchat search` and `paperchat ask`."""
from __future__ import annotations

import json
import sys

from .errors import PaperchatError


def register(sub) -> None:
    p = sub.add_parser("search", help="rank the papers that match a question")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=None, help="number of papers (default: settings top_k)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run_search)

    p = sub.add_parser("ask", help="answer a question with cited papers (no question: a chat in the terminal)")
    p.add_argument("question", nargs="?")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--llm", choices=["openai", "llamacpp"], help="answer with a language model")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    p.add_argument("--model", help="model name at the endpoint, or a GGUF file for --llm llamacpp")
    p.set_defaults(run=run_ask)


def _assistant(args=None):
    from .core import Assistant
    from .settings import get_settings

    overrides = {}
    if args is not None and getattr(args, "llm", None):
        overrides["answerer"] = args.llm
        if args.base_url:
            overrides["llm_base_url"] = args.base_url
        if args.model:
            key = "llm_model_path" if args.llm == "llamacpp" else "llm_model"
            overrides[key] = args.model
    return Assistant(get_settings(**overrides))


def run_search(args) -> int:
    from .core import check_question

    question = check_question(args.question)  # fail fast, before the model loads
    if args.k is not None and args.k < 1:
        raise PaperchatError("-k must be at least 1")
    hits = _assistant().search(question, k=args.k)
    if args.json:
        results = [h.model_dump(exclude={"date"}) for h in hits]
        print(json.dumps({"question": question, "results": results}, ensure_ascii=False, indent=2))
        return 0
    for h in hits:
        print(f"{h.rank:>2}. {h.title}  ({h.score:.3f})\n    {h.url}" + (f"\n    code: {h.code_url}" if h.code_url else ""))
    return 0


def run_ask(args) -> int:
    from .core import check_question

    if args.question is None:
        return repl(_assistant(args))
    question = check_question(args.question)
    assistant = _assistant(args)
    if args.json:
        answer = assistant.ask(question)
        print(json.dumps(answer.model_dump(), ensure_ascii=False, indent=2))
        return 0
    print_stream(assistant.stream(question))
    return 0


def print_stream(stream):
    """Print an answer as it grows: only the new text of each partial answer."""
    shown = ""
    answer = None
    for answer in stream:
        text = answer.answer
        if text.startswith(shown):
            sys.stdout.write(text[len(shown):])
        else:  # the guard replaced the answer: start it on a fresh line
            sys.stdout.write("\n\n" + text)
        sys.stdout.flush()
        shown = text
    if answer is not None and answer.notice:
        sys.stdout.write(f"\n\n({answer.notice})")
    sys.stdout.write("\n")
    return answer


def repl(assistant) -> int:
    print(f"paperchat: {assistant.paper_count} papers. Ask a question; an empty line or Ctrl-D quits.")
    history: list[dict] = []
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = print_stream(assistant.stream(question, history))
        except PaperchatError as exc:
            print(f"paperchat: {exc}")
            continue
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
