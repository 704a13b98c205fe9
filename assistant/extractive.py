"""The default answerer: no LLM, only verbatim sentences from the abstracts, each marked [n].

`plan` decides what an answer cites from the evidence (how many papers follows how close they are
to the best match, not the question's wording); `render` turns a plan into markdown."""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field, replace
from typing import Iterator

from .evidence import (DATASET_CUE_RE, EXACT_UNITS, NAME_TOKEN_RE, QUANTITY_RE, UNIT_ANSWERS, PaperEvidence, holds_type, sentence_role,
                       concept_abbreviations, spelled_count, type_strength)
from .intent import ORDINALS, Intent
from .links import safe_url
from .markdown import escape
from .models import Answer, ComparisonCell, ComparisonRow, Source
from .settings import Settings
from .timewindow import Window
from .words import FUNCTION_WORDS, RAW_WORD_RE, content_terms, content_words, stem, words, zipf

ASPECTS = ("proposes", "evaluated on", "result", "code")


@dataclass
class Plan:
    # list | single | code | detail | detail-missing | subset | code-subset | summary | comparison |
    # refuse-none | refuse-meta | refuse-window | subset-none | code-none | outside-window |
    # facts | facts-none | ordinal-none | code-list | code-list-none | count | refuse-title
    kind: str
    intent: Intent
    cited: list[PaperEvidence] = field(default_factory=list)
    corpus_size: int = 0
    pool_size: int = 0  # papers a follow-up chose from
    unknown_terms: list[str] = field(default_factory=list)
    window: Window | None = None
    corpus_dates: tuple[str | None, str | None] = (None, None)
    lang: str = "en"
    quotes: dict[str, list[int]] = field(default_factory=dict)  # paper_id -> sentences to quote instead
    comparison: list[ComparisonRow] | None = None
    side_names: list[str] = field(default_factory=list)  # comparison: how the question named each side
    head_to_head: bool | None = None  # comparison: does either abstract name the other (None: not asked)
    missing_sides: list[str] = field(default_factory=list)  # comparison sides not in the corpus
    unnamed: bool = False  # a missing side is a name no abstract uses (the paper may be here, unnamed)
    mentioned: bool = False  # a missing side is named by the found paper's abstract (its baseline)
    shown_before: int = 0  # "show me the others": papers earlier answers already listed
    asked_word: str = ""  # a yes/no follow-up: the word it turns on, as the question wrote it
    suggestions: list[str] = field(default_factory=list)
    about_one: bool = False  # the question is about one paper (not a theme)
    dated: int = 0  # by-date follow-up: how many of the previous answer's papers have a date
    undated: int = 0  # date filter on the previous answer: its papers with no date (not placed)
    undated_close: int = 0  # date filter on a search: papers matching as well that have no date
    uncovered: list[str] = field(default_factory=list)  # topic words no cited paper uses (a partial match)
    partial: bool = False  # answered although the question's key word, or enough of it, is in no abstract
    unmatched: bool = False  # a question in another language none of whose words the corpus shares
    # In another language: the question's words the corpus shares, and those it does not
    matched: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    # a "which of them" follow-up after "and X?" chooses from the last two answers; -1: from every
    # answer of the conversation ("which of these …" after a one-paper answer)
    answers_pooled: int = 1

    @property
    def refused(self) -> bool:
        return self.kind.startswith("refuse") or self.kind in ("subset-none", "code-none", "dated-none", "facts-none",
                                                               "ordinal-none", "more-none")

    def quote_of(self, e: PaperEvidence) -> str:
        return e.quote_text(self.quotes.get(e.paper_id))


# ---- deciding what to cite ------------------------------------------------------------------------

def should_refuse(top: PaperEvidence | None, missing_share: float, settings: Settings, topic_words: int = 0,
                  key_missing: bool = True) -> bool:
    """Nothing relevant enough; or a weak match while the question's own topic words are largely
    absent from the corpus (a near miss in a neighbouring field, e.g. "polyp segmentation"); or a
    weak match to a short query that covers little of it, or lacks its most informative word (one
    shared word: "quantum error correction"; "multi-object tracking" without "tracking"). A long, descriptive question paraphrases, so its coverage says less."""
    if top is None or top.relevance < settings.min_relevance:
        return True
    if top.relevance < settings.weak_relevance and missing_share >= settings.unknown_terms_share \
            and (topic_words <= settings.short_topic_words or key_missing):
        # A long, chatty question has everyday words no abstract uses ("awful", "low-res"); it is a
        # near miss only when the word that says most about its topic is one of them.
        return True
    if top.relevance >= settings.weak_relevance:
        return False
    if 0 < topic_words <= settings.short_topic_words:
        return top.coverage < settings.min_topic_coverage or not top.key_covered
    # A long question paraphrases, but when its most informative word is one no abstract uses and
    # its weak best match shares under half of what a short one must, it is a neighbouring field
    # ("quantum error correction codes for fault-tolerant quantum computers": a quantum image
    # classifier shares "quantum").
    return key_missing and top.coverage < settings.min_topic_coverage / 2


def term_stems(text: str, filler_zipf: float, keep_grammar: bool = False) -> tuple[str, ...]:
    """The telling words of a text in order, stemmed: not function words, and not words as common
    as "learning", "image" or "models", which a term may or may not say ("semi-supervised
    learning", "mamba models"). keep_grammar: a function word other than "and" stays, so
    that it separates ("the dataset without distillation" does not say "dataset distillation")."""
    out = []
    for w in words(text):
        for part in w.split("-"):
            if not part or part == "and":
                continue
            if part in FUNCTION_WORDS:
                if keep_grammar:
                    out.append("")
            elif zipf(part) < filler_zipf:
                out.append(stem(part))
    return tuple(out)


def says_phrase(e: PaperEvidence, phrase: tuple[str, ...], filler_zipf: float) -> bool:
    """Does the paper's title or a sentence say the question's telling words in its order, as one
    term ("dataset distillation"; "distillation" in one place and "dataset" in another is not it)?"""
    n = len(phrase)
    for text in [e.title, *e.sentences]:
        terms = term_stems(text, filler_zipf, keep_grammar=True)
        if any(terms[k:k + n] == phrase for k in range(len(terms) - n + 1)):
            return True
    return False


