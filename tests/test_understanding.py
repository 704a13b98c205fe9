"""Question understanding and answer planning, table-driven and fast (no index, no model): what a
question asks for, which dates bound it, which words are topic words, which links are shown, and
how many papers an answer cites for a given spread of evidence."""
from __future__ import annotations

import datetime as dt

import pytest

from assistant import extractive
from assistant.evidence import PaperEvidence, holds_type, type_strength
from assistant.intent import classify, comparison_sides
from assistant.links import safe_url
from assistant.query import understand
from assistant.settings import Settings
from assistant.timewindow import in_window, parse_window
from assistant.words import Vocabulary, content_words, language_of, name_like, words

TODAY = dt.date(2026, 11, 21)


# ---- what is asked --------------------------------------------------------------------------------

@pytest.mark.parametrize("question, history, expect", [
    # themes in any phrasing: no single-paper pointer, so the evidence decides how many are cited
    ("tell me about mamba", False, dict(points_at_one=False, followup=False, sides=())),
    ("What is the best way to speed up diffusion model sampling?", False, dict(points_at_one=False, answer_type=None)),
    ("any work on low-light photos?", False, dict(points_at_one=False)),
    ("What work is there on click-through rate prediction?", False, dict(points_at_one=False)),
    ("Which paper regularizes networks by bounding weights?", False, dict(points_at_one=True)),
    # comparisons, in four shapes
    ("compare TIES-Merging and Fisher merging", False, dict(sides=("TIES-Merging", "Fisher merging"))),
    ("TIES-Merging vs Fisher merging?", False, dict(sides=("TIES-Merging", "Fisher merging"))),
    ("what's the difference between FastSpeech and Tacotron?", False, dict(sides=("FastSpeech", "Tacotron"))),
    ("LoRA or full fine-tuning — which should I pick?", False, dict(sides=("LoRA", "full fine-tuning"))),
    ("Which papers compare models?", False, dict(sides=())),
    ("papers comparing CNNs and ViTs on small datasets", False, dict(sides=())),  # papers that compare: a topic
    # facts: the kind of answer
    ("How many GPUs were used to train the largest model?", False, dict(answer_type="number", asked="GPUs", counted=True)),
    ("How long does MEFLUT take on a 4K image?", False, dict(answer_type="number", unit="time")),
    ("What classification accuracy did it reach on ADHD-200?", False, dict(answer_type="number", unit="percent")),
    ("On which benchmarks was MossFormer2 evaluated?", False, dict(answer_type="dataset")),
    ("what benchmarks does DiffPose report on", False, dict(answer_type="dataset")),
    ("Which papers make ViTs cheaper to run?", False, dict(answer_type=None)),
    ("what dice score does the aeropath model get?", False, dict(answer_type="number", asked="dice score")),
    ("How many GPUs and how many hours did it take to train FastSpeech?", False, dict(asked="GPUs or hours", counted=True)),
    ("tell me how many GPUs TIES-Merging was trained on", False, dict(asked="GPUs", counted=True)),  # not the name
    ("ties-merging number of gpus training", False, dict(asked="gpus", counted=True)),
    ("what bit width does it quantize to?", True, dict(answer_type="number", asked="bit width", unit="bits")),
    ("What learning rate does MambaOut use for training?", False, dict(answer_type="number", asked="learning rate")),
    # follow-ups
    ("which of those has code available?", True, dict(followup=True, subset=True, wants_code=True)),
    ("which of those have a github link?", True, dict(followup=True, subset=True, wants_code=True)),
    ("summarize the second one", True, dict(followup=True, ordinal=1, summarize=True)),
    ("tell me more about the last paper", True, dict(followup=True, ordinal=-1, summarize=True)),
    ("tell me more about [2]", True, dict(followup=True, refs=(2,), summarize=True)),
    ("compare [1] and [3]", True, dict(followup=True, refs=(1, 3), sides=())),
    ("where is its code?", True, dict(followup=True, wants_code=True, subset=False)),
    # "which one ..." after a list asks about that list; a graded metric is that metric's value
    ("which one reports the highest accuracy?", True, dict(followup=True, answer_type="number", unit="percent")),
    ("which of them gets the best PESQ?", True, dict(followup=True, answer_type="number", asked="PESQ")),
    ("which one is fastest?", True, dict(followup=True, answer_type="number", unit="speedup")),
    ("which one should I pick, TIES-Merging or Fisher merging?", True, dict(followup=False)),
    ("compare the first two", True, dict(followup=True, refs=(1, 2))),
    ("compare them", True, dict(followup=True, refs=(1, 2))),
    ("compare the two", True, dict(followup=True, refs=(1, 2))),
    ("which are training-free?", True, dict(followup=True, subset=True)),
    ("which are the best papers on speech enhancement?", True, dict(followup=False)),
    ("what about the one with Fisher weights - what is its main idea?", True, dict(followup=True, ordinal=None)),
    ("how do they differ?", True, dict(followup=True, refs=(1, 2))),
    ("compare those with a transformer baseline", True, dict(refs=())),
    ("how do the last two differ?", True, dict(followup=True, refs=(-2, -1))),
    # words that are research topics too ask for code only beside an availability word
    ("combining several fine-tuned checkpoints into one set of weights without retraining?", False, dict(wants_code=False)),
    ("source-free domain adaptation for segmentation", False, dict(wants_code=False)),
    ("quantum error-correcting codes", False, dict(wants_code=False)),
    ("LLMs for code generation", False, dict(wants_code=False)),
    ("an efficient implementation of attention on GPUs", False, dict(wants_code=False)),
    ("are the checkpoints of TIES-Merging released?", False, dict(wants_code=True)),
    ("does FreCaS have an official implementation?", False, dict(wants_code=True)),
    ("is the source code of MossFormer2 public?", False, dict(wants_code=True)),
    # a list of papers with code on a topic searches the topic, not the code words
    ("papers w/ code for semantic segmentation", False, dict(code_list=True, searched_topic="semantic segmentation")),
    ("which papers on mixup have code?", False, dict(code_list=True, searched_topic="mixup")),
    ("where is the code for InstaFlow?", False, dict(code_list=False, searched_topic="InstaFlow")),
    ("which of those have code?", True, dict(code_list=False)),
    ("which of those has code available?", False, dict(followup=False)),  # no previous answer
    # metadata the corpus lacks
    ("who wrote the TIES-Merging paper?", False, dict(meta="authors")),
    ("papers published in 2024 on merging", False, dict(meta=None)),
])
def test_classify(question, history, expect):
    intent = classify(question, has_history=history, today=TODAY)
    got = {key: getattr(intent, key) for key in expect}
    assert got == expect


