"""The Assistant: retrieval, evidence and an answerer behind one object that the CLI, the UI and
the eval all use."""
from __future__ import annotations

import datetime as dt
import re
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Iterator

import numpy as np

from . import extractive, validate
from .answerer import make_answerer
from .dates import window as dates_window
from .embedder import get_embedder
from .errors import BadInput
from .evidence import PaperEvidence, PaperSentences, score_papers
from .conversation import (MORE_RE, OTHER_RE, _POINTING_WORDS, _SIDE_FILLER, _THESE_RE, _THEY_RE,
                           ConversationMixin, last_question)
from .intent import COMPARE_CUE_RE, GRADES, PLURAL_RE, Intent, classify, without_code_words
from .models import LIST_KINDS, Answer, Hit
from . import derived
from .query import ACRONYM_RE, Query, understand
from .retrieve import HybridRetriever
from .settings import Settings, get_settings
from .store import Store
from .timewindow import Window, in_window
from .vocabulary import load_vocabulary
from .words import (RAW_WORD_RE, content_terms, content_words, fold, name_like, names_as_written, stem, words,
                    written_as_names, zipf)

MAX_QUESTION_CHARS = 2000
# What a fact question of its kind says without naming a topic ("¿qué datasets usan?").
_FACT_NOUNS = {"dataset": {"dataset", "datasets", "benchmark", "benchmarks", "data", "corpus", "corpora"}}


# Verbs that ask for a fact of a paper ("what data did they use", "how were they evaluated"), by stem.
FACT_VERBS = frozenset(stem(w) for w in """use used evaluate evaluated test tested benchmark benchmarked validate
    validated train trained report reported achieve achieved reach reached get gets got measure measured run ran
    experiment experiments compare compared""".split()) | {stem(w) for w in GRADES}  # "the lowest error" grades the fact
# "More like this" in the browser asks `which papers are similar to “<exact title>”?`; a user may
# type the same. The quoted title names one paper; the rest of the corpus is ranked against it.
SIMILAR_RE = re.compile(r"\b(?:similar to|like|related to|close to)\s+[“\"](.+?)[”\"]", re.I)


def check_question(question: str) -> str:
    if question is None or not str(question).strip():
        raise BadInput("the question is empty: ask something, e.g. \"which papers merge models without retraining?\"")
    question = " ".join(str(question).split())
    if len(question) > MAX_QUESTION_CHARS:
        raise BadInput(
            f"the question is {len(question):,} characters long; keep it under {MAX_QUESTION_CHARS:,}"
        )
    return question


