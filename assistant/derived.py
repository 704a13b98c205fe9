"""What a serving process needs besides Chroma, built once per index generation and shared:
the keyword index, paper metadata and the corpus vocabulary. Ingest publishes it after each write;
every `ask`, `search` or UI process loads it (the keyword index memory-mapped) instead of reading
every chunk and rebuilding them, which was most of a cold start and grows with the corpus.

Layout, next to the Chroma files (or under index_dir when the store is a Chroma server):

    <index_dir>/serving/<generation>.f<FORMAT>/keyword/...  bm25s index, chunk ids, paper ids, chunk date numbers
                                             /vectors.npy  the chunk vectors, in keyword-index row
                                                 order (small corpora: exact dense search in memory)
                                             /papers.sqlite  paper_id -> metadata of its first chunk,
                                                 read on demand (assistant/papertable.py)
                                             /sentences.npy, sentences.sqlite  every paper's sentences
                                                 and their vectors, memory-mapped (assistant/sentencedata.py)
                                             /words-N.json  each corpus word's document frequency
                                                 (assistant/vocabulary.py: IDF, typos, topic words)
                                             /DONE
    <index_dir>/serving/CURRENT     the generation last published

FORMAT is part of the folder name: a paperchat that writes the folder differently (e.g. what the
keyword index holds) rebuilds it once for an existing index instead of serving the old one.

The generation is the store's (`Store.generation()`, changed by every ingest) when the store has
one, else the one ingest published. A folder is written aside and renamed into place, so
concurrent builders (two replicas finding it missing) cannot leave a half-written one."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import papertable, sentencedata, serving_build
from .keyword import KeywordIndex
from .settings import Settings

KEEP_GENERATIONS = 2  # the current one and the one a busy replica may still be reading
# 2: keyword index over title, abstract and authors only (no metadata lines); chunk vectors kept.
# 3: every paper's sentences and sentence vectors kept (answers no longer read them from Chroma).
# 4: and each sentence's content terms (answers no longer split candidates' sentences into words).
# 5: chunk and paper ids as memory-mapped arrays (keyword/chunk_ids.npy, paper_ids.npy), not chunks.json.
FORMAT = 5


def root(settings: Settings) -> Path:
    return Path(settings.index_dir) / "serving"


def folder_of(settings: Settings, generation: str) -> Path:
    return root(settings) / f"{generation}.f{FORMAT}"


def store_generation(store) -> str | None:
    """The store's own generation number, once the store records one."""
    get = getattr(store, "generation", None)
    if get is None:
        return None
    value = get()
    return None if value is None else str(value)


def published(settings: Settings) -> str | None:
    try:
        return (root(settings) / "CURRENT").read_text().strip() or None
    except OSError:
        return None


def current_generation(store, settings: Settings) -> str | None:
    """Cheap: what a serving process compares with the generation it has loaded."""
    return store_generation(store) or published(settings)