def test_comparison_of_previous_papers_is_flagged():
    assert classify("compare the first and the third", True, today=TODAY).comparison
    assert not classify("summarize [2]", True, today=TODAY).comparison


# ---- dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("question, date_from, date_to", [
    ("papers from 2024 about video generation", "2024-01", "2024-12-31"),
    ("merging work since 2023", "2023-01", None),
    ("anything before 2020 on speech?", None, "2019-12-31"),
    ("until 2019", None, "2019-12-31"),
    ("between 2021 and 2023", "2021-01", "2023-12-31"),
    ("after March 2023", "2023-04", None),
    ("2024 papers on merging", "2024-01", "2024-12-31"),
    ("from 2022 onwards", "2022-01", None),
    ("this year", "2026-01", "2026-12-31"),
    ("last year's diffusion papers", "2025-01", "2025-12-31"),
    ("recent work on mamba", "2024-11", None),
    ("in the last two years", "2024-11", None),
    ("evaluated on COCO 2017", None, None),  # a dataset's year is not a date filter
    ("diffusion since mid 2023", "2023-06", None), ("before late 2021", None, "2021-08-31"),
    ("diffusion in 2024 and 2025", "2024-01", "2025-12-31"), ("diffusion work 2022 onwards", "2022-01", None),
    ("diffusion post-2022", "2023-01", None), ("pre-2020 diffusion work", None, "2019-12-31"),
    ("diffusion from the 2020s", "2020-01", "2029-12-31"), ("papers from the past year", "2025-11", None),
    ("anything before 2020 on speech?", None, "2019-12-31"),  # "2020 on speech" is not "2020 on(wards)"
    ("papers from 2023 on federated learning", "2023-01", "2023-12-31"),  # "on <topic>", not "on(wards)"
    ("work from 2022 on, about pruning", "2022-01", None),
    ("which papers merge models?", None, None),
    ("merging papers between 2022 and now", "2022-01", None), ("2021 to present diffusion", "2021-01", None),
    ("segmentation papers from '23", "2023-01", "2023-12-31"),  # a year with an apostrophe
    ("diffusion papers not older than 2023", "2023-01", None), ("no later than 2020", None, "2020-12-31"),
    ("segmentation papers after mid-2023", "2023-06", None), ("speech papers since last year", "2025-01", None),
    ("any 2023 stuff on point clouds", "2023-01", "2023-12-31"),
    ("only the 2024 ones", "2024-01", "2024-12-31"),
])
def test_parse_window(question, date_from, date_to):
    window = parse_window(question, TODAY, recent_months=24)
    got = (window.date_from, window.date_to) if window else (None, None)
    assert got == (date_from, date_to)
    if window:
        assert window.said.lower() in question.lower() and window.meaning


def test_recent_says_what_it_means():
    assert "24 months" in parse_window("recent papers", TODAY, 24).meaning


@pytest.mark.parametrize("date, lo, hi, inside", [
    ("2024-03", "2024-01-01", "2024-12-31", True), ("2023-12-30", "2024-01-01", None, False),
    ("2025-01", None, "2024-12-31", False), (None, "2024-01-01", None, False), (None, None, None, True),
    ("2024-12", "2024-12-15", None, True),  # month precision: December 2024 may be after the 15th
    ("2024-01", "2024-01", "2024-12-31", True),  # "from 2024" keeps a paper dated only "2024-01"
])
def test_in_window(date, lo, hi, inside):
    assert in_window(date, lo, hi) is inside


# ---- words: filler, typos, languages, names -----------------------------------------------------

VOCAB = Vocabulary([
    "Mamba state space models for vision", "Merging models with Fisher-weighted averaging",
    "TIES-Merging resolves interference when merging models", "Neurons aligned by permutations",
    "Quantum machine learning for image classification", "Speech separation of overlapping speakers",
    "Denoising images with diffusion", "Image super-resolution with transformers",
    "Quantization and distillation of a segmentation model",
])


@pytest.mark.parametrize("topic, missing, corrected", [
    ("anything on mamba please", [], {}),                       # filler never counts as missing
    ("hey so has anyone checked whether merging works", [], {}),
    ("mamaba models", [], {"mamaba": "mamba"}),                   # a typo is the corpus word
    ("align nuerons with permutations", [], {"nuerons": "neurons"}),
    ("protein folding", ["folding"], {}),                         # rare topic words are missing
    # An acronym or an English word is meant as written, never "corrected" to a corpus word.
    ("SSMs for vision", ["ssms"], {}),                            # not "sums" or "ssm"-like corpus words
    ("newer merging methods", [], {}),                            # "newer" is "new", not a missing topic
    ("mamba papers publised after june", [], {}),                 # a typo of a request word is filler
    ("wat does mamba do", [], {}),                               # "wat" is "what" short a letter
    ("RNN papers", ["rnn"], {}),                                  # ... but a written acronym is a name
    ("polyps in colonoscopy images", ["polyps", "colonoscopy"], {}),
    ("how to denoise speech", [], {}),                            # "denoise" is the corpus's "denoising"
    ("speech separation pls", [], {}),                            # chat abbreviations are filler
    ("how ppl use mamba", [], {}),
    ("superresolutoin transformers", [], {"superresolutoin": "super-resolution"}),  # a hyphenated word run together
    ("TIESs for merging", [], {}),                                # an acronym's plural is the acronym
    ("merge models without retraining", [], {}),                  # what papers do without is not asked for
])
def test_topic_words(topic, missing, corrected):
    query = understand(topic, VOCAB, filler_zipf=4.5)
    assert query.missing == missing
    assert query.corrections == corrected


def test_unicode_words_and_languages():
    assert words("¿Qué artículos estudian la fusión de modelos?") == [
        "que", "articulos", "estudian", "la", "fusion", "de", "modelos"]
    assert language_of("¿Qué artículos estudian la fusión de modelos?") == "es"
    assert language_of("which papers merge models?") == "en"
    query = understand("¿Qué artículos estudian la fusión de modelos?", VOCAB, 4.5)
    assert query.lang == "es" and query.missing == []  # an English corpus cannot know Spanish words
    assert {"model", "models"} & set(query.text.split())  # "modelos" is the corpus's "model(s)"


