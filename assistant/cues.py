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
    "es": [("o mas recientes?", "or later"), ("(?:el |la |los |las )?mas recientes?|(?:el |la )?mas nuev[oa]", "newest"),
           ("(?:el |la |los |las )?mas (?:antigu[oa]s?|viej[oa]s?)", "oldest"), ("(?:el |la )?mas grande", "the largest"),
           ("(?:la )?diferencias? entre", "difference between"), ("(?:fue |fueron )?publicad[oa]s? en", "published at"),
           ("cuanto (?:acelera|mas rapid[oa])", "how much faster"), ("(?:en |con )?que datos", "what data"),
           ("evaluan|evalua", "evaluated"), ("que tan rapid[oa]|cuan rapid[oa]", "how fast"), ("cuanto tiempo|cuanto tarda", "how long"),
           ("cual de (?:los|las) dos", "which of the two"), ("(?:los|las) dos primer[oa]s", "the first two"), ("(?:los|las) dos", "the two"),
           ("el otro|la otra", "the other one"), ("conjuntos? de datos", "datasets"),
           ("evaluad[oa]s?", "evaluated"), ("y", "and"), ("cuantos|cuantas", "how many"), ("cuanto", "how much"),
           ("son", "are"), ("cuales de (?:estos|estas|esos|esas|ellos|ellas)", "which of these"),
           ("alguno de (?:estos|ellos)", "any of these"), ("cuales", "which"), ("cual es|cual", "which is"),
           ("tienen", "have"), ("tiene", "has"),
           ("codigo", "code"), ("disponible", "available"), ("primero|primera|primer", "first"),
           ("segundo|segunda", "second"), ("tercero|tercera|tercer", "third"), ("cuarto|cuarta", "fourth"),
           ("ultimo|ultima", "last"), ("mas sobre", "more about"), ("cuentame", "tell me"),
           ("resume|resumen|resumeme", "summarize"), ("compara", "compare"), ("antes de", "before"),
           ("a partir de(?: el)?(?= \\d{4})", "since"), ("hasta(?: el)?(?= \\d{4})", "until"),
           ("desde", "since"), ("despues de", "after"),
           ("que tal", "what about")],
    "pt": [("(?:o |a |os |as )?mais recentes?|(?:o |a )?mais nov[oa]", "newest"),
           ("(?:o |a |os |as )?mais antig[oa]s?|(?:o |a )?mais velh[oa]", "oldest"), ("(?:o |a )?maior", "the largest"),
           ("(?:a )?diferenca entre", "difference between"), ("publicad[oa]s? (?:em|no|na)", "published at"),
           ("qual e|qual", "which is"), ("quanto (?:acelera|mais rapid[oa])", "how much faster"),
           ("(?:em |com )?que dados", "what data"), ("quao rapid[oa]", "how fast"), ("quanto tempo", "how long"),
           ("qual (?:dos|das) (?:dois|duas)", "which of the two"), ("qual deles|qual delas", "which of them"), ("deles|delas", "of them"),
           ("o outro(?: artigo)?|a outra", "the other one"), ("ele|ela", "it"), ("conjuntos? de dados", "datasets"),
           ("avaliad[oa]s?", "evaluated"), ("e", "and"), ("quantos|quantas", "how many"), ("quanto", "how much"),
           ("sao", "are"), ("quais (?:destes|destas|deles|delas|desses|dessas)", "which of these"),
           ("quais", "which"), ("tem|teem", "have"), ("codigo", "code"), ("disponivel", "available"),
           ("primeiro|primeira", "first"), ("segundo|segunda", "second"), ("terceiro|terceira", "third"),
           ("ultimo|ultima", "last"), ("mais sobre", "more about"), ("resuma|resumo", "summarize"),
           ("compare", "compare"), ("antes de", "before"), ("a partir de(?= \\d{4})", "since"), ("ate(?: o)?(?= \\d{4})", "until"),
           ("desde", "since"), ("depois de", "after"),
           ("(?:os|as) dois primeir[oa]s", "the first two"), ("(?:os|as) dois", "the two")],
    "fr": [("(?:le|la|les) plus recente?s?", "newest"), ("(?:le|la|les) plus ancien(?:ne)?s?", "oldest"),
           ("(?:le|la) plus grand(?:e)?", "the largest"), ("plus ancien(?:ne)?s?", "older"),
           ("(?:la )?difference entre", "difference between"), ("publie(?:e|s|es)? (?:a|en|dans|au)", "published at"),
           ("les deux dernier(?:e)?s", "the last two"), ("lequel|laquelle", "which one"),
           ("quelque chose", "anything"), ("de combien (?:accelere|est-il plus rapide)|combien plus rapide", "how much faster"),
           ("quel(?:le)?s?", "which"), ("a quelle vitesse|quelle vitesse", "how fast"), ("combien de temps", "how long"),
           ("lequel des deux|laquelle des deux", "which of the two"), ("les deux premier(?:e)?s", "the first two"), ("les deux", "the two"), ("plus recents?", "newer"),
           ("l'autre", "the other one"), ("est", "is"), ("il|elle", "it"), ("ils|elles", "they"),
           ("jeux? de donnees", "datasets"), ("evalue(?:e|s|es)?", "evaluated"), ("et", "and"),
           ("combien de", "how many"), ("combien", "how much"), ("sont", "are"),
           ("lesquels|lesquelles", "which of these"), ("d'entre eux|parmi eux|parmi ceux-ci", "of these"),
           ("ont", "have"), ("code", "code"), ("disponible", "available"), ("premier|premiere", "first"),
           ("deuxieme|second|seconde", "second"), ("troisieme", "third"), ("dernier|derniere", "last"),
           ("plus sur|davantage sur", "more about"), ("resume|resumer", "summarize"),
           ("compare|comparer", "compare"), ("avant", "before"), ("depuis", "since"), ("apres", "after"),
           ("jusqu'en|jusqu'a|jusqu'au", "until")],
    "it": [("(?:il |la |lo |i |le )?piu recent[ei]|(?:il |la )?piu nuov[oa]", "newest"),
           ("(?:il |la |i |le )?piu (?:vecchi[oa]?|antic[oa]|antichi)", "oldest"), ("(?:il |la )?piu grande", "the largest"),
           ("(?:la )?differenza (?:tra|fra) (?:i|le) due", "the difference between the two"),
           ("(?:la )?differenza (?:tra|fra)", "difference between"), ("pubblicat[oaie] (?:a|al|in|su)", "published at"),
           ("prima del|prima dello|prima della|prima di|prima(?= \\d{4})", "before"), ("(?:fino al|fino a)(?= \\d{4})", "until"),
           ("qualcosa", "anything"),
           ("quanto (?:accelera|e piu veloce|piu veloce)", "how much faster"), ("(?:su |con )?quali dati", "what data"),
           ("quanto (?:e )?veloce", "how fast"), ("quanto tempo", "how long"),
           ("quale (?:dei|delle) due", "which of the two"), ("quale e|qual e", "which is"), ("quale|qual", "which"),
           ("l'altro|l'altra", "the other one"), ("set di dati", "datasets"), ("valutat[oaie]", "evaluated"),
           ("e", "and"), ("quanti|quante", "how many"), ("quanto", "how much"), ("sono", "are"),
           ("quali di (?:questi|queste|loro)", "which of these"), ("quali", "which"), ("hanno", "have"),
           ("ha", "has"), ("codice", "code"), ("disponibile", "available"), ("primo|prima", "first"),
           ("secondo|seconda", "second"), ("terzo|terza", "third"), ("ultimo|ultima", "last"),
           ("di piu su", "more about"), ("riassumi|riassunto", "summarize"), ("confronta", "compare"),
           ("dal", "since"), ("dopo il", "after"), ("i primi due", "the first two"), ("gli ultimi due", "the last two")],
    "de": [("(?:das |der |die )?neueste[nrs]?", "newest"), ("(?:das |der |die )?alteste[nrs]?", "oldest"),
           ("(?:das |der |die )?grosste[nrs]?", "the largest"), ("(?:der )?unterschied zwischen", "difference between"),
           ("vergleiche die beiden|vergleich der beiden", "compare the two"),
           ("(?:um )?wie viel schneller", "how much faster"), ("welche daten", "what data"),
           ("veroffentlicht (?:auf|bei|in|an)", "published at"), ("welche[rs]? ist", "which is"),
           ("welche[rs]? (?:der|von) beiden|welche[rs]? von den beiden", "which of the two"), ("wie schnell", "how fast"), ("wie lange", "how long"), ("gibt es", "are there"), ("der andere|die andere|das andere", "the other one"), ("es", "it"),
           ("datensatze|datensatzen|datensatz", "datasets"), ("evaluiert|ausgewertet", "evaluated"), ("und", "and"),
           ("wie viele", "how many"), ("wie viel", "how much"), ("sind", "are"),
           ("welche davon|welche von (?:diesen|ihnen)", "which of these"), ("welche", "which"), ("haben", "have"),
           ("hat", "has"), ("code|quellcode", "code"), ("verfugbar", "available"), ("erste|ersten|erstes", "first"),
           ("zweite|zweiten|zweites", "second"), ("dritte|dritten|drittes", "third"),
           ("letzte|letzten|letztes", "last"), ("mehr uber", "more about"), ("erzahl mir|erzahle mir", "tell me"),
           ("fasse .{0,20} zusammen", "summarize"), ("im vergleich zu|verglichen mit", "compared to"),
           ("vergleiche", "compare"), ("vor", "before"), ("seit", "since"), ("nach", "after"), ("bis(?= \\d{4})", "until")],
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
    if lang in ("it", "fr"):
        # An elided article is no part of the word it leans on ("l'exposure bias", "dell'inpainting",
        # "d'images"); Italian "è" is "is" ("qual è"), which folding would make "e" ("and").
        text = re.sub(r"(?<![\w'’])c['’][eè](?!\w)", " is there ", text, flags=re.I) if lang == "it" else text
        text = re.sub(r"(?<![\w'’])(?:l|d|dell|dall|nell|sull|all|un|qu|j|n|s|c)['’](?=\w)(?!altr|autre)", " ", text, flags=re.I)
        if lang == "it":
            text = re.sub(r"(?<!\w)è(?!\w)", " is ", text)
    if lang == "fr":  # "y a-t-il" asks whether there are any; "est-il", "sont-ils": the pronoun after the verb
        text = re.sub(r"(?<!\w)(?:y a-t-il|y a t il|il y a)(?!\w)", " are there ", text, flags=re.I)
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