def close_to_best(evidence: list[PaperEvidence], settings: Settings, max_cited: int,
                  distinctive: bool = True, phrase: tuple[str, ...] = ()) -> list[PaperEvidence]:
    """Every paper whose relevance is close to the best one's: the answer to any question about a
    theme, however it is phrased."""
    top = evidence[0]
    # Close means within relative_cutoff of the best, or nearer the best than the typical candidate
    # (the median of those retrieved): a strong best match ("tumor segmentation in CT, MRI or PET",
    # 0.80) otherwise hid papers that stand as far above the rest (0.62, 0.56) as it does. On the
    # dev splits: topic citation recall 0.559 -> 0.636 (dev), 0.792 -> 0.868 (dev2), precision
    # 0.781 -> 0.744, 0.843 -> 0.802.
    background = statistics.median(e.relevance for e in evidence)
    floor = max(settings.min_relevance, min(top.relevance * settings.relative_cutoff, (top.relevance + background) / 2))
    # A paper whose title or one sentence holds every topic word the best paper holds is about the
    # topic too, however its embedding scores ("tell me about mamba": every Mamba paper).
    # Not when every topic word is everyday ML vocabulary ("do different networks learn the same
    # features": AutoInt's title says "feature", "networks", "learning" too).
    full = top.focus >= 0.999 and distinctive
    # A topic of two or three words the best paper says as one term ("dataset distillation") is
    # said by a paper only as that term: knowledge-distillation papers that mention a dataset hold
    # every word, not the topic.
    term = phrase if 2 <= len(phrase) <= 3 and full and says_phrase(top, phrase, settings.filler_zipf) else ()
    return [e for e in evidence if e.relevance >= floor
            or full and e.focus >= 0.999 and e.relevance >= settings.lexical_min_relevance
            and (not term or says_phrase(e, term, settings.filler_zipf))][:max_cited]


def stands_out(evidence: list[PaperEvidence], settings: Settings) -> bool:
    return len(evidence) < 2 or evidence[0].relevance - evidence[1].relevance >= settings.standout_margin


def plan(intent: Intent, evidence: list[PaperEvidence], settings: Settings, max_cited: int,
         unknown_terms: list[str] | None = None, missing_share: float = 0.0, names_one: bool = False,
         topic_words: int = 0, key_missing: bool = True, named: bool = False, distinctive: bool = True,
         phrase: tuple[str, ...] = (), **context) -> Plan:
    """Decide what the answer cites. How many papers follows the evidence, not a fixed k.
    named: the question names the first paper by a word only it uses: it answers, however weakly
    the rest of the question matches (the detail it asks may still be unreported)."""
    p = Plan("refuse-none", intent, unknown_terms=unknown_terms or [], window=intent.window, **context)
    top = evidence[0] if evidence else None
    if intent.meta and not (intent.meta == "authors" and top and top.meta.get("authors") not in (None, "", "[]")):
        p.kind = "refuse-meta"
        return p
    if intent.window is not None and not evidence and not intent.followup:
        p.kind = "refuse-window"
        return p
    if top is not None and not named and intent.answer_type and top.relevance < settings.weak_relevance \
            and (top.coverage < settings.min_topic_coverage or not top.key_covered):
        # A fact asked of a weak best match that uses few of the question's words: of the papers
        # about as close in meaning, one that uses them is the paper asked about ("the improvement
        # of combining stable diffusion with DINO": "A Tale of Two Features: Stable Diffusion
        # Complements DINO ...", not "Faster Diffusion"). (For any question, this was measured and
        # not kept: it answered 2 unanswerable dev questions, "multi-object tracking in videos".)
        fitting = next((e for e in evidence[1:5] if top.relevance - e.relevance < settings.standout_margin
                        and e.coverage >= settings.min_topic_coverage and e.key_covered), None)
        if fitting is not None:
            # ... and the papers it passed, which lack the question's words, follow the rest.
            passed = [e for e in evidence if e is top or e.relevance > fitting.relevance]
            evidence = [fitting] + [e for e in evidence if e is not fitting and e not in passed] + passed
            top = fitting
    if not named and should_refuse(top, missing_share, settings, topic_words, key_missing):
        return p
    # "papers with code for semantic segmentation" asks for a list, of those that link code.
    code_list = intent.code_list and not names_one
    one = intent.points_at_one or names_one or intent.wants_code and not code_list
    if intent.wants_code and not names_one and not code_list:
        # "which paper has code for X": among the papers close to the best, lead with one that links code.
        close = close_to_best(evidence, settings, max_cited)
        with_code = next((e for e in close if safe_url(e.meta.get("code_url"))), None)
        if with_code is not None and with_code is not top:
            evidence = [with_code] + [e for e in evidence if e is not with_code]
            top = with_code
    if one:
        # One paper asked about: lead with it, add near-ties so a close second is not hidden.
        margin = 0.02 if intent.wants_detail or intent.wants_code else 0.04
        p.cited = [top] + ([] if named else [e for e in evidence[1:3] if e.relevance >= top.relevance - margin])
        p.kind = "code" if intent.wants_code else "single"
    else:
        close = close_to_best(evidence, settings, len(evidence), distinctive, phrase)
        p.cited, p.pool_size = close[:max_cited], len(close)
        p.kind = "list" if len(p.cited) > 1 or not stands_out(evidence, settings) else "single"
        if intent.extra.get("count_papers"):
            p.kind = "count"  # "how many papers about X": the count, and the closest of them
        if code_list:
            # The papers on the topic that link code; when none does, the topic's papers, and it is said.
            with_code = [e for e in p.cited if safe_url(e.meta.get("code_url"))]
            p.pool_size = len(p.cited)
            p.kind, p.cited = ("code-list", with_code) if with_code else ("code-list-none", p.cited)
    if intent.answer_type in ("number", "dataset") and not intent.wants_code:
        detail(p, intent, settings)
    return p