@pytest.mark.parametrize("word, english", [
    ("quantisierung", ["quantization"]), ("segmentacion", ["segmentation"]),    # endings spelt their way
    ("diffusionsmodellen", ["diffusion", "model"]),                             # a compound's two words
    ("wissensdestillation", ["distillation"]),                                  # ... or its last one
    ("zeitreihenvorhersage", []),                                               # nothing the corpus knows
])
def test_words_of_other_languages_meet_the_corpus_words_they_spell(word, english):
    assert ([VOCAB.cognate(word)] if VOCAB.cognate(word) else VOCAB.compound(word)) == english


def test_a_noun_asked_meets_the_corpus_adjective_and_back():
    vocab = Vocabulary(["Financial market prediction", "Convolution kernels", "Robotics at scale",
                        "Signal processing", "Normal distributions", "zero-shot forecasters", "We transform inputs"])
    from assistant.query import relatives
    assert relatives("finance", vocab) == {"financial"} and relatives("convolutional", vocab) == {"convolution"}
    assert relatives("robot", vocab) == {"robotics"}
    assert relatives("sign", vocab) == set() and relatives("norm", vocab) == set()  # other words, not forms
    # The doer of an activity: Moirai-MoE's "forecasters" is about "forecasting"; not the other way
    # round ("transformer" is not about transforming).
    assert "forecasters" in relatives("forecasting", vocab) and not relatives("transformer", vocab) & {"transform"}
    # Only the adjective in the corpus: it is the word searched ("finance" was "not in the corpus").
    query = understand("anything on finance?", vocab, 4.5)
    assert query.missing == [] and list(query.weights) == ["financial"]
    assert understand("robot learning", vocab, 4.5).missing == []  # the corpus says "robotics"
    # A slip of "papers" is filler before it is a corpus word one edit away ("pairs"); a slip of a
    # function word is not ("clould" is "cloud", though one edit from "could").
    slips = Vocabulary(["Pairs of images", "Point cloud data"])
    assert understand("paprs on point clouds", slips, 4.5).corrections == {}
    assert understand("3d point clould data", slips, 4.5).corrections == {"clould": "cloud"}
    # A compound no abstract uses, of two topic words it does use, is a phrase the corpus lacks;
    # with a common second word ("-free", "-aware") it is its first word's variant.
    parts = Vocabulary(["Retrieval of images", "Augmented data", "Training without labels"])
    assert understand("retrieval-augmented generation", parts, 4.5).missing == ["retrieval-augmented"]
    assert understand("training-free retrieval", parts, 4.5).missing == []
    # A keyword question whose every word the corpus uses is English, whatever else its words could be.
    kw = Vocabulary(["Faster diffusion with a UNet encoder"])
    assert understand("Faster Diffusion UNet encoder", kw, 4.5).lang == "en"
    # A British spelling is the corpus's American one.
    us = Vocabulary(["Recognizing text in images", "Color constancy"])
    assert understand("recognising text", us, 4.5).missing == [] and "recognizing" in understand("recognising text", us, 4.5).text
    assert understand("colour constancy", us, 4.5).missing == []
    # Both in the corpus: a paper using either covers the word.
    both = Vocabulary(["Finance with transformers", "Financial market prediction"])
    assert understand("finance", both, 4.5).same == {"financial": "financ"}


def test_another_language_searches_each_shared_word_once():
    # "super-resolution" is searched as written, not followed by its parts again
    assert understand("Welche Arbeiten beschäftigen sich mit Super-Resolution?", VOCAB, 4.5).text == "super-resolution"


def test_name_like():
    assert name_like("Where is the TIES-Merging code for InstaFlow, PLeaS and MossFormer2?") == [
        "ties-merging", "instaflow", "pleas", "mossformer2"]
    assert name_like("which papers merge models without retraining") == []


# ---- links ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, shown", [
    ("https://github.com/Westlake-AI/openmixup”", "https://github.com/Westlake-AI/openmixup"),
    ("https://github.com/a/b.", "https://github.com/a/b"),
    ("https://huggingface.co/papers/2407.02447", "https://huggingface.co/papers/2407.02447"),
    ("javascript:alert(1)", None), ("http://localhost/x", None), ("https://x.org/a\"b", None),
    ("ftp://example.org/x", None), ("", None), (None, None),
])
def test_safe_url(url, shown):
    assert safe_url(url) == shown


def test_code_urls_never_swallow_quotes_or_punctuation():
    from ingest.codeurl import find_code_url

    assert find_code_url("Code: “https://github.com/Westlake-AI/openmixup”.") == "https://github.com/Westlake-AI/openmixup"
    assert find_code_url("Code is at https://github.com/a/b).") == "https://github.com/a/b"
    assert find_code_url("see «https://github.com/a/c»") == "https://github.com/a/c"


# ---- sentences that hold the asked fact ----------------------------------------------------------

@pytest.mark.parametrize("sentence, kind, asked, counted, unit, holds, strength", [
    ("Moreover, our 1D LUT approach takes less than 4ms to run a 4K image on a PC GPU.", "number", "", False, "time",
     True, 2),
    ("We learn one 1D LUT for each exposure.", "number", "", False, "time", False, 0),  # "1D" is a name
    ("The training only costs 199 A100 GPU days.", "number", "GPUs", True, "compute", False, 2),  # GPU days, not GPUs
    ("We train on 64 GPUs for a week.", "number", "GPUs", True, "compute", True, 2),
    ("The best classification performance (69.59%) is achieved with masking.", "number", "accuracy", False, "percent",
     True, 2),
    ("We evaluate on WSJ0-2mix and Libri2Mix benchmarks.", "dataset", "", False, None, True, 1),
    ("We propose a new method.", "dataset", "", False, None, False, 0),
    # a metric asked by name is stated only where the sentence names it
    ("The dataset contains 1300 pairs of images.", "number", "FPR95", False, None, False, 0),
    ("Our network reaches an FPR95 of 1.2% on it.", "number", "FPR95", False, None, True, 2),
    # ... and so is one asked as a "<name> score": another score is a near miss
    ("The ATM'22 challenge released a large dataset.", "number", "dice score", False, None, False, 0),
    ("The model reaches a Dice score of 0.91 on the test set.", "number", "dice score", False, None, True, 2),
    # a count: the counted noun, or another of its words beside the number ("how many ct scans")
    ("AeroPath consists of 27 CT images from patients.", "number", "ct scans", True, None, True, 1),
    ("UltraFusion merges inputs with 9 stops differences.", "number", "dB", True, None, False, 1),
])
def test_sentences_holding_the_asked_fact(sentence, kind, asked, counted, unit, holds, strength):
    assert holds_type(sentence, kind, asked, counted) is holds
    assert type_strength(sentence, kind, asked, unit) == strength


