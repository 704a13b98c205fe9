"""All knobs in one place: PAPERCHAT_* environment variables, a .env file, or named presets."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import BadSettings

REPO_ROOT = Path(__file__).resolve().parents[1]

# Presets trade latency for recall; "default" is what the README's numbers are measured with.
PRESETS: dict[str, dict] = {
    "default": {},
    "fast": {"dense_k": 20, "keyword_k": 20, "candidates": 30, "max_cited": 6},
    "thorough": {"dense_k": 100, "keyword_k": 100, "candidates": 120, "max_cited": 12},
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAPERCHAT_", env_file=".env", extra="ignore")

    preset: Literal["default", "fast", "thorough"] = "default"
    data_dir: Path = REPO_ROOT / "data"
    index_dir: Path = REPO_ROOT / ".paperchat" / "index"
    collection: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,60}$")] = "papers"
    # Embedded Chroma by default; set to e.g. http://127.0.0.1:8000 to use a `chroma run` server.
    chroma_url: str | None = None
    # How long an ingest's lease on a Chroma server lasts without renewal (renewed every third of
    # it). Longer: an ingest that was killed blocks the next one for longer; shorter: more
    # renewal traffic and a stalled (swapping, paused) ingest loses its lease sooner.
    ingest_lease_seconds: Annotated[float, Field(ge=3, le=86400)] = 60.0
    # Papers chunked, embedded and written per step of an ingest: memory is flat in corpus size at
    # ~1 MB per 100 papers; larger batches amortise Chroma's per-call cost (and Ray's per-task one).
    ingest_batch_papers: Annotated[int, Field(ge=1, le=100_000)] = 512

    embed_model: str = "all-MiniLM-L6-v2"
    # "onnx": onnxruntime on a one-time export of the model (fast start, no torch import);
    # "torch": transformers + torch, the fallback. Same vectors; an index records which built it.
    embed_runtime: Literal["onnx", "torch"] = "onnx"
    # Texts per model call at ingest (sorted by length, so a batch pads little). Measured with
    # onnx as CPU seconds (wall time was useless on the shared machine) over an eighth of the
    # corpus, one thread: 8 -> 5.3, 16 -> 6.2, 32 -> 6.3, 64 -> 7.5. Larger batches pad more and
    # raise peak memory (32: ~1.2 GB, 16: ~0.76 GB); smaller ones leave the second core idler.
    embed_batch_size: Annotated[int, Field(ge=1, le=4096)] = 16
    # Threads for one query's embedding: a 10-word query gains nothing from a second thread, and
    # concurrent requests (or processes) on two cores would spin against each other. Ingest
    # batches use every core.
    query_threads: Annotated[int, Field(ge=1, le=256)] = 1
    # How often (seconds) a serving process checks for a new index generation; the check is a
    # file read, the reload happens only when an ingest published a new one.
    reload_check_s: Annotated[float, Field(ge=0, le=86400)] = 2.0
    # all-MiniLM-L6-v2 truncates at 256 word pieces; leave room for the title and special tokens.
    max_chunk_tokens: Annotated[int, Field(ge=16, le=8192)] = 240

    # Retrieval
    top_k: Annotated[int, Field(ge=1, le=1000)] = 10
    dense_k: Annotated[int, Field(ge=1, le=10000)] = 40
    keyword_k: Annotated[int, Field(ge=1, le=10000)] = 40
    candidates: Annotated[int, Field(ge=1, le=10000)] = 60  # papers re-scored sentence by sentence after fusion
    rrf_k: Annotated[int, Field(ge=1, le=10000)] = 60
    # A date window's dense search: when the window holds at least this share of the chunks, an
    # unfiltered search for proportionally more (at most dense_window_max_k) is kept to the window
    # (cheap, HNSW-fast); a smaller window is searched by listing its chunk ids (up to
    # dense_window_max_ids: a longer list costs more to send than Chroma's `where`, which scans
    # every chunk's date). Each step falls through to the next when it finds too few.
    dense_window_min_share: Annotated[float, Field(gt=0, le=1)] = 0.05
    dense_window_max_k: Annotated[int, Field(ge=1, le=100000)] = 2000
    dense_window_max_ids: Annotated[int, Field(ge=0, le=1000000)] = 20000
    # Up to this many chunks, dense search is an exact dot product over the chunk vectors kept with
    # the serving data (memory-mapped, 1.5 kB a chunk for 384 dimensions): 0.02 ms at 600 chunks,
    # ~1 ms at 20k on one thread, where Chroma's ids-only HNSW query (~1 ms) becomes the cheaper.
    exact_dense_max_chunks: Annotated[int, Field(ge=0, le=10_000_000)] = 20_000
    # Keyword-index entries (one per chunk and distinct word: ~75 per chunk) sorted and scored at
    # once when the serving data is built (assistant/keyword_build.py): ~40 B each, so 2M is a
    # ~80 MB peak; fewer is less memory, more range files (2.5M papers: ~125 at 2M).
    keyword_build_entries: Annotated[int, Field(ge=1000, le=1_000_000_000)] = 2_000_000
    # Papers whose sentence words (each sentence's content terms, ~18 kB a paper of Python sets;
    # the vectors are views into the serving data's memory map) a process keeps, least recently
    # used out first; a corpus this small is prepared whole at start. 5,000 is ~90 MB: every paper
    # of the bundled corpus, and the candidates of a few hundred recent answers on a big one.
    # A paper not kept is read again from the serving data (~0.1 ms with the terms stored at ingest;
    # ~0.3 ms when they must be computed): more makes repeated questions faster for memory.
    sentence_cache_papers: Annotated[int, Field(ge=100, le=1_000_000)] = 5_000
    # onnxruntime threads for embedding one question. Measured on the 2-core machine (115 dev
    # questions, p50): 1 thread 5.4 ms, 2 threads 4.1-4.4 ms. 1 leaves the other core to a
    # concurrent request; workers do not spin while idle, so 2 costs little when cores are busy.
    query_threads: Annotated[int, Field(ge=1, le=64)] = 2
    # Answering
    max_cited: Annotated[int, Field(ge=1, le=100)] = 10
    quotes_per_paper: Annotated[int, Field(ge=1, le=20)] = 2
    # "show me more" after every match was shown lists this many next-closest papers, said to match
    # less well: enough to skim for what the inclusion rule cut, few enough not to bury the answer.
    weaker_shown: Annotated[int, Field(ge=0, le=50)] = 5
    # A comparison side whose every word is in at least this share of the papers names a family
    # ("cnn" 7%, "transformer" 17% of the bundled corpus), not one method ("mamba" 1.7%): it is
    # searched together with the rest of the question ("for medical segmentation"). Lower makes
    # more named methods count as families; higher leaves "cnn vs transformer for X" comparing the
    # corpus's most CNN-like paper with its most transformer-like one.
    family_share: Annotated[float, Field(ge=0, le=1)] = 0.05
    # Below this relevance (mostly cosine similarity to the best chunk or sentence) a paper is not
    # evidence for the question.
    min_relevance: Annotated[float, Field(ge=-1, le=1)] = 0.40
    # Between min_relevance and this, the match is weak: refuse when the question's own words are
    # largely absent from the corpus (a near miss in a neighbouring field, e.g. "polyp segmentation").
    weak_relevance: Annotated[float, Field(ge=-1, le=1)] = 0.50
    unknown_terms_share: Annotated[float, Field(ge=0, le=1)] = 0.25
    # Any question about a theme cites every paper whose relevance is at least this share of the best
    # one's. Lower cites more of the relevant papers (recall) and more near misses (precision).
    relative_cutoff: Annotated[float, Field(ge=0, le=1)] = 0.8
    # A weak match (below weak_relevance) to a short query (at most short_topic_words topic words)
    # whose paper uses less than this weighted share of them is refused: one shared word ("quantum")
    # is not the topic. Long questions paraphrase, so the rule leaves them to the embedding.
    min_topic_coverage: Annotated[float, Field(ge=0, le=1)] = 0.5
    # 5 (was 4) on 21 Nov: on the dev splits it refuses one more off-corpus question on dev2
    # ("speculative decoding to speed up llm inference" shares only "llm" with its best match) and
    # changes nothing else; 6 wrongly refused 3 more paraphrases, 8 failed the dev floors.
    short_topic_words: Annotated[int, Field(ge=0, le=100)] = 5
    # With one paper this far ahead of the next (relevance), it answers alone; smaller makes more
    # answers single-paper.
    standout_margin: Annotated[float, Field(ge=0, le=2)] = 0.08
    # A sentence holding the asked fact (a number, a dataset) is quoted when its score is within this
    # of the paper's best sentence; larger finds facts in less topical sentences, risking near misses.
    detail_margin: Annotated[float, Field(ge=0, le=4)] = 0.5
    # Words at least this common in general English (wordfreq Zipf scale: "please" 5.7, "protein"
    # 4.5, "folding" 3.7) that no abstract uses are filler, not missing topic words. Higher makes
    # refusals stricter about common words.
    filler_zipf: Annotated[float, Field(ge=0, le=8)] = 4.5
    # A question word at least this common in English is taken as meant, never "corrected" to a
    # corpus word one edit away ("fixing" is not "mixing", "Carla" not "carlo", "gait" 3.1 not
    # "gain", "ToMe" 3.2 not "time"). Typos score 0-2.8 ("difusion" 0, "reseach" 1.6, "wich" 2.8,
    # "seperate" 2.8); lower corrects fewer of them.
    known_word_zipf: Annotated[float, Field(ge=0, le=8)] = 3.0
    # A question word used by at most this many papers that is in the best paper's title names that
    # paper ("InstaFlow", "TIES-Merging"): the answer leads with it alone.
    names_paper_max_df: Annotated[int, Field(ge=0, le=1_000_000)] = 3
    # A paper whose title or one sentence holds every topic word (as the best paper does) is cited in
    # a theme answer down to this relevance; lower trusts exact word matches more.
    lexical_min_relevance: Annotated[float, Field(ge=-1, le=1)] = 0.3
    # ... only when some topic word weighs at least this (IDF x surprisal: "mamba" ~4, "fusion" 1.1,
    # "network" 0.8, "feature" 0.5): titles saying only everyday ML words match by chance.
    lexical_min_weight: Annotated[float, Field(ge=0, le=100)] = 1.0
    # What "recent" means, in months before today; the answer says so.
    recent_months: Annotated[int, Field(ge=1, le=1200)] = 24
    # "Which of those ..." filters papers already judged relevant, so a lower bar applies.
    subset_min_relevance: Annotated[float, Field(ge=-1, le=1)] = 0.30

    # LLM answers (optional; the default answerer needs none)
    answerer: Literal["extractive", "openai", "llamacpp"] = "extractive"
    llm_base_url: str = "http://127.0.0.1:8080/v1"
    llm_model: str = "local"
    llm_api_key: str | None = None
    llm_model_path: Path | None = None
    llm_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    llm_max_tokens: Annotated[int, Field(ge=1, le=32768)] = 512
    llm_temperature: Annotated[float, Field(ge=0, le=2)] = 0.1
    support_threshold: Annotated[float, Field(ge=0, le=1)] = 0.55

    # Ingest and serving safety (issue 9)
    # Papers per index write call: larger amortises Chroma's per-call cost, smaller keeps each
    # call's memory and the "paper_id in [...]" filters small.
    write_batch: Annotated[int, Field(ge=1, le=5000)] = 256
    # A record whose abstract is longer is skipped with a warning: no real abstract comes near
    # it, and one runaway record (a whole paper pasted in) would cost minutes of embedding.
    max_abstract_chars: Annotated[int, Field(ge=100, le=10_000_000)] = 50_000
    max_title_chars: Annotated[int, Field(ge=10, le=100_000)] = 1_000
    # Print ingest phase lines even when stderr is not a terminal (logs; the fault-injection test).
    progress: bool = False
    # Tracebacks on errors in the CLI (also `--debug`).
    debug: bool = False
    # Origins (scheme://host[:port], comma-separated) other than the page's own that may call the
    # UI's API from a browser; empty = same origin only. Set it for a deployment behind a proxy
    # whose public origin differs from the address the server sees.
    cors_origins: str = ""

    @field_validator("chroma_url", "llm_base_url")
    @classmethod
    def _http_url(cls, value):
        if value in (None, ""):
            return None if value == "" else value
        from urllib.parse import urlparse

        url = urlparse(str(value))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("must be an http:// or https:// URL, e.g. http://127.0.0.1:8000")
        try:
            url.port
        except ValueError:
            raise ValueError("has a port that is not a number from 1 to 65535") from None
        return str(value)

    def model_post_init(self, __context) -> None:
        for key, value in PRESETS.get(self.preset, {}).items():
            if key not in self.model_fields_set:
                setattr(self, key, value)


def get_settings(**overrides) -> Settings:
    """The settings, or BadSettings naming the PAPERCHAT_* variable and what it accepts."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise BadSettings(settings_error(exc, overrides)) from None