def merged(intent: Intent, plans: list[Plan], max_cited: int) -> Plan:
    """One answer for "A or B" from each alternative's own plan: their papers taken in turn (the
    closest to A, the closest to B, ...), each quoted as its own alternative chose."""
    cited: list[PaperEvidence] = []
    seen: set[str] = set()
    for rank in range(max(len(p.cited) for p in plans)):
        for p in plans:
            if rank < len(p.cited) and p.cited[rank].paper_id not in seen:
                seen.add(p.cited[rank].paper_id)
                cited.append(p.cited[rank])
    quotes: dict[str, list[int]] = {}
    for p in plans:
        for pid, q in p.quotes.items():
            quotes.setdefault(pid, q)
    # Papers each alternative matched beyond the ones it cited still match the question.
    pool = len(cited) + sum(max(0, p.pool_size - len(p.cited)) for p in plans)
    kind = "count" if intent.extra.get("count_papers") else "list" if len(cited) > 1 else "single"
    return replace(plans[0], kind=kind, intent=intent, cited=cited[:max_cited], quotes=quotes, pool_size=pool,
                   uncovered=[], partial=False, unknown_terms=[], about_one=False)


# What a question asking for a kind of quantity, and naming none, asked ("which one is fastest?").
_UNIT_NAMES = {"speedup": "a speed-up", "speed": "how fast it runs", "time": "a run time", "compute": "its compute", "memory": "its memory use",
               "percent": "an accuracy"}


def _asked(intent: Intent) -> str:
    """What a fact question asked, for "does not report …": its words, or the kind of quantity."""
    return intent.asked or _UNIT_NAMES.get(intent.unit) or ("datasets" if intent.answer_type == "dataset" else "that")


def _undated(n: int) -> str:
    """A date filter over papers some of which have no date: they are counted, not placed."""
    return "" if not n else f" ({n} {'has' if n == 1 else 'have'} no date in the corpus and cannot be placed)"


def _all(n: int) -> str:
    return "Both" if n == 2 else f"All {n}"


def detail(p: Plan, intent: Intent, settings: Settings, strict: bool = False) -> None:
    """Quote the sentence that holds the asked fact; when no cited abstract states it, say so
    rather than quote a near miss. strict: when the question says what kind of quantity it wants
    ("which one is fastest?": a speed-up), only a sentence with that kind states it."""
    holders = []
    asked_names = {n.lower() for n in NAME_TOKEN_RE.findall(intent.topic)}
    # A paper without the question's most telling word holds a fact of something else ("41%
    # faster sampling" for "the improvement of combining stable diffusion with DINO").
    keyed = any(e.key_covered for e in p.cited)
    for e in p.cited:
        if keyed and not e.key_covered:
            continue
        titled = {n.lower() for n in NAME_TOKEN_RE.findall(e.title)}
        # Asked about data, the paper's own method name ("The iTransformer model achieves ... on
        # real-world datasets") names no dataset, unless the paper is a dataset ("AeroPath: an ...
        # benchmark dataset").
        own = frozenset(titled if intent.answer_type == "dataset" and not DATASET_CUE_RE.search(e.title)
                        else asked_names & titled)
        if intent.answer_type == "dataset":
            # Nor does an abbreviation the abstract defines as a concept ("Unsupervised domain
            # adaptation (UDA)" ... "on multiple UDA person re-identification tasks") or "SOTA".
            own |= concept_abbreviations(" ".join(e.sentences))
        # A number inside a name ("FP4") answers "what bit width"; "how many GPUs" still needs GPUs.
        unit = UNIT_ANSWERS.get(intent.unit) if intent.answer_type == "number" and not intent.counted else None
        ranked = sorted((k for k, s in enumerate(e.sentences)
                         if holds_type(s, intent.answer_type, intent.asked, intent.counted, own)
                         or unit is not None and unit.search(s)),  # "FP4": a number inside a name
                        key=lambda k: (-type_strength(e.sentences[k], intent.answer_type, intent.asked, intent.unit),
                                       -e.sentence_scores[k]))
        close = [k for k in ranked if e.sentence_scores[k] >= max(e.sentence_scores) - settings.detail_margin]
        # The data a paper used is named where it is named, however unlike the question that
        # sentence reads ("Experimental evaluation on a publicly available dataset ..."); a number
        # far from the question is more likely another quantity.
        ranked = close or (ranked if intent.answer_type == "dataset" else [])
        if intent.unit and (strict or intent.unit in EXACT_UNITS):
            ranked = [k for k in ranked if type_strength(e.sentences[k], intent.answer_type, intent.asked, intent.unit) == 2
                      or unit is not None and unit.search(e.sentences[k])]
        elif strict and intent.answer_type == "number" and (asked := [stem(w) for w in content_words(intent.asked)]):
            # "what sparsity does it reach": a sentence with some other number does not say it.
            ranked = [k for k in ranked if any(t.startswith(a) for a in asked for t in content_terms(e.sentences[k]))
                      or spelled_count(e.sentences[k], intent.asked)]  # "outperforms nine … models"
        if not ranked and holds_type(e.title, intent.answer_type, intent.asked, intent.counted):
            # The title states it ("… Built on over 10 Million Recordings"): the paper reports the
            # fact; quote the abstract's best sentence that holds a quantity of that kind.
            ranked = sorted((k for k, s in enumerate(e.sentences) if holds_type(s, intent.answer_type, intent.asked, False)),
                            key=lambda k: -e.sentence_scores[k])[:1] or e.quotes[:1]
        if ranked:
            holders.append(e)
            # The best holder, a second one that states it as plainly, and the sentence naming the method.
            best = ranked[:2] if len(ranked) > 1 and type_strength(
                e.sentences[ranked[1]], intent.answer_type, intent.asked, intent.unit) == 2 else ranked[:1]
            p.quotes[e.paper_id] = sorted({*best, *e.quotes[:1]})
    if holders:
        p.cited = holders + [e for e in p.cited if e not in holders]
        p.kind = "detail" if p.kind == "single" or len(holders) == 1 else p.kind
    else:
        p.about_one = p.kind in ("single", "code") and len(p.cited) == 1 or intent.points_at_one
        p.kind = "detail-missing"
        p.cited = p.cited[:1]