def test_the_methods_own_name_is_not_a_dataset_it_was_evaluated_on():
    said = "Extensive experiments on three well-known datasets demonstrate HyperFormer's effectiveness."
    assert holds_type(said, "dataset")  # a name, a dataset cue: taken as naming one ...
    assert not holds_type(said, "dataset", own_names=frozenset({"hyperformer"}))  # ... but it names the method
    assert holds_type("HyperFormer is evaluated on WikiPeople and JF17K.", "dataset", own_names=frozenset({"hyperformer"}))


# ---- planning: how many papers, which kind of answer -------------------------------------------

def ev(pid: str, relevance: float, sentences=("A sentence.",), focus=0.5, coverage=0.8, code=None, date=None):
    meta = {"title": f"Paper {pid}", "url": f"https://huggingface.co/papers/{pid}", "code_url": code, "date": date}
    return PaperEvidence(pid, meta, list(sentences), [0.5] * len(sentences), relevance, relevance, [0],
                         coverage=coverage, focus=focus)


S = Settings(_env_file=None)


def plan(question, evidence, history=False, **kw):
    return extractive.plan(classify(question, history, today=TODAY), evidence, S, 10, corpus_size=294, **kw)


@pytest.mark.parametrize("question", [
    "which papers study mamba?", "tell me about mamba", "mamba", "any work on mamba?",
    "what's the best way to use mamba for vision?", "summarize approaches to mamba",
])
def test_a_theme_cites_every_close_paper_however_it_is_asked(question):
    p = plan(question, [ev("a", 0.60), ev("b", 0.55), ev("c", 0.50), ev("d", 0.30)])
    assert [e.paper_id for e in p.cited] == ["a", "b", "c"] and p.kind == "list"


def test_one_paper_leads_alone_when_it_stands_out_or_is_pointed_at():
    assert [e.paper_id for e in plan("mamba", [ev("a", 0.70), ev("b", 0.45)]).cited] == ["a"]
    p = plan("which paper studies mamba?", [ev("a", 0.60), ev("b", 0.55), ev("c", 0.50)])
    assert p.kind == "single" and [e.paper_id for e in p.cited] == ["a"]
    assert [e.paper_id for e in plan("mamba", [ev("a", 0.60), ev("b", 0.55)], names_one=True).cited][0] == "a"


def test_every_paper_with_all_topic_words_in_one_place_is_cited():
    p = plan("mamba", [ev("a", 0.66, focus=1.0), ev("b", 0.59, focus=1.0), ev("c", 0.38, focus=1.0),
                       ev("d", 0.50, focus=0.0)])
    assert [e.paper_id for e in p.cited] == ["a", "b", "c"]


@pytest.mark.parametrize("top, coverage, key, words_, missing_share, refused", [
    (0.35, 1.0, True, 2, 0.0, True),     # nothing relevant enough
    (0.45, 0.3, True, 3, 0.0, True),     # weak, and one shared word of a short query
    (0.45, 0.9, False, 3, 0.0, True),    # weak, and the most informative word is absent
    (0.45, 0.3, True, 12, 0.0, False),   # a long descriptive question paraphrases: the embedding decides
    (0.45, 0.9, True, 4, 0.5, True),     # weak, and half its topic words are in no abstract
    (0.55, 0.3, False, 3, 0.5, False),   # a strong match answers
])
def test_refusal_looks_at_the_topic(top, coverage, key, words_, missing_share, refused):
    e = ev("a", top, coverage=coverage)
    e.key_covered = key
    assert extractive.should_refuse(e, missing_share, S, words_) is refused


@pytest.mark.parametrize("key_missing, refused", [(False, False), (True, True)])
def test_a_long_question_with_everyday_words_no_abstract_uses(key_missing, refused):
    # "... upscale my low-res images without them looking awful": "awful" and "low-res" are in no
    # abstract, but the word that says most ("upscale") is; had it been absent, it is a near miss.
    e = ev("a", 0.46, coverage=0.4)
    assert extractive.should_refuse(e, 0.35, S, 11, key_missing=key_missing) is refused


def test_detail_quotes_the_sentence_holding_the_fact_or_says_it_is_not_reported():
    sents = ["We propose MEFLUT for exposure fusion.", "We learn one 1D LUT per exposure.",
             "Our approach takes less than 4ms to run a 4K image."]
    p = plan("How long does MEFLUT take on a 4K image?", [ev("a", 0.7, sents)])
    assert p.kind == "detail" and "4ms" in p.quote_of(p.cited[0])
    p = plan("How many GPUs did MEFLUT use?", [ev("a", 0.7, sents)])
    assert p.kind == "detail-missing" and "does not report GPUs" in extractive.headline(p)


def test_a_fact_stated_in_the_title_is_reported_not_called_missing():
    # "over 10 Million Recordings" is in the title; the abstract counts "ECGs", not recordings.
    e = ev("a", 0.7, ["ECG models hold promise.", "ECGFounder was trained on over 10 million ECGs."])
    e.meta["title"] = "An Electrocardiogram Foundation Model Built on over 10 Million Recordings"
    p = plan("ecg models trained on how many recordings", [e])
    assert p.kind != "detail-missing" and "10 million ECGs" in p.quote_of(p.cited[0])
    assert "does not report" not in extractive.headline(p)