def settings_error(exc: ValidationError, overrides: dict | None = None) -> str:
    """One line for the first bad setting: which variable, its value, and what is allowed."""
    err = exc.errors()[0]
    name = str(err["loc"][0]) if err.get("loc") else "?"
    where = name if overrides and name in overrides else f"PAPERCHAT_{name.upper()}"
    value = err.get("input")
    shown = repr(value if not isinstance(value, str) or len(value) <= 60 else value[:60] + "…")
    ctx = err.get("ctx") or {}
    kind = err.get("type", "")
    if kind == "literal_error":
        allowed = f"one of {ctx.get('expected', '').replace(chr(39), '')}"
    elif kind in ("int_parsing", "int_from_float", "int_type"):
        allowed = "a whole number" + _range(Settings.model_fields.get(name))
    elif kind in ("float_parsing", "float_type"):
        allowed = "a number" + _range(Settings.model_fields.get(name))
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        field = Settings.model_fields.get(name)
        noun = "a whole number" if field is not None and field.annotation is int else "a number"
        allowed = noun + _range(field)
    elif kind == "bool_parsing":
        allowed = "true or false"
    elif kind == "string_pattern_mismatch":
        allowed = "3-61 letters, digits, _ or -, starting with a letter or digit"
    else:
        allowed = err.get("msg", "a valid value").removeprefix("Value error, ")
        return f"{where}={shown} is not valid: it {allowed}" if kind == "value_error" else f"{where}={shown} is not valid: {allowed}"
    return f"{where}={shown} is not valid: use {allowed}"


def _range(field) -> str:
    lo = hi = above = None
    for m in getattr(field, "metadata", []) or []:
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
        above = getattr(m, "gt", None) if getattr(m, "gt", None) is not None else above
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
    if above is not None:
        return f" above {above}" + (f" and at most {hi}" if hi is not None else "")
    if lo is not None and hi is not None:
        return f" from {lo} to {hi}"
    if lo is not None:
        return f" of at least {lo}"
    return ""
