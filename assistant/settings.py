"""All knobs in one place: PAPERCHAT_* environment variables, a .env file, or named presets."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]

# Presets trade latency for recall; "default" is what the README's numbers are measured with.
PRESETS: dict[str, dict] = {
    "default": {},
    "fast": {"dense_k": 20, "keyword_k": 20, "candidates": 30, "max_cited": 6},
    "thorough": {"dense_k": 100, "keyword_k": 100, "candidates": 120, "max_cited": 12},
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAPERCHAT_", env_file=".env", extra="ignore")

    preset: str = "default"
    data_dir: Path = REPO_ROOT / "data"
    index_dir: Path = REPO_ROOT / ".paperchat" / "index"
    collection: str = "papers"
    # Embedded Chroma by default; set to e.g. http://127.0.0.1:8000 to use a `chroma run` server.
    chroma_url: str | None = None

    embed_model: str = "all-MiniLM-L6-v2"
    # "onnx": onnxruntime on a one-time export of the model (fast start, no torch import);
    # "torch": transformers + torch, the fallback. Same vectors; an index records which built it.
    embed_runtime: Literal["onnx", "torch"] = "onnx"
    # Texts per model call at ingest (sorted by length, so a batch pads little). Measured with
    # onnx on 2 busy cores over a quarter of the corpus: 8 -> 63 s, 16 -> 39 s, 32 -> 51 s,
    # 64 -> 76 s (noisy); larger batches also raise peak memory (32: ~1.2 GB).
    embed_batch_size: int = 16
    # Threads for one query's embedding: a 10-word query gains nothing from a second thread, and
    # concurrent requests (or processes) on two cores would spin against each other. Ingest
    # batches use every core.
    query_threads: int = 1
    # How often (seconds) a serving process checks for a new index generation; the check is a
    # file read, the reload happens only when an ingest published a new one.
    reload_check_s: float = 2.0
    # all-MiniLM-L6-v2 truncates at 256 word pieces; leave room for the title and special tokens.
    max_chunk_tokens: int = 240

    # Retrieval
    top_k: int = 10
    dense_k: int = 40
    keyword_k: int = 40
    candidates: int = 60  # papers re-scored sentence by sentence after fusion
    rrf_k: int = 60
    # Answering
    max_cited: int = 10
    quotes_per_paper: int = 2
    # Below this relevance (mostly cosine similarity to the best chunk or sentence) a paper is not
    # evidence for the question.
    min_relevance: float = 0.40
    # Between min_relevance and this, the match is weak: refuse when the question's own words are
    # largely absent from the corpus (a near miss in a neighbouring field, e.g. "polyp segmentation").
    weak_relevance: float = 0.50
    unknown_terms_share: float = 0.25
    # Any question about a theme cites every paper whose relevance is at least this share of the best
    # one's. Lower cites more of the relevant papers (recall) and more near misses (precision).
    relative_cutoff: float = 0.8
    # A weak match (below weak_relevance) to a short query (at most short_topic_words topic words)
    # whose paper uses less than this weighted share of them is refused: one shared word ("quantum")
    # is not the topic. Long questions paraphrase, so the rule leaves them to the embedding.
    min_topic_coverage: float = 0.5
    short_topic_words: int = 4
    # With one paper this far ahead of the next (relevance), it answers alone; smaller makes more
    # answers single-paper.
    standout_margin: float = 0.08
    # A sentence holding the asked fact (a number, a dataset) is quoted when its score is within this
    # of the paper's best sentence; larger finds facts in less topical sentences, risking near misses.
    detail_margin: float = 0.5
    # Words at least this common in general English (wordfreq Zipf scale: "please" 5.7, "protein"
    # 4.5, "folding" 3.7) that no abstract uses are filler, not missing topic words. Higher makes
    # refusals stricter about common words.
    filler_zipf: float = 4.5
    # A question word used by at most this many papers that is in the best paper's title names that
    # paper ("InstaFlow", "TIES-Merging"): the answer leads with it alone.
    names_paper_max_df: int = 3
    # A paper whose title or one sentence holds every topic word (as the best paper does) is cited in
    # a theme answer down to this relevance; lower trusts exact word matches more.
    lexical_min_relevance: float = 0.3
    # What "recent" means, in months before today; the answer says so.
    recent_months: int = 24
    # "Which of those ..." filters papers already judged relevant, so a lower bar applies.
    subset_min_relevance: float = 0.30

    # LLM answers (optional; the default answerer needs none)
    answerer: Literal["extractive", "openai", "llamacpp"] = "extractive"
    llm_base_url: str = "http://127.0.0.1:8080/v1"
    llm_model: str = "local"
    llm_api_key: str | None = None
    llm_model_path: Path | None = None
    llm_timeout_s: float = 60.0
    llm_max_tokens: int = 512
    llm_temperature: float = 0.1
    support_threshold: float = 0.55

    def model_post_init(self, __context) -> None:
        for key, value in PRESETS.get(self.preset, {}).items():
            if key not in self.model_fields_set:
                setattr(self, key, value)


def get_settings(**overrides) -> Settings:
    settings = Settings(**overrides)
    if settings.preset not in PRESETS:
        raise ValueError(f"unknown preset {settings.preset!r}; choose one of {', '.join(PRESETS)}")
    return settings
