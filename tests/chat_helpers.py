"""A conversation through `Assistant.ask`, as the UI and the CLI hold it: each answer's cited papers
passed back as data (`paper_ids`) in the history of the next question."""
from __future__ import annotations


def chat(assistant, *questions):
    """Ask the questions in turn; (the last answer, the whole history)."""
    history: list[dict] = []
    answer = None
    for question in questions:
        answer = assistant.ask(question, history=history)
        history += [{"role": "user", "content": question},
                    {"role": "assistant", "content": answer.answer, "paper_ids": answer.paper_ids}]
    return answer, history