@pytest.mark.parametrize("question, topic", [
    ("any papers on graph neural nets for recommendation", "graph neural nets for recommendation"),
    ("ok and which of them was fine-tuned on a small dataset?", "fine-tuned on a small dataset"),
    ("Nice. Are any of these released with a GitHub repo?", "released with a GitHub repo"),
    ("anything on low-light photos?", "low-light photos"),
    ("some good papers about model merging?", "model merging"),
    ("graph neural nets for recommendation", "graph neural nets for recommendation"),
    ("what's the best way to forecast road traffic?", "forecast road traffic"),
    ("tell me about multi-object tracking in videos", "multi-object tracking in videos"),
    ("Summarize the main approaches to parameter-efficient fine-tuning", "parameter-efficient fine-tuning"),
    ("how can I speed up diffusion sampling?", "speed up diffusion sampling"),
    ("which papers study mamba in this corpus?", "mamba"),
    ("any papers on model merging here?", "model merging"),
    ("lol anything on adversarial attacks", "adversarial attacks"),          # chat openers go first
    ("sup, got papers on federated learning?", "federated learning"),
    ("yo, have you got anything about mixup?", "mixup"),
    ("so-called dark knowledge in distillation", "so-called dark knowledge in distillation"),
    # what the asker is doing or wants is not the topic
    ("I need something for making LLMs smaller, ideas?", "making LLMs smaller"),
    ("I'm looking for work that forecasts cash withdrawals", "forecasts cash withdrawals"),
    ("need refs for image inpainting asap", "image inpainting"),
    ("searching for images using a reference photo", "searching for images using a reference photo"),
    ("What work exists on merging fine-tuned models?", "merging fine-tuned models"),
    ("what research has been done on mixup?", "mixup"),
    ("any good stuff on model merging?", "model merging"),
    ("whats the best approach for CTR prediction", "CTR prediction"),
])
def test_the_topic_an_answer_names_leaves_the_request_words_out(question, topic):
    assert classify(question, False, today=TODAY).topic == topic


@pytest.mark.parametrize("question, sides", [
    # two method names side by side plus a word that weighs them, however the rest is worded
    ("mambaout mambaquant difference", ("mambaout", "mambaquant")),
    ("I keep mixing up MambaOut and MambaQuant, could you lay out how they differ?", ("MambaOut", "MambaQuant")),
    ("tell me how MambaOut and MambaQuant differ", ("MambaOut", "MambaQuant")),
    ("I'm trying to decide between TIES-Merging and Fisher-weighted merging for my models",
     ("TIES-Merging", "Fisher-weighted merging")),
    ("what's the best pick for fast text-to-image generation, InstaFlow or latent diffusion models?",
     ("InstaFlow", "latent diffusion models")),
    # not comparisons: alternatives inside one topic, "different", names that are not side by side
    ("Which papers use BERT or GPT-2 for NER?", ()),
    ("Which papers fuse images taken with different exposures or different sensors?", ()),
    ("Which papers translate between images and text?", ()),
    ("Which papers improve detectors on COCO via better feature pyramids, detection heads or object representations?", ()),
])
def test_comparison_sides_in_free_wording(question, sides):
    assert classify(question, False, today=TODAY).sides == sides


@pytest.mark.parametrize("question, topic", [
    ("those aligning neurons across models with permutations", "aligning neurons across models with permutations"),
    ("the one relying on pretrained diffusion models", "relying on pretrained diffusion models"),
    ("which of those have code?", None),
    ("just the pruning ones", "pruning"),
    ("ones that merge tokens?", None),
    ("filter to the ones using quantization", None),
])
def test_keyword_style_follow_ups_filter_the_previous_answer(question, topic):
    intent = classify(question, True, today=TODAY)
    assert intent.followup and intent.subset
    assert topic is None or intent.topic == topic


@pytest.mark.parametrize("question, window", [
    ("2024 model merging", ("2024-01", "2024-12-31")),
    ("2017 transformer papers", ("2017-01", "2017-12-31")),
    ("which papers use COCO 2017?", None),  # a dataset's year, not a date
    ("ImageNet 2012", None),  # written like a name: its year goes with it
    ("sparse autoencoder interpretability 2024", ("2024-01", "2024-12-31")),  # a rare word is no name
    # A year ending a keyword question after a plain word is when: "what's new in X 2024".
    ("model merging 2024", ("2024-01", "2024-12-31")),
    ("whats new in model quantization 2024?", ("2024-01", "2024-12-31")),
    ("video generation, (2023)", ("2023-01", "2023-12-31")),
    ("llama 2", None),
])
def test_a_year_leading_or_ending_a_keyword_question_is_a_window(question, window):
    w = parse_window(question, TODAY, 24)
    assert (w.date_from, w.date_to) == window if window else w is None


@pytest.mark.parametrize("question, ordinal", [
    ("summarize the secnd one", 1), ("what about the secodn", 1), ("summarize the second one", 1),
    ("the fist one", None),  # "fist" is a word: not read as "first"
])
def test_a_misspelt_ordinal_still_points_at_a_paper(question, ordinal):
    assert classify(question, True, today=TODAY).ordinal == ordinal


@pytest.mark.parametrize("question, history, by_date, window", [
    ("which one is the newest?", True, "newest", False), ("and the earliest?", True, "oldest", False),
    ("which came first?", True, "oldest", False),
    ("which is newer?", True, "newest", False), ("and which one is older", True, "oldest", False),
    ("the most recent one", True, "newest", False),
    ("what is the latest work on mamba?", True, None, True),  # a topic: a new question, "recent" window
    ("which one is the newest?", False, None, True),           # no list to pick from
])
def test_newest_or_oldest_after_a_list_is_a_pick_by_date(question, history, by_date, window):
    intent = classify(question, history, today=TODAY)
    assert intent.extra.get("by_date") == by_date
    assert (intent.window is not None) == window


@pytest.mark.parametrize("question, history", [
    ("which of those have a githib link?", True), ("where is the implemntation of FreCaS?", False),
])
def test_a_misspelt_code_word_still_asks_for_code(question, history):
    assert classify(question, history, today=TODAY).wants_code


@pytest.mark.parametrize("question, title", [
    ("tell me about the Attention Is All You Need paper", "Attention Is All You Need"),
    ("In the Merge Then Compress paper, how much memory is saved?", "Merge Then Compress"),
    ("the paper “Resolving Interference When Merging Models”", "Resolving Interference When Merging Models"),
    ("papers that use the term “mixture of experts”", ""),  # a quoted phrase, not a title
    ("the TIES-Merging paper", ""), ("which paper is best?", ""),
])
def test_a_paper_named_by_its_title(question, title):
    from assistant.intent import named_title
    assert named_title(question) == title


def test_contractions_are_one_word():
    assert words("I've got the model's weights, don't I") == ["i", "got", "the", "model", "weights", "do", "i"]


