"""The embedder runs all-MiniLM-L6-v2 through transformers directly; its vectors must be the ones
sentence-transformers computes, or indexes built either way would not match."""
import numpy as np

from assistant.embedder import get_embedder, model_path

TEXTS = [
    "which papers merge models without retraining?",
    "Merging Models with Fisher-Weighted Averaging\\nAveraging the parameters of models that have the same "
    "architecture and initialization can provide a means of combining their respective capabilities. " * 12,
    "x",
]


def test_vectors_match_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    ours = get_embedder("all-MiniLM-L6-v2")
    reference = SentenceTransformer(str(model_path("all-MiniLM-L6-v2")), device="cpu", local_files_only=True)
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    got = ours.embed(TEXTS, batch_size=2)
    assert got.shape == (3, 384) and ours.dim == 384 and ours.max_tokens == 256
    assert np.allclose(got, expected, atol=1e-5)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_long_texts_are_counted_in_word_pieces():
    ours = get_embedder("all-MiniLM-L6-v2")
    assert ours.count_tokens(TEXTS[1]) > ours.max_tokens  # why ingest chunks abstracts