class Assistant(ConversationMixin):
    def __init__(self, settings: Settings | None = None, **overrides):
        self.settings = settings or get_settings(**overrides)
        self.store = Store.open(self.settings)
        self.embedder = get_embedder(self.settings.embed_model, self.settings.embed_runtime)
        # Each answer re-scores dozens of papers sentence by sentence. Their sentences and vectors
        # come from the serving data (memory-mapped: nothing held here); what is kept per paper is
        # the sentences' content words, whose computing is the rest of the cost.
        # Filled on demand (a one-off `ask` reads only its candidates); warm() fills it up front.
        # Least recently used first; bounded by settings.sentence_cache_papers.
        self._sentences: OrderedDict[str, PaperSentences] = OrderedDict()
        self._load_serving_data()
        self.answerer = make_answerer(self.settings)

    def _load_serving_data(self) -> None:
        """Keyword index, paper metadata and vocabulary as ingest published them (assistant/derived.py):
        loaded, memory-mapped, not rebuilt from every chunk."""
        data = derived.load(self.store, self.settings)
        self.serving = data
        self.retriever = HybridRetriever(self.store, data, self.settings, self.embedder)
        self.paper_meta = data.paper_meta
        self.url_to_paper = data.url_to_paper
        self.vocab = load_vocabulary(self.store, data)
        self._sentences = OrderedDict()
        self._checked_at = time.monotonic()

    def refresh(self, force: bool = False) -> bool:
        """Pick up a new index generation (another process ingested) without a restart. Checks at
        most every settings.reload_check_s; returns whether it reloaded."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.settings.reload_check_s:
            return False
        self._checked_at = now
        if derived.current_generation(self.store, self.settings) == self.serving.generation:
            return False
        self.store.refresh()  # a --rebuild switches to new collections
        self._load_serving_data()
        return True

    def warm(self) -> None:
        """Split every paper's sentences into words now (small corpora) so no user waits for it."""
        if self.paper_count <= self.settings.sentence_cache_papers:
            self.sentences_for(list(self.paper_meta))

    @staticmethod
    def today() -> dt.date:
        return dt.date.today()

    @property
    def paper_count(self) -> int:
        return len(self.paper_meta)

    def corpus_dates(self) -> tuple[str | None, str | None]:
        return self.serving.dates  # computed once per index generation (assistant/derived.py)

    def corpus_months(self) -> list[str]:
        """The distinct YYYY-MM the corpus has, oldest first (computed once per index generation)."""
        return self.serving.months

    # ---- search ------------------------------------------------------------------------------
    def search(self, question: str, k: int | None = None, date_from: str | None = None, date_to: str | None = None) -> list[Hit]:
        question, k, date_from, date_to = validate.search_args(question, k, date_from, date_to)
        question = check_question(question)
        self.refresh()
        k = k or self.settings.top_k
        intent = classify(question, has_history=False, today=self.today(), recent_months=self.settings.recent_months)
        query = self.understand(intent.searched_topic, question)
        evidence = self._evidence(intent, query, self.embedder.embed_query(query.text, self.settings.query_threads),
                                  limit=max(k, self.settings.candidates), date_from=date_from, date_to=date_to)
        return [self._hit(i + 1, e) for i, e in enumerate(evidence[:k])]

    def understand(self, topic: str, question: str | None = None) -> Query:
        return understand(topic, self.vocab, self.settings.filler_zipf, question,
                          known_zipf=self.settings.known_word_zipf, apart=self.phrase_in_corpus)

    @staticmethod
    def _hit(rank: int, e: PaperEvidence) -> Hit:
        return Hit(
            rank=rank, paper_id=e.paper_id, title=e.title, url=e.meta["url"],
            code_url=e.meta.get("code_url") or None, score=round(e.rank_score, 4), date=e.meta.get("date") or None,
        )

    def _evidence(self, intent: Intent, query: Query, query_vector, limit: int, restrict: list[str] | None = None,
                  date_from: str | None = None, date_to: str | None = None) -> list[PaperEvidence]:
        from .retrieve import PaperCandidate

        if restrict is not None:
            # Follow-ups re-rank the papers already on the table, whatever the index would return.
            candidates = [PaperCandidate(pid, {**self.paper_meta[pid], "_order": i}, fused=1.0 / (60 + i))
                          for i, pid in enumerate(restrict) if pid in self.paper_meta]
            dense = {c.paper_id: c for c in self.retriever.retrieve(query.keyword_text, query_vector, limit=200)}
            for c in candidates:
                c.dense = dense[c.paper_id].dense if c.paper_id in dense else 0.0
        else:
            # The date window is applied inside retrieval, so in-window papers fill the list.
            candidates = self.retriever.retrieve(query.keyword_text, query_vector, limit=limit,
                                                 date_from=date_from, date_to=date_to)
        sentences = self.sentences_for([c.paper_id for c in candidates])
        return score_papers(
            candidates, sentences, query_vector, query.weights,
            # A list of papers with code quotes what each is about; its entries show the code link.
            wants_detail=intent.wants_detail, wants_code=intent.wants_code and not intent.code_list,
            quotes_per_paper=self.settings.quotes_per_paper, answer_type=intent.answer_type, asked=intent.asked,
            unit=intent.unit, same=query.same,
        )

    # ---- ask ---------------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict] | None = None, **options) -> Answer:
        answer = None
        for answer in self.stream(question, history, **options):
            pass
        return answer

    def stream(self, question: str, history: list[dict] | None = None, *, max_cited: int | None = None,
               date_from: str | None = None, date_to: str | None = None) -> Iterator[Answer]:
        """Yields the answer as it grows (entry by entry, or token by token with an LLM); the last
        yielded Answer is the complete one."""
        started = time.perf_counter()
        question, history, max_cited, date_from, date_to = validate.ask_args(question, history, max_cited,
                                                                             date_from, date_to)
        question = check_question(question)
        self.refresh()
        history = history or []
        previous = self.papers_in_history(history)
        opts = dict(today=self.today(), recent_months=self.settings.recent_months, names_a_thing=self.phrase_in_corpus)
        # In another language the words that steer a follow-up are read in English ("¿Cuáles de
        # estos tienen código?"); its topic words are matched to the corpus by `understand`.
        if previous and (again := self._same_question_of(question, history, opts)):
            question = again  # "and autoint?" after "how many datasets does finalmlp evaluate on"
        lang, said = self._language(question, history)
        intent = classify(said, has_history=bool(previous), **opts)
        if lang != "en" and intent.asked:
            # "quantos parâmetros …": the quantity asked, as the English abstracts write it
            intent = replace(intent, asked=" ".join(
                w if fold(w) in self.vocab else self.vocab.cognate(fold(w)) or w for w in intent.asked.split()))
        if previous and not intent.followup and intent.window is not None and not content_words(intent.topic):
            # "and which are from 2023?": only a date, so it filters the previous answer's papers.
            intent = replace(intent, followup=True)
        if previous and not intent.followup and intent.answer_type and not intent.sides \
                and (titled := self._titled_in(intent, previous)):
            # "how many recordings was the foundation model trained on?" after a list whose one title
            # says "Foundation Model ... Recordings": that paper's fact, not every abstract's.
            intent = replace(intent, followup=True, extra={**intent.extra, "described": titled})
        if previous and not intent.followup and intent.answer_type and not intent.sides and not self._names_more_than_asked(
                intent, lang):
            # "what accuracy", "which datasets?", "¿qué datasets usan?": a fact asked and nothing
            # else named is asked of the previous answer, not of every abstract that says "accuracy".
            intent = replace(intent, followup=True)
        conversation = False  # a follow-up chooses from every paper the conversation showed
        if len(previous) == 1 and intent.followup and intent.extra.get("compare") and len(intent.refs) >= 2:
            # "compare the last two" after one paper was picked from a list: two of that list; after
            # answers of one paper each, the last two papers the conversation showed.
            previous = self._picked_from(history) or (
                list(reversed(self.papers_in_conversation(history)[:2])) if min(intent.refs) < 0 else previous)
        if len(previous) == 1 and intent.followup and (
                (intent.subset or intent.window is not None) and PLURAL_RE.search(said)  # "only the 2023 ones"
                or intent.answer_type and _THEY_RE.search(said)):  # "what metric do they use?"
            # "papers about mixup" / "which one is about neural collapse?" / "only the 2023 ones":
            # the ones of the list that one paper was picked from, not of that one paper.
            # (the paper picked leads: "what speedup do they report?" may mean its authors)
            previous = list(dict.fromkeys(previous + self._picked_from(history)))
            if len(previous) == 1 and intent.subset and _THESE_RE.search(said) and self._asked_of_named(history, opts):
                # "which of these report LRA results?" after a one-paper answer that searched anew
                # (a comparison, a fact): "these" are the papers the conversation has shown.
                previous = list(dict.fromkeys(previous + self.papers_in_conversation(history)))
                conversation = True
        shown: list[str] = []
        if previous and MORE_RE.match(said):
            # "show me the others", "more": the same question again, past the papers already shown.
            asked, shown = self._asked_before_more(history)
            before = classify(asked, has_history=False, **opts) if asked else None
            if before is not None and content_words(before.topic) and not before.sides:
                intent = before
            else:
                shown = []
        if previous and intent.followup and intent.window is not None and not content_words(intent.topic):
            # "super resolution papers before 2022" / "and ones after 2023?": dates that exclude the
            # previous answer's own window ask its topic again, for those dates.
            asked = last_question(history)
            before = classify(asked, has_history=False, **opts)
            if before.window is not None and content_words(before.topic) and not _overlap(before.window, intent.window):
                intent = replace(before, window=intent.window)
        if previous and not intent.followup and intent.wants_code and not intent.sides and not self._names_topic(intent.topic):
            # "any with code?", "which have public implementations": nothing to search for but
            # code, so it asks about the previous answer's papers.
            intent = replace(intent, followup=True, subset=True)
        pooled = -1 if conversation else 1
        if intent.extra.get("described"):
            # "the one with Fisher weights" may be in any earlier answer, the latest first
            previous = list(dict.fromkeys(previous + self.papers_in_conversation(history)))
            # ... and if none fits, the paper of the conversation's topic the description names
            asked, _ = self._asked_before_more(history)
            intent = replace(intent, extra={**intent.extra, "context": classify(asked, False, **opts).topic if asked else ""})
        elif intent.subset and (earlier := self._continued_papers(history)):
            # "anything on speech enhancement?" / "and speech separation?" / "do any of them have
            # code?": "them" are the papers of both answers, the latest first.
            previous, pooled = list(dict.fromkeys(previous + earlier)), 2
        if intent.followup and (OTHER_RE.search(said) or intent.ordinal is not None or intent.refs) \
                and not (intent.answer_type or intent.wants_code or intent.summarize or intent.extra.get("compare")
                         or set(content_words(intent.topic)) - _POINTING_WORDS):
            # "whats the imagenet acc of unireplknet?" / "and the other one?": the same fact (or the
            # same yes/no question) asked of the other paper.
            before = self._asked_before_pointing(history, opts)
            if before is not None:
                intent = replace(intent, answer_type=before.answer_type, asked=before.asked, unit=before.unit,
                                 wants_detail=before.wants_detail, topic=before.topic, wants_code=before.wants_code,
                                 extra={**intent.extra, "yesno": before.extra.get("yesno")})
        if intent.followup and OTHER_RE.search(said) and not intent.refs:
            # "and the other one - what model does it use?": after an answer about one paper, the
            # other of the list before it; after a list, its second.
            listed = self.papers_in_history(history, at_least=2)
            lead = previous[0] if len(previous) == 1 else None
            rest = [pid for pid in listed if pid != lead]
            if lead and rest:
                previous, intent = listed, replace(intent, ordinal=listed.index(rest[0]), subset=False)
            elif len(previous) >= 2:
                intent = replace(intent, ordinal=1, subset=False)
        if intent.followup and (intent.ordinal is not None or intent.refs):
            # "the last paper", "[3]" after a one-paper answer ("summarize the second one") point
            # back at the latest answer that listed that many papers.
            need = max(intent.refs) if intent.refs else intent.ordinal + 1 if intent.ordinal >= 0 else 2
            if len(previous) < need:
                previous = self.papers_in_history(history, at_least=need) or previous
        timings: dict[str, float] = {}

        t = time.perf_counter()
        if history:
            # An LLM can rewrite "where is its code?" into a standalone question first.
            standalone = self.answerer.condense(question, history)
            if standalone:
                timings["condense_ms"] = (time.perf_counter() - t) * 1000
                intent = classify(standalone, has_history=False, **opts)
        if date_from or date_to:  # a date range chosen in the UI wins over words in the question
            intent = replace(intent, window=Window(date_from, date_to, "", _describe(date_from, date_to)))
        query = self.understand(intent.searched_topic, question)
        if query.lang != "en":  # the answer names what was matched: the words the corpus shares
            intent = replace(intent, topic=query.text)
        elif query.corrections:  # ... and a slip as the word searched ("supr resolution" -> "super resolution")
            topic = intent.topic
            for typo, fixed in query.corrections.items():
                topic = re.sub(rf"(?<![\w-]){re.escape(typo)}(?![\w-])", fixed, topic, flags=re.I)
            intent = replace(intent, topic=topic)
        query_vector = self.embedder.embed_query(query.text, self.settings.query_threads)
        like = None if intent.followup and previous else self._similar_to(question)
        if like is not None:
            plan, evidence = self._plan_similar(intent, like, max_cited or self.settings.max_cited)
        else:
            limit = max_cited or self.settings.max_cited
            plan, evidence = self._plan(intent, query, query_vector, previous, limit + len(shown))
            if plan.foreign:  # as the asker wrote them: "geração", not "geracao"
                written = {fold(raw): raw for raw in RAW_WORD_RE.findall(question)}
                plan.foreign = [written.get(w, w) for w in plan.foreign]
            plan.answers_pooled = pooled if intent.followup else 1
            if shown and plan.kind in ("list", "single"):
                plan.cited = [e for e in plan.cited if e.paper_id not in shown][:limit]
                plan.shown_before = len(shown)
                if not plan.cited:
                    # Every match was shown: the next closest papers, said to match less well, for
                    # a user who asked for more (not "none", when the corpus has near misses).
                    plan.cited = [e for e in evidence if e.paper_id not in shown
                                  and e.relevance >= self.settings.min_relevance][:self.settings.weaker_shown]
                    plan.kind = "more-weaker" if plan.cited else "more-none"
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        answer = None
        retrieved = [e.paper_id for e in evidence]
        for answer in self.answerer.stream(question, history, intent, plan, evidence):
            answer.timings_ms = {**timings, "answer_ms": (time.perf_counter() - t) * 1000,
                                 "total_ms": (time.perf_counter() - started) * 1000}
            yield answer.with_retrieved(retrieved)

    def _plan(self, intent: Intent, query: Query, query_vector, previous: list[str], max_cited: int):
        """(plan, the evidence it chose from). Follow-ups work on the previous answer's papers,
        comparisons find each side on its own, everything else retrieves once."""
        s = self.settings
        ctx = dict(corpus_size=self.paper_count, corpus_dates=self.corpus_dates(), lang=query.lang)
        window = intent.window
        if intent.followup and previous:
            evidence = self._evidence(intent, query, query_vector, limit=len(previous), restrict=previous)
            ordered = sorted(evidence, key=lambda e: e.meta.get("_order", 0))
            if intent.meta:  # "who are the authors of that paper?": what the corpus does not hold, said
                return extractive.plan(intent, ordered[:1], s, max_cited, **ctx), evidence
            if intent.extra.get("by_date"):  # "which one is the newest?": by date, not by rank
                return extractive.plan_by_date(intent, ordered, **ctx), evidence
            named = self._named_papers(intent.topic) if not (
                intent.refs or intent.ordinal is not None or intent.subset or intent.wants_code
                or intent.extra.get("by_date")) else []
            elsewhere = [] if named or intent.refs or intent.ordinal is not None else [
                n for n in names_as_written(intent.topic) if fold(n) not in self.vocab]
            if elsewhere and ordered and COMPARE_CUE_RE.search(intent.topic):
                # "how does it compare to ESPCN?": a method no abstract names is said to be missing,
                # beside the paper the question is about.
                return extractive.plan_comparison(intent, [ordered[0], None], [ordered[0].title, elsewhere[0]],
                                                  unnamed=True, **ctx), evidence
            if named:
                # "what about Lina-Speech, what is its architecture?", "how does it compare to
                # TIES-Merging?": a paper named by a word only it uses is the one meant, not the
                # previous answer's first.
                return self._plan_named(intent, query, query_vector, ordered, named, evidence, max_cited, ctx)
            if (phrase := intent.extra.get("described")) and ordered and not (
                    intent.refs or intent.ordinal is not None or intent.subset or window is not None
                    or intent.extra.get("compare")):
                # "what dataset does the garment one evaluate on?": the paper the description picks,
                # then the rest of the question asked of it alone.
                target = self._described(intent, phrase, ordered)
                if target is None:
                    return extractive.plan_subset(intent, [], s, max_cited, len(ordered), **ctx), evidence
                rest = " ".join(re.sub(rf"\b(?:the one \w+ )?{re.escape(phrase)}(?: one| paper)?\b", " ",
                                       intent.topic, count=1, flags=re.I).split())
                if content_words(rest):
                    asked = self.understand(rest, rest)
                    target = self._evidence(intent, asked, self.embedder.embed_query(asked.text, s.query_threads),
                                            limit=1, restrict=[target.paper_id])[0]
                    key = asked.key
                else:
                    key = None
                return extractive.plan_one(intent, target, len(ordered), s, key=key, **ctx), evidence
            picks = [_pick(ordered, r - 1) for r in intent.refs] if intent.refs else []
            if intent.ordinal is not None and not picks:
                picks = [_pick(ordered, intent.ordinal)]
            picks = [e for e in picks if e is not None]
            if intent.extra.get("compare"):
                # "compare [1] and [3]": an out-of-range number is named as missing from the previous answer.
                names = [f"[{r}]" if r > 0 else "the last paper" if r == -1 else "the second-to-last paper" if r == -2
                         else f"the paper {-r - 1} before the last" for r in intent.refs[:2]]
                sides = [_pick(ordered, r - 1 if r > 0 else r) for r in intent.refs[:2]]
                plan = extractive.plan_comparison(intent, sides, names, pool_size=len(ordered), **ctx)
                return plan, evidence
            if picks:
                return extractive.plan_one(intent, picks[0], len(ordered), s, key=query.key, **ctx), evidence
            if intent.ordinal is not None and not intent.extra.get("compare"):
                return extractive.plan_no_such(intent, len(ordered), **ctx), evidence
            if intent.answer_type and not intent.wants_code and window is None and not self._filters(intent, query, ordered):
                # "what datasets did they use?": the fact for each paper, not a filter on them
                return extractive.plan_facts(intent, ordered[:max_cited], s, **ctx), evidence
            if intent.wants_code and (intent.subset or len(ordered) > 1 and intent.extra.get("plural")):
                return extractive.plan_code_subset(intent, ordered, **ctx), evidence
            if window is not None:
                # "which of them were published in 2024?": the previous papers inside the window.
                inside = [e for e in evidence if in_window(e.meta.get("date"), window.date_from, window.date_to)]
                if not query.weights or not inside:
                    plan = extractive.plan_subset(intent, inside, s, max_cited, len(ordered), **ctx)
                    if inside and not query.weights:
                        plan.kind, plan.cited = "subset-dated", sorted(inside, key=lambda e: e.meta.get("_order", 0))
                    plan.undated = sum(not e.meta.get("date") for e in ordered)  # counted, not placed
                    return plan, evidence
                evidence = inside
            if intent.subset:
                return extractive.plan_subset(intent, evidence, s, max_cited, len(ordered), **ctx), evidence
            # "the one with Fisher weights", "the ViT one": the paper the description fits best,
            # not the previous answer's first.
            described = (intent.extra.get("described") or intent.extra.get("which_one")) and len(evidence) > 1
            target = max(evidence, key=lambda e: e.rank_score) if described else ordered[0]
            return extractive.plan_one(intent, target, len(ordered), s, key=query.key, **ctx), evidence
        if intent.sides:
            sides, evidence = [], []
            # "cnn vs transformer for medical segmentation": what the rest of the question is about
            named = {w for side in intent.sides for w in content_words(side)}
            context = " ".join(w for w in content_words(intent.topic) if w not in named and not COMPARE_CUE_RE.search(w))
            for side in intent.sides:
                # "compare the orthogonal transformation one with BT^2": a side the previous answer's
                # titles name is that paper, before anything the whole corpus might match. A side
                # that names a family many papers share ("cnn") is its paper on the question's
                # context ("cnn medical segmentation"), not the corpus's most CNN-like paper.
                found = self._listed_side(intent, side, previous) or (
                    self._side(intent, f"{side} {context}", window) if context and self._family(side) else None) \
                    or self._side(intent, side, window)
                sides.append(found)
                evidence += [found] if found is not None else []
            mentioned = False
            if len(sides) == 2 and None not in sides and sides[0].paper_id == sides[1].paper_id:
                # "tcnca vs mega": both sides found one paper, TCNCA's, which names MEGA as its
                # baseline. The side its title names is that paper; the other has no paper of its own.
                own = [bool(content_terms(n) - _SIDE_FILLER) and content_terms(n) - _SIDE_FILLER <= content_terms(sides[0].title)
                       for n in intent.sides[:2]]
                if own.count(True) == 1:
                    other = own.index(False)
                    said = intent.sides[other].split()
                    # "instaflow vs latent diffusion models fast text-to-image": the side ran on into
                    # the question's context; its first words may name a paper of their own.
                    shorter = next((e for k in range(len(said) - 1, 1, -1)
                                    for e in [self._side(intent, " ".join(said[:k]), window)]
                                    if e is not None and e.paper_id != sides[0].paper_id), None)
                    sides[other], mentioned = shorter, shorter is None
                    evidence = [e for e in sides if e is not None]
            names = list(intent.sides)
            if len(sides) > 2:
                # Three or more: a side that found a paper another side already found adds nothing.
                kept = [k for k, e in enumerate(sides) if e is None or all(
                    o is None or o.paper_id != e.paper_id for o in sides[:k])]
                sides, names = [sides[k] for k in kept], [names[k] for k in kept]
                evidence = [e for e in sides if e is not None]
            return extractive.plan_comparison(intent, sides, names, mentioned=mentioned, **ctx), evidence
        if window is not None and not intent.meta and not content_words(intent.topic):
            # "papers from 2024", "what are the newest papers?": a date and no topic lists the
            # window's papers, newest first, rather than searching for the word "papers".
            ids, total = self._papers_by_date(window, max_cited)
            evidence = self._evidence(intent, query, query_vector, limit=len(ids), restrict=ids) if ids else []
            return extractive.plan_by_window(intent, sorted(evidence, key=lambda e: e.meta.get("_order", 0)),
                                             total, **ctx), evidence
        evidence = self._evidence(intent, query, query_vector, limit=s.candidates,
                                  date_from=window.date_from if window else None,
                                  date_to=window.date_to if window else None)
        named = self._named_papers(intent.topic, window)
        # One method named, and not weighed against anything: its paper answers alone.
        alone = len(named) == 1 and not intent.wants_list and not COMPARE_CUE_RE.search(intent.topic)
        if named:
            # The question names a method only these papers use ("DriveAdapter", "AFFNet"): they lead,
            # however the rest of its words score ("... parameter count and ImageNet top-1").
            have = {e.paper_id for e in evidence}
            extra = [e for e in self._evidence(intent, query, query_vector, limit=len(named), restrict=named)
                     if e.paper_id not in have]
            if alone:
                evidence = extra + sorted(evidence, key=lambda e: e.paper_id not in named)  # stable: it leads
            else:  # several named, or a list asked for: they join the candidates on their own scores
                evidence = sorted(evidence + extra, key=lambda e: -e.relevance)
        if title := intent.extra.get("title"):
            # A paper named by its title ("the Attention Is All You Need paper"): the one paper whose
            # title says it answers alone; when none does, it is said to be missing, not answered
            # with papers sharing its words.
            wanted = set(content_terms(title))
            titled = [e for e in evidence if _says(e.title, title)] \
                or [e for e in evidence if wanted <= content_terms(e.title)]  # a title remembered loosely
            best_share = max((len(wanted & content_terms(e.title)) / len(wanted) for e in evidence[:5]), default=0.0)
            if not titled and best_share < 0.8:
                return extractive.Plan("refuse-title", intent, side_names=[title], **ctx), evidence
            if len(titled) == 1:
                evidence, alone = titled + [e for e in evidence if e is not titled[0]], True
        # (Reading a question of up to 8 topic words and at most 2 other words as short was measured
        # and not kept: it refused "graph neural networks for molecule property prediction" and two
        # unanswerable dev questions, and wrongly refused 1 dev, 1 dev5 and 5 paraphrase questions.)
        topic_words = len(query.weights)
        distinctive = max(query.weights.values(), default=0.0) >= s.lexical_min_weight
        phrase = extractive.term_stems(query.text, s.filler_zipf) if query.lang == "en" else ()
        plan = extractive.plan(intent, evidence, s, max_cited,
                               unknown_terms=query.missing, missing_share=query.missing_share,
                               key_missing=query.key_missing,
                               names_one=alone or self._names_one(intent.topic, evidence),
                               named=alone, topic_words=topic_words, distinctive=distinctive, phrase=phrase, **ctx)
        plan.unmatched = query.lang != "en" and not query.weights
        if window is not None and plan.kind in (*LIST_KINDS, "single") and plan.cited:
            # "contrastive learning papers since 2023": a paper that matches as well but has no date
            # cannot be placed in the window; it is counted, not silently dropped.
            every = self._evidence(intent, query, query_vector, limit=s.candidates)
            listed = extractive.close_to_best(every, s, len(every), distinctive, phrase) if every else []
            plan.undated_close = sum(1 for e in listed if not e.meta.get("date"))
        if plan.kind == "single" and alone and intent.extra.get("summary_asked") and not (
                intent.answer_type or intent.wants_code):
            # "tell me about CREDIT": what the paper it names proposes and finds, as "tell me more
            # about [1]" gives, not the sentence that best repeats its name.
            plan.kind, plan.quotes[plan.cited[0].paper_id] = "summary", extractive.summary_sentences(plan.cited[0])
        elif plan.kind == "single" and not (intent.answer_type or intent.wants_code) and query.weights:
            self._quote_aspect(plan, query)
        if query.lang != "en" and query.weights and query.foreign:
            # "tem algum trabalho sobre geração automática de laudos de raio-x?": only "automatic"
            # is shared; the answer says which words it searched and which it could not read.
            # (Refusing when the unread words outnumber the read ones was measured and not kept:
            # request words such as "artículos" count among them, and 5 answered questions in
            # Japanese, German, French, Spanish and Portuguese on dev2/4/5 and test were refused.)
            plan.matched = [w for w in dict.fromkeys(content_words(query.text)) if stem(w) in query.weights]
            plan.foreign = list(query.foreign)
        if plan.kind in (*LIST_KINDS, "single") and not plan.unknown_terms and query.lang == "en" \
                and len(query.weights) <= s.short_topic_words:
            # A short question: every topic word counts, so one no cited paper uses is said.
            plan.uncovered = extractive.uncovered_words(intent.topic, query.weights, plan.cited, s.filler_zipf)
        # Words no abstract uses are said when they matter: a theme's key word ("watermark images
        # generated by diffusion models") or a weak match; not beside a paper found by the rest of
        # a specific question ("clickstream"), which the answer's quote speaks for.
        plan.partial = bool(plan.cited) and (
            plan.kind in LIST_KINDS and query.key_missing or plan.cited[0].relevance < s.weak_relevance)
        parts = [] if plan.kind not in ("refuse-none", "refuse-window") or intent.meta or intent.wants_code else \
            alternatives(intent.topic) or [p for p in re.split(r"\s*/\s*", intent.topic) if content_terms(p)]
        if len(parts) > 1:
            # "remote sensing / satellite imagery", "speech or audio papers from before 2021": either
            # will do. Each alternative is asked on its own, so one the corpus lacks ("satellite")
            # does not sink the other, and a paper about one of them is not required to say both.
            # (Only when the whole topic finds nothing: asked always, the alternatives' looser
            # matches cost precision, dev3 dated 0.842 -> 0.801, dev5 0.641 -> 0.585.)
            found = [self._plan(replace(intent, topic=part), sub, self.embedder.embed_query(sub.text, s.query_threads),
                                previous, max_cited) for part in parts for sub in [self.understand(part)]]
            kept = [(p, e) for p, e in found if not p.refused and p.kind in ("list", "single", "count")]
            if kept:
                return extractive.merged(intent, [p for p, _ in kept], max_cited), [x for _, e in kept for x in e]
        metrics = [n for n in names_as_written(intent.topic) if fold(n) in query.missing]
        if plan.kind == "refuse-none" and intent.answer_type == "number" and metrics and not intent.wants_code \
                and not intent.meta and not intent.sides:
            # "what is the PCK improvement of combining stable diffusion with DINO": no abstract
            # says "PCK", yet the rest of the question names a paper. A metric's name no abstract
            # uses is the fact asked, which that paper's abstract is then said not to report.
            rest = intent.topic
            for w in query.missing:
                rest = re.sub(rf"(?<![\w-]){re.escape(w)}(?![\w-])", " ", rest, flags=re.I)
            sub = self.understand(rest)
            if sub.weights and not sub.missing and len(sub.weights) >= 2:
                asked = " ".join(metrics)
                found, evidence_found = self._plan(replace(intent, topic=rest, asked=asked, counted=False), sub,
                                                   self.embedder.embed_query(sub.text, s.query_threads), previous, 1)
                if not found.refused:
                    found.about_one = found.kind == "detail-missing" and len(found.cited) == 1
                    return found, evidence_found
        if window is not None and plan.kind in ("refuse-none", "refuse-window") and not intent.meta:
            # Nothing inside the window: say so, then show what the corpus has outside it (or
            # undated), each with its date, rather than leave the asker with nothing.
            plan_out, evidence_out = self._plan(replace(intent, window=None), query, query_vector, previous, max_cited)
            if not plan_out.refused:
                inside = [e for e in plan_out.cited if in_window(e.meta.get("date"), window.date_from, window.date_to)]
                if inside and plan_out.kind in LIST_KINDS:
                    # "robustness papers from 2023": weak inside the window alone, yet the answer for
                    # the topic as a whole cites papers from it; those are the answer, not "none".
                    plan_out.cited, plan_out.pool_size, plan_out.window = inside, len(inside), window
                    plan_out.kind = "list" if len(inside) > 1 else "single"
                    return plan_out, evidence_out
                plan_out.kind, plan_out.window = "outside-window", window
                return plan_out, evidence_out
        return plan, evidence

    def _similar_to(self, question: str) -> str | None:
        """The paper a "similar to “title”" question names, by its exact title (case and accents
        folded); None when the quoted text is no paper's title (then it is an ordinary question)."""
        match = SIMILAR_RE.search(question)
        if not match:
            return None
        wanted = words(match.group(1))
        if not wanted:
            return None
        return self.serving.paper_with_title(wanted)  # an indexed lookup in the serving data

    def _plan_similar(self, intent: Intent, paper_id: str, max_cited: int):
        """Papers like one paper: the query is the paper itself (the mean of its sentence vectors,
        its title's words), the paper is left out, and the answer lists what comes close."""
        s = self.settings
        title = self.paper_meta[paper_id]["title"]
        own = self.sentences_for([paper_id]).get(paper_id)
        query = self.understand(title)
        if own is not None and len(own.vectors):
            vector = own.vectors.mean(axis=0)
            vector = vector / (np.linalg.norm(vector) or 1.0)
        else:
            vector = self.embedder.embed_query(query.text, self.settings.query_threads)
        intent = replace(intent, wants_list=True, points_at_one=False, wants_detail=False, answer_type=None,
                         wants_code=False, topic=f"papers like {title}")
        window = intent.window
        evidence = self._evidence(intent, query, vector, limit=s.candidates + 1,
                                  date_from=window.date_from if window else None,
                                  date_to=window.date_to if window else None)
        evidence = [e for e in evidence if e.paper_id != paper_id]
        plan = extractive.plan(intent, evidence, s, max_cited, topic_words=len(query.weights),
                               corpus_size=self.paper_count, corpus_dates=self.corpus_dates(), lang=query.lang)
        return plan, evidence

    def _quote_aspect(self, plan, query: Query) -> None:
        """A question about one paper asks about something its title does not say ("what does
        weight matching align in linear mode connectivity?": "align"): the best sentence that says
        it is quoted beside the best match overall, which restates the title."""
        e = plan.cited[0]
        have = self.sentences_for([e.paper_id]).get(e.paper_id)
        if have is None or len(have.terms) != len(e.sentences):
            return
        mean = sum(query.weights.values()) / len(query.weights)
        aspect = {t for t, w in query.weights.items() if w >= mean and t not in have.title_terms}
        saying = [k for k, t in enumerate(have.terms) if aspect & t]
        if aspect and saying:
            best = max(saying, key=lambda k: e.sentence_scores[k])
            quotes = plan.quotes.get(e.paper_id, e.quotes)
            if best not in quotes:
                plan.quotes[e.paper_id] = sorted({*quotes[:1], best})

    def _described(self, intent: Intent, phrase: str, listed: list[PaperEvidence]) -> PaperEvidence | None:
        """The paper of the conversation a description fits ("the 6D one", "the one with Fisher
        weights"): the one whose title has its words, else the one that uses most of its words, then
        closest in meaning. Not in the conversation, the corpus's paper that the description names
        (or None): "the one with mixture of experts" after a list that did not show it."""
        terms = content_terms(phrase) - _SIDE_FILLER
        have = self.sentences_for([e.paper_id for e in listed]) if terms else {}
        titled = [e for e in listed if e.paper_id in have and terms <= have[e.paper_id].title_terms]
        if len(titled) == 1:
            return titled[0]
        pool = titled or listed
        query = self.understand(phrase)
        if not query.weights:
            return max(pool, key=lambda e: e.rank_score)
        vector = self.embedder.embed_query(query.text, self.settings.query_threads)
        scored = self._evidence(replace(intent, answer_type=None, wants_detail=False), query, vector,
                                limit=len(pool), restrict=[e.paper_id for e in pool])
        best = max(scored, key=lambda e: (e.coverage, e.relevance), default=None)
        # It fits when the paper uses the description's most telling word ("quantum" of "quantum
        # computing", not "computing"), or is close in meaning however it words it.
        def uses_key(e: PaperEvidence | None) -> bool:
            return e is not None and query.key in self.sentences_for([e.paper_id])[e.paper_id].all_terms
        fits = best is not None and not query.missing and (titled or uses_key(best) or best.relevance >= self.settings.min_relevance)
        if fits and (titled or best.coverage >= 0.999):
            return next(e for e in pool if e.paper_id == best.paper_id)
        alone = self._side(intent, phrase, None)  # None: the corpus has no such paper ("quantum computing")
        if fits:
            if alone is None or alone.coverage < 0.999:
                return next(e for e in pool if e.paper_id == best.paper_id)
            # A paper of the corpus says every word of the description and the conversation's does
            # not: "the one about instance segmentation in remote sensing" after MutDet, a detector.
            return alone
        context = intent.extra.get("context", "")
        within = self._side(intent, f"{phrase} {context}", None) if alone and context else None
        return within if uses_key(within) else alone

    def _titled_in(self, intent: Intent, previous: list[str]) -> str:
        """The question's most informative word, as written, when exactly one of the previous
        answer's titles uses it (and it is not the fact asked for); else ""."""
        query = self.understand(intent.topic)
        asked = {stem(w) for w in content_words(intent.asked)} | {stem(w) for w in _FACT_NOUNS.get(intent.answer_type, ())}
        key = max((t for t in query.weights if t not in asked), key=query.weights.get, default=None)
        if key is None:
            return ""
        have = self.sentences_for(previous)
        titles = [pid for pid in previous if pid in have and key in have[pid].title_terms]
        if len(titles) != 1:
            return ""
        return next((w for w in words(intent.topic) if stem(w) == key), "")

    def _names_more_than_asked(self, intent: Intent, lang: str) -> bool:
        """Does the question name anything besides the fact it asks for (a topic, a paper)?"""
        asked = set(content_words(intent.asked)) | _FACT_NOUNS.get(intent.answer_type, set())
        # "evaluated", "used" say how the fact is asked ("which datasets is it evaluated on?"), not what of.
        return any(w not in asked and zipf(w, lang) < self.settings.filler_zipf and w not in _POINTING_WORDS
                   and stem(w) not in FACT_VERBS for w in content_words(intent.topic))

    def _family(self, side: str) -> bool:
        """One word many papers use: a kind of model ("cnn"), not one method ("latent diffusion
        models" is a paper's name, though each of its words is common)."""
        said = content_words(side)
        return len(said) == 1 and self.vocab.df.get(said[0], 0) >= self.settings.family_share * self.paper_count

    def _listed_side(self, intent: Intent, side: str, previous: list[str]) -> PaperEvidence | None:
        """The paper of the previous answer whose title has every word of a comparison side."""
        terms = content_terms(side) - _SIDE_FILLER
        have = self.sentences_for(previous) if previous and terms else {}
        pid = next((pid for pid in previous if pid in have and terms <= have[pid].title_terms), None)
        if pid is None:
            return None
        query = self.understand(side)
        found = self._evidence(replace(intent, answer_type=None, wants_detail=False), query,
                               self.embedder.embed_query(query.text, self.settings.query_threads), limit=1,
                               restrict=[pid])
        return found[0] if found else None

    def _side(self, intent: Intent, side: str, window: Window | None) -> PaperEvidence | None:
        """The paper one side of a comparison names, or None when the corpus lacks it: its own
        retrieval, and the side's distinctive words must be the paper's."""
        query = self.understand(side)
        if not query.weights or query.missing_share >= self.settings.unknown_terms_share:
            return None
        if any(fold(n) in query.missing for n in names_as_written(side)):
            return None  # "ToMe (Token Merging)": the name no abstract uses is the side, not its gloss
        evidence = self._evidence(replace(intent, answer_type=None, wants_detail=False), query,
                                  self.embedder.embed_query(query.text, self.settings.query_threads), limit=self.settings.candidates,
                                  date_from=window.date_from if window else None,
                                  date_to=window.date_to if window else None)
        if not evidence:
            return None
        top = evidence[0]
        if top.relevance < self.settings.min_relevance or top.coverage < self.settings.min_topic_coverage:
            return None
        # Among papers that do not stand apart from the best, the one whose title says the side's
        # words as written ("latent diffusion models" -> "... with Latent Diffusion Models") is the
        # thing named; stemming makes "a paper using a latent diffusion model" tie with it otherwise.
        said = query.text  # typos corrected: "latent diffusion modles"
        core = " ".join(w for w in words(said) if w not in _SIDE_FILLER and w not in ("the", "a", "an", "paper"))
        if len(content_words(core)) >= 2 and not _says(top.title, core):
            # A title that says the side's words as written names it, however far its embedding
            # trails ("the orthogonal transformation layer paper": "... via an Orthogonal
            # Transformation Layer", not "Orthogonal Convolutional Neural Networks").
            titled = [e for e in evidence[1:5] if _says(e.title, core) and e.coverage >= self.settings.min_topic_coverage]
            if len(titled) == 1:
                return titled[0]
        for e in evidence[1:4]:
            if top.relevance - e.relevance >= self.settings.standout_margin:
                break
            if words(said) and _says(e.title, said) and not _says(top.title, said) \
                    and e.coverage >= self.settings.min_topic_coverage:
                return e
        return top

    def _papers_by_date(self, window: Window, limit: int) -> tuple[list[str], int]:
        """The newest `limit` papers inside the window, and how many papers it holds: one pass over
        the keyword index's memory-mapped date column, not a read of every paper."""
        keyword = self.serving.keyword
        inside = keyword.positions_in(dates_window(window.date_from, window.date_to))
        if not len(inside):
            return [], 0
        order = inside[np.argsort(-np.asarray(keyword.date_nums)[inside], kind="stable")]
        newest: list[str] = []
        for i in order:  # ids decoded only until `limit` papers are found, not for the whole window
            pid = keyword.paper_ids[int(i)]
            if pid not in newest:
                newest.append(pid)
                if len(newest) == limit:
                    break
        raw = getattr(keyword.paper_ids, "array", None)  # the mapped bytes array, counted without decoding
        total = len(np.unique(raw[inside])) if raw is not None else len({keyword.paper_ids[int(i)] for i in inside})
        return newest, total

    def _filters(self, intent: Intent, query: Query, papers: list[PaperEvidence]) -> bool:
        """Does a follow-up asking for a fact also name a condition ("which of them were evaluated
        on COCO?"), beyond the fact itself, the verbs that ask it ("what datasets did they use")
        and words every one of the papers uses ("how many tasks did they merge", after merging)?"""
        plain = {stem(w) for w in words(intent.asked)} | FACT_VERBS
        said = (7.0 - self.settings.filler_zipf) / 7.0  # the surprisal of a word as common as filler
        terms = self.sentences_for([e.paper_id for e in papers])
        shared = set.intersection(*(terms[e.paper_id].all_terms for e in papers if e.paper_id in terms)) \
            if terms else set()
        return any(t not in plain and t not in shared and query.surprisals.get(t, 0.0) > said for t in query.weights)

    def _names_topic(self, topic: str) -> bool:
        """The words left once code words are set aside name something to search for: a word
        rarer in English than filler ("diffusion"), or one no abstract uses."""
        rest = without_code_words(topic)
        return any(zipf(w) < self.settings.filler_zipf or w not in self.vocab for w in content_words(rest))

    def _plan_named(self, intent: Intent, query: Query, query_vector, ordered: list[PaperEvidence], named: list[str],
                    evidence: list[PaperEvidence], max_cited: int, ctx: dict):
        """A follow-up that names a paper: compared with the previous answer's first when it asks to
        compare; that paper when the previous answer cited it; otherwise asked afresh."""
        weighs = COMPARE_CUE_RE.search(intent.topic) or re.search(r"\b(?:beats?|outperforms?|better|worse)\b",
                                                                    intent.topic, re.I)  # "does it beat TIES?"
        if weighs and (others := [e for e in ordered if e.paper_id not in named]):
            found = self._evidence(intent, query, query_vector, limit=1, restrict=named[:1])
            side = found[0] if found else None
            name = next(iter(names_as_written(intent.topic)), "the paper named")
            plan = extractive.plan_comparison(intent, [others[0], side], [others[0].title, name],
                                              pool_size=len(ordered), **ctx)
            return plan, [others[0], *found]
        cited = [e for e in ordered if e.paper_id in named]
        if cited:
            return extractive.plan_one(intent, cited[0], len(ordered), self.settings, key=query.key, **ctx), evidence
        return self._plan(replace(intent, followup=False, summarize=False), query, query_vector, [], max_cited)

    def _named_papers(self, topic: str, window: Window | None = None, typed: bool = False) -> list[str]:
        """Papers whose abstract or title uses a word of the question written like a method's name
        ("DriveAdapter", "AFFNet", "TIES-Merging") that at most names_paper_max_df papers use.
        typed: also a name typed in lower case that is no English word ("and autoint?")."""
        out: list[str] = []
        # Not an all-capitals acronym: "GPUs", "LLMs", "CNNs" name kinds of things, not one method;
        # a longer one ("ESPCN", "DeFTAN") names a method.
        acronyms = {fold(a) for a in ACRONYM_RE.findall(topic) if len(a.rstrip("s")) < 5}
        # Nor a two- or three-letter one ("S4", "T5"): short names recur across unrelated work.
        shaped = name_like(topic) if typed else written_as_names(topic)
        for name in dict.fromkeys(n for n in shaped if n not in acronyms and len(n) >= 4):
            terms = content_terms(name)
            dfs = [self.vocab.stems.get(t, 0) for t in terms if "-" not in t] or [self.vocab.stems.get(t, 0) for t in terms]
            if not terms or min(dfs, default=0) == 0 or min(dfs) > self.settings.names_paper_max_df:
                continue
            hits = self.serving.keyword.search(name, k=3 * self.settings.names_paper_max_df)
            pids = list(dict.fromkeys(pid for _, pid, _ in hits))
            have = self.sentences_for(pids)
            out += [pid for pid in pids if pid in have and terms <= have[pid].all_terms
                    and (window is None or in_window(self.paper_meta[pid].get("date"), window.date_from, window.date_to))]
        return list(dict.fromkeys(out))

    def _names_one(self, topic: str, evidence: list[PaperEvidence]) -> bool:
        """The question names the best paper: a word written like a method's name ("InstaFlow",
        "TIES-Merging") that few papers use is in its title."""
        names = name_like(topic)
        if not evidence or len(names) >= 3:  # "(CT / PET / MRI)": kinds listed, not one paper named
            return False
        title = self._sentences.get(evidence[0].paper_id)
        title_terms = title.title_terms if title else set()
        for name in names:
            terms = content_terms(name)
            if terms and terms <= title_terms and all(
                    self.vocab.stems.get(t, 0) <= self.settings.names_paper_max_df for t in terms if "-" not in t):
                return True
        return False

    def sentences_for(self, paper_ids: list[str]) -> dict[str, PaperSentences]:
        missing = [pid for pid in paper_ids if pid not in self._sentences]
        out = {pid: self._sentences[pid] for pid in paper_ids if pid in self._sentences}
        for pid in out:
            self._sentences.move_to_end(pid)
        if missing:
            got = self.serving.sentences_of(missing)
            rest = [pid for pid in missing if pid not in got]
            if rest:  # serving data of an older paperchat, or papers an ingest changed under its build
                known = self.serving.sentence_rows(rest)  # read by id: no scan of the sentence collection
                got.update(self.store.sentences_of(rest, with_vectors=True, known=known))
            titles = self.serving.papers(got)
            for pid, (sents, vecs, *terms) in got.items():  # terms: stored at ingest, or None (computed now)
                out[pid] = self._sentences[pid] = PaperSentences.build(titles.get(pid, {}).get("title", ""),
                                                                       sents, vecs, terms[0] if terms else None)
            while len(self._sentences) > max(self.settings.sentence_cache_papers, len(paper_ids)):
                self._sentences.popitem(last=False)
        return {pid: out[pid] for pid in paper_ids if pid in out}

    def phrase_in_corpus(self, phrase: str, papers: int = 5) -> bool:
        """Whether an abstract uses these words in this order (case and accents aside): checked in the
        few papers the keyword index ranks best for them."""
        pattern = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words(phrase)) + r"(?!\w)")
        hits = self.serving.keyword.search(phrase, k=papers * 3)
        pids = list(dict.fromkeys(pid for _, pid, _ in hits))[:papers]
        return any(pattern.search(fold(s)) for p in self.sentences_for(pids).values() for s in p.sentences)

    def unknown_terms(self, text: str) -> list[str]:
        """The question's topic words that no paper in the corpus uses (filler and typos excluded)."""
        return sorted(self.understand(text).missing)