def test_urls_are_not_prose():
    from assistant.words import content_terms, prose
    assert prose("Code: https://github.com/LZY-the-boys/Twin-Mergin.") .strip() == "Code:"
    assert "twin" not in content_terms(prose("see https://github.com/x/Twin-Mergin"))


def test_code_followups_come_from_the_code_links():
    prev = [ev("a", 0.5, code="https://github.com/x/a"), ev("b", 0.5), ev("c", 0.5, code="https://github.com/x/c”")]
    intent = classify("which of those have a github link?", True, today=TODAY)
    p = extractive.plan_code_subset(intent, prev, corpus_size=294)
    assert [e.paper_id for e in p.cited] == ["a", "c"] and p.kind == "code-subset"
    assert "https://github.com/x/c)" not in next(iter(extractive.render("q", p))).answer
    p = extractive.plan_code_subset(intent, [ev("b", 0.5)], corpus_size=294)
    assert p.refused and "None of the 1" not in extractive.headline(p)


def test_subset_of_a_one_paper_answer_reads_naturally():
    intent = classify("which of those use permutations?", True, today=TODAY)
    p = extractive.plan_subset(intent, [ev("a", 0.1)], S, 10, pool_size=1, corpus_size=294)
    assert p.refused and extractive.headline(p).startswith("The paper from the previous answer is not about")


def test_comparison_cites_both_sides_and_says_when_one_is_missing():
    intent = classify("compare TIES-Merging and Fisher merging", False, today=TODAY)
    a = ev("a", 0.6, ["We propose TIES-Merging.", "Experiments on eleven datasets.", "It outperforms baselines by 3%."])
    b = ev("b", 0.6, ["We develop Fisher merging.", "It improves accuracy."])
    p = extractive.plan_comparison(intent, [a, b], list(intent.sides), corpus_size=294)
    assert p.kind == "comparison" and [row.aspect for row in p.comparison] == list(extractive.ASPECTS)
    assert p.comparison[0].cells[0].quote == "We propose TIES-Merging." and p.comparison[1].cells[1].quote is None
    answers = list(extractive.render("q", p))
    assert answers[-1].comparison and answers[-1].paper_ids == ["a", "b"]
    p = extractive.plan_comparison(intent, [a, None], list(intent.sides), corpus_size=294)
    assert "“Fisher merging” is not in this corpus" in extractive.headline(p)


def test_answers_state_their_date_window_and_every_source_date():
    intent = classify("papers from 2024 about mamba", False, today=TODAY)
    p = extractive.plan(intent, [ev("a", 0.6, date="2024-05"), ev("b", 0.58)], S, 10, corpus_size=294,
                        corpus_dates=("2015-11", "2025-03"))
    final = list(extractive.render("q", p))[-1]
    assert final.filters == {"date_from": "2024-01", "date_to": "2024-12-31"}
    assert "published in 2024" in final.answer and "(2024-05)" in final.answer and "(date unknown)" in final.answer
    assert [s.date for s in final.sources] == ["2024-05", None]
    empty = extractive.plan(intent, [], S, 10, corpus_size=294, corpus_dates=("2015-11", "2025-03"))
    assert empty.kind == "refuse-window" and "2015-11 to 2025-03" in extractive.headline(empty)


def test_suggestions_are_follow_ups_the_planner_understands():
    p = plan("mamba", [ev("a", 0.60), ev("b", 0.55)])
    for text in extractive.suggestions(p):
        intent = classify(text, True, today=TODAY)
        assert intent.followup and (intent.subset or intent.refs or intent.summarize or intent.wants_code), text
    # After an answer that showed the code links, asking for them again is not offered.
    code = extractive.plan_code_subset(classify("which of those have code?", True, today=TODAY),
                                       [ev("a", 0.5, code="https://github.com/x/a"), ev("b", 0.5, code="https://github.com/x/b")],
                                       corpus_size=294)
    assert extractive.suggestions(code) and not any("code" in text for text in extractive.suggestions(code))


@pytest.mark.parametrize("question, topic", [
    ("whats new in model quantization", "model quantization"),  # "whats": "what's" typed plainly
    ("anything new on mixup?", "mixup"),
    ("dont know much about mixture of experts, what's here", "know much about mixture of experts"),
    ("papers on model merging before 2019", "model merging"),
    ("in 2024, what happened with diffusion models?", "happened with diffusion models"),
    ("new view synthesis papers", "new view synthesis"),  # "new" may start a topic's name
    ("ok different topic: neural collapse?", "neural collapse"),  # a change of subject is no topic word
    ("switching gears - anything on click-through rate prediction?", "click-through rate prediction"),
    ("federated learning stuff?", "federated learning"),
])
def test_the_named_topic_neither_starts_nor_ends_with_filler(question, topic):
    assert classify(question, False, today=TODAY).topic == topic


@pytest.mark.parametrize("word", ["whats", "dont", "isnt", "doesnt", "theres", "im", "youre"])
def test_contractions_typed_without_apostrophe_are_no_topic_words(word):
    assert content_words(f"{word} model merging") == ["model", "merging"]


def test_a_year_ending_a_question_stays_part_of_a_name_the_corpus_uses():
    seen = []

    def corpus_says(phrase):
        seen.append(phrase)
        return phrase == "coco 2017"

    assert classify("coco 2017", False, today=TODAY, names_a_thing=corpus_says).window is None
    assert classify("coco 2014 results", False, today=TODAY, names_a_thing=corpus_says).window is None
    assert classify("model quantization 2023", False, today=TODAY, names_a_thing=corpus_says).window is not None
    assert seen == ["coco 2017", "quantization 2023"]


def test_other_languages_and_scripts_match_the_english_words_they_share():
    # A Latin name inside Chinese or Japanese text is a word of its own.
    assert words("GarDiff 虚拟试衣模型") == ["gardiff", "虚拟试衣模型"]
    assert "transformer" in words("時系列予測にTransformerを使った論文")
    assert language_of("時系列予測にTransformerを使った論文はありますか？") == "ja"
    # Words that several Romance languages share split their votes; the question is still French.
    assert language_of("Quels articles parlent de la synthèse vocale à partir de texte ?") == "fr"
    vocab = Vocabulary(["Tumor segmentation in medical images", "Speech synthesis from text",
                        "Federated learning with heterogeneous data", "Parent and child models"])
    assert vocab.cognate("tumores") == "tumor" and vocab.cognate("synthese") == "synthesis"
    assert vocab.cognate("federado") == "federated" and vocab.cognate("heterogeneos") == "heterogeneous"
    assert vocab.cognate("parlent") is None  # one letter from "parent", but not a slip of it
    query = understand("tem algo sobre segmentação de tumores em imagens médicas?", vocab, 4.5)
    assert query.lang == "pt" and {"tumor", "medical", "imag"} <= set(query.weights)


