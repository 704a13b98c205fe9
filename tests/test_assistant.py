"""The answering core on the real bundled index: retrieval, answers, refusals, follow-ups, the
CLI's JSON shapes and its one-line errors."""
from __future__ import annotations

import json
import re

import pytest

from assistant.core import Assistant
from assistant.errors import BadInput
from assistant.markdown import unescape
from ui.cli import main

from chat_helpers import chat as _chat  # tests/chat_helpers.py

MERGE_Q = "which papers merge models without retraining?"
MERGING = {"2306.01708", "2407.02447", "2111.09832", "t-7e083a4b1c8f", "t-a542ea9f3b89", "t-7f01208f265f",
           "2406.15479", "2312.06173", "2405.07813", "2310.01334"}


@pytest.fixture(scope="module")
def assistant(bundled_index) -> Assistant:
    return Assistant(bundled_index)


@pytest.fixture()
def env(bundled_index, monkeypatch):
    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(bundled_index.index_dir))
    monkeypatch.setenv("PAPERCHAT_DATA_DIR", str(bundled_index.data_dir))


def quotes_of(answer) -> list[tuple[str, int]]:
    return [(unescape(q), int(n)) for q, n in re.findall(r"“(.+?)” \[(\d+)\]", answer.answer)]


def test_which_papers_lists_several_merging_papers_each_quoted_verbatim(assistant):
    answer = assistant.ask(MERGE_Q)
    cited = [s.paper_id for s in answer.sources]
    assert not answer.refused and answer.mode == "extractive"
    assert len(set(cited) & MERGING) >= 4, cited
    abstracts = assistant.store.papers(cited)
    quotes = quotes_of(answer)
    assert len(quotes) == len(cited)
    for quote, n in quotes:
        source = answer.sources[n - 1]
        assert quote == source.quote
        for piece in quote.split(" … "):  # skipped sentences are marked with an ellipsis
            assert piece in abstracts[source.paper_id].abstract
        assert f"]({source.url})" in answer.answer  # the title links to the paper
    # The headline counts every paper that came close, and says when only the closest are listed
    # (it said "10 papers match" when 15 did).
    matched = int(re.match(r"(\d+) papers match", answer.answer).group(1))
    assert matched >= len(cited)
    assert (f"the {len(cited)} closest are below" in answer.answer.splitlines()[0]) == (matched > len(cited))


def test_search_ranks_papers_with_scores(assistant):
    hits = assistant.search("a one-step text-to-image generator distilled from Stable Diffusion with rectified flow", k=5)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0].paper_id == "2309.06380"  # InstaFlow
    assert hits[0].url == "https://huggingface.co/papers/2309.06380"
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))


def test_question_about_one_paper_leads_with_it_and_quotes_the_fact(assistant):
    answer = assistant.ask("How much compute did it take to train InstaFlow, the one-step generator distilled from Stable Diffusion?")
    assert answer.sources[0].paper_id == "2309.06380"
    assert "199 A100 GPU days" in unescape(answer.answer)


def test_code_question_gives_the_repository(assistant):
    answer = assistant.ask("where is the code for TIES-Merging, which resolves interference when merging models?")
    assert answer.sources[0].paper_id == "2306.01708"
    assert answer.sources[0].code_url == "https://github.com/prateeky2806/ties-merging"
    assert "https://github.com/prateeky2806/ties-merging" in answer.answer.splitlines()[0]


@pytest.mark.parametrize("question", [
    "which papers study protein folding?",
    "Which papers segment polyps in colonoscopy images?",
])
def test_off_corpus_questions_are_refused_without_citations(assistant, question):
    answer = assistant.ask(question)
    assert answer.refused and answer.sources == []
    assert answer.answer.startswith("None of the 294 papers")
    assert "[1]" not in answer.answer


@pytest.mark.parametrize("question", ["who wrote the TIES-Merging paper?", "which paper has the most citations?",
                                      "which conference was PLeaS published at?"])
def test_questions_about_metadata_the_corpus_lacks_say_so(assistant, question):
    answer = assistant.ask(question)
    assert answer.refused and answer.sources == []
    assert "only the titles and abstracts" in answer.answer


def test_followups_resolve_against_the_previous_answer(assistant):
    first = assistant.ask(MERGE_Q)
    history = [{"role": "user", "content": MERGE_Q}, {"role": "assistant", "content": first.answer}]
    subset = assistant.ask("which of those use permutations?", history)
    assert not subset.refused
    assert subset.sources[0].paper_id == "2407.02447"  # PLeaS: permutations and least squares
    assert {s.paper_id for s in subset.sources} <= {s.paper_id for s in first.sources}
    assert "from the previous answer" in subset.answer.splitlines()[0]

    history += [{"role": "user", "content": "which of those use permutations?"},
                {"role": "assistant", "content": subset.answer}]
    code = assistant.ask("where's its code?", history)
    assert [s.paper_id for s in code.sources] == ["2407.02447"]
    assert "https://github.com/SewoongLab/PLeaS-Merging" in code.answer


def test_stream_grows_entry_by_entry_and_ends_with_the_full_answer(assistant):
    partials = list(assistant.stream(MERGE_Q))
    assert len(partials) == len(partials[-1].sources) + 1
    assert all(b.answer.startswith(a.answer) for a, b in zip(partials, partials[1:]))
    assert partials[-1].model_dump() | {"timings_ms": {}} == assistant.ask(MERGE_Q).model_dump() | {"timings_ms": {}}


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 100_000])
def test_empty_and_huge_questions_are_rejected_with_a_clear_message(assistant, question):
    with pytest.raises(BadInput) as err:
        assistant.ask(question)
    assert "\n" not in str(err.value)