def plan_subset(intent: Intent, evidence: list[PaperEvidence], settings: Settings, max_cited: int,
                pool_size: int, **context) -> Plan:
    """"Which of those ...": the previous answer's papers that match the new condition."""
    p = Plan("subset-none", intent, pool_size=pool_size, window=intent.window, **context)
    top = evidence[0] if evidence else None
    if top is None or top.relevance < settings.subset_min_relevance:
        return p
    floor = max(settings.subset_min_relevance, top.relevance * settings.relative_cutoff)
    p.kind = "subset"
    # ... or that says the condition in one sentence, however its embedding scores ("are they
    # training free?": PDV's "training-free enhancement" scored far below the paper titled so).
    p.cited = [e for e in evidence if e.relevance >= floor
               or e.focus >= 0.999 and e.relevance >= settings.subset_min_relevance][:max_cited]
    return p


def plan_facts(intent: Intent, previous: list[PaperEvidence], settings: Settings, **context) -> Plan:
    """"What datasets did they use?": the asked fact of each paper of the previous answer, quoted
    where its abstract states it; the answer cites those that do and says when none does."""
    p = Plan("single" if len(previous) == 1 else "facts", intent, cited=list(previous), pool_size=len(previous),
             **context)
    # A near miss of the asked kind (another number) would pass for the answer: strict.
    detail(p, intent, settings, strict=True)
    if len(previous) > 1:
        p.cited = [e for e in p.cited if e.paper_id in p.quotes]
        p.kind = "facts" if p.cited else "facts-none"
    return p


def plan_no_such(intent: Intent, pool_size: int, **context) -> Plan:
    """"Summarize the third one" after an answer that cited fewer papers: said, not guessed."""
    return Plan("ordinal-none", intent, pool_size=pool_size, **context)


def plan_code_subset(intent: Intent, previous: list[PaperEvidence], **context) -> Plan:
    """"Which of those have code?": answered from the code links, not from relevance."""
    with_code = [e for e in previous if safe_url(e.meta.get("code_url"))]
    p = Plan("code-subset" if with_code else "code-none", intent, cited=with_code, pool_size=len(previous),
             **context)
    for e in with_code:
        i = e.best_with(lambda s: "http" in s or "github" in s.lower())
        if i is not None:
            p.quotes[e.paper_id] = [i]
    return p


def plan_one(intent: Intent, target: PaperEvidence, pool_size: int, settings: Settings | None = None,
             key: str | None = None, **context) -> Plan:
    """A follow-up about one paper of the previous answer: its code, a summary, or a fact (quoted
    where the abstract states it, said to be unreported where it does not). key: the question's most
    informative word (a stem), for a yes/no question ("does it evaluate on GPT-2?")."""
    p = Plan("single", intent, cited=[target], pool_size=pool_size, **context)
    # The word the question turns on, as written ("GPT-2", not its stem).
    word = next((raw for raw in RAW_WORD_RE.findall(intent.topic) if key and key in content_terms(raw)), key)
    # "what does the first one do for long-tail data?": asked about a topic word general English
    # rarely uses, a paper that never says it does not answer it; that is said, as for a yes/no
    # question ("what is its main idea?" turns on no such word: its summary).
    # (In another language the word is a guess at its English: only a yes/no question turns on it.)
    topical = bool(key) and not intent.summarize and p.lang == "en" \
        and zipf(word or "") < (settings.filler_zipf if settings else 4.5)
    if (intent.extra.get("yesno") or topical) and key and not intent.wants_code and not intent.answer_type:
        # The sentences that say the word the question turns on; or that none does.
        saying = [k for k, s in enumerate(target.sentences) if key in content_terms(s)]
        if saying or key in content_terms(target.title):
            p.kind = "mentions"
            p.quotes[target.paper_id] = sorted(sorted(saying, key=lambda k: -target.sentence_scores[k])[:2]) \
                or target.quotes
        else:
            p.kind = "mentions-none"
            p.quotes[target.paper_id] = summary_sentences(target)
        p.asked_word = word
        return p
    if intent.answer_type in ("number", "dataset") and not intent.wants_code and settings is not None:
        detail(p, intent, settings, strict=True)  # "what accuracy does it reach on CIFAR-100?"
    elif intent.wants_code:
        p.kind = "code"
        i = target.best_with(lambda s: "http" in s or "github" in s.lower())
        if i is not None:
            p.quotes[target.paper_id] = [i]
    elif intent.summarize or not intent.answer_type:
        p.kind = "summary"
        p.quotes[target.paper_id] = summary_sentences(target)
    return p


def plan_by_date(intent: Intent, previous: list[PaperEvidence], **context) -> Plan:
    """"Which one is the newest?": the previous answer's paper with the latest (or earliest) date,
    in its own words; papers without a date cannot be placed and are counted, not guessed."""
    dated = [e for e in previous if e.meta.get("date")]
    p = Plan("dated-none", intent, pool_size=len(previous), **context)
    if dated:
        newest = intent.extra.get("by_date") != "oldest"
        target = (max if newest else min)(dated, key=lambda e: e.meta["date"])
        p = plan_one(replace(intent, summarize=True), target, len(previous), **context)
        p.kind = "dated-pick"
    p.dated = len(dated)
    return p


def plan_by_window(intent: Intent, newest: list[PaperEvidence], total: int, **context) -> Plan:
    """A date and no topic ("papers from 2024"): the window's papers, newest first, each in its own
    words (what it proposes)."""
    p = Plan("dated-list" if newest else "refuse-window", intent, cited=newest, pool_size=total,
             window=intent.window, **context)
    for e in newest:
        p.quotes[e.paper_id] = summary_sentences(e)[:1]
    return p


def summary_sentences(e: PaperEvidence) -> list[int]:
    """What the paper proposes and what it found, in its own words."""
    picks = []
    proposes = next((k for k, s in enumerate(e.sentences) if sentence_role(s, "proposes")), None)
    if proposes is not None:
        picks.append(proposes)
    # What it found comes after what it proposes ("Mixup is a data augmentation strategy … not
    # entirely understood" is background), the first such sentence with a measured result if any.
    found = [k for k, s in enumerate(e.sentences) if sentence_role(s, "result") and k not in picks
             and (proposes is None or k > proposes)]
    found = [k for k in found if QUANTITY_RE.search(e.sentences[k])][:1] or found[:1] or [
        k for k, s in enumerate(e.sentences) if sentence_role(s, "result") and k not in picks][:1]
    picks += found
    if not picks:
        picks = list(range(min(2, len(e.sentences))))
    return sorted(picks)