def _says(title: str, phrase: str) -> bool:
    """Does a paper's title contain the phrase, word for word (case and accents folded)?"""
    return f" {' '.join(words(phrase))} " in f" {' '.join(words(title))} "


def _overlap(a: Window, b: Window) -> bool:
    """Do two date windows share a month?"""
    low = max((a.date_from or "0000")[:7], (b.date_from or "0000")[:7])
    high = min((a.date_to or "9999")[:7], (b.date_to or "9999")[:7])
    return low <= high


# Only a spelt-out "or": a slash mostly joins two names for one topic ("mamba / state space model",
# "mixup / mixed-sample augmentation"), which the whole topic finds better (dev4 dated precision
# 0.812 -> 0.737 with slashes split too); it is split only when the whole finds nothing (in _plan).
OR_RE = re.compile(r"\s+(?:or|and/or)\s+", re.I)
# Each alternative of "A or B" is at most this many words; a longer "or" sits inside one topic
# ("merging tokens or pruning them as they pass through the network").
ALTERNATIVE_WORDS = 3


def alternatives(topic: str) -> list[str]:
    """The two topics of "A or B" ("speech or audio"), each whole: the shorter borrows what the
    longer says on its far side ("speech enhancement or separation" -> "speech separation",
    "identity-preserving or subject-driven personalization" -> "identity-preserving personalization").
    [] when the topic is not two short alternatives."""
    parts = OR_RE.split(topic.strip(" ?.!"))
    if len(parts) != 2 or not all(content_words(p) for p in parts):
        return []
    a, b = (p.split() for p in parts)
    if max(len(a), len(b)) > ALTERNATIVE_WORDS or fold(" ".join(a)) == fold(" ".join(b)):
        return []
    # One word against a phrase shares the phrase's other words; two phrases stand as written
    # ("speech recognition or spoken language understanding").
    if len(b) == 1 < len(a):
        b = a[:-1] + b
    elif len(a) == 1 < len(b):
        a = a + b[1:]
    return [" ".join(a), " ".join(b)]


def _pick(ordered: list, index: int):
    return ordered[index] if -len(ordered) <= index < len(ordered) else None


def _describe(date_from: str | None, date_to: str | None) -> str:
    if date_from and date_to:
        return f"published between {date_from} and {date_to}"
    return f"published since {date_from}" if date_from else f"published up to {date_to}"
