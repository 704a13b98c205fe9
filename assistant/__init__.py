"""paperchat's answering core: `from assistant import Assistant`."""
from .models import Answer, Hit, Paper, Source

__all__ = ["Assistant", "Answer", "Hit", "Paper", "Source"]


def __getattr__(name):
    # The Assistant pulls in torch and Chroma; importing the models alone should stay cheap.
    if name == "Assistant":
        from .core import Assistant

        return Assistant
    raise AttributeError(name)
