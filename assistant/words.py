"""Words of a question or an abstract: Unicode-aware splitting, a light stemmer, and what tells a
topic word from filler. Filler is decided by general-English word frequency (wordfreq's Zipf
scale) and by the corpus itself, not by a list of phrasings seen in the eval questions."""
from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

# Letters and digits of any script; inner hyphens and dots stay ("ties-merging", "fp8", "1.5b").
WORD_RE = re.compile(r"[^\W_](?:[\w\-\.]*[^\W_])?")

# Grammatical words (closed classes) never carry a topic, whatever their frequency; everything else
# is weighed by frequency. Kept to function words: no domain words, no question phrasings.
FUNCTION_WORDS = frozenset(
    """a an the of for in on to and or nor but with without by from at as into onto via per than then
    is are be been being was were am do does did done doing have has had having can could should would
    will shall may might must i me my we us our you your he she it its they them their this that these
    those there here what which who whom whose how why when where whether if so not no yes any some all
    each every other such only also just too very about above below between over under up down out off
    again once both either neither few more most much many own same one ones i.e e.g etc vs""".split()
) | frozenset(  # the same words contracted with the apostrophe left out, as people type: "whats", "dont"
    [w + "s" for w in "what that there here how who where when why he she".split()]
    + [w + "nt" for w in "do does did is are was were have has had could would should".split()]
    + "cant wont im ive youre youve theyre theyve weve".split()
)


