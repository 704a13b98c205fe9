"""The question's topic as the retriever and the scorer see it: misspelt words mapped to the corpus
word one edit away, each topic word weighted by how rare it is (in the corpus and in English), and
the topic words the corpus lacks (filler and typos never count as lacking)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .words import FUNCTION_WORDS, REQUEST_WORDS, Vocabulary, _one_edit, content_words, fold, language_of, stem, words, written_as_names, zipf


# Below this Zipf value in the question's language a word is not of that language (English words
# in a Spanish question: "deepfakes" 1.1 in Spanish; "trabajos" is 4.9).
LOANWORD_ZIPF = 1.5

ACRONYM_RE = re.compile(r"(?<![\w-])[A-Z]{2,6}s?(?![\w-])")


@dataclass
class Query:
    text: str  # what is searched: the topic with typos corrected
    weights: dict[str, float]  # stem -> weight of each topic word
    missing: list[str] = field(default_factory=list)  # topic words no abstract uses
    corrections: dict[str, str] = field(default_factory=dict)  # typo -> corpus word
    lang: str = "en"
    surprisals: dict[str, float] = field(default_factory=dict)  # stem -> how much the word says in English
    # stem -> the topic word's stem it counts as: the corpus's adjective for a noun asked ("financial"
    # for "finance", "convolutional" for "convolution"), and back. ("X or Y" as one word was measured
    # and not kept: dev topic citation recall 0.654 -> 0.638.)
    same: dict[str, str] = field(default_factory=dict)
    # The other form of each abbreviation the corpus defines ("text-to-speech" for "tts"): added to
    # the keyword search only; the embedding reads the question's own words (with them it drifted
    # to the long form's field: "llm code generation benchmarks" found LLM papers to answer with).
    also: str = ""
    # A question in another language: its topic words the corpus shares no English word with
    # ("laudos", "raio-x"); when they outnumber the shared ones, the question was not understood.
    foreign: list[str] = field(default_factory=list)

    @property
    def keyword_text(self) -> str:
        return f"{self.text} {self.also}" if self.also else self.text

    @property
    def key(self) -> str | None:
        """The most informative topic word (a stem), or None when the question has none."""
        return max(self.weights, key=self.weights.get) if self.weights else None

    @property
    def key_missing(self) -> bool:
        """The most informative topic word is one no abstract uses."""
        return self.key is not None and self.key in {stem(w) for w in self.missing}

    @property
    def missing_share(self) -> float:
        """The share of the topic that no abstract uses, each word weighed by how much it says in
        general English (a missing word has no corpus IDF to weigh it by)."""
        said = {t: surprisal_of.get(t, 0.0) for t in self.weights} if (surprisal_of := self.surprisals) else {}
        total = sum(said.values())
        lost = sum(said.get(stem(w), 0.0) for w in self.missing)
        return lost / total if total else 0.0


NEGATION_RE = re.compile(r"\b(?:without|w/o)\s+((?:[\w-]+\s*){1,3})", re.I)
# What the asker rules out: "recommenders that aren't just ad click prediction", "(not counting
# Mamba/SSMs)", "other than CTR". Neither weighed nor searched: the embedding of those words would
# pull in exactly the papers they exclude.
EXCLUSION_RE = re.compile(r"(?:\b(?:is|are|was|were)n['’]?t|\bnot)\s+(?:just|only|about|counting|including)\s+"
                          r"((?:[\w/-]+\s*){1,3})|\b(?:excluding|except(?: for)?|other than|apart from)\s+"
                          r"((?:[\w/-]+\s*){1,3})|"
                          # "long sequence models that aren't transformers", "that don't use attention"
                          r"\b(?:that|which)\s+(?:(?:is|are)n['’]?t(?!\s+(?:just|only|about|counting|including)\b)"
                          r"(?:\s+(?:based on|using))?|(?:do|does)n['’]?t\s+"
                          r"(?:use|rely on|need|require|involve))\s+((?:[\w/-]+\s*){1,3})", re.I)


def negated(topic: str) -> set[str]:
    """Topic words under "without"/"w/o" up to the next function word ("merge models without
    retraining" -> {"retraining"}): papers doing without something need not mention it, and one
    that does is no closer to the topic. Empty when nothing else would be left to search for."""
    out: set[str] = set()
    for m in NEGATION_RE.finditer(topic):
        for w in words(m.group(1)):
            if w in FUNCTION_WORDS and out:
                break
            out.update(content_words(w))
    for m in EXCLUSION_RE.finditer(topic):  # all of it, as it is not searched either ("counting" too)
        out.update(content_words(m.group(0)))
    return out if set(content_words(topic)) - out else set()


def without_exclusions(text: str) -> str:
    """The text without what it rules out ("... that isn't just ad click prediction")."""
    kept = EXCLUSION_RE.sub(" ", text)
    return " ".join(kept.split()) if content_words(kept) else text


def _slip_of_filler(word: str, fillers: frozenset[str] = FUNCTION_WORDS | REQUEST_WORDS) -> bool:
    """A typo of a request or function word ("publised", "wich", "abuot") is no topic word either."""
    # Three letters only for a dropped letter ("wat" for "what"): most three-letter words are names.
    return (len(word) >= 4 or len(word) == 3 and word.isalpha()) and any(
        len(f) >= 4 and (len(word) >= 4 or len(f) == 4) and _one_edit(word, f) for f in fillers)


def _degree_of_common(word: str, filler_zipf: float) -> bool:
    """ "newer", "latest", "greatly": a comparative, superlative or adverb of a common English word
    says no more about a topic than the word itself."""
    for suffix, add in (("er", ""), ("est", ""), ("ier", "y"), ("iest", "y"), ("ly", "")):
        base = word[: -len(suffix)] + add if word.endswith(suffix) else ""
        if len(base) >= 3 and zipf(base, "en") >= filler_zipf:
            return True
    return False


# A noun and its adjective are one topic ("finance" / "financial", "robot" / "robotic"): the stemmer
# keeps them apart. Only suffixes that do not make a different word of a short one: "-al" only after
# "-ion" ("sign" is not "signal", "norm" not "normal").
_ADJECTIVE_OF = (("ion", ("al", "ally")), ("ce", ("ial",)), ("y", ("ic", "ical", "ics")), ("e", ("ic", "ics")),
                 ("", ("ic", "ics", "ical")))
_NOUN_OF = (("ionally", "ion"), ("ional", "ion"), ("cial", "ce"), ("ical", "y"), ("ical", "ic"), ("ical", ""),
            ("ics", ""), ("ics", "e"), ("ic", ""), ("ic", "e"), ("ic", "y"))


def relatives(word: str, vocab: Vocabulary) -> set[str]:
    """The corpus words that are this word's adjective or noun ("finance" -> {"financial"})."""
    found = set()
    for end, suffixes in _ADJECTIVE_OF:
        if word.endswith(end) and not (end == "" and word[-1] in "aeiouy"):
            base = word if end in ("ion", "") else word[:-1]  # "finance" -> "financ" + "ial"
            found |= {base + s for s in suffixes if len(base) >= 4}
    for suffix, end in _NOUN_OF:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            found.add(word[: -len(suffix)] + end)
    if word.endswith("ing") and len(word) >= 8:
        # The doer of an activity: "forecasting" / "forecasters", "sampling" / "sampler". Only from
        # the "-ing" form: "transformer" is not a thing that transforms.
        found |= {word[:-3] + "er", word[:-3] + "ers"}
    return {w for w in found if w != word and w in vocab.df}


_WORD_SPAN_RE = re.compile(r"(?<![\w-])[^\W\d_]{2,}(?![\w-])")


def hyphenated(topic: str, vocab: Vocabulary, apart=None) -> str:
    """Two words the corpus writes as one hyphenated word, joined ("training free" -> "training-free",
    "zero shot" -> "zero-shot"): apart, "free" matched a paper's "classifier-free guidance".
    apart(phrase) -> bool: whether the corpus also writes the two words apart ("speed up", a verb
    beside the noun "speed-up"); those are left as asked."""
    spans = list(_WORD_SPAN_RE.finditer(topic))
    out, last, k = [], 0, 0
    while k < len(spans) - 1:
        a, b = spans[k], spans[k + 1]
        if topic[a.end():b.start()] in (" ", "  ") and f"{fold(a.group())}-{fold(b.group())}" in vocab.df \
                and not (apart and apart(f"{a.group()} {b.group()}")):
            out += [topic[last:a.end()], "-"]
            last, k = b.start(), k + 2
        else:
            k += 1
    return "".join(out) + topic[last:]


def inflection(word: str, vocab: Vocabulary, filler_zipf: float) -> str | None:
    """The corpus's "-ing"/"-ed" form of a verb asked bare ("forget" -> "forgetting", "prune" ->
    "pruning"), which the stemmer keeps apart. Only a form rarer in English than filler: "keep" is
    not the corpus's "keeping"."""
    if len(word) < 4 or not word.isalpha():
        return None
    bases = [word, word + word[-1]] if word[-1] not in "aeiouwxy" else [word]
    if word.endswith("e"):
        bases.append(word[:-1])
    for form in (b + end for end in ("ing", "ed") for b in bases):
        if form in vocab.df and zipf(form, "en") < filler_zipf:
            return form
    return None


# British spellings of the corpus's American words ("recognising", "modelling", "colour", "centre").
_AMERICAN = [(re.compile(r"is(e|ed|es|ing|ation|ations|er|ers)$"), r"iz\1"), (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),
             (re.compile(r"our(s|ed|ing)?$"), r"or\1"), (re.compile(r"tre(s)?$"), r"ter\1"),
             (re.compile(r"ell(ing|ed|er|ers)$"), r"el\1")]


def american(word: str, vocab: Vocabulary) -> str | None:
    """The corpus's American spelling of a British one, if the corpus uses it."""
    for pattern, repl in _AMERICAN:
        other = pattern.sub(repl, word)
        if other != word and other in vocab:
            return other
    return None


def _unhyphenated(vocab: Vocabulary, word: str) -> str | None:
    """vocab._unhyphenated, remembered per vocabulary: it tries every split of the word against the
    corpus words, and the same topic words recur across questions."""
    memo = vocab.__dict__.setdefault("_unhyphenated_memo", {})
    if word in memo:
        return memo[word]
    found = vocab._unhyphenated(word)
    if len(memo) < 50_000:  # bounded: a long-running server sees many words
        memo[word] = found
    return found


def _same(weights: dict[str, float], vocab: Vocabulary, kept: list[str]) -> dict[str, str]:
    same: dict[str, str] = {}
    for word in kept:
        for other in relatives(word, vocab):
            if stem(other) not in weights:
                same[stem(other)] = stem(word)
        # One word written with and without a hyphen ("finetuning" / "fine-tuning"): papers use both.
        other = word.replace("-", "") if "-" in word else _unhyphenated(vocab, word) if len(word) >= 8 else None
        if other and other != word and other in vocab.df and stem(other) not in weights:
            same[stem(other)] = stem(word)
    return same


def surprisal(word: str, lang: str = "en") -> float:
    """0..1: how little a word says in general text ("way" ~0.1, "mamba" ~0.6); from the Zipf scale,
    where 7 is about the most frequent content words."""
    return max(0.05, (7.0 - zipf(word, lang)) / 7.0)


def understand(topic: str, vocab: Vocabulary, filler_zipf: float, question: str | None = None,
               long_question: int = 16, known_zipf: float = 3.3, apart=None) -> Query:
    lang = language_of(question or topic)
    topic = hyphenated(topic, vocab, apart)
    if lang != "en" and all(w in vocab for w in content_words(question or topic)):
        lang = "en"  # "Faster Diffusion UNet encoder": every word is the corpus's, whatever else it could be
    # An acronym ("GNNs", "CARLA") is meant as written: short capitals are one edit from many other
    # acronyms ("cnns"). A longer name with a slip ("MambaQaunt", "TIES-Mergign") is still corrected.
    names = {fold(raw) for raw in ACRONYM_RE.findall(topic)}
    written = set(written_as_names(topic))  # "ToMe" is a name, not a slip of "to me"
    weights: dict[str, float] = {}
    said: dict[str, float] = {}
    missing: list[str] = []
    corrections: dict[str, str] = {}
    text = without_exclusions(topic)
    kept: list[str] = []  # a non-English question is searched with the words the corpus shares
    inflected_forms: list[str] = []  # the corpus's form of a verb asked in another, for keyword search
    foreign: list[str] = []

    def weigh(word: str) -> None:  # a corpus word the question means: searched, and weighed by IDF
        kept.append(word)
        said[stem(word)] = surprisal(word)
        weights[stem(word)] = max(weights.get(stem(word), 0.0), vocab.idf(word) * surprisal(word))

    absent = negated(topic)
    for w in dict.fromkeys(content_words(topic)):
        if w in absent:
            continue  # what the papers do without ("retraining") is not what they are about
        if lang != "en" and zipf(w, lang) >= filler_zipf + 1.0:
            continue  # that language's grammatical words ("de", "la", "qué"), even if a name uses them
        if "-" in w and w not in vocab and all(part in vocab for part in w.split("-") if part) and (
                lang != "en" or zipf(w.split("-")[-1]) >= filler_zipf or len(w.split("-")) != 2):
            continue  # "denoising-based": its parts are known words and are weighed on their own
        if w in names and w not in vocab and w.endswith("s") and w[:-1] in vocab:
            w = w[:-1]  # "GANs" is the corpus's "GAN" (the stemmer keeps a short word's "s")
        if w in vocab:
            weigh(w)
            continue
        if lang == "en" and (spelt := american(w, vocab)):
            weigh(spelt)  # "recognising" is the corpus's "recognizing"
            text = re.sub(rf"(?<!\w){re.escape(w)}(?!\w)", spelt, text, flags=re.I)
            continue
        if lang == "en" and (relative := min(relatives(w, vocab), default=None)):
            weigh(relative)  # "robot": the corpus says "robotic"; the question's word is not lacking
            continue
        if (scaled := re.fullmatch(r"(\d+(?:\.\d+)?)([bm])", w)) and w not in vocab:
            # "the 16b diffusion transformer": a model size as typed; the title says "16 Billion"
            said_as = f"{scaled.group(1)} {'billion' if scaled.group(2) == 'b' else 'million'}"
            for part in said_as.split():
                if part in vocab:
                    weigh(part)
            text = re.sub(rf"(?<![\w.]){re.escape(w)}(?!\w)", said_as, text, flags=re.I)
            continue
        if (glued := re.fullmatch(r"([a-z]{2,})(\d{1,3})", w)) and glued.group(1) in vocab.df:
            # A name typed without its punctuation ("bt2" for "BT^2", "gpt4" for "GPT-4"): the
            # corpus splits it the same way.
            weigh(glued.group(1))
            text = re.sub(rf"(?<!\w){re.escape(w)}(?!\w)", f"{glued.group(1)} {glued.group(2)}", text, flags=re.I)
            continue
        if lang == "en" and (inflected := inflection(w, vocab, filler_zipf)):
            # "forget" in "making llms forget less": the corpus says "forgetting" (another stem), and
            # a word that common would otherwise be dropped as filler.
            weigh(inflected)
            inflected_forms.append(inflected)
            continue
        common = zipf(w, "en") >= filler_zipf or (lang != "en" and zipf(w, lang) >= filler_zipf) \
            or _degree_of_common(w, filler_zipf)
        if lang != "en":
            # Another language: its words are matched by the English word they start with
            # ("segmentação" -> "segmentation", "tumores" -> "tumor"), not by one-letter edits
            # ("parlent" is not "parent").
            fixed = vocab.cognate(w)
            if not fixed and (parts := vocab.compound(w)):
                # A compound ("Diffusionsmodellen"): each corpus word it joins is a topic word.
                for part in parts:
                    weigh(part)
                continue
        elif _slip_of_filler(w, REQUEST_WORDS) and w not in names:
            continue  # "paprs" is "papers" before it is the corpus's "pairs" ("clould" is still "cloud")
        else:
            fixed = None if w in names or zipf(w, "en") >= known_zipf else vocab.correction(w)
        if fixed and not (common and lang == "en"):
            corrections[w] = fixed
            weigh(fixed)
            text = re.sub(rf"(?<!\w){re.escape(w)}(?!\w)", fixed, fold(text))
            continue
        # An English word inside another language ("detección de deepfakes", "machine unlearning"):
        # English knows it, that language does not; the corpus lacking it counts as in English.
        loanword = lang != "en" and not common and zipf(w, "en") > 0 and zipf(w, lang) < LOANWORD_ZIPF
        if (common or lang != "en" or _slip_of_filler(w) and w not in names and w not in written) and not loanword:
            if lang != "en" and not common:
                foreign.append(w)
            continue  # filler ("anything", "hey", "publised"), or a word an English corpus cannot know
        weights[stem(w)] = vocab.idf("") * surprisal(w)
        said[stem(w)] = surprisal(w)
        missing.append(w)
    if lang != "en":
        # A hyphenated word's parts were weighed on their own; the searched text says the word once.
        parts = {p for w in kept if "-" in w for p in w.split("-")}
        text = " ".join(w for w in dict.fromkeys(kept) if w not in parts) or fold(text)
    elif len(words(topic)) > long_question:
        # A long, chatty question ("hey, so I have a pile of low-res images ...") is searched by its
        # topic words: the small talk would otherwise steer the embedding away from the topic.
        text = " ".join(w for w in dict.fromkeys(content_words(text))
                        if "-" not in w and zipf(w) < filler_zipf + 1.0) or text
    same = _same(weights, vocab, kept)
    also, same = _abbreviations(topic, weights, same, vocab) if lang == "en" else ("", same)
    also = " ".join([also, *inflected_forms]).strip()
    if also and len(weights) <= SHORT_FOR_EMBEDDING:
        # "tts papers?": an abbreviation the embedding barely knows is most of the question; the
        # long form is what it means (a longer question keeps its own words for the embedding).
        text, also = f"{text} {also}", ""
    return Query(text=text, weights=weights, missing=missing, corrections=corrections, lang=lang, surprisals=said,
                 same=same, also=also, foreign=foreign)


# At most this many topic words, a question is read by the embedding with its abbreviations spelt out.
SHORT_FOR_EMBEDDING = 2


def _abbreviations(topic: str, weights: dict[str, float], same: dict[str, str],
                   vocab: Vocabulary) -> tuple[str, dict[str, str]]:
    """The other form of each abbreviation the corpus defines ("tts" -> "text-to-speech",
    "electrocardiogram" -> "ecg"), for the keyword search; a paper that writes the one-word other
    form counts as using the question's word."""
    acronyms, longforms = getattr(vocab, "acronyms", {}), getattr(vocab, "longforms", {})
    said = words(topic)
    extra: list[str] = []
    for w in dict.fromkeys(said):
        longs = acronyms.get(w) or (w.endswith("s") and acronyms.get(w[:-1])) or ""
        for long in longs.split("|")[:1] if longs else []:
            if not set(words(long)) <= set(said):
                extra.append(long)
        for long in longs.split("|") if longs and stem(w) in weights else []:
            if len(words(long)) == 1 and stem(long) not in weights:
                same.setdefault(stem(long), stem(w))  # "text-to-speech" is "tts"
    for n in (4, 3, 2, 1):
        for i in range(len(said) - n + 1):
            phrase = " ".join(said[i:i + n])
            short = longforms.get(phrase) or (phrase.endswith("s") and longforms.get(phrase[:-1]))
            if short and short not in said and short not in extra:
                extra.append(short)
                if n == 1 and stem(phrase) in weights and stem(short) not in weights:
                    same.setdefault(stem(short), stem(phrase))  # "ECG" is "electrocardiogram"
    return " ".join(extra), same
