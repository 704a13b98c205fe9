"""Both embedding runtimes must compute sentence-transformers' vectors, or indexes built one way
would not match questions embedded another; the ONNX export is made once and safely shared."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from assistant.embedder import get_embedder, model_path
from assistant.settings import REPO_ROOT

TEXTS = [
    "which papers merge models without retraining?",
    "Merging Models with Fisher-Weighted Averaging\\nAveraging the parameters of models that have the same "
    "architecture and initialization can provide a means of combining their respective capabilities. " * 12,
    "x",
]


@pytest.fixture(scope="module")
def reference():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path("all-MiniLM-L6-v2")), device="cpu", local_files_only=True)


def corpus_texts() -> list[str]:
    """Every chunk and sentence ingest embeds for the bundled corpus."""
    from assistant.settings import Settings
    from ingest.chunking import make_chunks
    from ingest.pipeline import load_papers
    from ingest.sentences import split_sentences

    embedder = get_embedder("all-MiniLM-L6-v2", "onnx")
    papers, _ = load_papers(None, Settings(_env_file=None, data_dir=REPO_ROOT / "data"))
    texts = []
    for p in papers:
        sentences = split_sentences(p.abstract)
        chunks, _ = make_chunks(p.paper_id, p.title, sentences, embedder.count_tokens, 240)
        texts += [c.text for c in chunks] + sentences
    return texts


@pytest.mark.slow
@pytest.mark.timeout(1800)  # two full passes of the model over the corpus; ~1.5 min on a quiet machine
def test_onnx_vectors_match_sentence_transformers_on_the_whole_corpus(reference):
    texts = corpus_texts()
    assert len(texts) > 2000
    ours = get_embedder("all-MiniLM-L6-v2", "onnx").embed(texts, batch_size=32, threads=2)
    expected = reference.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    cosines = (ours * expected).sum(axis=1)
    assert cosines.min() >= 0.9999, f"lowest cosine {cosines.min():.6f} for {texts[int(cosines.argmin())][:80]!r}"


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_runtimes_match_sentence_transformers(reference, runtime):
    ours = get_embedder("all-MiniLM-L6-v2", runtime)
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    got = ours.embed(TEXTS, batch_size=2)
    assert got.shape == (3, 384) and ours.dim == 384 and ours.max_tokens == 256
    assert np.allclose(got, expected, atol=1e-5)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert np.allclose(ours.embed_query(TEXTS[0]), expected[0], atol=1e-5)


def test_long_texts_are_counted_in_word_pieces():
    ours = get_embedder("all-MiniLM-L6-v2", "onnx")
    assert ours.count_tokens(TEXTS[1]) > ours.max_tokens  # why ingest chunks abstracts
    assert ours.count_tokens(TEXTS[1]) == get_embedder("all-MiniLM-L6-v2", "torch").count_tokens(TEXTS[1])


EXPORT = """
import json, sys
from assistant.embedder import get_embedder
e = get_embedder("all-MiniLM-L6-v2", "onnx")
print(json.dumps({"folder": str(e.folder), "vector": e.embed_query("model merging")[:8].tolist(),
                  "torch": "torch" in sys.modules}))
"""


@pytest.mark.slow
def test_concurrent_first_uses_share_one_complete_export(tmp_path):
    """Two processes start with an empty cache at once: both export, one wins the rename, both
    answer with the same files, and no half-written folder is left behind."""
    env = {**os.environ, "PAPERCHAT_ONNX_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", EXPORT], env=env, cwd=REPO_ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        assert err.strip() == "", err[-2000:]  # the export is silent
        outs.append(json.loads(out.strip().splitlines()[-1]))
    assert outs[0]["folder"] == outs[1]["folder"]
    assert np.allclose(outs[0]["vector"], outs[1]["vector"], atol=1e-6)
    leftovers = [p.name for p in tmp_path.rglob(".export-*")]
    assert leftovers == []
    # A third process finds the export and never imports torch.
    third = subprocess.run([sys.executable, "-c", EXPORT], env=env, cwd=REPO_ROOT, text=True,
                           capture_output=True, timeout=300)
    assert json.loads(third.stdout.strip().splitlines()[-1])["torch"] is False


def test_chunks_from_added_token_counts_equal_chunks_from_counting_each_text():
    """make_chunks adds up per-sentence counts instead of re-tokenizing every candidate chunk;
    over the whole bundled corpus that must choose exactly the cut points full counting chose."""
    from assistant.settings import Settings
    from ingest.chunking import chunk_text, make_chunks
    from ingest.pipeline import load_papers
    from ingest.sentences import split_sentences

    count = get_embedder("all-MiniLM-L6-v2", "onnx").count_tokens
    papers, _ = load_papers(None, Settings(_env_file=None, data_dir=REPO_ROOT / "data"))
    for p in papers:
        sentences = split_sentences(p.abstract)
        chunks, _ = make_chunks(p.paper_id, p.title, sentences, count, 240)
        for c in chunks:
            if c.sentence_end > c.sentence_start:
                # Each chunk fits (unless one sentence alone is over), and the next sentence would not.
                text = chunk_text(p.title, sentences[c.sentence_start:c.sentence_end])
                assert c.text == text
                assert count(text) <= 240 or c.sentence_end == c.sentence_start + 1
                if c.sentence_end < len(sentences):
                    assert count(chunk_text(p.title, sentences[c.sentence_start:c.sentence_end + 1])) > 240