# Words about the request rather than its topic, in a tool whose every answer is papers from this
# collection: "summarize the main approaches ... in this corpus", "tell me about", "find papers".
REQUEST_WORDS = frozenset(
    """paper papers work works study studies article articles publication publications research corpus collection
    approach approaches method methods technique techniques tell show find list give summarize summarise summary
    overview explain describe main anyone anything something someone please thanks hey hi hello yo
    pls plz thx btw esp fyi imo tbh ppl idk afaik iirc lol sup asap
    propose proposes proposed proposing use uses used using based new published
    discuss discusses discussed discussing mention mentions mentioned mentioning""".split()
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Fusión" and "fusion" are the same word here."""
    if text.isascii():  # most corpus text: nothing to decompose (this runs on every sentence read)
        return text.casefold()
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


# English contractions: "I've", "don't", "model's" are one word, not "i" + a topic word "ve".
CONTRACTION_RE = re.compile(r"(?<=\w)(?:n['’]t|['’](?:ve|ll|re|d|s|m|t))(?!\w)")


# Han, kana and hangul: scripts written without spaces. A run of them is one word here, and a Latin
# name inside one ("GarDiff 虚拟试衣模型…", "…にTransformerを使った") is a word of its own.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK}]")
_SCRIPT_EDGE_RE = re.compile(f"(?<=[{CJK}])(?=[^{CJK}])|(?<=[^{CJK}])(?=[{CJK}])")


def words(text: str) -> list[str]:
    text = CONTRACTION_RE.sub("", fold(text))
    if not text.isascii():
        text = _SCRIPT_EDGE_RE.sub(" ", text)
    return WORD_RE.findall(text)


@lru_cache(maxsize=1 << 17)  # words repeat: every candidate paper's sentences are stemmed per answer
def stem(word: str) -> str:
    # Crude but dependable: enough to match "merging"/"merge"/"merged", "transformers"/"transformer".
    if word.endswith(("ssion", "ssions")) and len(word) >= 8:  # "compression" meets "compress(ed)"
        return word[: word.rindex("ssion") + 2]
    if word.endswith("ss"):  # "compress", "class", "process": no plural "s" to strip
        return word
    for suffix in ("ization", "ations", "ation", "ings", "ing", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    if len(word) >= 5 and word.endswith("e") and word[-2] not in "aeiouy":
        # "denoise" meets "denoising"/"denoised", "image" meets "images": their suffix took the "e".
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def zipf(word: str, lang: str = "en") -> float:
    """How common a word is in general text, 0 (unseen) to ~8 ("the"); wordfreq's Zipf scale."""
    # From a table built once (assistant/zipf_table.py): loading wordfreq's seven lists cost every
    # fresh process ~1.7 CPU-seconds and ~230 MB. Same values.
    from .zipf_table import zipf_frequency

    if lang != "en" and lang not in OTHER_LANGS:
        return 0.0  # no word list is read for it (Chinese and Japanese would need extra tokenizers)
    return zipf_frequency(word, lang)


_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.I)


def prose(text: str) -> str:
    """The text without its URLs: an address is not prose, and its fragments ("Twin-Mergin",
    "DeepGraphLearning") must neither count as corpus words nor make a sentence look on topic."""
    return _URL_RE.sub(" ", text)


def content_words(text: str) -> list[str]:
    """The words that could carry a topic: not function or request words, not single characters.
    Hyphenated compounds count by their parts too, so "parameter-efficient" meets "parameter efficient"."""
    out = []
    for w in words(text):
        parts = [w] + ([p for p in w.split("-") if p] if "-" in w else [])
        out += [p for p in parts if p not in FUNCTION_WORDS and p not in REQUEST_WORDS and (len(p) > 1 or p.isdigit())]
    return out


def content_terms(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


# A word as written, case kept (no folding, no dots): what name shapes are judged on.
RAW_WORD_RE = re.compile(r"[^\W_](?:[\w\-]*[^\W_])?")
_NAME_SHAPE = re.compile(r"^(?:[A-Z]{2,}[\w\-]*|\w+[a-z][A-Z][\w\-]*|[a-z][A-Z][\w\-]{2,}|[A-Za-z]+[\-]?\d[\w\-]*|\w+-[A-Z][\w\-]*)$")


def names_as_written(text: str) -> list[str]:
    """The words the asker wrote like a name ("DriveAdapter", "AFFNet", "S4", "TIES-Merging"), as
    written: a rare word typed in lower case ("recomputing") may be plain technical English."""
    return [raw for raw in RAW_WORD_RE.findall(text) if _NAME_SHAPE.match(raw)]


def written_as_names(text: str) -> list[str]:
    """names_as_written, folded for matching."""
    return [fold(raw) for raw in names_as_written(text)]


def name_like(text: str) -> list[str]:
    """Words written like the name of a method or model: inner capitals ("InstaFlow", "PLeaS"),
    all capitals ("TIES"), letters with digits ("MossFormer2"), or no English word at all."""
    out = []
    for raw in RAW_WORD_RE.findall(text):
        if _NAME_SHAPE.match(raw) or (len(raw) > 3 and raw.isalpha() and zipf(fold(raw)) < 1.5):
            out.append(fold(raw))
    return out


# Languages a question might be asked in besides English: wordfreq has frequency lists for them.
OTHER_LANGS = ("es", "fr", "de", "it", "pt", "nl")


def language_of(text: str) -> str:
    """"en", or the language most of the question's words belong to when that is clearly not
    English (each word votes for the language in which it is most frequent, by a clear margin)."""
    if len(CJK_RE.findall(text)) >= 2:
        return "ja" if re.search(r"[\u3040-\u30ff]", text) else "ko" if re.search(r"[\uac00-\ud7af]", text) else "zh"
    votes: dict[str, int] = {}
    ws = [w for w in words(text) if not w.isdigit() and len(w) > 1]
    for w in ws:
        raw = w
        en = zipf(raw, "en")
        best_lang, best = max(((lang, zipf(raw, lang)) for lang in OTHER_LANGS), key=lambda x: x[1])
        if best >= en + 1.0:
            votes[best_lang] = votes.get(best_lang, 0) + 1
        elif en >= best:
            votes["en"] = votes.get("en", 0) + 1
    if not votes:
        return "en"
    # Words shared by related languages ("de", "la", "partir") split their votes: the question is
    # not English when most of its words vote for some other language, and it is the top one.
    other = sum(n for lang, n in votes.items() if lang != "en")
    best = max((item for item in votes.items() if item[0] != "en"), key=lambda x: x[1], default=("en", 0))
    return best[0] if other >= max(2, 0.5 * len(ws)) else "en"


# How much of both words a shared start must cover for a word of another language to be taken as the
# English corpus word ("segmentacao"/"segmentation" share 8 of 11 and 12 letters).
COGNATE_SHARE = 0.65


class Vocabulary:
    """The corpus's words with their document frequency: IDF for weighting, and a deletion index
    that finds the corpus word a misspelt question word was meant to be (one edit away)."""

    def __init__(self, documents: list[str]):
        from collections import Counter

        from .acronyms import paper_definitions, tables

        df: dict[str, int] = {}
        for text in documents:
            for w in set(content_words(text)):
                df[w] = df.get(w, 0) + 1
        self._index(df, len(documents))
        self.acronyms, self.longforms = tables(Counter(p for text in documents for p in paper_definitions([text])))

    @classmethod
    def from_counts(cls, df: dict[str, int], n_docs: int, acronyms=({}, {})) -> "Vocabulary":
        vocab = cls.__new__(cls)
        vocab._index(dict(df), n_docs)
        vocab.acronyms, vocab.longforms = dict(acronyms[0]), dict(acronyms[1])
        return vocab

    def _index(self, df: dict[str, int], n_docs: int) -> None:
        self.df = df
        self.n_docs = max(n_docs, 1)
        self.stems = stem_counts(df)
        self._deletes: dict[str, list[str]] = {}
        for d, w in deletion_index(df):
            self._deletes.setdefault(d, []).append(w)

    @classmethod
    def open(cls, path) -> "Vocabulary":
        """The vocabulary a serving build wrote to disk (assistant/vocabtable.py), read on demand."""
        from . import vocabtable

        db = vocabtable.Connection(path)
        vocab = cls.__new__(cls)
        vocab.df = vocabtable.Counts(db, "df")
        vocab.stems = vocabtable.Counts(db, "stems")
        vocab._deletes = vocabtable.Deletes(db)
        vocab.acronyms = vocabtable.Counts(db, "acronyms")  # "tts" -> "text-to-speech|text to speech"
        vocab.longforms = vocabtable.Counts(db, "longforms")  # "text-to-speech" -> "tts"
        vocab.n_docs = max(int(db.rows("SELECT v FROM meta WHERE k = 'n_docs'")[0][0]), 1)
        return vocab

    def _starting(self, prefix: str) -> list[str]:
        """Corpus words beginning with prefix, in order."""
        import bisect

        if hasattr(self.df, "starting"):
            return [w for w in self.df.starting(prefix) if not w[0].isdigit()]
        if not hasattr(self, "_sorted"):
            self._sorted = sorted(w for w in self.df if not w[0].isdigit())
        out = []
        i = bisect.bisect_left(self._sorted, prefix)
        while i < len(self._sorted) and self._sorted[i].startswith(prefix):
            out.append(self._sorted[i])
            i += 1
        return out

    def __contains__(self, word: str) -> bool:
        return word in self.df or stem(word) in self.stems

    def idf(self, word: str) -> float:
        import math

        n = self.df.get(word) or self.stems.get(stem(word), 0)
        return math.log((self.n_docs + 1) / (n + 1)) + 1.0

    def correction(self, word: str) -> str | None:
        """The corpus word one edit (insert, delete, substitute, swap) away, the most frequent one
        when several are; None when the word is known or nothing is close."""
        if word in self or len(word) < 4 or word.isdigit():
            return None
        found: dict[str, int] = {}
        for key in (word, *_deletes(word)):
            for cand in self._deletes.get(key, ()):
                if cand != word and _one_edit(word, cand):
                    found[cand] = self.df[cand]
            if key in self.df:
                found[key] = self.df[key]
        if found:
            return max(found, key=lambda c: (found[c], c))
        return self._unhyphenated(word) if len(word) >= 8 and "-" not in word else None

    def _unhyphenated(self, word: str) -> str | None:
        """A hyphenated corpus word written as one ("superresolution" -> "super-resolution"), with
        a slip allowed in either part ("superresolutoin", "finetunning")."""
        splits = [(word[:i], word[i:]) for i in range(3, len(word) - 2)]
        for head, tail in splits:
            if f"{head}-{tail}" in self:
                return f"{head}-{tail}"
        for head, tail in splits:
            if len(tail) >= 4 and head in self and (fix := self.correction(tail)) and f"{head}-{fix}" in self:
                return f"{head}-{fix}"
            if len(head) >= 4 and tail in self and (fix := self.correction(head)) and f"{fix}-{tail}" in self:
                return f"{fix}-{tail}"
        return None

    def compound(self, word: str) -> list[str]:
        return _compound_parts(self, word) if len(word) >= 10 else []

    def cognate(self, word: str) -> str | None:
        found = self._cognate(word)
        if found is None and word[:1] in "aeiou" and len(word) >= 6:
            # Romance languages dropped the "h" English kept: "allucinazioni" -> "hallucinations",
            # "ibrido" -> "hybrid", "umano" -> "human"
            found = self._cognate("h" + word)
        return found

    def _cognate(self, word: str) -> str | None:
        """For a word of another language, the English corpus word it starts like: a corpus word of
        4+ letters that begins it and covers 60% of it ("tumores" -> "tumor", "persone" -> "person"),
        else the corpus word sharing the longest start, when that start is two thirds of both words
        ("synthese" -> "synthesis", "segmentacao" -> "segmentation"; "articulos" is not
        "articulation"), else a one-letter slip ("difusion"; in a short word only in its second half:
        "parlent" is not "parent")."""
        if len(word) < 5 or "-" in word and all(p in self for p in word.split("-") if p):
            return None
        for theirs, ours in COGNATE_ENDINGS:  # "quantisierung" -> "quantization", "cuantizacion" -> ...
            if word.endswith(theirs) and (cand := word[: -len(theirs)] + ours) in self.df:
                return cand
            if word.endswith(theirs) and len(cand) >= 8 and (fixed := self.correction(cand)) and fixed[:2] == cand[:2]:
                return fixed  # "difusão" -> "difusion" -> "diffusion" (not "restauration" -> "duration")
        for n in range(len(word) - 1, 3, -1):  # longest first
            if n >= 0.6 * len(word) and word[:n] in self.df:
                return word[:n]
        best, best_key = None, (0, 0)
        for cand in self._starting(word[:5]):
            shared = len(os.path.commonprefix([cand, word]))
            if shared >= COGNATE_SHARE * len(word) and shared >= COGNATE_SHARE * len(cand) \
                    and (shared, self.df[cand]) > best_key:
                best, best_key = cand, (shared, self.df[cand])
        if best:
            return best
        fixed = self.correction(word)
        if fixed and (len(word) >= 8 or len(os.path.commonprefix([fixed, word])) >= COGNATE_SHARE * len(word)):
            return fixed  # a long word one letter off is that word ("difusion"); a short one must
            # share two thirds of its start ("objets" -> "objects"; "parlent" is not "parent", French
            # "voies" is not "voices"). (Requiring a technical English word instead was measured and
            # not kept: it lost "objets" -> "objects", as common in English as "voices".)
        return None


# How endings of German, French, Spanish, Portuguese and Italian words (accents folded) are written
# in English: a word whose start the corpus shares is found however its ending is spelt.
COGNATE_ENDINGS = (
    ("etros", "eters"), ("etro", "eter"), ("etri", "eters"),  # "parâmetros", "parametri" -> "parameters", not "parametric"
    ("usao", "usion"), ("usion", "usion"),  # "difusão", "difusión"
    ("isierung", "ization"), ("ierung", "ation"), ("ierung", "ization"), ("isation", "ization"),
    ("ciones", "tions"), ("cion", "tion"), ("coes", "tions"), ("cao", "tion"), ("zioni", "tions"),
    ("zione", "tion"), ("itat", "ity"), ("idad", "ity"), ("ite", "ity"), ("ita", "ity"),
    ("ischen", "ic"), ("isch", "ic"), ("ique", "ic"), ("ico", "ic"), ("ismus", "ism"),
)


def _compound_parts(vocab: "Vocabulary", word: str) -> list[str]:
    """A compound of another language ("diffusionsmodellen") as the two corpus words it joins
    (["diffusion", "model"]), the longest first part first, else its longest last part the corpus
    knows ("wissensdestillation" -> ["distillation"]); [] when neither."""
    for i in range(len(word) - 4, 4, -1):
        head, tail = word[:i], word[i:]
        first = head if head in vocab.df else head[:-1] if head[-1] == "s" and head[:-1] in vocab.df else None
        second = first and (tail if tail in vocab.df else vocab.cognate(tail))
        if first and second:
            return [first, second]
    # The last part carries a compound's meaning ("Bildsegmentierung": image segmentation).
    for i in range(4, len(word) - 5):
        if (tail := vocab.cognate(word[i:])) is not None:
            return [tail]
    return []


def stem_counts(df: dict[str, int]) -> dict[str, int]:
    """Each stem's document frequency: the sum over the words that share it."""
    stems: dict[str, int] = {}
    for w, n in df.items():
        stems[stem(w)] = stems.get(stem(w), 0) + n
    return stems


def deletion_index(corpus_words) -> Iterator[tuple[str, str]]:
    """(one-letter deletion, word) for every word typo correction may lead to (4+ letters, not a number)."""
    for w in corpus_words:
        if len(w) >= 4 and not w.isdigit():
            for d in _deletes(w):
                yield d, w


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    if a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if abs(len(a) - len(b)) != 1:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
