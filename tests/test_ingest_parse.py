"""Parsing, links, code URLs, sentences and chunks: everything before the index."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.errors import BadInput
from assistant.ids import normalise_title
from assistant.settings import REPO_ROOT, Settings
from ingest.chunking import make_chunks
from ingest.codeurl import find_code_url
from ingest.links import iso_date, month_from_id, title_search_url
from ingest.pipeline import load_papers
from ingest.sentences import split_sentences
from ingest.sources import corpus_files, parse_file

DATA = REPO_ROOT / "data"
HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\nMar 14\n\n"


def settings_for(tmp_path: Path, data_dir: Path = DATA) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, index_dir=tmp_path / "index", chroma_url=None)


@pytest.fixture(scope="module")
def bundled_papers(tmp_path_factory):
    papers, problems = load_papers(None, settings_for(tmp_path_factory.mktemp("parse")))
    assert problems == []
    return {p.title: p for p in papers}


# ---- page dumps ------------------------------------------------------------------------------
def test_bundled_corpus_has_294_distinct_papers(bundled_papers):
    assert len(bundled_papers) == 294
    assert len({p.paper_id for p in bundled_papers.values()}) == 294
    assert sum(p.arxiv_id is not None for p in bundled_papers.values()) == 213


def test_tsv_is_the_id_map_not_a_corpus_file():
    files = corpus_files([DATA])
    assert [f.name for f in files] == sorted(p.name for p in DATA.glob("0*.txt"))


def test_page_dump_fields(bundled_papers):
    p = bundled_papers["FER-YOLO-Mamba: Facial Expression Detection and Classification Based on Selective State Space"]
    assert p.arxiv_id == "2405.01828" and p.paper_id == "2405.01828"
    assert p.url == "https://huggingface.co/papers/2405.01828"
    assert p.arxiv_url == "https://arxiv.org/abs/2405.01828"
    assert p.date == "2024-05"  # from the id: the page's "Mar 14" has no year
    assert p.code_url == "https://github.com/SwjtuMa/FER-YOLO-Mamba"
    assert p.abstract.startswith("Facial Expression Recognition (FER) plays")
    assert p.source.endswith(".txt")


def test_latex_that_lost_its_backslash_reads_as_the_symbol(bundled_papers):
    # The dumps have "2.86$\\times$" as "2.86times": quotes showed "2048times2048".
    frecas = next(p for t, p in bundled_papers.items() if t.startswith("FreCaS"))
    assert "2.86× and 6.07× faster" in frecas.abstract and "2048×2048 image" in frecas.abstract
    assert not any(re.search(r"\dtimes\b", p.abstract) for p in bundled_papers.values())
    # English "times" stays: "increased 500 times compared", "in recent times".
    texts = " ".join(p.abstract for p in bundled_papers.values())
    assert "500 times compared" in texts and "in recent times" in texts
    # ... and "5.84\%" / "{\it CL}inic{\it A}l" kept their backslashes: quotes showed them.
    assert "outperforming PISSA by 5.84% and 1.96%" in texts and "\\%" not in texts
    assert "We propose CLinicAl Report Auto-completion (CLARA)" in texts and "{\\it" not in texts
    # "$\\sim$3.5AP" arrived as "sim3.5AP": it reads "~3.5AP" (probe 14's SEPC quote).
    assert "also has ~3.5AP gain" in texts and "1.5~3.0 AP" in texts and not re.search(r"\bsim\d", texts)


def test_paper_without_id_gets_title_search_link(bundled_papers):
    p = bundled_papers["Self-Calibrated Cross Attention Network for Few-Shot Segmentation"]
    assert p.arxiv_id is None and p.arxiv_url is None and p.date is None
    assert p.paper_id.startswith("t-")
    assert p.url == (
        "https://arxiv.org/search/?query=Self-Calibrated+Cross+Attention+Network+for+Few-Shot+Segmentation"
        "&searchtype=title"
    )
    assert p.url == title_search_url(p.title)


def test_cut_off_repeat_keeps_the_full_abstract(tmp_path):
    full = "We study things. It works well on many benchmarks. Code is at https://github.com/a/b."
    cut = "We study things. It works well on many"
    (tmp_path / "a.txt").write_text(HEADER + f"Paper One\n\n{cut}\n\nPaper Two\n\nAnother abstract.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(HEADER + f"Paper  One\n\n{full}\n", encoding="utf-8")
    papers, problems = load_papers([tmp_path], settings_for(tmp_path, data_dir=tmp_path))
    assert problems == []
    by_title = {normalise_title(p.title): p for p in papers}
    assert len(papers) == 2
    one = by_title["paper one"]
    assert one.abstract == full
    assert one.source.endswith("b.txt")
    assert one.code_url == "https://github.com/a/b"


def test_txt_that_is_not_a_page_dump_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n\nmore notes\n", encoding="utf-8")
    with pytest.raises(BadInput, match="page dump"):
        parse_file(path)


# ---- JSONL / JSON / CSV / arXiv snapshot ------------------------------------------------------
def test_jsonl_fields_and_authors(tmp_path):
    path = tmp_path / "papers.jsonl"
    rows = [
        {"title": "Alpha Net", "abstract": "Alpha is good.", "arxiv_id": "2301.00001v2", "authors": ["A. One", "B. Two"]},
        {"title": "Beta Net", "abstract": "Beta is better.", "url": "https://example.org/beta", "authors": "C. Three and D. Four", "date": "2022-07-15"},
        {"title": "Gamma Net", "abstract": "Gamma.", "authors": "E. Five, F. Six and G. Seven"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    papers, problems = load_papers([path], settings_for(tmp_path))
    assert problems == []
    alpha, beta, gamma = papers
    assert alpha.paper_id == "2301.00001" and alpha.arxiv_id == "2301.00001"
    assert alpha.url == "https://huggingface.co/papers/2301.00001"  # version stripped for HF
    assert alpha.arxiv_url == "https://arxiv.org/abs/2301.00001v2"
    assert alpha.date == "2023-01" and alpha.authors == ["A. One", "B. Two"]
    assert beta.url == "https://example.org/beta"  # a given url is kept
    assert beta.arxiv_id is None and beta.arxiv_url is None
    assert beta.date == "2022-07-15" and beta.authors == ["C. Three", "D. Four"]
    assert gamma.authors == ["E. Five", "F. Six", "G. Seven"]
    assert gamma.url == title_search_url("Gamma Net") and gamma.date is None


def test_arxiv_snapshot_normalises_whitespace(tmp_path):
    path = tmp_path / "arxiv-metadata-oai-snapshot.json"
    row = {
        "id": "0704.0001", "submitter": "Pavel Nadolsky",
        "authors": "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan",
        "title": "Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies",
        "abstract": "  A fully differential calculation in perturbative quantum chromodynamics is\npresented for the production of massive photon pairs.\n",
        "update_date": "2008-11-13",
        "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""]],
    }
    old = dict(row, id="hep-th/9901001", title="An old paper", authors_parsed=None, authors="A and B")
    path.write_text(json.dumps(row) + "\n" + json.dumps(old) + "\n", encoding="utf-8")
    (new, legacy), problems = load_papers([path], settings_for(tmp_path))
    assert problems == []
    assert new.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert new.abstract == (
        "A fully differential calculation in perturbative quantum chromodynamics is presented for the "
        "production of massive photon pairs."
    )
    assert new.paper_id == "0704.0001" and new.date == "2007-04"
    assert new.url == "https://huggingface.co/papers/0704.0001"
    assert new.authors == ["C. Balázs", "E. L. Berger"]
    assert legacy.arxiv_url == "https://arxiv.org/abs/hep-th/9901001" and legacy.date == "1999-01"
    assert legacy.authors == ["A", "B"]


def test_json_array(tmp_path):
    path = tmp_path / "papers.json"
    path.write_text(json.dumps([{"title": "T1", "abstract": "A1."}, {"title": "T2", "abstract": "A2."}]), encoding="utf-8")
    papers, _ = load_papers([path], settings_for(tmp_path))
    assert [p.title for p in papers] == ["T1", "T2"]


def test_csv_with_multiline_quoted_abstract(tmp_path):
    path = tmp_path / "papers.csv"
    path.write_text(
        'Title,abstract,arxiv_id,authors\n'
        '"Delta, a net","First line,\nsecond  line.",2405.01828,"A, B"\n'
        'Eps,Short one.,,\n',
        encoding="utf-8",
    )
    (delta, eps), problems = load_papers([path], settings_for(tmp_path))
    assert problems == []
    assert delta.title == "Delta, a net" and delta.abstract == "First line, second line."
    assert delta.arxiv_id == "2405.01828" and delta.authors == ["A", "B"]
    assert eps.arxiv_id is None and eps.authors == []


def test_record_problems_name_file_and_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"title": "Good", "abstract": "Fine."}\n{"title": "Bad", \n{"title": "No abstract"}\n', encoding="utf-8")
    papers, problems = load_papers([path], settings_for(tmp_path))
    assert [p.title for p in papers] == ["Good"]
    assert problems[0].startswith(f"{path}:2: not valid JSON")
    assert problems[1] == f"{path}:3: record has no abstract"


def test_csv_without_abstract_column_is_refused(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("title,summary\nA,B\n", encoding="utf-8")
    with pytest.raises(BadInput, match="no abstract column"):
        parse_file(path)


# ---- dates -----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw,iso", [
    ("2024-03-14", "2024-03-14"), ("2024-3", "2024-03"), ("Mar 14", None), ("2024", None),
    ("Mon, 2 Apr 2007 19:18:42 GMT", "2007-04"), (None, None),
])
def test_iso_date(raw, iso):
    assert iso_date(raw) == iso


def test_month_from_id():
    assert month_from_id("2412.01062") == "2024-12"
    assert month_from_id("2101.04285v3") == "2021-01"
    assert month_from_id("math/0309136") == "2003-09"


# ---- code URLs: the real tricky abstracts ----------------------------------------------------
@pytest.mark.parametrize("text,url", [
    ("The source code of FreCaS can be found at text{https://github.com/xtudbxk/FreCaS}{https://github.com/xtudbxk/FreCaS}.",
     "https://github.com/xtudbxk/FreCaS"),
    ("Code is publicly available at: https://github.com/siqi0905/GarDiff/tree/master{https://github.com/siqi0905/GarDiff/tree/master}.",
     "https://github.com/siqi0905/GarDiff/tree/master"),
    ("Our code is available in https://github.com/hutaiHang/Faster-Diffusion{FasterDiffusion}.",
     "https://github.com/hutaiHang/Faster-Diffusion"),
    ("The code for our work is openly accessible https://anonymous.4open.science/r/TangleNAS-527C{here}",
     "https://anonymous.4open.science/r/TangleNAS-527C"),
    ("Notably, the training costs 199 A100 GPU days. Project page:~https://github.com/gnobitab/InstaFlow.",
     "https://github.com/gnobitab/InstaFlow"),
    ("We provide source code at www.github.com/marccoru/locationencoder", "https://www.github.com/marccoru/locationencoder"),
    ("Code is available at github.com/jacobdunefsky/ObservablePropagation.",
     "https://github.com/jacobdunefsky/ObservablePropagation"),
    ("(Our implementation is available in https://github.com/LZY-the-boys/Twin-Mergin.)", "https://github.com/LZY-the-boys/Twin-Mergin"),
    ("challenge (https://github.com/alibabasglab/FRCRN).", "https://github.com/alibabasglab/FRCRN"),
    ("The source code will be made available at: https://github.com/AVC2-UESTC/CRAFT-SR.git.", "https://github.com/AVC2-UESTC/CRAFT-SR"),
    ("The code and checkpoints are available at: https://github.com/wgcban/mix-bt.git", "https://github.com/wgcban/mix-bt"),
    ("Code: https://github.com/Ach-1914/LadleNet/tree/main/.", "https://github.com/Ach-1914/LadleNet/tree/main/"),
    ("The code for ContriMix can be found at https://gitlab.com/huutan86/contrimix", "https://gitlab.com/huutan86/contrimix"),
    ("The dataset and code are available at https://www.yongshengyu.com/PromptFix-Page.", "https://www.yongshengyu.com/PromptFix-Page"),
    ("More results can be found on the project page https://magicmix.github.io", "https://magicmix.github.io"),
    # Not code: a demo page or a results page is no code_url.
    ("Demos will be available at https://www.jenmusic.ai/research#DreamStyler.", None),
    ("Further details of our model will be presented in https://anonymous0769.github.io/DreamVideo/.", None),
    ("Audio samples are available at https://theodorblackbird.github.io/blog/demo_lina/.", None),
    ("No links here at all.", None),
])
def test_code_url(text, url):
    assert find_code_url(text) == url


def test_code_url_prefers_a_repository_over_a_project_page():
    text = "Project page: https://x.github.io/proj/. Code is at https://github.com/x/proj."
    assert find_code_url(text) == "https://github.com/x/proj"


def test_code_urls_of_bundled_corpus_are_clean(bundled_papers):
    urls = [p.code_url for p in bundled_papers.values() if p.code_url]
    assert len(urls) >= 95
    for url in urls:
        assert url.startswith("https://"), url
        assert not any(c in url for c in "{}~ "), url
        assert url[-1] not in ".,;:)", url
        assert not url.endswith(".git"), url


# ---- sentences and chunks --------------------------------------------------------------------
def test_sentence_splitter_keeps_abbreviations_decimals_and_urls_together():
    text = (
        "We use e.g. ImageNet and i.e. CIFAR as in Smith et al. Their method, vs. ours, improves 3.5 points (Fig. 2). "
        "Code is at https://github.com/a/b.c. mIoU rises by 5.6%. Done!"
    )
    assert split_sentences(text) == [
        "We use e.g. ImageNet and i.e. CIFAR as in Smith et al. Their method, vs. ours, improves 3.5 points (Fig. 2).",
        "Code is at https://github.com/a/b.c.",
        "mIoU rises by 5.6%.",
        "Done!",
    ]
    # Some abstracts glue sentences together ("color.PLTON is ..."); a name with a dot stays whole.
    assert split_sentences("It keeps color.PLTON is finetuned on our data.Extensive tests on Node.JS, e.g.Foo pass.") == [
        "It keeps color.", "PLTON is finetuned on our data.", "Extensive tests on Node.JS, e.g.Foo pass."]


@pytest.fixture(scope="module")
def embedder():
    from assistant.embedder import get_embedder

    return get_embedder("all-MiniLM-L6-v2")


def test_all_bundled_papers_split_verbatim_and_chunks_fit_the_model(bundled_papers, embedder):
    limit = Settings(_env_file=None).max_chunk_tokens
    assert limit + 2 <= embedder.max_tokens  # [CLS] and [SEP] come on top
    total_chunks = 0
    for paper in bundled_papers.values():
        sentences = split_sentences(paper.abstract)
        assert sentences
        pos = 0
        for s in sentences:  # verbatim, in order, nothing lost
            found = paper.abstract.index(s, pos)
            assert paper.abstract[pos:found].strip() == ""
            pos = found + len(s)
        assert paper.abstract[pos:].strip() == ""
        chunks, notes = make_chunks(paper.paper_id, paper.title, sentences, embedder.count_tokens, limit)
        assert notes == []
        assert chunks[0].sentence_start == 0 and chunks[-1].sentence_end == len(sentences)
        for n, (a, b) in enumerate(zip(chunks, chunks[1:])):
            assert a.sentence_end == b.sentence_start
        for n, c in enumerate(chunks):
            assert c.chunk_id == f"{paper.paper_id}#{n}"
            assert c.text == paper.title + "\n" + " ".join(sentences[c.sentence_start:c.sentence_end])
            assert embedder.count_tokens(c.text) <= limit
        total_chunks += len(chunks)
    assert total_chunks > 294  # most abstracts need more than one chunk


def test_overlong_sentence_becomes_its_own_chunk_with_a_note(embedder):
    long_sentence = "word " * 300 + "end."
    sentences = ["Short one.", long_sentence.strip(), "Short two."]
    chunks, notes = make_chunks("p", "Title", sentences, embedder.count_tokens, 240)
    assert [(c.sentence_start, c.sentence_end) for c in chunks] == [(0, 1), (1, 2), (2, 3)]
    assert len(notes) == 1 and "sentence 2" in notes[0]
