"""The few words that steer a follow-up, in the languages the word splitter recognises, put into
English before the question is read ("¿Cuáles de estos tienen código?" -> "which of these have code?").

The corpus is English, so a question in another language is searched with the words it shares
with the abstracts; but the words that say what is asked of the previous answer (which of these,
the second one, code, more about, before 2024) are a closed class, not topic words, and without
them every follow-up in another language was answered as a new search, or refused. Topic words
are left as they are: `understand` matches them to the corpus by their spelling.
"""
from __future__ import annotations

import re

from .words import fold, zipf

# Applied in order, each to what the ones before it left (so "gibt es" is read before "es"), on the
# accent-folded, lower-cased question.
_CUES: dict[str, list[tuple[str, str]]] = {
    "es": [("que tan rapid[oa]|cuan rapid[oa]", "how fast"), ("cuanto tiempo|cuanto tarda", "how long"),
           ("cual de (?:los|las) dos", "which of the two"), ("(?:los|las) dos primer[oa]s", "the first two"), ("(?:los|las) dos", "the two"),
           ("el otro|la otra", "the other one"), ("conjuntos? de datos", "datasets"),
           ("evaluad[oa]s?", "evaluated"), ("y", "and"), ("cuantos|cuantas", "how many"), ("cuanto", "how much"),
           ("son", "are"), ("cuales de (?:estos|estas|esos|esas|ellos|ellas)", "which of these"),
           ("alguno de (?:estos|ellos)", "any of these"), ("cuales", "which"), ("tienen", "have"), ("tiene", "has"),
           ("codigo", "code"), ("disponible", "available"), ("primero|primera|primer", "first"),
           ("segundo|segunda", "second"), ("tercero|tercera|tercer", "third"), ("cuarto|cuarta", "fourth"),
           ("ultimo|ultima", "last"), ("mas sobre", "more about"), ("cuentame", "tell me"),
           ("resume|resumen|resumeme", "summarize"), ("compara", "compare"), ("antes de", "before"),
           ("desde", "since"), ("despues de", "after"), ("o mas recientes?", "or later"),
           ("que tal", "what about")],
    "pt": [("quao rapid[oa]", "how fast"), ("quanto tempo", "how long"),
           ("qual (?:dos|das) (?:dois|duas)", "which of the two"), ("qual deles|qual delas", "which of them"), ("deles|delas", "of them"),
           ("o outro(?: artigo)?|a outra", "the other one"), ("ele|ela", "it"), ("conjuntos? de dados", "datasets"),
           ("avaliad[oa]s?", "evaluated"), ("e", "and"), ("quantos|quantas", "how many"), ("quanto", "how much"),
           ("sao", "are"), ("quais (?:destes|destas|deles|delas|desses|dessas)", "which of these"),
           ("quais", "which"), ("tem|teem", "have"), ("codigo", "code"), ("disponivel", "available"),
           ("primeiro|primeira", "first"), ("segundo|segunda", "second"), ("terceiro|terceira", "third"),
           ("ultimo|ultima", "last"), ("mais sobre", "more about"), ("resuma|resumo", "summarize"),
           ("compare", "compare"), ("antes de", "before"), ("desde", "since"), ("depois de", "after"),
           ("(?:os|as) dois primeir[oa]s", "the first two"), ("(?:os|as) dois", "the two")],
    "fr": [("a quelle vitesse|quelle vitesse", "how fast"), ("combien de temps", "how long"),
           ("lequel des deux|laquelle des deux", "which of the two"), ("les deux premier(?:e)?s", "the first two"), ("les deux", "the two"), ("plus recents?", "newer"),
           ("l'autre", "the other one"), ("est", "is"), ("il|elle", "it"), ("ils|elles", "they"),
           ("jeux? de donnees", "datasets"), ("evalue(?:e|s|es)?", "evaluated"), ("et", "and"),
           ("combien de", "how many"), ("combien", "how much"), ("sont", "are"),
           ("lesquels|lesquelles", "which of these"), ("d'entre eux|parmi eux|parmi ceux-ci", "of these"),
           ("ont", "have"), ("code", "code"), ("disponible", "available"), ("premier|premiere", "first"),
           ("deuxieme|second|seconde", "second"), ("troisieme", "third"), ("dernier|derniere", "last"),
           ("plus sur|davantage sur", "more about"), ("resume|resumer", "summarize"),
           ("compare|comparer", "compare"), ("avant", "before"), ("depuis", "since"), ("apres", "after")],
    "it": [("quanto (?:e )?veloce", "how fast"), ("quanto tempo", "how long"),
           ("quale (?:dei|delle) due", "which of the two"), ("quale", "which"), ("l'altro|l'altra", "the other one"), ("set di dati", "datasets"), ("valutat[oaie]", "evaluated"),
           ("e", "and"), ("quanti|quante", "how many"), ("quanto", "how much"), ("sono", "are"),
           ("quali di (?:questi|queste|loro)", "which of these"), ("quali", "which"), ("hanno", "have"),
           ("ha", "has"), ("codice", "code"), ("disponibile", "available"), ("primo|prima", "first"),
           ("secondo|seconda", "second"), ("terzo|terza", "third"), ("ultimo|ultima", "last"),
           ("di piu su", "more about"), ("riassumi|riassunto", "summarize"), ("confronta", "compare"),
           ("prima del", "before"), ("dal", "since"), ("dopo il", "after"), ("i primi due", "the first two")],
    "de": [("welche[rs]? (?:der|von) beiden|welche[rs]? von den beiden", "which of the two"), ("wie schnell", "how fast"), ("wie lange", "how long"), ("gibt es", "are there"), ("der andere|die andere|das andere", "the other one"), ("es", "it"),
           ("datensatze|datensatzen|datensatz", "datasets"), ("evaluiert|ausgewertet", "evaluated"), ("und", "and"),
           ("wie viele", "how many"), ("wie viel", "how much"), ("sind", "are"),
           ("welche davon|welche von (?:diesen|ihnen)", "which of these"), ("welche", "which"), ("haben", "have"),
           ("hat", "has"), ("code|quellcode", "code"), ("verfugbar", "available"), ("erste|ersten|erstes", "first"),
           ("zweite|zweiten|zweites", "second"), ("dritte|dritten|drittes", "third"),
           ("letzte|letzten|letztes", "last"), ("mehr uber", "more about"), ("erzahl mir|erzahle mir", "tell me"),
           ("fasse .{0,20} zusammen", "summarize"), ("im vergleich zu|verglichen mit", "compared to"),
           ("vergleiche", "compare"), ("vor", "before"), ("seit", "since"), ("nach", "after")],
}
# Last, so "antes de 2024" is "before 2024" first: "de 2023" alone is "from 2023".
_FROM_YEAR = ("(?:de|del|do|du|di|von|aus)(?= \\d{4})", "from")
# After the ordinals are English: "el segundo" -> "the second".
_ARTICLE = ("(?:el|la|los|las|le|les|il|lo|o|a|der|die|das|den|dem)(?= (?:first|second|third|fourth|last)(?!\\w))", "the")
_COMPILED = {lang: [(re.compile(rf"(?<!\w)(?:{pat})(?!\w)"), eng) for pat, eng in [*table, _FROM_YEAR, _ARTICLE]]
             for lang, table in _CUES.items()}