def test_english_words_and_acronyms_are_not_corrected_to_corpus_words():
    vocab = Vocabulary(["Mixing features of CNNs", "Carlo sampling for driving"])
    assert understand("fixing features", vocab, 4.5).corrections == {}  # "fixing" is not "mixing"
    assert understand("GNNs features", vocab, 4.5).corrections == {}    # "GNNs" is not "CNNs"
    assert understand("CARLA driving", vocab, 4.5).corrections == {}    # a simulator, not "Carlo"
    assert understand("mixnig features", vocab, 4.5).corrections == {"mixnig": "mixing"}


@pytest.mark.parametrize("question, sides", [
    ("what's the difference between LoRA and full fine-tuning?", ("LoRA", "full fine-tuning")),
    ("tell me how TIES-Merging compares with Fisher merging", ("TIES-Merging", "Fisher merging")),
    # A difference named deep inside the question is its topic, not what it asks to compare.
    ("whats the best way to make pathology models robust to differences between hospitals and staining?", ()),
])
def test_a_comparison_is_what_the_question_asks_not_a_phrase_inside_it(question, sides):
    assert comparison_sides(question) == sides


@pytest.mark.parametrize("question, answer_type, unit", [
    ("what's the best accuracy in the ADHD paper?", "number", "percent"),  # was no fact type at all
    ("whats the speedup of instaflow", "number", "speedup"),
    ("what is the accuracy of the ADHD classifier?", "number", "percent"),
    ("what FPR95 does their network reach on the new dataset?", "number", None),  # any metric's name
])
def test_contracted_and_graded_fact_questions_ask_for_the_fact(question, answer_type, unit):
    intent = classify(question, False, today=TODAY)
    assert (intent.answer_type, intent.unit) == (answer_type, unit)


@pytest.mark.parametrize("question, refs", [("more on #3", (3,)), ("#2?", (2,)), ("more on [3]", (3,)),
                                            ("what about no. 4", (4,)), ("C# code", ())])
def test_numbered_references_to_the_previous_answer(question, refs):
    intent = classify(question, True, today=TODAY)
    assert intent.refs == refs and intent.followup == bool(refs)


@pytest.mark.parametrize("question, sides", [
    ("how do TIES-Merging and Fisher merging differ", ("TIES-Merging", "Fisher merging")),
    ("pros and cons of MambaOut and MambaQuant", ("MambaOut", "MambaQuant")),
    ("MambaOut and MambaQuant: what's the difference?", ("MambaOut", "MambaQuant")),
    ("TIES-Merging compared to Fisher merging", ("TIES-Merging", "Fisher merging")),
    ("is InstaFlow better than progressive distillation?", ("InstaFlow", "progressive distillation")),
    ("InstaFlow or progressive distillation for fast sampling?", ("InstaFlow", "progressive distillation")),
    # Not a choice between two things:
    ("By how much does FlashFFTConv speed up exact FFT convolutions compared with PyTorch?", ()),
    ("detection or segmentation for medical images?", ()),
    ("any papers on GANs or VAEs for faces?", ()),
    ("how fast is FastSpeech compared to autoregressive models", ()),  # a measure of one side
    ("What's the best way to personalize a diffusion model on a specific subject or person's identity? "
     "Which papers should I look at?", ()),                            # a long question saying "or"
])
def test_comparisons_worded_in_more_ways(question, sides):
    assert comparison_sides(question) == sides


@pytest.mark.parametrize("a, b", [("compression", "compressed"), ("class", "classes"), ("process", "processing"),
                                  ("regression", "regress"), ("denoise", "denoising"), ("image", "images"),
                                  ("merge", "merged")])
def test_word_forms_share_a_stem(a, b):
    from assistant.words import stem
    assert stem(a) == stem(b)


@pytest.mark.parametrize("topic, absent, weighed", [
    ("merge models without retraining", {"retraining"}, {"merg", "model"}),
    ("segmentation w/o any labels", {"labels"}, {"segment"}),
    ("without retraining", set(), {"retrain"}),  # nothing else to search for: the words stay
    # what the asker rules out is not the topic either, and is not searched
    ("speech papers that aren't just about separation", {"separation"}, {"speech"}),
    ("state space models (not counting mamba)", {"counting", "mamba"}, {"stat", "spac", "model"}),
    ("speech models that aren't transformers", {"transformers"}, {"speech", "model"}),
])
def test_words_under_without_are_not_the_topic(topic, absent, weighed):
    from assistant.query import negated
    assert negated(topic) == absent
    assert set(understand(topic, VOCAB, filler_zipf=4.5).weights) == weighed


def test_what_the_asker_rules_out_is_not_searched_and_an_example_is_no_comparison():
    from assistant.query import without_exclusions
    assert without_exclusions("recommenders that isn't just ad click prediction? like bundles") == \
        "recommenders that ? like bundles"
    assert without_exclusions("merge models without retraining") == "merge models without retraining"
    assert classify("summarize what the corpus says about which features nets prefer to learn, e.g. simple vs. complex "
                    "features", False, today=TODAY).sides == ()


@pytest.mark.parametrize("coverage, key_missing, refused", [(0.16, True, True), (0.16, False, False), (0.3, True, False)])
def test_a_long_question_whose_key_word_no_abstract_uses_and_a_weak_match_sharing_little(coverage, key_missing, refused):
    # "Which papers propose quantum error correction codes for fault-tolerant quantum computers?":
    # no abstract says "fault-tolerant"; the best match, a quantum image classifier, shares "quantum".
    e = ev("a", 0.40, coverage=coverage)
    e.key_covered = False
    assert extractive.should_refuse(e, 0.17, S, 7, key_missing=key_missing) is refused


def test_a_paper_described_in_a_follow_up_is_marked_described():
    assert classify("what about the one with Fisher weights?", True, today=TODAY).extra["described"]
    assert classify("and the ViT one - does it need training data?", True, today=TODAY).extra["described"]
    assert not classify("and the other one?", True, today=TODAY).extra["described"]


