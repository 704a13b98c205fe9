"""The conversation as data: which papers earlier answers cited, which question a follow-up
repeats or continues, and in which language a short follow-up is asked. Read from the history the
caller passes (each assistant turn's `paper_ids`, else its links), never from rendered state kept
in the process."""
from __future__ import annotations

import re

from .cues import in_english
from .intent import Intent, classify
from .words import RAW_WORD_RE, content_words, language_of, words, zipf

LINK_RE = re.compile(r"\]\((https?://[^)\s]+)(?:\s+\"[^\"]*\")?\)")
# "more", "show me the others", "the rest?", "next 10": the previous list continued.
MORE_RE = re.compile(r"^\s*(?:ok\w*[,.]?\s+|and\s+)?(?:(?:show|list|give)(?: me)?\s+)?(?:the\s+)?(?:others|rest|"
                     r"more(?: papers| results| of them| please)?|next(?: ones| \d+| page)?|remaining(?: ones| papers)?)"
                     r"\s*(?:please)?\s*[?.!]*\s*$", re.I)
_SIDE_FILLER = frozenset({"one", "paper", "work", "method", "approach", "model"})
# Several papers pointed at: "what metric do they use?" after one paper was picked from a list.
_THESE_RE = re.compile(r"\b(?:these|those|them)\b", re.I)
_THEY_RE = re.compile(r"\b(?:they|them|those|these|ones|both|each of|all of)\b", re.I)
# What "and the third?" / "what about the last paper?" say besides pointing: nothing asked.
_POINTING_WORDS = _SIDE_FILLER | {"first", "second", "third", "fourth", "fifth", "last", "other", "latter", "former",
                                  "about", "what", "how"}
AND_NAME_RE = re.compile(r"^\s*(?:and|what about|how about|same for|and for)\s+(?:the\s+)?(.+?)"
                         r"(?:\s+(?:one|paper))?\s*[?.!]*\s*$", re.I)
OTHER_RE = re.compile(r"\bthe other (?:one|paper|work|method|model)\b", re.I)
# A question that only extends the previous topic: "and speech separation?", "what about GANs?".
CONTINUATION_RE = re.compile(r"\s*(?:and|also|plus|what about|how about|or)\b", re.I)


def last_question(history: list[dict]) -> str:
    """The conversation's latest user question ("" when none was asked)."""
    return next((str(h.get("content", "")) for h in reversed(history) if h.get("role") == "user"), "")