def aspect_quote(e: PaperEvidence, aspect: str, used: set[int] | None = None) -> str | None:
    """The sentence that says one aspect; one not already quoted for another aspect when the
    abstract has such a sentence (the same sentence under "evaluated on" and "result" tells less)."""
    if aspect == "code":
        url = safe_url(e.meta.get("code_url"))
        i = e.best_with(lambda s: "http" in s or "github" in s.lower()) if url else None
        return e.sentences[i] if i is not None else None
    hits = [k for k, s in enumerate(e.sentences) if sentence_role(s, aspect)]
    # What a paper tested and found comes after it says what it proposes; before that it describes
    # others' work ("ConvNeXt-T ... only achieves 60% throughputs").
    first = next((k for k, s in enumerate(e.sentences) if sentence_role(s, "proposes")), -1)
    if aspect == "evaluated on":
        # The sentence naming the data first ("surpasses ... on ImageNet image classification");
        # "Experimental results support our hypotheses" names none.
        named = [k for k, s in enumerate(e.sentences) if holds_type(s, "dataset")]
        hits = [k for k in hits if k in named] or named or hits
        hits = [k for k in hits if k > first]
    if aspect == "result":
        # Results come late in an abstract, and a measured one says by how much.
        later = [k for k in hits if k > first] or hits
        hits = sorted(later, key=lambda k: (not QUANTITY_RE.search(e.sentences[k]), -k))
    hits = [k for k in hits if k not in (used or ())] or hits
    if hits and used is not None:
        used.add(hits[0])
    return e.sentences[hits[0]] if hits else None


def plan_comparison(intent: Intent, sides: list[PaperEvidence | None], names: list[str], mentioned: bool = False,
                    **context) -> Plan:
    """Two things side by side: each found on its own, each cited, each aspect a verbatim quote.
    mentioned: the missing side is named in the found paper's abstract (a baseline it beats)."""
    found = [e for e in sides if e is not None]
    missing = [n for n, e in zip(names, sides) if e is None]
    p = Plan("comparison" if found else "refuse-none", intent, cited=found, side_names=names,
             missing_sides=missing, **context)
    if not found:
        return p
    if mentioned and len(found) == 1 and _naming(found[0], missing, found[0], own=False):
        # Every sentence naming it, a measured one first ("1.28× speed-up … to what MEGA achieves").
        e = found[0]
        naming = [k for k, s in enumerate(e.sentences) if _naming(replace(e, sentences=[s]), missing, e, own=False)]
        p.mentioned = True
        p.quotes[e.paper_id] = sorted(sorted(naming, key=lambda k: not QUANTITY_RE.search(e.sentences[k]))[:2])
    used: list[set[int]] = [set() for _ in found]
    # The measured result picks its sentence before "evaluated on" does, which may repeat it.
    cells = {a: [ComparisonCell(n=i + 1, quote=aspect_quote(e, a, used[i])) for i, e in enumerate(found)]
             for a in ("proposes", "result", "evaluated on", "code")}
    p.comparison = [ComparisonRow(aspect=a, cells=cells[a]) for a in ASPECTS]
    if len(found) == 2 and not missing:
        # "which is better?": only a sentence where one paper names the other compares them head
        # to head; the rows above are each paper against its own baselines.
        against = [_naming(found[i], [names[1 - i]] if len(names) == 2 else [], found[1 - i]) for i in range(2)]
        if any(against):
            p.comparison.append(ComparisonRow(aspect=HEAD_TO_HEAD, cells=[
                ComparisonCell(n=i + 1, quote=q) for i, q in enumerate(against)]))
        p.head_to_head = any(against)
    return p


HEAD_TO_HEAD = "names the other"


def _naming(e: PaperEvidence, written: list[str], other: PaperEvidence, own: bool = True) -> str | None:
    """The sentence of e's abstract that names the other paper's method: by a name in its title
    ("FinalMLP"), or as the question wrote it when that is written like a name (or, own=False, as
    written at all: "mega" for MEGA, a baseline with no paper here)."""
    names = {n for n in NAME_TOKEN_RE.findall(other.title.split(":")[0]) if len(n) >= 4} if own else set()
    names |= {w.strip() for w in written if NAME_TOKEN_RE.fullmatch(w.strip())}
    if not own:  # "mega speed": its rarest word in English is the name
        names |= {min((w for side in written for w in side.split() if len(w) >= 3), key=zipf, default="") or "\0"}
    names -= set(NAME_TOKEN_RE.findall(e.title))  # its own name is not the other's
    for s in e.sentences:
        if any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", s, re.I) for n in names):
            return s
    return None


def suggestions(p: Plan) -> list[str]:
    """Follow-ups that work when asked (each resolves through the follow-up logic above)."""
    n = len(p.cited)
    if p.refused or not n:
        return []
    # Not a question the answer already answered: after code links, no "which have code?".
    shown_code = p.kind in ("code", "code-subset", "code-list")
    if n == 1:
        out = ["Summarize [1]"] if shown_code else ["Where is its code?", "Summarize [1]"]
        if p.kind == "single" and not p.intent.followup:
            # A theme answered by one paper that stands out: the next closest are one click away.
            out = ["Show more papers", *out[:1]]
        return out
    out = ["Compare [1] and [2]", "Summarize [1]"]
    if p.kind == "list" and p.pool_size > n + p.shown_before:
        out = ["Show more papers", *out[:1]]  # the list was cut: its next papers (conversation.MORE_RE)
    return out if shown_code else ["Which of these have code?", *out]


# ---- rendering ------------------------------------------------------------------------------------

def _corpus_span(p: Plan) -> str:
    lo, hi = p.corpus_dates
    return f" (the corpus's dated papers run from {lo} to {hi})" if lo and hi else ""


def headline(p: Plan) -> str:
    line = _headline(p)
    if p.answers_pooled < 0:
        return line.replace("from the previous answer", "shown in this conversation")
    return line.replace("the previous answer", "the previous two answers") if p.answers_pooled > 1 else line


# Plan.intent.ordinal (0-based, -1 for the last) back to its word: the first word intent.ORDINALS
# gives each ("first", not "former"; "last", not "latter").
_ORDINAL_NAMES = {(v - 1 if v > 0 else -1): k for k, v in reversed(ORDINALS.items()) if k.isalpha()}