def in_english(question: str, lang: str) -> str:
    """The question with its follow-up words in English; unchanged for English or an unknown
    language. Other words keep their case ("iTransformer" stays a name)."""
    table = _COMPILED.get(lang)
    if not table:
        return question
    text = question.replace("¿", " ").replace("¡", " ")
    if lang == "fr":  # "a-t-il", "est-il", "sont-ils": the pronoun after the verb
        text = re.sub(r"(?:-t)?-(?:il|elle)\b", " il", re.sub(r"(?:-t)?-(?:ils|elles)\b", " ils", text))
    for pattern, english in table:
        folded = fold(text)
        if len(folded) != len(text):  # a letter that folds to two ("ß"): work on the folded text
            text = folded
        spans = [m.span() for m in pattern.finditer(folded)]
        for start, end in reversed(spans):
            text = text[:start] + english + text[end:]
    # That language's grammatical words ("des", "y", "sobre") are no topic and would be read as
    # English words the previous answer lacks ("None ... is about “y a it des articles newer”").
    return " ".join(t for t in text.split() if not _grammatical(t, lang))


# A word this common in its language ("des", "sobre", "und") is grammar, whatever it is in English.
GRAMMATICAL_ZIPF = 5.5


def _grammatical(token: str, lang: str) -> bool:
    w = fold(token.strip("?!.,;:()'\"")).lower()
    return bool(w) and w.isalpha() and zipf(w, lang) >= GRAMMATICAL_ZIPF and zipf(w, lang) > zipf(w, "en") + 1.0