class ConversationMixin:
    """History walk-backs of the `Assistant` (which provides `paper_meta`, `url_to_paper` and
    `_named_papers`)."""

    @staticmethod
    def _asked_before_pointing(history: list[dict], opts: dict) -> Intent | None:
        """The fact or yes/no question that "and the third?" repeats: the latest one asked, past
        other turns that only point ("and the second one?"); None when a new topic came between."""
        for m in reversed(history):
            if m.get("role") != "user":
                continue
            text = str(m.get("content", ""))
            before = classify(in_english(text, language_of(text)), has_history=True, **opts)
            if (before.answer_type or before.extra.get("yesno")) and not before.sides:
                return before
            if before.wants_code and not set(content_words(before.topic)) - _POINTING_WORDS - {"code"}:
                return before  # "has it code?" / "and the other one?"
            if set(content_words(before.topic)) - _POINTING_WORDS or before.wants_code or before.summarize:
                return None
        return None

    @staticmethod
    def _language(question: str, history: list[dict]) -> tuple[str, str]:
        """The question's language and its follow-up words in English ("e l'altro?" -> "and the
        other one?"). A few words too few to tell are read in the language of the conversation's
        last question, when that language's follow-up words are in it."""
        lang = language_of(question)
        said = in_english(question, lang)
        if lang != "en" or len(words(question)) > 8:
            return lang, said
        before = last_question(history)
        theirs = language_of(before) if before else "en"
        if theirs == "en":
            return lang, said
        theirs_said = in_english(question, theirs)
        # "e l'altro?" (its cue words read in that language), or "e l'exposure bias? c'è qualcosa?"
        # (a word of that language, not English, among the English name it asks about)
        if len(words(question)) <= 4 and theirs_said != question or any(
                zipf(w, theirs) >= zipf(w, "en") + 1.0 for w in words(question) if len(w) > 2):
            return theirs, theirs_said
        return lang, said

    def _asked_of_named(self, history: list[dict], opts: dict) -> bool:
        """The latest question compared named papers or asked a fact of one ("tcnca vs mega speed"),
        rather than asking for a theme ("any on fraud detection?", whose one paper is "them")."""
        asked = last_question(history)
        before = classify(asked, has_history=False, **opts)
        # Not a fact asked of the one paper a new topic found ("switching: asr for low resource
        # indian languages" / "how many hours?" / "which of these have code?": that paper).
        return bool(before.sides or self._fact_of_named(before))

    def _fact_of_named(self, intent: Intent) -> bool:
        """A fact asked of a paper the question names ("how fast is flashfftconv compared to pytorch")."""
        return bool(intent.answer_type and self._named_papers(intent.topic, typed=True))

    def _same_question_of(self, question: str, history: list[dict], opts: dict) -> str | None:
        """ "and autoint?" after a fact or yes/no question about a paper named in it ("how many
        datasets does finalmlp evaluate on"): that question again, about the paper named now.
        None unless the new turn only names a paper, and the one before asked a fact of a named one."""
        m = AND_NAME_RE.match(question)
        if not m or len(words(m.group(1))) > 2 or not self._named_papers(m.group(1), typed=True):
            return None
        asked = last_question(history)
        before = classify(asked, has_history=True, **opts)
        if not (before.answer_type or before.extra.get("yesno")) or before.sides:
            return None
        named = [raw for raw in RAW_WORD_RE.findall(asked) if self._named_papers(raw, typed=True)]
        return asked.replace(named[0], m.group(1), 1) if named else None

    def _asked_before_more(self, history: list[dict]) -> tuple[str, list[str]]:
        """The question a run of "more" follow-ups extends (the latest one asked on its own, not a
        follow-up such as "which one is fastest?"), and every paper shown since it."""
        shown: list[str] = []
        for turn in reversed(history):
            text = str(turn.get("content", ""))
            if turn.get("role") == "assistant":
                shown += self.papers_in_history([turn])
            elif turn.get("role") == "user" and not MORE_RE.match(text) and not (asked := classify(text, True)).followup \
                    and not asked.sides \
                    and not self._fact_of_named(asked):
                # Not "compare InstaFlow and X", nor a fact asked of a paper it names ("how fast is
                # flashfftconv compared to pytorch"): neither is a list to continue.
                return text, list(dict.fromkeys(shown))
        return "", []

    def _continued_papers(self, history: list[dict]) -> list[str]:
        """The papers of the answer before the latest one, when the latest question only extended
        the topic ("and speech separation?", "what about GANs?"); else []."""
        users = [t for t in history if t.get("role") == "user"]
        answers = [t for t in history if t.get("role") == "assistant"]
        if len(users) < 2 or len(answers) < 2 or not CONTINUATION_RE.match(str(users[-1].get("content", ""))):
            return []
        return self.papers_in_history(answers[:-1])

    def _picked_from(self, history: list[dict]) -> list[str]:
        """The list a one-paper answer was picked from by a follow-up ("which one is about X?"), or
        [] when that answer searched anew ("any on fraud detection?")."""
        picked = False
        for k in range(len(history) - 1, 0, -1):  # back to the question that was asked on its own
            turn, asked = history[k], history[k - 1]
            if turn.get("role") != "assistant" or asked.get("role") != "user":
                continue
            if classify(str(asked.get("content", "")), True).followup:
                picked = True
                continue
            listed = self.papers_in_history([turn])
            return listed if picked and len(listed) >= 2 else []
        return []

    def papers_in_conversation(self, history: list[dict]) -> list[str]:
        """Every paper the conversation's answers cited, the latest answer's first."""
        # Each answer on its own, latest first (an answer citing nothing adds nothing).
        return list(dict.fromkeys(pid for turn in reversed(history) if turn.get("role") == "assistant"
                                  for pid in self.papers_in_history([turn])[:50]))

    def papers_in_history(self, history: list[dict], at_least: int = 1) -> list[str]:
        """Papers cited by the latest assistant turn that cited at least `at_least`, in the order it
        cited them. A turn's `paper_ids` (conversation state as data) wins; a history without it
        (saved by an older client or written by hand) is read from the answer's links."""
        for turn in reversed(history):
            if turn.get("role") != "assistant":
                continue
            if isinstance(turn.get("paper_ids"), list):
                ids = list(dict.fromkeys(pid for pid in turn["paper_ids"] if isinstance(pid, str) and pid in self.paper_meta))
            else:
                ids = []
                for url in LINK_RE.findall(str(turn.get("content", ""))):
                    pid = self.url_to_paper.get(url)
                    if pid and pid not in ids:
                        ids.append(pid)
            if len(ids) >= at_least:
                return ids
        return []