def _headline(p: Plan) -> str:
    topic = escape(p.intent.searched_topic)
    n = len(p.cited)
    if p.kind == "refuse-title":
        return (f"No paper in this corpus is titled “{escape(p.side_names[0])}”, so I can't answer about it from "
                "here; ask about its topic to see the papers the corpus has on it.")
    if p.kind == "refuse-meta":
        return (
            f"The corpus holds only the titles and abstracts of its {p.corpus_size} papers: it has no "
            f"{p.intent.meta}, so I can't answer that from it. Each paper's link opens its page, "
            "which may list them."
        )
    if p.kind == "refuse-window" and not content_words(p.intent.topic):
        return f"No paper in the corpus is {escape(p.window.meaning)}{_corpus_span(p)}."
    if p.kind == "refuse-window":
        return (f"No paper {escape(p.window.meaning)} is about “{topic}”{_corpus_span(p)}, so I can't "
                "answer that from this corpus.")
    if p.kind == "dated-list":
        shown = f"the {n} most recent, newest first" if p.pool_size > n else "newest first"
        return (f"{p.pool_size} paper{'s' if p.pool_size != 1 else ''} in the corpus "
                f"{'are' if p.pool_size != 1 else 'is'} {escape(p.window.meaning)}; {shown}:")
    if p.kind == "outside-window":
        more = f", then {n - 1} more" if n > 1 else ""
        return (f"No paper {escape(p.window.meaning)} is about “{topic}”{_corpus_span(p)}. Outside that window, "
                f"or with no date in the corpus, the closest is *{lead_title(p)}* [1]{more} (dates beside each):")
    if p.kind == "refuse-none":
        if p.side_names and p.pool_size:
            return f"The previous answer cited {p.pool_size} papers, so {' and '.join(p.side_names)} do not point at them."
        if p.side_names:
            names = " or ".join(f"“{escape(s)}”" for s in p.side_names)
            return f"Neither {names} is in this corpus: no abstract among the {p.corpus_size} papers matches them."
        if p.lang != "en" and p.unmatched:
            return ("The abstracts in this corpus are in English and none of your question's words match "
                    "theirs, so I can't search for it: please ask in English (for example “which papers "
                    "merge models?”).")
        missing = ""
        if p.unknown_terms:
            words = ", ".join(f"“{escape(t)}”" for t in p.unknown_terms[:4])
            missing = f" No abstract even uses {words}."
        # "None of the 294 papers published before 2019" would say all 294 are: a window is named alone.
        among = f"of the papers {escape(p.window.meaning)}" if p.window else f"among the {p.corpus_size} papers"
        if p.intent.answer_type == "number" and p.intent.asked:
            return f"No abstract {among} reports {escape(p.intent.asked)}, so I can't answer that from this corpus."
        none = f"None of the papers {escape(p.window.meaning)}" if p.window else f"None of the {p.corpus_size} papers"
        return f"{none} is about “{topic}”, so I can't answer that from this corpus.{missing}"
    if p.kind == "subset-none":
        if p.window is not None and not content_words(p.intent.topic):  # "which of them are from 2019?"
            undated = p.undated
            if p.pool_size == 1:
                return ("The paper from the previous answer has no date in the corpus, so I can't tell whether it "
                        f"is {escape(p.window.meaning)}." if undated else
                        f"The paper from the previous answer is not {escape(p.window.meaning)}.")
            return f"None of the {p.pool_size} papers from the previous answer is {escape(p.window.meaning)}{_undated(undated)}."
        if p.pool_size == 1:
            return f"The paper from the previous answer is not about “{topic}”."
        return f"None of the {p.pool_size} papers from the previous answer is about “{topic}”."
    if p.kind == "facts-none":
        return f"None of the {p.pool_size} papers from the previous answer reports {escape(_asked(p.intent))} in its abstract."
    if p.kind == "facts":
        if n == p.pool_size:
            return f"Each of the {n} papers from the previous answer, where its abstract states it:"
        return (f"{n} of the {p.pool_size} papers from the previous answer {'states' if n == 1 else 'state'} it in "
                f"{'its abstract' if n == 1 else 'their abstracts'} "
                f"(the others do not):")
    if p.kind == "ordinal-none":
        cited = "one paper" if p.pool_size == 1 else f"{p.pool_size} papers"
        return f"The previous answer cited {cited}, so there is no {_ORDINAL_NAMES.get(p.intent.ordinal, 'such')} one."
    if p.kind == "code-none":
        if p.pool_size == 1:
            return "The paper from the previous answer does not link to any code in its abstract."
        return f"None of the {p.pool_size} papers from the previous answer links to code in its abstract."
    if p.kind == "dated-none":
        if p.pool_size == 1:
            return "The paper from the previous answer has no date in the corpus."
        return f"None of the {p.pool_size} papers from the previous answer has a date in the corpus, so I can't tell."
    if p.kind == "detail" and n == 1 and p.cited[0].paper_id in p.quotes:
        # The fact is in the quote below: say that it is, rather than "the best match is".
        asked = escape(p.intent.asked)
        said = (f"names the {asked or 'data'}" if p.intent.answer_type == "dataset" else
                f"reports the number of {asked}" if p.intent.counted and asked else
                f"reports the {asked}" if asked else
                f"reports {_UNIT_NAMES[p.intent.unit]}" if p.intent.unit in _UNIT_NAMES else "reports it")
        return f"*{escape(p.cited[0].title)}* [1] {said} in its abstract:"
    if p.kind == "more-none":
        if p.pool_size <= 1:
            return f"The only paper that matches “{topic}” was in the previous answer; no other comes close."
        return f"{_all(p.pool_size)} papers that match “{topic}” were in the previous answers."
    lead = escape(p.cited[0].title)
    if p.kind == "more-weaker":
        matched = (f"The closest match for “{topic}” was" if p.pool_size <= 1 else
                   f"{_all(p.pool_size)} papers that match “{topic}” were")
        return (f"{matched} in the previous answers; these {n} come next, each matching less well "
                f"(the closest is *{lead}* [1]):" if n > 1 else
                f"{matched} in the previous answers; the next closest matches less well: *{lead}* [1].")
    if p.kind == "dated-pick":
        which = "oldest" if p.intent.extra.get("by_date") == "oldest" else "newest"
        undated = p.pool_size - p.dated
        if p.pool_size == 1:
            return f"The previous answer cited one paper: *{lead}* [1] ({_date(p.cited[0])})."
        note = f" ({undated} of them {'has' if undated == 1 else 'have'} no date in the corpus)" if undated else ""
        return (f"The {which} of the {p.pool_size} papers from the previous answer{note} is *{lead}* [1], "
                f"{_date(p.cited[0])}, in its own words:")
    if p.kind == "code":
        code = safe_url(p.cited[0].meta.get("code_url"))
        if code:
            return f"The code for *{lead}* is at {code} [1]."
        return f"The abstract of *{lead}* [1] does not link to any code."
    if p.kind == "code-subset":
        if p.pool_size == 1:
            return "The paper from the previous answer links to its code:"
        return f"{n} of the {p.pool_size} papers from the previous answer {'links' if n == 1 else 'link'} to code:"
    if p.kind == "subset-dated":
        verb = "is" if n == 1 else "are"
        undated = p.undated
        return f"{n} of the {p.pool_size} papers from the previous answer {verb} {escape(p.window.meaning)}{_undated(undated)}:"
    if p.kind == "subset":
        if p.pool_size == 1:
            return f"The paper from the previous answer matches “{topic}”:"
        if n == p.pool_size:
            return f"{_all(n)} papers from the previous answer match “{topic}”:"
        return f"{n} of the {p.pool_size} papers from the previous answer {'matches' if n == 1 else 'match'} “{topic}”:"
    if p.kind == "mentions":
        return f"*{lead}* [1] on “{escape(p.asked_word)}”, in its own words:"
    if p.kind == "mentions-none":
        return (f"The abstract of *{lead}* [1] does not mention “{escape(p.asked_word)}”, so it does not say; "
                "what it proposes and finds:")
    if p.kind == "summary":
        return f"*{lead}* [1], in its own words (what it proposes, what it finds):"
    if p.kind == "comparison":
        titled = [f"*{escape(e.title)}* [{i + 1}]" for i, e in enumerate(p.cited)]
        sides = ", ".join(titled[:-1]) + (", and " if len(titled) > 2 else " and ") + titled[-1] if len(titled) > 1 else titled[0]
        text = f"Comparing {sides}, side by side in their own words:"
        if p.head_to_head is False:
            text = (f"Comparing {sides}, side by side in their own words. Neither abstract names the other, "
                    "so neither reports a head-to-head result; each is measured against its own baselines:")
        if p.missing_sides and p.pool_size:
            gone = " or ".join(escape(s) for s in p.missing_sides)
            text = (f"{gone} is not among the {p.pool_size} paper{'s' if p.pool_size != 1 else ''} of the previous answer. "
                    f"Here is *{escape(p.cited[0].title)}* [1]:")
        elif p.missing_sides and p.unnamed:
            gone = " or ".join(f"“{escape(s)}”" for s in p.missing_sides)
            text = (f"No abstract in this corpus names {gone}, so I can't tell which paper that is (ask about "
                    f"its topic to find it). Here is *{escape(p.cited[0].title)}* [1]:")
        elif p.missing_sides and p.mentioned:
            gone = " or ".join(f"“{escape(s)}”" for s in p.missing_sides)
            text = (f"{gone} has no paper of its own in this corpus; *{escape(p.cited[0].title)}* [1] compares "
                    f"with it, in its own words:")
        elif p.missing_sides and len(p.cited) > 1:
            gone = " or ".join(f"“{escape(s)}”" for s in p.missing_sides)
            text = f"{gone} is not in this corpus: no abstract matches it. Comparing the others, {sides}:"
        elif p.missing_sides:
            gone = " or ".join(f"“{escape(s)}”" for s in p.missing_sides)
            text = (f"{gone} is not in this corpus: no abstract matches it. "
                    f"Here is what the corpus has on the other side, *{escape(p.cited[0].title)}* [1]:")
        return text
    if p.kind == "detail-missing":
        asked = escape(_asked(p.intent))
        # Datasets are named or not: "on multiple multimodal datasets" reports some, naming none.
        verb, verbs = ("name", "names") if p.intent.answer_type == "dataset" else ("report", "reports")
        if p.about_one:
            return (f"The abstract of *{lead}* [1] does not {verb} {asked}; what it says closest to the "
                    "question:")
        return (f"None of the abstracts I found {verbs} {asked}. The closest match is *{lead}* [1], "
                "which says:")
    if p.kind == "count":
        shown = f"; the {n} closest are below" if p.pool_size > n else ""
        noun = "paper matches" if p.pool_size == 1 else "papers match"
        return f"{p.pool_size} {noun} “{topic}”{shown}, the closest being *{lead}* [1]."
    if p.kind == "code-list":
        if n == p.pool_size:
            return f"{n} paper{'s' if n > 1 else ''} on “{topic}” link code in the abstract; the closest is *{lead}* [1]."
        return (f"{n} of the {p.pool_size} papers on “{topic}” link{'s' if n == 1 else ''} code in "
                f"{'its abstract' if n == 1 else 'their abstracts'} (the others do not); the closest is *{lead}* [1].")
    if p.kind == "code-list-none":
        return f"None of the {p.pool_size} papers on “{topic}” links code in its abstract; these are the closest:"
    if p.kind == "list" and p.shown_before:
        return (f"{n} more of the {p.pool_size} papers that match “{topic}” (after the {p.shown_before} already "
                f"shown); the closest of them is *{lead}* [1].")
    if p.kind == "list":
        noun = "paper matches" if n == 1 else "papers match"
        if p.pool_size > n:
            # Not "10 papers match" when 17 came close: the list is the closest of them.
            return f"{p.pool_size} papers match “{topic}”; the {n} closest are below, the closest being *{lead}* [1]."
        return f"{n} {noun} “{topic}”; the closest is *{lead}* [1]."
    if n > 1:
        return f"The best match is *{lead}* [1]; {n - 1} more paper{'s come' if n > 2 else ' comes'} close."
    return f"The best match is *{lead}* [1]."