@dataclass
class ServingData:
    generation: str
    keyword: KeywordIndex
    paper_meta: Mapping[str, dict]  # a PaperTable (on disk, cached), or a dict from an older build
    folder: Path
    # (earliest, latest) paper date, computed at build: asked on every answer, and sorting every
    # paper's date per answer grew with the corpus.
    dates: tuple[str | None, str | None] = (None, None)
    months: list[str] = field(default_factory=list)  # the distinct YYYY-MM the corpus has, oldest first

    # Chunk vectors in keyword-index row order (memory-mapped), or None: a corpus above
    # settings.exact_dense_max_chunks, whose dense search stays on Chroma's HNSW index.
    vectors: np.ndarray | None = field(default=None, repr=False)
    # Every paper's sentences and their vectors (memory-mapped), or None: built by an older paperchat.
    sentences: sentencedata.SentenceTable | None = field(default=None, repr=False)

    def sentences_of(self, paper_ids: list[str]) -> dict[str, tuple[list[str], np.ndarray, list[set[str]] | None]]:
        """paper_id -> (sentences, vectors, their terms or None) of the papers this data holds (those
        it left out, and every paper of an older build, are read from the store)."""
        return self.sentences.read(list(paper_ids)) if self.sentences is not None else {}

    def papers(self, paper_ids) -> dict[str, dict]:
        """Metadata of these papers (those that exist), in one read."""
        if isinstance(self.paper_meta, papertable.PaperTable):
            return self.paper_meta.many(paper_ids)
        return {pid: self.paper_meta[pid] for pid in paper_ids if pid in self.paper_meta}

    def sentence_rows(self, paper_ids: list[str]) -> dict[str, tuple[str, int]]:
        """paper_id -> (content_hash, number of sentences) of the version this data serves, for
        Store.sentences_of to read those rows by id (serving data built before the count: none)."""
        return {pid: (m["content_hash"], int(m["n_sentences"]))
                for pid, m in self.papers(paper_ids).items() if m.get("n_sentences")}

    @property
    def url_to_paper(self):
        """url -> paper_id (`.get`), without a dict of every paper."""
        if isinstance(self.paper_meta, papertable.PaperTable):
            return papertable.UrlIndex(self.paper_meta)
        return {m["url"]: pid for pid, m in self.paper_meta.items()}

    def paper_with_title(self, title_words: list[str]) -> str | None:
        """The paper whose title is these words (as assistant.words.words splits it), if any."""
        if isinstance(self.paper_meta, papertable.PaperTable):
            return self.paper_meta.by_title(" ".join(title_words))
        return next((pid for pid, m in self.paper_meta.items()
                     if papertable.title_key(m.get("title", "")) == " ".join(title_words)), None)


def build(store, settings: Settings, generation: str | None = None) -> str:
    """Build the serving data of the store as it is now and publish it. Returns its generation."""
    generation = generation or store_generation(store) or f"{time.time_ns():x}"
    base = root(settings)
    final = folder_of(settings, generation)
    base.mkdir(parents=True, exist_ok=True)
    if not (final / "DONE").exists():
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=base))
        try:
            stats = serving_build.write(store, settings, tmp, previous=_previous_folder(settings, final))
            (tmp / "DONE").write_text(json.dumps(stats))
            try:
                os.rename(tmp, final)
            except OSError:  # a concurrent builder published the same generation first
                if not (final / "DONE").exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    marker = base / f".CURRENT-{os.getpid()}"
    marker.write_text(generation)
    os.replace(marker, base / "CURRENT")
    _prune(base, keep=final.name)
    return generation


def _previous_folder(settings: Settings, building: Path) -> Path | None:
    """The published generation's folder (its sentences are reused where papers did not change)."""
    generation = published(settings)
    folder = folder_of(settings, generation) if generation else None
    return folder if folder is not None and folder != building and (folder / "DONE").exists() else None


def _prune(base: Path, keep: str) -> None:
    folders = sorted((p for p in base.iterdir() if p.is_dir() and (p / "DONE").exists() and p.name != keep),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[KEEP_GENERATIONS - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def load(store, settings: Settings) -> ServingData:
    """The serving data of the store's current generation, built now if nobody published it
    (an index written by an older paperchat, or a store whose generation moved on)."""
    generation = current_generation(store, settings)
    if generation is None or not (folder_of(settings, generation) / "DONE").exists():
        generation = build(store, settings, generation)
    folder = folder_of(settings, generation)
    vectors = folder / "vectors.npy"
    try:
        stats = json.loads((folder / "DONE").read_text())
    except ValueError:
        stats = {}
    if (folder / papertable.FILE).exists():
        paper_meta = papertable.PaperTable(folder, int(stats["papers"]))
    else:  # published by an older paperchat: every paper in memory, as it was then
        paper_meta = json.loads((folder / "papers.json").read_text())
        stats = {**stats, **_date_stats(paper_meta)}
    return ServingData(
        generation=generation,
        keyword=KeywordIndex.load(folder / "keyword"),
        paper_meta=paper_meta,
        folder=folder,
        dates=tuple(stats.get("dates") or (None, None)),
        months=list(stats.get("months") or []),
        vectors=np.load(vectors, mmap_mode="r") if vectors.exists() else None,
        sentences=sentencedata.SentenceTable.open(folder),
    )


def _date_stats(papers: dict[str, dict]) -> dict:
    return serving_build.date_stats(m["date"] for m in papers.values() if m.get("date"))