def test_ask_json_has_the_documented_shape(env, capsys):
    assert main(["ask", MERGE_Q, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"question", "answer", "refused", "mode", "notice", "sources", "timings_ms", "kind",
                        "paper_ids", "filters", "comparison", "suggestions"}
    assert out["paper_ids"] == [s["paper_id"] for s in out["sources"]]
    assert out["mode"] == "extractive" and out["refused"] is False
    assert set(out["sources"][0]) == {"n", "paper_id", "title", "url", "code_url", "quote", "score", "date", "arxiv_id"}
    assert [s["n"] for s in out["sources"]] == list(range(1, len(out["sources"]) + 1))


def test_search_json_has_the_documented_shape(env, capsys):
    assert main(["search", MERGE_Q, "-k", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question"] == MERGE_Q and len(out["results"]) == 3
    assert set(out["results"][0]) == {"rank", "paper_id", "title", "url", "code_url", "score"}


def test_plain_ask_prints_the_answer(env, capsys):
    assert main(["ask", "which papers study protein folding?"]) == 0
    assert capsys.readouterr().out.startswith("None of the 294 papers")


@pytest.mark.parametrize("argv", [["ask", ""], ["ask", "   "], ["search", "x" * 100_000], ["search", "merging", "-k", "0"]])
def test_bad_questions_exit_non_zero_with_one_line(env, capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("paperchat: ") and err.count("\n") == 1 and "Traceback" not in err


def test_missing_index_says_to_run_ingest(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(tmp_path / "nothing-here"))
    assert main(["ask", MERGE_Q]) == 2
    err = capsys.readouterr().err
    assert "run `paperchat ingest`" in err and err.count("\n") == 1
    assert not (tmp_path / "nothing-here").exists()  # asking must not create an empty index


def test_index_built_with_another_model_is_refused(bundled_index, tmp_path, monkeypatch, capsys):
    import shutil

    from assistant.store import Store

    copy = tmp_path / "index"
    shutil.copytree(bundled_index.index_dir, copy)
    chunks = Store.open(bundled_index.model_copy(update={"index_dir": copy})).chunks
    chunks.modify(metadata={**chunks.metadata, "embedding_model": "some-other-model"})
    monkeypatch.setenv("PAPERCHAT_INDEX_DIR", str(copy))
    assert main(["search", MERGE_Q]) == 2
    err = capsys.readouterr().err
    assert "some-other-model" in err and "--rebuild" in err and err.count("\n") == 1


# ---- issue 8: the same answer however the question is phrased ------------------------------------

MAMBA = {"2405.07992", "t-c9cd73770f49", "2411.04168", "2405.01828", "2405.14174"}


@pytest.mark.parametrize("question", ["which papers use mamba?", "tell me about mamba", "mamba", "anything on mamba? thanks"])
def test_a_theme_gets_the_same_papers_however_it_is_asked(assistant, question):
    answer = assistant.ask(question)
    assert {s.paper_id for s in answer.sources} == MAMBA and answer.kind == "list"


def test_comparison_cites_both_sides_side_by_side(assistant):
    answer = assistant.ask("compare TIES-Merging and Fisher merging")
    assert answer.kind == "comparison" and answer.paper_ids == ["2306.01708", "2111.09832"]
    assert [row.aspect for row in answer.comparison] == ["proposes", "evaluated on", "result", "code"]
    abstracts = assistant.store.papers(answer.paper_ids)
    for row in answer.comparison:
        for cell in row.cells:
            if cell.quote:
                assert cell.quote in abstracts[answer.paper_ids[cell.n - 1]].abstract  # verbatim
    missing = assistant.ask("compare mamba and zorblax")
    assert "“zorblax” is not in this corpus" in missing.answer and missing.paper_ids


def test_a_comparison_side_named_as_a_papers_title_finds_that_paper(assistant):
    # Two papers tie on "latent diffusion models"; the one whose title says it is the one named.
    answer = assistant.ask("latent diffusion models vs InstaFlow")
    assert answer.kind == "comparison" and answer.paper_ids == ["2112.10752", "2309.06380"]


def test_a_year_in_the_question_filters_inside_retrieval_and_is_stated(assistant):
    answer = assistant.ask("papers from 2024 about video generation")
    assert answer.filters == {"date_from": "2024-01", "date_to": "2024-12-31"}
    assert answer.sources and all(s.date and s.date.startswith("2024") for s in answer.sources)
    assert "published in 2024" in answer.answer
    # No paper inside the window: it says so, then shows the closest outside it, each with its date.
    none = assistant.ask("this year's papers on diffusion")
    assert none.kind == "outside-window" and not none.refused
    assert none.answer.startswith("No paper published this year (2026) is about “diffusion”")
    assert none.sources and all(not (s.date or "").startswith("2026") for s in none.sources)
    assert all(f"({s.date or 'date unknown'})" in none.answer for s in none.sources)
    # ... and when nothing in the corpus is about it at all, the refusal names the window alone.
    off = assistant.ask("protein folding from 2024")
    assert off.refused and not off.sources
    assert off.answer.startswith("None of the papers published in 2024 is about “protein folding”")
    # A year ending a keyword question is a window too, unless an abstract uses it in a name.
    ending = assistant.ask("model quantization 2023")
    assert ending.filters == {"date_from": "2023-01", "date_to": "2023-12-31"}
    assert ending.sources and all(s.date and s.date.startswith("2023") for s in ending.sources)
    assert assistant.ask("coco 2017").filters == {}  # InstaFlow reports FID "on MS COCO 2017-5k"


def test_followups_over_paper_ids_code_links_and_ordinals(assistant):
    first = assistant.ask(MERGE_Q)
    history = [{"role": "user", "content": MERGE_Q},
               {"role": "assistant", "content": "(shown elsewhere)", "paper_ids": first.paper_ids}]
    code = assistant.ask("which of those have a github link?", history)
    with_code = [s.paper_id for s in first.sources if s.code_url]
    assert code.kind == "code-subset" and code.paper_ids == with_code and all(s.code_url for s in code.sources)
    second = assistant.ask("summarize the second one", history)
    assert second.paper_ids == first.paper_ids[1:2] and second.kind == "summary"
    pair = assistant.ask("compare [1] and [3]", history)
    assert pair.paper_ids == [first.paper_ids[0], first.paper_ids[2]]


def test_detail_missing_is_said_not_quoted(assistant):
    answer = assistant.ask("How many GPUs were used to train the largest model in these papers?")
    assert answer.refused or answer.kind == "detail-missing"
    assert "GPU days" not in answer.answer.splitlines()[0]


def test_a_theme_question_quotes_prose_not_a_code_link(assistant):
    # AutoInt's abstract ends "Code is available at: https://github.com/DeepGraphLearning/RecommenderSystems";
    # the URL's words must not make that the quote for a question about graphs and recommendation.
    answer = assistant.ask("any papers on graph neural nets for recommendation")
    assert answer.sources and all("github.com" not in (s.quote or "") for s in answer.sources)
    assert "“graph neural nets for recommendation”" in answer.answer.split("**[1]**")[0]


def test_a_fact_in_the_title_is_not_called_unreported(assistant):
    answer = assistant.ask("ecg models trained on how many recordings")
    assert "does not report" not in answer.answer and "10 million" in answer.sources[0].quote


def test_a_small_sentence_cache_stays_bounded_and_answers_the_same(bundled_index, assistant):
    small = Assistant(bundled_index.model_copy(update={"sentence_cache_papers": 100}))
    small.warm()  # the corpus (294 papers) is larger than the cache: nothing is read whole
    assert len(small._sentences) == 0
    for q in ["which papers merge models without retraining?", "tell me about mamba",
              "which papers make sampling from diffusion models faster?", "which papers merge models without retraining?"]:
        assert small.ask(q).answer == assistant.ask(q).answer
        assert len(small._sentences) <= max(100, small.settings.candidates)


def test_comparisons_worded_freely_cite_both_papers(assistant):
    both = assistant.ask("tell me how MambaOut and MambaQuant differ")
    titles = [s.title for s in both.sources]
    assert both.kind == "comparison" and any("MambaOut" in t for t in titles) and any("MambaQuant" in t for t in titles)
    typo = assistant.ask("InstaFlow or latent diffusion modles, which should I use for fast text-to-image generation?")
    titles = [s.title for s in typo.sources]
    assert any("InstaFlow" in t for t in titles) and any(t.endswith("with Latent Diffusion Models") for t in titles)


def test_a_typo_matching_only_a_url_fragment_is_corrected_to_the_word(assistant):
    # The Twin-Merging abstract's code URL is cut to ".../Twin-Mergin": a URL fragment is no word.
    answer = assistant.ask("PLeaS vs Twin-Mergin?")
    assert {"2407.02447", "2406.15479"} <= {s.paper_id for s in answer.sources}


def test_refusal_ignores_filler_and_typos_but_not_off_corpus_topics(assistant):
    assert not assistant.ask("hey, so has anyone checked whether merging models works? please").refused
    assert not assistant.ask("which papers use mamaba?").refused
    off = assistant.ask("quantum error correction")
    assert off.refused and off.sources == []


def test_non_english_question_is_told_the_abstracts_are_english(assistant):
    answer = assistant.ask("¿Qué artículos estudian la fusión de modelos?")
    assert "in English" in answer.answer.splitlines()[0]
    assert not answer.refused and "No abstract even uses" not in answer.answer  # no split word fragments listed


def test_a_question_sharing_no_word_with_the_english_abstracts_is_asked_to_be_put_in_english(assistant):
    answer = assistant.ask("有哪些关于时间序列预测的论文？")  # "which papers forecast time series?"
    assert answer.refused and "please ask in English" in answer.answer
    assert "is about" not in answer.answer  # not "None of the 294 papers is about 有哪些..."


def test_the_vocabulary_is_cached_beside_the_serving_data(assistant):
    from assistant.vocabulary import CACHE
    assert (assistant.serving.folder / CACHE).exists()


def test_the_vocabulary_read_from_disk_answers_as_the_one_in_memory(assistant):
    # Serving processes read the vocabulary table on demand (no dict of every word and deletion per
    # replica); typo correction, other-language matching and IDF must not change with it.
    from assistant.vocabulary import CACHE, TABLE
    from assistant.words import Vocabulary
    assert (assistant.serving.folder / TABLE).exists() and not isinstance(assistant.vocab.df, dict)
    data = json.loads((assistant.serving.folder / CACHE).read_text(encoding="utf-8"))
    memory = Vocabulary.from_counts(data["df"], data["papers"], data["acronyms"])
    assert assistant.vocab.acronyms.get("tts") == memory.acronyms["tts"] and "vit" in memory.acronyms
    for w in ["mamba", "mamaba", "nuerons", "merging", "segmentacao", "quantisierung", "diffusionsmodellen",
              "tumores", "difusion", "parlent", "zzzzqx", "gans", "denoise", "2024"]:
        assert (w in assistant.vocab) == (w in memory), w
        assert assistant.vocab.idf(w) == memory.idf(w), w
        assert assistant.vocab.correction(w) == memory.correction(w), w
        assert assistant.vocab.cognate(w) == memory.cognate(w), w
        assert assistant.vocab.compound(w) == memory.compound(w), w


def test_more_like_this_lists_other_papers_on_the_same_theme(assistant):
    # The browser's "More like this" asks exactly this; the paper itself must not come back alone.
    ties = "2306.01708"
    answer = assistant.ask("which papers are similar to “Resolving Interference When Merging Models”?")
    cited = [s.paper_id for s in answer.sources]
    assert not answer.refused and len(cited) >= 3 and ties not in cited
    merging = {"2111.09832", "2407.02447", "2405.07813", "2312.06173", "2406.15479", "t-a542ea9f3b89"}
    assert len(merging & set(cited)) >= 3  # weight-space merging papers, the theme of TIES-Merging


def test_similar_to_a_title_the_corpus_lacks_is_an_ordinary_question(assistant):
    answer = assistant.ask("which papers are similar to “A Treatise on Medieval Falconry”?")
    assert answer.refused and not answer.sources


def test_a_method_named_in_the_question_leads_however_the_rest_scores(assistant):
    # "DriveAdapter" is used by one abstract; the rest of the question matches it weakly (it was
    # refused), and its abstract reports no driving score: that is said, about that paper.
    drive = assistant.ask("what driving score does DriveAdapter get on the CARLA leaderboard?")
    assert not drive.refused and drive.kind == "detail-missing"
    assert drive.sources[0].title.startswith("DriveAdapter") and len(drive.sources) == 1
    # Keywords around the name match other papers better; the named paper still leads, alone.
    aff = assistant.ask("AFFNet parameter count and ImageNet top-1")
    assert aff.sources[0].title == "Adaptive Frequency Filters As Efficient Global Token Mixers"
    assert len(aff.sources) == 1
    # An acronym names a kind of thing, not a paper: "GPUs" does not pull GPU papers forward.
    gpus = assistant.ask("how many GPUs were used to train TIES-Merging?")
    assert gpus.sources[0].title == "Resolving Interference When Merging Models"


def test_an_ordinal_after_a_one_paper_answer_points_back_at_the_list(assistant):
    history = []

    def ask(q):
        answer = assistant.ask(q, history=history)
        history.extend([{"role": "user", "content": q},
                        {"role": "assistant", "content": answer.answer, "paper_ids": answer.paper_ids}])
        return answer

    listed = ask("which papers merge models without retraining?").paper_ids
    assert len(listed) >= 4
    assert ask("summarize the second one").paper_ids == [listed[1]]
    # "the last paper" means the list's, not the one-paper summary's; "[1]" is the summary's own.
    assert ask("what about the last paper?").paper_ids == [listed[-1]]
    assert ask("does [1] have code?").paper_ids == [listed[-1]]
    assert ask("more on #4").paper_ids == [listed[3]]


@pytest.mark.parametrize("question, newest", [("which one is the newest?", True), ("and the oldest?", False),
                                              ("the most recent one", True)])
def test_newest_or_oldest_after_a_list_picks_by_date_among_its_papers(assistant, question, newest):
    first = assistant.ask("model merging")
    dates = {s.paper_id: s.date for s in first.sources if s.date}
    assert len(dates) >= 2
    answer = assistant.ask(question, history=[
        {"role": "user", "content": "model merging"},
        {"role": "assistant", "content": first.answer, "paper_ids": first.paper_ids}])
    # Not a "recent" window over the corpus: one paper of the list, the one its date puts first.
    assert not answer.refused and not answer.filters
    assert answer.paper_ids == [(max if newest else min)(dates, key=dates.get)]
    assert answer.sources[0].date in answer.answer


def test_a_partial_match_says_which_words_of_the_question_no_cited_paper_uses(assistant):
    # Answered from the rest of the question, so the answer must not pass for a match on the whole.
    watermark = assistant.ask("how do you watermark images generated by diffusion models so they can be detected later?")
    assert watermark.refused or "No abstract uses “watermark”" in watermark.answer
    folding = assistant.ask("mamba for protein folding")
    assert folding.refused or "None of these papers mentions" in folding.answer and "folding" in folding.answer
    merging = assistant.ask("which papers merge models?")  # a full match carries no such note
    assert "No abstract uses" not in merging.answer and "None of these papers mentions" not in merging.answer


def test_a_date_without_a_topic_lists_that_windows_papers_newest_first(assistant):
    from ingest.pipeline import load_papers
    corpus, _ = load_papers(None, assistant.settings)  # the bundled papers, read apart from the index
    in_2024 = [p for p in corpus if (p.date or "").startswith("2024")]
    answer = assistant.ask("papers from 2024")
    assert not answer.refused and answer.filters == {"date_from": "2024-01", "date_to": "2024-12-31"}
    assert f"{len(in_2024)} papers in the corpus are published in 2024" in answer.answer
    dates = [s.date for s in answer.sources]
    assert all(d.startswith("2024") for d in dates) and dates == sorted(dates, reverse=True)
    assert assistant.ask("what are the newest papers in the corpus?").sources[0].date == max(p.date for p in corpus if p.date)
    none = assistant.ask("papers from 1990")
    assert none.refused and "No paper in the corpus is published in 1990" in none.answer


def test_alternatives_split_by_a_slash_are_each_asked(assistant):
    # "satellite" is in no abstract; the other alternative is, so the question is answered from it.
    answer = assistant.ask("got anything on remote sensing / satellite imagery?")
    assert not answer.refused and any("Remote Sensing" in s.title for s in answer.sources)
    assert assistant.ask("protein folding / quantum error correction").refused  # neither is


@pytest.mark.parametrize("question", ["which of these have a repo?", "any with code?", "code for those?",
                                      "which have public implementations", "are any of those open source?"])
def test_code_follow_ups_however_worded_answer_from_the_previous_papers_code_links(assistant, question):
    first = assistant.ask("which papers merge models without retraining?")
    with_code = [s.paper_id for s in first.sources if s.code_url]
    history = [{"role": "user", "content": "which papers merge models without retraining?"},
               {"role": "assistant", "content": first.answer, "paper_ids": first.paper_ids}]
    assert len(with_code) >= 2
    assert assistant.ask(question, history=history).paper_ids == with_code


def test_papers_with_code_on_a_topic_are_that_topics_papers_linking_code(assistant):
    theme = assistant.ask("which papers are about mixup?")
    answer = assistant.ask("which papers on mixup have code?")
    with_code = [s.paper_id for s in theme.sources if s.code_url]
    assert answer.kind == "code-list" and answer.paper_ids == with_code  # searched "mixup", not "code"
    assert f"of the {len(theme.sources)} papers on “mixup”" in answer.answer
    assert "Code: " + answer.sources[0].code_url in answer.answer
    none = assistant.ask("papers w/ code on neural collapse")
    assert none.kind == "code-list-none" and "links code in its abstract" in none.answer and none.sources


def test_a_fact_asked_of_them_is_each_papers_fact_not_a_filter(assistant):
    # "what datasets did they use?" after a list: the sentence naming the data in each abstract
    # that states it (it was read as "which of them are about 'datasets did they use'").
    answer, history = _chat(assistant, "speech enhancement papers", "what datasets did they use?")
    previous = history[1]["paper_ids"]
    assert answer.kind == "facts" and answer.sources and set(answer.paper_ids) <= set(previous)
    assert f"of the {len(previous)} papers from the previous answer" in answer.answer
    assert "benchmark" in answer.answer.lower() or "dataset" in answer.answer.lower()
    # A condition on them is still a filter ("... evaluated on DNS challenge data").
    answer, _ = _chat(assistant, "speech enhancement papers", "which of them were evaluated on DNS challenge data?")
    assert answer.kind != "facts"


def test_which_one_is_best_at_a_metric_quotes_the_papers_that_report_it(assistant):
    # "which one reports the highest accuracy?" was refused as a new question ("None of the 294
    # papers is about ..."); "which one is fastest?" over papers that report no speed says so.
    answer, history = _chat(assistant, "papers that evaluate on ImageNet and COCO", "which one reports the highest accuracy?")
    assert answer.kind == "facts" and set(answer.paper_ids) <= set(history[1]["paper_ids"])
    assert "accuracy of 88.0%" in answer.answer
    answer, _ = _chat(assistant, "model merging", "which one is fastest?")
    assert answer.refused and not answer.sources and "reports a speed-up" in answer.answer
    answer, _ = _chat(assistant, "speech enhancement papers", "which of them gets the best PESQ?")
    assert answer.refused and not answer.sources and "reports PESQ" in answer.answer


def test_compare_the_first_two_compares_the_previous_answers_first_two_papers(assistant):
    answer, history = _chat(assistant, "model merging", "compare the first two")
    assert answer.kind == "comparison" and answer.paper_ids == history[1]["paper_ids"][:2]


def test_only_the_2024_ones_keeps_the_previous_answers_2024_papers(assistant):
    answer, history = _chat(assistant, "model merging", "only the 2024 ones")
    assert answer.sources and set(answer.paper_ids) < set(history[1]["paper_ids"])
    assert all(s.date and s.date.startswith("2024") for s in answer.sources)


def test_a_follow_up_naming_another_paper_is_about_that_paper(assistant):
    # "what about Lina-Speech, what is its architecture?" was answered about FastSpeech, the
    # previous answer's paper, because of "its".
    answer, _ = _chat(assistant, "text-to-speech papers", "is fastspeech faster than autoregressive models? by how much",
                      "what about Lina-Speech, what is its architecture?")
    assert [s.title.split(":")[0] for s in answer.sources] == ["Lina-Speech"]
    answer, _ = _chat(assistant, "what is Lina-Speech?", "how does it compare to FastSpeech?")
    assert answer.kind == "comparison" and [s.title.split(":")[0] for s in answer.sources] == ["Lina-Speech", "FastSpeech"]
    answer, _ = _chat(assistant, "what is Lina-Speech?", "does it beat FastSpeech?")
    assert answer.kind == "comparison" and [s.title.split(":")[0] for s in answer.sources] == ["Lina-Speech", "FastSpeech"]


def test_dates_outside_the_previous_answers_window_ask_its_topic_again(assistant):
    # "and ones after 2023?" after "... before 2022" filtered the pre-2022 list and found nothing.
    answer, _ = _chat(assistant, "super resolution papers before 2022", "and ones after 2023?")
    assert answer.sources and all(s.date and s.date >= "2024" for s in answer.sources)
    assert any("Super-Resolution" in s.title for s in answer.sources)


def test_a_topic_the_corpus_words_differently_is_found(assistant):
    # "finance": the abstracts say "financial"; it was "None of the 294 papers is about finance".
    answer = assistant.ask("anything on finance?")
    assert not answer.refused and any("Stock Price" in s.title for s in answer.sources)
    # "wat" is "what" short a letter, not a missing topic word.
    answer = assistant.ask("wat does scalekd do")
    assert not answer.refused and answer.sources[0].title.startswith("ScaleKD")


def test_follow_ups_in_another_language_work_on_the_previous_answer(assistant):
    # "Quali di questi hanno il codice disponibile?" was "please ask in English".
    answer, history = _chat(assistant, "Ci sono articoli sulla compressione delle immagini con reti neurali?",
                            "Quali di questi hanno il codice disponibile?")
    assert answer.kind == "code-subset" and answer.sources and set(answer.paper_ids) <= set(history[1]["paper_ids"])
    assert "are in English" in answer.answer  # still said: the abstracts are English
    answer, history = _chat(assistant, "¿Hay artículos sobre segmentación de imágenes médicas?",
                            "¿Cuáles son de 2023 o más recientes?")
    assert answer.sources and all(s.date and s.date >= "2023" for s in answer.sources)


def test_a_fact_asked_of_one_paper_is_quoted_or_said_unreported(assistant):
    # "what accuracy does it reach on CIFAR-100?" about a paper that reports none got its summary
    # again under "The best match is"; "what bit width does it quantize to?" of ZeroQuant-FP, whose
    # answer is a number format ("FP8 and FP4"), was said to be unreported.
    answer, _ = _chat(assistant, "anything on mixup?", "tell me more about the second one",
                      "what accuracy does it reach on CIFAR-100?")
    assert "does not report accuracy" in answer.answer and len(answer.sources) == 1
    answer, _ = _chat(assistant, "ZeroQuant-FP", "what bit width does it quantize to?")
    assert "does not report" not in answer.answer and "FP4" in answer.answer
    answer = assistant.ask("What learning rate does MambaOut use for training?")
    assert "does not report learning rate" in answer.answer
    # Asked of one paper, another number ("4.7% higher top-1 accuracy") does not say the sparsity.
    answer, _ = _chat(assistant, "pruning vision transformers", "and layer-adaptive pruning for CNNs?",
                      "that one, what sparsity does it reach")
    assert "does not report sparsity" in answer.answer
    # A counted thing still has to be counted: "reduce FLOPs by 44%" reports no GPUs.
    answer = assistant.ask("How many GPUs and what hardware did they use to train the DeiT models with MCTF?")
    assert "does not report GPUs" in answer.answer


def test_follow_ups_about_what_the_corpus_does_not_hold_say_so(assistant):
    # "who are the authors of that paper?" repeated the paper's summary.
    answer, _ = _chat(assistant, "federated learning stuff?", "which one is about long-tailed data",
                      "who are the authors of that paper?")
    assert answer.refused and "it has no authors" in answer.answer
    # "how does it compare to ESPCN?": no abstract says "ESPCN"; it repeated the summary.
    answer, _ = _chat(assistant, "super resolution papers before 2022", "tell me more about the third one",
                      "how does it compare to ESPCN?")
    assert "No abstract in this corpus names “ESPCN”" in answer.answer and len(answer.sources) == 1


def test_a_comparison_quotes_the_sentence_naming_the_evaluation_data(assistant):
    answer = assistant.ask("compare MambaOut with Multi-Scale VMamba")
    row = next(r for r in answer.comparison if r.aspect == "evaluated on")
    assert all(cell.quote and "ImageNet" in cell.quote for cell in row.cells)


def test_the_other_one_and_compare_them(assistant):
    # "and the other one ..." after a summary of the first was answered about the first again, and
    # "compare them" summarized one paper.
    answer, history = _chat(assistant, "anything on ECG?", "tell me more about the first one",
                            "and the other one - what model does it use?")
    listed = history[1]["paper_ids"]
    assert len(listed) == 2 and answer.paper_ids == [listed[1]]
    answer, _ = _chat(assistant, "anything on ECG?", "compare them")
    assert answer.kind == "comparison" and answer.paper_ids == listed


def test_what_the_question_rules_out_does_not_steer_the_answer(assistant):
    # "... that isn't just ad click prediction" led with click-prediction papers.
    answer = assistant.ask("hey, anything on recommender systems that isn't just ad click prediction? "
                           "like recommending items, bundles, whatever")
    titles = [s.title for s in answer.sources]
    assert "Click" not in titles[0] and "CTR" not in titles[0]
    assert any("Recommendation" in t or "Bundle" in t for t in titles)


def test_the_data_a_paper_names_or_describes_is_not_called_unreported(assistant):
    # Both were "does not report data" although the abstracts name or describe it.
    answer = assistant.ask("what data does the mantis shrimp photometric redshift paper use")
    assert "does not report" not in answer.answer and "GALEX" in answer.answer
    answer = assistant.ask("which paper predicts NFT prices and what data does it use?")
    assert "does not report" not in answer.answer and "publicly available dataset" in answer.answer
    answer = assistant.ask("what benchmarks does DiffPose report on")  # was "does not report benchmarks"
    assert "does not report" not in answer.answer and "PoseTrack2017" in answer.answer
    assert answer.answer.startswith("*DiffPose")  # the headline says the fact is there, not "the best match is"
    assert "names the benchmarks in its abstract" in answer.answer.splitlines()[0]
    # ... but "three well-known datasets" and a code link name no dataset.
    answer = assistant.ask("Which datasets was HyperFormer evaluated on for hyper-relational knowledge graph completion?")
    assert "does not name datasets" in answer.answer


def test_follow_ups_about_the_two_or_the_other_one(assistant):
    answer, history = _chat(assistant, "zero shot composed image retrieval", "compare the two")
    assert answer.kind == "comparison" and answer.paper_ids == history[1]["paper_ids"][:2]
    answer, history = _chat(assistant, "large kernel convnets", "whats the imagenet acc of unireplknet",
                            "what about the other one?")
    assert not answer.refused and answer.paper_ids[0] in history[1]["paper_ids"]
    assert answer.paper_ids[0] != history[3]["paper_ids"][0]
    # ... and the question goes with it: the other paper's ImageNet accuracy, not its summary.
    assert "88.0%" in answer.answer and "Scaling Up Your Kernels" in answer.sources[0].title
    # "and the third?" after a yes/no question asks it again of the third paper.
    answer, _ = _chat(assistant, "pose estimation", "does the first one use diffusion?", "and the second one?")
    assert answer.kind == "mentions-none" and "does not mention “diffusion”" in answer.answer


def test_a_paper_described_in_a_follow_up_is_the_one_meant(assistant):
    # "the one with Fisher weights" after a comparison of TIES and Twin-Merging, two answers after
    # the list that had it, was answered about TIES.
    answer, _ = _chat(assistant, "papers on model merging", "how does TIES-Merging compare to Twin-Merging?",
                      "what about the one with Fisher weights - what is its main idea?")
    assert [s.title for s in answer.sources] == ["Merging Models with Fisher-Weighted Averaging"]
    # "the garment one" inside the question, not at its start, picks the paper and asks it alone.
    answer, history = _chat(assistant, "virtual try-on papers?", "what dataset does the garment one evaluate on")
    assert [s.title for s in answer.sources] == ["Improving Virtual Try-On with Garment-focused Diffusion Models"]
    assert "VITON-HD" in answer.answer and answer.paper_ids[0] in history[1]["paper_ids"]
    answer, _ = _chat(assistant, "shortcut learning / simplicity bias", "does the complexity one use imagenet?")
    assert answer.kind == "mentions" and "ImageNet-trained" in answer.answer
    # Described two answers back, past a narrower answer in between, is still in the conversation.
    answer, history = _chat(assistant, "super resolution papers", "which of them have code",
                            "the one about MRI - what does it do about noise?")
    assert "MRI" in answer.sources[0].title and answer.paper_ids[0] in history[1]["paper_ids"]
    assert answer.paper_ids[0] not in history[3]["paper_ids"]
    # Not in the conversation: the paper of its topic the description names, not the listed one.
    answer, history = _chat(assistant, "time series forecasting transformers", "the one about shapelets - what does it do?")
    assert answer.paper_ids[0] not in history[1]["paper_ids"] and "Shapelet" in answer.sources[0].title
    answer, _ = _chat(assistant, "time series forecasting transformers",
                      "the one with mixture of experts - how many params does it have")
    assert answer.sources[0].title.startswith("Moirai-MoE") and "does not report params" in answer.answer


def test_an_abbreviation_finds_the_papers_that_spell_it_out(assistant):
    # "tts papers?" missed WavThruVec, which writes only "neural text-to-speech" (probe 10).
    answer = assistant.ask("tts papers?")
    assert {"2203.16930", "1905.09263", "2410.23320"} <= set(answer.paper_ids)


def test_a_paper_worded_with_the_doer_of_the_topic_is_listed(assistant):
    # Moirai-MoE speaks of "zero-shot forecasters": "time series forecasting transformers" cited
    # iTransformer alone, so "only the 2024 ones" found nothing.
    answer, _ = _chat(assistant, "time series forecasting transformers", "only the 2024 ones")
    assert [s.title.split(":")[0] for s in answer.sources] == ["Moirai-MoE"]


def test_a_date_filter_after_one_paper_picked_from_a_list_filters_the_list(assistant):
    answer, history = _chat(assistant, "papers about mixup", "which one is about neural collapse", "only the 2024 ones")
    assert len(history[3]["paper_ids"]) == 1 and "2024" in answer.answer.splitlines()[0]
    assert set(answer.paper_ids) <= set(history[1]["paper_ids"]) and len(history[1]["paper_ids"]) > 1
    assert all(s.date and s.date.startswith("2024") for s in answer.sources)
    # ... but after a one-paper answer to a new search, "them" is that paper.
    answer, _ = _chat(assistant, "stock prediction transformer", "any on fraud detection?", "which of them have code")
    assert answer.answer.startswith("The paper from the previous answer")


def test_a_narrowing_keeps_every_paper_that_states_the_condition(assistant):
    # "are they training free?" kept only the paper titled "Training-free ..."; PDV's abstract says
    # "training-free" too. "which are training-free?" searched the whole corpus.
    for ask in ("are they training free?", "which are training-free?"):
        answer, history = _chat(assistant, "zero shot composed image retrieval", ask)
        assert answer.kind == "subset" and sorted(answer.paper_ids) == sorted(history[1]["paper_ids"])
        assert answer.answer.startswith("Both papers from the previous answer match")


def test_show_more_continues_a_list_that_was_cut(assistant):
    # The headline now says a list was cut; "show me the others" lists the rest, then says so.
    first, history = _chat(assistant, "papers on model merging")
    matched = int(re.match(r"(\d+) papers match", first.answer).group(1))
    assert matched > len(first.sources) and "Show more papers" in first.suggestions
    answer, history = _chat(assistant, "papers on model merging", "show me the others")
    assert answer.sources and not set(answer.paper_ids) & set(history[1]["paper_ids"])
    assert len(answer.sources) == matched - len(first.sources)
    assert answer.answer.startswith(f"{len(answer.sources)} more of the {matched} papers that match “model merging”")
    answer, history = _chat(assistant, "papers on model merging", "show me the others", "more")
    assert answer.answer.startswith(f"All {matched} papers that match “model merging” were in the previous answers")
    assert answer.kind == "more-weaker" and "matching less well" in answer.answer
    assert not set(answer.paper_ids) & (set(history[1]["paper_ids"]) | set(history[3]["paper_ids"]))
    # A follow-up in between ("which one is fastest?") is not the list continued: it was re-asked alone.
    answer, _ = _chat(assistant, "papers on model merging", "which one is fastest?", "show me the others")
    assert answer.answer.startswith(f"{matched - len(first.sources)} more of the {matched} papers")
    answer, _ = _chat(assistant, "Faster Diffusion UNet encoder", "show me more")  # a one-paper answer
    assert "The only paper that matches" in answer.answer or "The closest match for" in answer.answer
    # ... then the next closest, said to match less well, rather than "none" ...
    assert answer.kind == "more-weaker" or answer.refused
    # ... and a comparison in between is not the list continued ("None of the 294 papers is about “more”").
    answer, history = _chat(assistant, "how do i get one-step diffusion or fewer sampling steps",
                            "compare InstaFlow and the f-divergence one", "show me more")
    listed = set(history[1]["paper_ids"]) | set(history[3]["paper_ids"])
    assert answer.sources and not set(answer.paper_ids) & listed and "about “more”" not in answer.answer


def test_a_yes_no_question_about_one_paper_quotes_where_it_says_so(assistant):
    # "does that paper evaluate on GPT-2?" repeated the paper's summary, which does not say.
    turns = ("what do you have on mechanistic interpretability", "just the sparse autoencoder ones",
             "which came first?")
    answer, _ = _chat(assistant, *turns, "does that paper evaluate on GPT-2?")
    assert answer.kind == "mentions" and "GPT-2 Small" in answer.answer and "on “GPT-2”" in answer.answer
    answer, _ = _chat(assistant, *turns, "does it use ImageNet?")
    assert answer.kind == "mentions-none" and "does not mention “ImageNet”" in answer.answer


def test_a_follow_up_turning_on_a_topic_word_says_whether_the_paper_mentions_it(assistant):
    # "does the one about attention layer outputs use gpt-2?": the description ends at its verb.
    answer, _ = _chat(assistant, "sparse autoencoders for interpretability",
                      "does the one about attention layer outputs use gpt-2?")
    assert answer.kind == "mentions" and "Attention Layer Outputs" in answer.sources[0].title
    assert "GPT-2" in answer.answer
    # Not a yes/no question, but it turns on a word the paper never uses: said, not a bare summary.
    answer, _ = _chat(assistant, "pose estimation", "and the second one, how does it handle occlusion?")
    assert answer.kind == "mentions-none" and "does not mention “occlusion”" in answer.answer
    # ... while "what is its main idea?" turns on no such word.
    answer, _ = _chat(assistant, "pose estimation", "what is the main idea of the second one")
    assert answer.kind == "summary"
    # "they" after one paper was picked from a list are the list's papers.
    answer, history = _chat(assistant, "sparse autoencoders for interpretability",
                            "does the one about attention layer outputs use gpt-2?", "what metric do they use to evaluate SAEs")
    assert answer.answer.startswith(f"Each of the {len(history[1]['paper_ids'])} papers from the previous answer")


def test_a_comparison_side_the_previous_answer_names_is_that_paper(assistant):
    # "the orthogonal transformation one" is the listed "...via an Orthogonal Transformation Layer",
    # not "Orthogonal Convolutional Neural Networks" found in the whole corpus.
    answer, history = _chat(assistant, "backward compatible embeddings / model replacement",
                            "compare the orthogonal transformation one with BT^2")
    assert answer.kind == "comparison" and "Orthogonal Transformation Layer" in answer.sources[0].title
    assert answer.sources[0].paper_id in history[1]["paper_ids"]


def test_an_ordinal_beyond_the_previous_answer_is_said_not_guessed(assistant):
    answer, history = _chat(assistant, "speech separation papers", "summarize the third one")
    assert len(history[1]["paper_ids"]) < 3
    assert answer.refused and "so there is no third one" in answer.answer and not answer.sources


def test_a_paper_named_by_a_title_the_corpus_lacks_is_said_to_be_missing(assistant):
    missing = assistant.ask("tell me about the Attention Is All You Need paper")
    assert missing.refused and "No paper in this corpus is titled “Attention Is All You Need”" in missing.answer
    assert not missing.sources
    # A title the corpus has, even remembered loosely, answers with that paper alone.
    found = assistant.ask("the Merging Models with Fisher Averaging paper")
    assert not found.refused and [s.title for s in found.sources] == ["Merging Models with Fisher-Weighted Averaging"]


def test_a_theme_answer_quotes_what_a_paper_does_over_background_as_close(assistant):
    # PLeaS's abstract opens with background ("Recent work has proposed to merge such models ...")
    # about as close to the question as its own proposal; the proposal is what the entry shows.
    answer = assistant.ask("which papers merge models without retraining?")
    entry = next(part for part in answer.answer.split("**[") if "PLeaS" in part.split("](")[0])
    assert "we propose a new two-step algorithm to merge models" in entry
    assert "Recent work has proposed to merge such models" not in entry


def test_how_many_papers_is_a_count_of_the_papers(assistant):
    answer = assistant.ask("how many papers about mixup are there?")
    theme = assistant.ask("which papers are about mixup?")
    assert answer.kind == "count" and answer.paper_ids == theme.paper_ids
    assert answer.answer.startswith(f"{len(theme.sources)} papers match “mixup”")


def test_the_answer_names_the_topic_as_searched_with_slips_corrected(assistant):
    assert "“super resolution transformer”" in assistant.ask("supr resolution transformr").answer


def test_a_comparison_quotes_each_sides_result_worded_as_competitive_or_cheaper(assistant):
    # Fisher merging's abstract states its result as "competitive with ... significantly cheaper".
    answer = assistant.ask("TIES-Merging vs Fisher merging")
    result = next(row for row in answer.comparison if row.aspect == "result")
    assert all(cell.quote for cell in result.cells)


def test_comparison_cells_quote_the_papers_own_claims_not_background(assistant):
    def row(answer, aspect):
        return [c.quote for c in next(r for r in answer.comparison if r.aspect == aspect).cells]
    # "we further propose ... FinalMLP" was "not stated in the abstract".
    assert "FinalMLP" in row(assistant.ask("AutoInt vs FinalMLP - which is better for CTR?"), "proposes")[1]
    # InceptionNeXt's result is its measured one, not "We anticipate ... can serve as a baseline";
    # its "evaluated on" is not the sentence about ConvNeXt before it says what it proposes.
    answer = assistant.ask("InceptionNeXt vs HorNet - which is faster?")
    assert "1.6x higher training throughputs" in row(answer, "result")[0]
    assert "ConvNeXt-T has similar FLOPs" not in row(answer, "evaluated on")[0]
    # "which is better?": a sentence where one paper names the other is the head-to-head result;
    # when neither names the other, that is said rather than implied by the rows.
    answer = assistant.ask("FreCaS vs ScaleCrafter")
    assert "faster than ScaleCrafter" in row(answer, "names the other")[0] and row(answer, "names the other")[1] is None
    assert "Neither abstract names the other" in assistant.ask("AutoInt vs FinalMLP - which is better for CTR?").answer
    # Lina-Speech's opening sentence about others' codec models is not what it was evaluated on.
    assert row(assistant.ask("compare FastSpeech and Lina-Speech"), "evaluated on")[1] is None


def test_which_of_them_after_and_x_asks_about_both_answers(assistant):
    # "anything about speech enhancement?" / "and speech separation?" / "do any of them have code?":
    # the enhancement papers are "them" too; a question that starts afresh is about its own answer.
    history: list[dict] = []
    for question in ("anything about speech enhancement?", "and speech separation?"):
        answer = assistant.ask(question, history=history)
        history += [{"role": "user", "content": question},
                    {"role": "assistant", "content": answer.answer, "paper_ids": answer.paper_ids}]
    both = list(dict.fromkeys(history[3]["paper_ids"] + history[1]["paper_ids"]))
    with_code = [pid for pid in both if assistant.paper_meta[pid].get("code_url")]
    assert with_code and not set(with_code) <= set(history[3]["paper_ids"])  # the first answer's count
    code = assistant.ask("do any of them have code available?", history=history)
    assert code.paper_ids == with_code and "previous two answers" in code.answer
    history[2]["content"] = "speech separation?"
    assert "previous two answers" not in assistant.ask("do any of them have code available?", history=history).answer


def test_a_date_alone_after_an_answer_filters_its_papers(assistant):
    first = assistant.ask("which papers make vision transformers cheaper to run?")
    history = [{"role": "user", "content": "which papers make vision transformers cheaper to run?"},
               {"role": "assistant", "content": first.answer, "paper_ids": first.paper_ids}]
    in_2023 = [s.paper_id for s in first.sources if (s.date or "").startswith("2023")]
    assert in_2023
    assert assistant.ask("and which are from 2023", history=history).paper_ids == in_2023
    none = assistant.ask("which of them were published before 2019?", history=history)
    assert none.refused and "is published before 2019" in none.answer


@pytest.mark.parametrize("question", ["pros and cons of TIES-Merging and Fisher merging",
                                      "is InstaFlow better than progressive distillation?",
                                      "MambaOut or MambaQuant for my project?"])
def test_a_choice_between_two_named_methods_sets_both_side_by_side(assistant, question):
    answer = assistant.ask(question)
    assert answer.kind == "comparison" and len(answer.paper_ids) == 2


def test_a_theme_one_paper_answers_offers_the_next_closest(assistant):
    # "anything on making diffusion faster?" cites the paper titled "Faster Diffusion" alone, as it
    # stands out; the others that make diffusion faster are one suggestion away.
    answer, history = _chat(assistant, "anything on making diffusion faster?")
    assert answer.kind == "single" and "Show more papers" in answer.suggestions
    answer, history = _chat(assistant, "anything on making diffusion faster?", "Show more papers")
    assert answer.kind == "more-weaker" and len(answer.sources) > 1
    assert history[1]["paper_ids"][0] not in answer.paper_ids


def test_a_comparison_of_two_model_families_finds_each_on_the_questions_subject(assistant):
    # "cnn vs transformer for medical segmentation" compared a CNN study with a time-series
    # transformer (ShapeFormer): each family's paper now is on the medical subject asked about.
    answer = assistant.ask("cnn vs transformer for medical segmentation")
    assert answer.kind == "comparison" and len(answer.sources) == 2
    for source in answer.sources:
        text = (source.title + " " + assistant.store.papers([source.paper_id])[source.paper_id].abstract).lower()
        assert any(w in text for w in ("medical", "mri", "clinical", "disease", "tumor", "tumour")), source.title


def test_how_long_to_train_quotes_the_training_compute_not_the_run_time(assistant):
    answer = assistant.ask("how long does instaflow take to train")
    assert "199 A100 GPU days" in answer.answer
    assert "0.09 second" in assistant.ask("how fast is instaflow per image").answer


def test_follow_ups_found_by_probe_10(assistant):
    # A fact asked and nothing else named is asked of the previous answer ("what accuracy" searched
    # the corpus for "accuracy" and listed pruning papers).
    answer, history = _chat(assistant, "violence detection in videos", "what accuracy")
    assert answer.paper_ids == history[1]["paper_ids"][:1] and "does not report accuracy" in answer.answer
    # "the same representations" is not "the same paper": a new question.
    answer, _ = _chat(assistant, "violence detection in videos", "do different networks learn the same representations?")
    assert answer.sources[0].title.startswith("Convergent Learning")
    # "switch topic:" is no topic word; "how much faster than cudnn?" asks for a speed-up.
    answer, _ = _chat(assistant, "violence detection in videos", "switch topic: hardware efficient convolution on gpu",
                      "the im2win one, how much faster than cudnn?")
    assert answer.answer.startswith("*Im2win") and "reports the speedup" in answer.answer
    # A fact asked of a paper the previous list's titles name ("the foundation model") is that
    # paper's, not the corpus's ("10 million ECGs", not a speech paper padded beside it).
    answer, history = _chat(assistant, "ECG deep learning", "how many recordings was the foundation model trained on")
    assert answer.paper_ids == ["t-a56853683d05"] and "10 million" in answer.answer
    # "accelerates ... by 41%" states a speed-up.
    answer = assistant.ask("what speedup does Faster Diffusion report")
    assert "41%" in answer.answer


@pytest.mark.parametrize("turns, kind", [
    (("compare FSAF et RCNet",), "comparison"),
    (("artículos sobre colorización de video", "¿y sobre restauración de imágenes reales?", "compara los dos primeros"),
     "comparison"),
])
def test_comparisons_asked_in_other_languages(assistant, turns, kind):
    answer, _ = _chat(assistant, *turns)
    assert answer.kind == kind and len(answer.sources) == 2


def test_a_date_filter_asked_in_french_filters_the_previous_answer(assistant):
    answer, _ = _chat(assistant, "quels articles proposent des détecteurs d'objets anchor-free ?",
                      "y a-t-il des articles plus récents, après 2022 ?")
    assert "published after 2022" in answer.answer and "is about" not in answer.answer


def test_what_a_paper_finds_is_quoted_not_its_background(assistant):
    # "what does it find" quoted "Mixup is a data augmentation strategy … not entirely understood".
    answer, _ = _chat(assistant, "neural collapse", "only the 2024 ones", "what does it find")
    assert "reveals that mixup's last-layer activations" in answer.answer
    assert "Mixup is a data augmentation strategy" not in answer.answer


def test_a_date_filter_says_which_papers_have_no_date(assistant):
    # "None of the 2 papers is published after 2022" while one had no date at all (probe 11).
    answer, _ = _chat(assistant, "quels articles proposent des détecteurs d'objets anchor-free ?",
                      "y a-t-il des articles plus récents, après 2022 ?")
    assert "(1 has no date in the corpus and cannot be placed)" in answer.answer
    # "We motivate and present … FSAF" says what FSAF proposes (it was "not stated").
    answer = assistant.ask("compare FSAF and RCNet")
    assert "FSAF" in next(r for r in answer.comparison if r.aspect == "proposes").cells[0].quote


def test_either_of_two_topics_and_a_verb_the_corpus_writes_in_another_form(assistant):
    # "speech or audio papers from before 2021" said none while FastSpeech (2019) is one (probe 11).
    answer = assistant.ask("speech or audio papers from before 2021")
    assert {"1905.09263", "2008.05671"} <= set(answer.paper_ids)
    assert all(s.date and s.date < "2021" for s in answer.sources)
    # "forget" was dropped as everyday English; CoFiTune's abstract says "catastrophic forgetting".
    answer = assistant.ask("any work on making llms forget less when finetuning?")
    assert answer.paper_ids[:1] == ["2404.10306"] and "mentions “finetuning”" not in answer.answer


def test_facts_found_by_probe_12(assistant):
    # "four open benchmark datasets" answers "how many datasets" (it said "does not report").
    answer = assistant.ask("how many datasets does finalmlp evaluate on")
    assert answer.paper_ids == ["2304.00902"] and "does not report" not in answer.answer
    assert "four open benchmark datasets" in answer.answer
    # ... and "and autoint?" asks the same of AutoInt, not the corpus about the word "autoint".
    answer, _ = _chat(assistant, "how many datasets does finalmlp evaluate on", "and autoint?")
    assert answer.paper_ids == ["1810.11921"] and "four real-world datasets" in answer.answer
    # A throughput ratio is no batch size ("reports the batch size" over "1.6x higher throughputs").
    answer = assistant.ask("what batch size did inceptionnext train with")
    assert "does not report batch size" in answer.answer
    # "out-of-distribution (OOD) performance on multiple multimodal datasets" names no dataset.
    answer, _ = _chat(assistant, "missing modality robustness", "anything about modality imbalance / gradient modulation",
                      "and the one about debiasing, which datasets")
    assert answer.paper_ids == ["2311.16941"] and "does not name datasets" in answer.answer


def test_a_paper_described_as_the_x_paper_two_answers_back(assistant):
    answer, _ = _chat(assistant, "missing modality robustness", "anything about modality imbalance / gradient modulation",
                      "go back to the action recognition paper: what's the main finding")
    assert answer.paper_ids == ["2211.13916"] and answer.kind == "summary"


def test_comparison_sides_found_by_probe_12(assistant):
    # "bt2" is BT^2 as typed, and "the orthogonal transformation layer paper" the paper so titled
    # (it was "bt2 is not in this corpus" beside Orthogonal CNNs).
    answer = assistant.ask("bt2 vs the orthogonal transformation layer paper")
    assert answer.kind == "comparison" and answer.paper_ids == ["2211.03989", "2408.08793"]
    # MEGA has no paper here; TCNCA names it as its baseline (it was TCNCA compared with itself).
    answer = assistant.ask("tcnca vs mega speed")
    assert answer.paper_ids == ["2312.05605"] and "has no paper of its own" in answer.answer
    assert "1.37×/1.24× faster" in answer.answer


def test_a_description_the_conversations_paper_only_half_fits_is_the_corpus_paper_it_fits(assistant):
    # After MutDet (remote sensing detection), "the one about instance segmentation in remote
    # sensing" is CATNet, which says all of it, not MutDet again (probe 12).
    answer, _ = _chat(assistant, "remote sensing object detection pretraining",
                      "the one about instance segmentation in remote sensing - which datasets")
    assert answer.paper_ids == ["t-70b3ea001ecc"] and "iSAID" in answer.answer



def test_a_follow_up_over_these_after_a_one_paper_answer_and_how_fast_against_something(assistant):
    # "how fast … compared to pytorch" asks a ratio: "7.93× over PyTorch" ("does not report a run time").
    answer = assistant.ask("how fast is flashfftconv compared to pytorch")
    assert "does not report" not in answer.answer and "7.93× over PyTorch" in answer.answer
    # "which of these …" after a comparison that cited one paper: the conversation's papers (it was
    # TCNCA alone); SGConv's, LongVQ's and TCNCA's abstracts report long-range-arena results.
    answer, _ = _chat(assistant, "efficient long sequence models that arent just transformers", "tcnca vs mega speed",
                      "which of these report long range arena results")
    assert {"2312.05605", "2404.11163", "2210.09298"} <= set(answer.paper_ids)
    assert "shown in this conversation" in answer.answer


def test_a_question_in_another_language_says_which_words_it_searched(assistant):
    # Only "automática" matched: AutoInt led a list of papers about "automatic" and the answer said
    # "I matched the words of your question that they share" (probe 12).
    answer = assistant.ask("tem algum trabalho sobre geração automática de laudos de raio-x?")
    assert "they share (“automatic”), not for “geração” or “laudos”" in answer.answer


def test_the_sentence_that_answers_is_quoted_found_by_probe_12(assistant):
    # "what metrics": the sentence with values beside metric names, not a user-study score.
    answer = assistant.ask("what metrics and values does CLARA report")
    assert "0.393 CIDEr and 0.248 BLEU-4" in answer.answer
    # The asked verb ("align") that the title does not say picks the sentence that does; the
    # abstract's "weight matching (WM)" makes its later "WM" sentences say "weight matching".
    answer = assistant.ask("what does weight matching align in linear mode connectivity")
    assert "mainly align the directions of singular vectors" in answer.answer
    # "wie schnell" is "how fast": MEFLUT's run time on a 4K image, not a new search.
    answer, _ = _chat(assistant, "exposure fusion with very large exposure differences",
                      "wie schnell ist der lookup-table ansatz bei einem 4k bild")
    assert answer.paper_ids[:1] == ["2309.11847"] and "4ms" in answer.answer.replace(" ", "")


def test_more_after_a_fact_about_a_named_paper_continues_the_theme(assistant):
    # "show me more" repeated "how fast is flashfftconv compared to pytorch" (probe 12).
    answer, history = _chat(assistant, "efficient long sequence models that arent just transformers",
                            "how fast is flashfftconv compared to pytorch", "show me more")
    assert answer.kind.startswith("more") and "2311.05908" not in answer.paper_ids
    assert not set(answer.paper_ids) & set(history[1]["paper_ids"])  # papers the theme's answer did not show


def test_follow_ups_in_italian_found_by_probe_12(assistant):
    turns = ["ci sono lavori sul recupero di immagini composte (composed image retrieval)?",
             "quale dei due usa un modello linguistico multimodale per le didascalie?",
             "su quali dataset viene valutato?", "ha il codice?", "e l'altro?"]
    answer, history = _chat(assistant, *turns[:3])
    # "su quali dataset viene valutato?" is asked of the paper picked, not of every abstract.
    assert history[3]["paper_ids"] == answer.paper_ids == ["2409.04918"]
    # "e l'altro?" (too short to tell its language alone) after "ha il codice?": the other paper's code.
    answer, _ = _chat(assistant, *turns)
    assert answer.paper_ids == ["2502.07215"] and "does not link to any code" in answer.answer


def test_a_title_saying_only_everyday_ml_words_is_no_match(assistant):
    # AutoInt ("Automatic Feature Interaction Learning via Self-Attentive Neural Networks") joined
    # "do different networks learn the same features" because its title says those words (probe 12).
    answer = assistant.ask("do different networks learn the same features")
    assert "1511.07543" in answer.paper_ids and not {"1810.11921", "1904.04447"} & set(answer.paper_ids)


def test_margins_and_rival_counts_found_by_probe_12(assistant):
    # "by how much did it beat pissa" asks a margin, not a speed-up ("does not report a speed-up").
    answer, _ = _chat(assistant, "alternatives to lora for finetuning llms", "what model and dataset did bone use",
                      "by how much did it beat pissa")
    assert "does not report" not in answer.answer and "outperforming PISSA by 5.84% and 1.96%" in answer.answer
    # "outperforms nine state-of-the-art models" answers "how many baselines does it beat".
    answer, _ = _chat(assistant, "ctr prediction", "the one about cnn generating new features - how many baselines does it beat")
    assert answer.paper_ids == ["1904.04447"] and "does not report" not in answer.answer
    assert "outperforms nine state-of-the-art models" in answer.answer


def test_which_of_the_two_is_the_one_that_fits_and_these_stays_on_a_new_topic(assistant):
    # "which of the two …" took the first paper whatever it asked (probe 13).
    answer, _ = _chat(assistant, "composed image retrieval", "which of the two uses prompt directional vectors?")
    assert answer.paper_ids == ["2502.07215"]
    # After a topic switch found one paper and a fact was asked of it, "these" is that paper, not
    # every paper of the conversation (probe 13 found the widening there).
    answer, _ = _chat(assistant, "what does weight matching actually align", "switching: asr for low resource indian languages",
                      "how many hours and how many languages", "which of these have code")
    assert answer.paper_ids == ["2111.03945"]
    # "the orthogonal transformation one" is the paper whose title says so.
    answer = assistant.ask("bt2 vs the orthogonal transformation one")
    assert answer.paper_ids == ["2211.03989", "2408.08793"]


def test_own_hurried_questions_of_stop_20(assistant):
    # "what does it align?" is a question about "align", not a request for a summary.
    answer, _ = _chat(assistant, "tell me about weight matching", "what does it align?")
    assert "mainly align the directions of singular vectors" in answer.answer
    # "parâmetros" is "parameters" (not "parametric") and "difusão" is "diffusion".
    answer = assistant.ask("quantos parâmetros tem o maior transformer de difusão?")
    assert answer.paper_ids[0] == "2407.11633" and "16.5B parameter" in answer.answer


def test_the_lead_sentence_never_claims_more_than_the_quote(assistant):
    # Probe 14: "names the datasets" above "new SOTA performance on all three datasets" (SOTA is no
    # dataset), and above "multiple UDA person re-identification tasks" (UDA is the abstract's own
    # abbreviation of "unsupervised domain adaptation").
    answer = assistant.ask("what datasets does CATR evaluate on")
    assert answer.paper_ids == ["2309.09709"] and "does not name datasets" in answer.answer
    answer = assistant.ask("what datasets does the attentive waveblock paper evaluate on")
    assert answer.paper_ids[0] == "2006.06525" and "does not name datasets" in answer.answer
    # "reports the speedup" above "up to 300% larger feature spaces": a number, but no speed-up.
    answer = assistant.ask("how much faster is OutRank")
    assert answer.paper_ids == ["t-8206f17a7e3b"] and "does not report" in answer.answer.splitlines()[0]
    # "how fast is it": "increase the speed by 13 times" answers it, and the lead says so.
    answer = assistant.ask("how fast is Isomer")
    assert "does not report" not in answer.answer and "13 times" in answer.answer
    assert "run time" not in answer.answer.splitlines()[0]


def test_real_words_and_names_are_not_respelled_into_other_topics(assistant):
    # Probe 14: "gait" (an English word, zipf 3.1) became "gain recognition" and 8 unrelated papers.
    answer = assistant.ask("anything on gait recognition?")
    assert answer.refused and "gait" in answer.answer and "gain" not in answer.answer
    # "ToMe" is a method's name, not a slip of "to me"/"time": that side is said to be missing.
    answer = assistant.ask("MCTF vs ToMe (Token Merging) for speeding up ViTs - which fuses tokens better?")
    assert answer.paper_ids == ["2403.10030"] and "“ToMe (Token Merging)” is not in this corpus" in answer.answer
    # The French "voies" (ways) is not the English "voices".
    answer = assistant.ask("articles sur la segmentation des voies aériennes")
    assert "voices" not in answer.answer.lower()


def test_three_things_compared_are_all_compared(assistant):
    # Probe 14: the third paper named was dropped.
    answer = assistant.ask("compare the violence paper, the video QA bilinear pooling paper and M2FNet")
    assert answer.kind == "comparison" and len(answer.paper_ids) == 3
    assert "2206.02187" in answer.paper_ids
    assert all(len(row.cells) == 3 for row in answer.comparison)
    answer = assistant.ask("AutoInt vs FinalMLP vs FGCNN")
    assert answer.paper_ids == ["1810.11921", "2304.00902", "1904.04447"]


def test_a_fact_no_abstract_names_is_said_unreported_of_the_paper_asked_about(assistant):
    # Probe 14: refused as "no paper is about ..." because no abstract says "PCK"; the paper the
    # rest of the question describes is there, and it does not report PCK.
    answer = assistant.ask("what is the PCK improvement of combining stable diffusion with DINO")
    assert not answer.refused and answer.paper_ids[0] == "2305.15347"
    assert "does not report PCK" in answer.answer.splitlines()[0]


def test_a_two_word_term_is_not_padded_by_papers_using_its_words_apart(assistant):
    # Probe 14: "dataset distillation" listed 8 papers, 7 of them knowledge distillation papers
    # that mention a dataset somewhere (every word, not the term).
    answer = assistant.ask("what's the best way to do dataset distillation")
    assert answer.paper_ids[0] == "2408.06927" and len(answer.paper_ids) <= 4
    assert "2309.06380" not in answer.paper_ids  # InstaFlow: "distillation" and "dataset", apart


def test_a_date_window_counts_the_matching_papers_it_cannot_place(assistant):
    # Probe 14: "Adaptive Multi-head Contrastive Learning" (no date) was silently dropped.
    answer = assistant.ask("self-supervised contrastive learning papers since 2023")
    assert all(s.date and s.date >= "2023" for s in answer.sources)
    assert "no date in the corpus, so" in answer.answer and "ask without the dates" in answer.answer
    undated = assistant.ask("self-supervised contrastive learning papers")
    assert "t-1c123f6c086f" in undated.paper_ids


def test_a_comparison_row_finds_what_a_paper_proposes_however_it_says_it(assistant):
    # Probe 14: TangleNAS "proposes: not stated", though it says "... by proposing a novel scheme".
    answer = assistant.ask("compare the nas paper and the self expanding cnn")
    row = next(r for r in answer.comparison if r.aspect == "proposes")
    assert "by proposing a novel scheme" in row.cells[0].quote


def test_a_rate_asked_of_the_previous_papers_is_said_unreported_when_no_abstract_gives_one(assistant):
    # Probe 14: "what noise rates did they test" quoted "real-world label noise including Clothing1M"
    # without saying no rate is given.
    answer, _ = _chat(assistant, "learning with noisy labels", "what noise rates did they test")
    assert "reports noise rates" in answer.answer and answer.answer.startswith("None of the")


def test_asking_whether_something_is_discussed_is_not_a_missing_topic_word(assistant):
    # Probe 14: "None of these papers mentions 'discussed'" above the right paper.
    answer = assistant.ask("is Barlow Twins overfitting discussed anywhere?")
    assert answer.paper_ids[0] == "2312.02151" and "discussed" not in answer.answer


def test_venues_and_labs_beside_a_topic_are_said_not_to_filter_it(assistant):
    # Probe 14: "papers from Google or DeepMind on interpretability" listed papers without saying the
    # corpus has no affiliations; "NeurIPS 2023 papers on robustness" refused "about 'NeurIPS on robustness'".
    answer = assistant.ask("papers from Google or DeepMind on interpretability")
    assert "no affiliations" in answer.answer and "“from Google or DeepMind”" in answer.answer
    assert answer.sources and not answer.refused
    answer = assistant.ask("any ICLR papers on pruning?")
    assert "no venues, so these are not filtered by “ICLR”" in answer.answer and len(answer.sources) >= 3
    # Nothing but a venue asked: the corpus cannot say (as before).
    assert assistant.ask("which papers were accepted at ICCV").kind == "refused"
    # "features from meta-learning" is a topic, not a lab.
    assert "affiliations" not in assistant.ask("features from meta-learning").answer


def test_the_papers_you_listed_are_the_previous_answers(assistant):
    # Probe 14: "None of the 2 papers from the previous answer is about 'listed'".
    answer, _ = _chat(assistant, "neural architecture search", "compare the nas paper and the self expanding cnn",
                      "which of the papers you listed are before 2021")
    assert "listed" not in answer.answer and "before 2021" in answer.answer


def test_tell_me_about_a_named_paper_gives_what_it_proposes_and_finds(assistant):
    # Probe 14: "tell me about CREDIT" quoted its modular design, not its result.
    answer = assistant.ask("tell me about CREDIT")
    assert answer.kind == "summary" and "generally outperform IFS HRES" in answer.answer
    assert "we introduce the Community Research Earth Digital Intelligence Twin" in answer.answer


def test_a_window_never_says_none_above_papers_from_inside_it(assistant):
    # Probe 15: "No paper published in 2023 is about 'robustness'" above TransNeXt (2023-11).
    answer = assistant.ask("NeurIPS 2023 papers on robustness")
    assert "No paper published in 2023" not in answer.answer
    assert "2311.17132" in answer.paper_ids and all(s.date and s.date.startswith("2023") for s in answer.sources)


def test_tell_me_about_the_x_paper_is_one_paper(assistant):
    # Probe 15: "tell me about the model scaling paper from facebook" listed 10 papers.
    answer = assistant.ask("tell me about the model scaling paper from facebook")
    assert answer.paper_ids[0] == "2103.06877" and len(answer.paper_ids) <= 2


def test_a_two_part_fact_question_does_not_deny_what_its_quote_shows(assistant):
    # Probe 14/15: "does not report photometric bands" above "fuses ultra-violet (GALEX), optical
    # (PanSTARRS), and infrared (UnWISE) imagery"; the number asked is the accuracy.
    answer = assistant.ask("what photometric bands did Mantis Shrimp use and how accurate was it?")
    assert "does not report" not in answer.answer and "GALEX" in answer.answer and "NMAD" in answer.answer