def lead_title(p: Plan) -> str:
    return escape(p.cited[0].title)


def notes(p: Plan) -> list[str]:
    out = []
    if p.lang != "en" and p.matched and p.foreign and not p.unmatched:
        shared = ", ".join(f"“{escape(w)}”" for w in p.matched[:4])
        other = " or ".join(f"“{escape(w)}”" for w in p.foreign[:4])
        out.append(f"The abstracts in this corpus are in English; I searched for the words of your question "
                   f"they share ({shared}), not for {other}, which they do not (answers quote the English "
                   "abstracts; asking in English finds more).")
    elif p.lang != "en" and not (p.unmatched and p.refused):
        out.append("The abstracts in this corpus are in English; I matched the words of your question that "
                   "they share (answers quote the English abstracts).")
    for kind, said in (p.intent.extra.get("unknowable") or {}).items():
        # "NeurIPS 2023 papers on robustness": the topic is answered; what filters it cannot is said.
        out.append(f"The corpus holds only titles and abstracts, with no {kind}, so these are not filtered by "
                   f"“{escape(said)}”.")
    if p.window is not None and not p.refused and p.kind not in ("outside-window", "dated-list"):
        out.append(f"Only papers {escape(p.window.meaning)} are considered{_corpus_span(p)}.")
        if p.undated_close:
            n = p.undated_close
            out.append(f"{n} more paper{'s' if n != 1 else ''} that match{'es' if n == 1 else ''} as well "
                       f"{'has' if n == 1 else 'have'} no date in the corpus, so {'it is' if n == 1 else 'they are'} "
                       "not shown (ask without the dates to see them).")
    if p.unknown_terms and p.partial and not p.refused:
        # Answered from the rest of the question: say which of its words no paper uses, so a near
        # miss ("watermark images generated by diffusion models") is not taken for a match.
        said = ", ".join(f"“{escape(t)}”" for t in p.unknown_terms[:4])
        out.append(f"No abstract uses {said}: these papers match the rest of the question.")
    elif p.uncovered and not p.refused:
        said = " or ".join(f"“{escape(t)}”" for t in p.uncovered[:4])
        out.append(f"None of these papers mentions {said}: they match the rest of the question.")
    return out