def test_a_yes_no_question_about_the_paper_is_marked():
    assert classify("does that paper evaluate on GPT-2?", True, today=TODAY).extra["yesno"]
    assert classify("is it trained on ImageNet?", True, today=TODAY).extra["yesno"]
    assert not classify("does any of them have code?", True, today=TODAY).extra["yesno"]


@pytest.mark.parametrize("question, lang, expected", [
    # follow-ups in another language: the steering words in English, the rest as written
    ("¿Cuáles de estos tienen código?", "es", dict(followup=True, subset=True, wants_code=True)),
    ("Quali di questi hanno il codice disponibile?", "it", dict(followup=True, wants_code=True)),
    ("Welche davon haben Code?", "de", dict(followup=True, wants_code=True)),
    ("resume el segundo", "es", dict(followup=True, ordinal=1, summarize=True)),
    ("Résume le deuxième article", "fr", dict(followup=True, ordinal=1)),
    ("¿Cuántas GPUs y qué hardware usaron?", "es", dict(answer_type="number", asked="GPUs", counted=True)),
    ("Le code est-il disponible ?", "fr", dict(wants_code=True, followup=True)),
    ("Em quais conjuntos de dados ele foi avaliado?", "pt", dict(followup=True, answer_type="dataset")),
])
def test_follow_ups_in_other_languages_are_read_as_follow_ups(question, lang, expected):
    from assistant.cues import in_english
    intent = classify(in_english(question, lang), True, today=TODAY)
    assert {k: getattr(intent, k) for k in expected} == expected


def test_dates_in_other_languages_are_windows():
    from assistant.cues import in_english
    window = classify(in_english("¿Cuáles son de 2023 o más recientes?", "es"), True, today=TODAY).window
    assert (window.date_from, window.date_to) == ("2023-01", None)
    window = classify(in_english("Quais trabalhos sobre aprendizado multitarefa foram publicados antes de 2024?", "pt"),
                      False, today=TODAY).window
    assert window.date_to == "2023-12-31"
    # A name keeps its case: it is still written like a name.
    assert "iTransformer" in in_english("Erzähl mir mehr über iTransformer", "de")


@pytest.mark.parametrize("text, more", [
    ("show me the others", True), ("more", True), ("the rest?", True), ("next 10", True), ("Show more papers", True),
    ("more about the second one", False), ("more efficient transformers", False), ("others like it?", False),
])
def test_more_continues_the_previous_list(text, more):
    from assistant.conversation import MORE_RE
    assert bool(MORE_RE.match(text)) == more


def test_abbreviations_the_corpus_defines_are_searched_in_both_forms():
    from assistant.acronyms import definitions
    from assistant.query import understand
    assert list(definitions("advances in neural text-to-speech (TTS) research")) == [("tts", "text-to-speech")]
    assert list(definitions("a Vision Transformer (ViT) backbone")) == [("vit", "vision transformer")]
    assert list(definitions("Convolutional Neural Networks (CNNs) and")) == [("cnn", "convolutional neural networks")]
    assert list(definitions("we study (i) this and (Fig. 2) that")) == []
    vocab = Vocabulary(["Fast text-to-speech (TTS) with transformers", "Expressive text-to-speech (TTS) synthesis",
                        "Neural text-to-speech without attention", "CREDIT: Community Research Earth Digital "
                        "Intelligence Twin (CREDIT) for weather", "Credit scoring with trees"])
    # Defined by several papers: the field's abbreviation, searched in both forms ...
    q = understand("tts papers", vocab, 4.5)
    assert "text-to-speech" in q.keyword_text and q.same.get("text-to-speech") == "tts"
    assert "tts" in understand("text-to-speech", vocab, 4.5).keyword_text
    # ... defined by one paper: that paper's own name, not looked up ("credit scoring" stays itself).
    assert "community" not in understand("credit scoring loan default", vocab, 4.5).keyword_text


def test_a_bare_verb_finds_the_corpus_form_of_it_and_hyphens_do_not_split_words():
    from assistant.query import inflection
    vocab = Vocabulary(["Catastrophic forgetting after fine-tuning", "Keeping weights frozen", "Pruning heads",
                        "Finetuning recipes"])
    # "forget" is common English (a filler by frequency) but the corpus's "forgetting" is its topic.
    assert inflection("forget", vocab, 4.5) == "forgetting" and inflection("prune", vocab, 4.5) == "pruning"
    assert inflection("keep", vocab, 4.5) is None  # "keeping" is everyday English: no topic word
    q = understand("making llms forget less when finetuning", vocab, 4.5)
    assert "forgett" in q.weights and "forgetting" in q.keyword_text
    assert q.same.get("fine-tun") == "finetun"  # a paper writing "fine-tuning" uses the asked word


@pytest.mark.parametrize("topic, parts", [
    ("speech or audio", ["speech", "audio"]),
    ("speech enhancement or separation", ["speech enhancement", "speech separation"]),
    ("identity-preserving or subject-driven personalization",
     ["identity-preserving personalization", "subject-driven personalization"]),
    ("speech recognition or spoken language understanding", ["speech recognition", "spoken language understanding"]),
    ("mamba / state space models", []),  # a slash names one topic twice
    ("merging tokens or pruning them as they pass through the network", []),  # "or" inside one topic
    ("speech", []), ("gans or", []),
])
def test_two_short_alternatives_are_two_topics(topic, parts):
    from assistant.core import alternatives
    assert alternatives(topic) == parts


def test_names_and_sizes_typed_without_their_punctuation():
    vocab = Vocabulary(["BT^2: backward-compatible training", "Scaling diffusion transformers to 16 billion parameters"])
    q = understand("bt2 vs oca", vocab, 4.5)
    assert "bt" in q.weights and "bt 2" in q.text and "bt2" not in q.missing  # "BT^2" splits into "bt", "2"
    q = understand("the 16b diffusion transformer", vocab, 4.5)
    assert "16 billion" in q.text and "billion" in q.weights and not q.missing


def test_endings_of_other_languages_meet_the_english_word():
    vocab = Vocabulary(["The parameters of the model", "A parametric model", "Latent diffusion models"])
    assert vocab.cognate("parametros") == "parameters" and vocab.cognate("difusao") == "diffusion"