def uncovered_words(topic: str, weights: dict[str, float], cited: list[PaperEvidence], filler_zipf: float) -> list[str]:
    """The question's topic words (as written) that no cited paper's title or abstract uses: "mamba
    for protein folding" answered with Mamba papers says that none mentions protein folding. Common
    English words ("really", "covered") are left out: an abstract need not say them."""
    used = set().union(*(content_terms(e.title + " " + " ".join(e.sentences)) for e in cited)) if cited else set()
    used |= {u.replace("-", "") for u in used if "-" in u}  # "finetuning" is said by "fine-tuning"

    def said(w: str) -> bool:  # "nets" is said by "networks": a word an abstract word starts with
        forms = {f.replace("-", "") for f in (stem(w), w.removesuffix("s"))}
        return bool(forms & used) or any(len(f) >= 3 and u.startswith(f) for f in forms for u in used)

    return [w for w in dict.fromkeys(content_words(topic))
            if stem(w) in weights and not said(w) and zipf(w) < filler_zipf]


def _date(e: PaperEvidence) -> str:
    return e.meta.get("date") or "date unknown"


def _link(e: PaperEvidence) -> str:
    url = safe_url(e.meta.get("url"))
    return f"[{escape(e.title)}]({url})" if url else escape(e.title)


def entry(n: int, e: PaperEvidence, p: Plan, show_code: bool) -> str:
    line = f"**[{n}]** {_link(e)} ({_date(e)}): “{escape(p.quote_of(e))}” [{n}]"
    code = safe_url(e.meta.get("code_url"))
    if show_code and code:
        line += f" Code: {code}"
    return line


def comparison_markdown(p: Plan) -> str:
    lines = []
    for row in p.comparison or []:
        cells = []
        for cell in row.cells:
            e = p.cited[cell.n - 1]
            if row.aspect == "code":
                code = safe_url(e.meta.get("code_url"))
                cells.append(f"[{cell.n}] {code}" if code else f"[{cell.n}] no code link in the abstract")
            elif cell.quote:
                cells.append(f"[{cell.n}] “{escape(cell.quote)}” [{cell.n}]")
            else:
                cells.append(f"[{cell.n}] not stated in the abstract")
        lines.append(f"- **{row.aspect}**: " + " · ".join(cells))
    return "\n".join(lines)


def sources(p: Plan) -> list[Source]:
    return [
        Source(n=i + 1, paper_id=e.paper_id, title=e.title, url=safe_url(e.meta.get("url")) or "",
               code_url=safe_url(e.meta.get("code_url")), quote=p.quote_of(e),
               # a date-only question ("papers from 2024"): its one criterion, the date, each paper meets
               score=1.0 if p.kind == "dated-list" else round(e.relevance, 4),
               date=e.meta.get("date") or None, arxiv_id=e.meta.get("arxiv_id") or None)
        for i, e in enumerate(p.cited)
    ]


def answer_kind(p: Plan) -> str:
    return ("refused" if p.refused else "subset" if p.kind == "subset-dated" else "single" if p.kind == "dated-pick"
            else "list" if p.kind == "dated-list" else p.kind)


def render(question: str, p: Plan) -> Iterator[Answer]:
    parts = notes(p) + [headline(p)]
    srcs = sources(p)
    base = dict(question=question, refused=p.refused, mode="extractive", kind=answer_kind(p),
                paper_ids=[e.paper_id for e in p.cited], filters=p.window.filters() if p.window else {},
                comparison=p.comparison, suggestions=p.suggestions or suggestions(p))
    # The headline already says [1]: ship its source with it so the marker links at once.
    yield Answer(answer="\n\n".join(parts), sources=srcs[:1], **base)
    show_code = p.intent.wants_code or p.kind in ("code-subset", "comparison")
    for i, e in enumerate(p.cited):
        parts.append(entry(i + 1, e, p, show_code=show_code))
        if p.kind == "comparison" and i == len(p.cited) - 1:
            parts.append(comparison_markdown(p))
        yield Answer(answer="\n\n".join(parts), sources=srcs[: i + 1], **base)
