"""The ingest run: read and validate every input, embed what changed, then write.
Writing comes last so bad input or a failed embedding leaves the existing index untouched.

Memory stays flat in the corpus size: files are read a record at a time into an on-disk spool
(ingest/spool.py) that merges repeats of a paper as they come; then the papers are read back in
input order a batch at a time, compared with the index by their ids, and the new or changed ones
chunked, embedded and written settings.ingest_batch_papers at a time."""
from __future__ import annotations

import logging
import re
import sys
import time
from contextlib import contextmanager
from typing import Iterator
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.errors import BadInput, IndexDamaged, IndexMissing
from assistant.models import Paper
from assistant.settings import Settings
from assistant.store import Store

from .chunking import make_chunks
from .embedding import Prepared, embed_prepared
from .links import load_id_map
from .lock import ingest_lock
from .papers import build_paper, content_hash
from .sentences import split_sentences
from .sources import ID_MAP_NAME, corpus_files, iter_file
from .spool import ADDED, CHANGED, UNCHANGED, Spool
from .vet import vet_record


class Progress:
    """Phase lines on stderr ("paperchat: embedding 30 papers…") so a long ingest is never silent
    at a terminal. Without one (scripts, logs) only when PAPERCHAT_PROGRESS=1: there, stderr is
    for the warnings and the one-line error a script acts on."""

    def __init__(self, enabled: bool, always: bool = False):
        self.enabled = enabled and (always or _isatty())
        self.last = 0.0

    def say(self, message: str, every: float = 0.0) -> None:
        now = time.perf_counter()
        if self.enabled and not (every and now - self.last < every):
            print(f"paperchat: {message}", file=sys.stderr, flush=True)
            self.last = now


def _isatty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class IngestReport(BaseModel):
    papers: int = 0  # distinct papers in the inputs
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    pruned: int = 0
    not_in_inputs: int = 0  # in the index but not in the inputs, kept because --prune was not given
    embedded_texts: int = 0  # chunks + sentences embedded by this run
    seconds: float = 0.0
    # Wall time per phase (read, model, chunk, embed, write): where a slow ingest goes.
    timings: dict[str, float] = Field(default_factory=dict)
    index: str = ""
    generation: int = 0  # of the index after this run (Store.generation())
    # Input problems: the record was skipped, the rest was ingested; the CLI exits 1 when any.
    warnings: list[str] = Field(default_factory=list)
    # Informational (e.g. a sentence longer than the model's window); never a failure.
    notes: list[str] = Field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.warnings else 0

    def summary(self) -> str:
        line = (
            f"{self.papers} papers: {self.added} added, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.pruned} pruned in {self.seconds:.1f} s (index: {self.index})"
        )
        if self.not_in_inputs:
            line += f"; {self.not_in_inputs} indexed papers are not in these inputs (--prune drops them)"
        return line


def index_location(settings: Settings) -> str:
    return settings.chroma_url or str(settings.index_dir)


@contextmanager
def read_inputs(paths: list[Path] | None, settings: Settings) -> Iterator[tuple[Spool, list[str]]]:
    """Every record of the inputs, vetted and merged into papers in an on-disk spool, and the
    per-record problems met on the way (in file and line order). The spool is gone on exit."""
    files = corpus_files(list(paths) if paths else [Path(settings.data_dir)])
    # Page dumps carry no ids; arxiv_ids.tsv next to them (or in the data dir) supplies them.
    id_map: dict[str, str] = {}
    for folder in dict.fromkeys([Path(settings.data_dir).resolve()] + [f.parent for f in files]):
        id_map.update(load_id_map(folder / ID_MAP_NAME))
    parsing, vetting = [], []  # parse problems first, then vetting's: the order they always had
    with Spool(id_map) as spool:
        for path in files:
            # One unreadable file is reported and skipped, also when that shows only half-way
            # through it (its records so far are rolled back); the good files are still ingested.
            found, vetted = [], []
            spool.begin_file()
            try:
                for item in iter_file(path):
                    if isinstance(item, str):
                        found.append(item)
                    elif vet_record(item, settings, vetted):
                        spool.add(item)
            except BadInput as exc:
                spool.end_file(keep=False)
                parsing.append(str(exc))
                continue
            spool.end_file(keep=True)
            parsing += found
            vetting += vetted
        problems = sorted(parsing + vetting, key=_file_order)
        if not spool.records:
            detail = f": {problems[0]}" if problems else ""
            raise BadInput(f"no papers to ingest in {', '.join(str(f) for f in files)}{detail}")
        spool.finish_reading()
        yield spool, problems


def _papers(spool: Spool, size: int) -> Iterator[list[tuple[int, Paper]]]:
    """The inputs' papers in input order, `size` at a time, as (paper number, Paper)."""
    for batch in spool.merged(size):
        yield [(n, build_paper(best, rid, copies)) for n, best, rid, copies in batch]


def load_papers(paths: list[Path] | None, settings: Settings) -> tuple[list[Paper], list[str]]:
    """Every paper in the inputs, de-duplicated, and the per-record problems met on the way, as
    one list (for tests and small corpora; an ingest streams them)."""
    with read_inputs(paths, settings) as (spool, problems):
        return [p for batch in _papers(spool, max(1, settings.ingest_batch_papers)) for _, p in batch], problems


def _file_order(problem: str) -> tuple[str, int]:
    """Sort key: problems in file order, then line order ("file:12: ..." before "file:100: ...")."""
    m = _PLACE.match(problem)
    return (m.group(1), int(m.group(2))) if m else (problem.split(" ", 1)[0], 0)


_PLACE = re.compile(r"^(.+?):(\d+): ")


class _Index:
    """The index as this ingest compares with it: content hashes read a batch of ids at a time,
    and every indexed id paged through, never the whole index in memory. No index (or a damaged
    one, which this ingest rewrites whole and sweeps) reads as empty."""

    def __init__(self, settings: Settings, rebuild: bool):
        self.store = None
        if not rebuild:
            try:
                self.store = Store.open(settings)
            except (IndexMissing, IndexDamaged):
                pass

    def hashes(self, paper_ids: list[str]) -> dict[str, str]:
        return self._safely(lambda: self.store.paper_hashes(paper_ids), {})

    def id_pages(self) -> Iterator[list[str]]:
        pages = self._safely(lambda: self.store.paper_id_pages(), iter(()))
        while True:
            page = self._safely(lambda: next(pages, None), None)
            if page is None:
                return
            yield page

    def _safely(self, read, empty):
        if self.store is None:
            return empty
        try:
            return read()
        except (IndexMissing, IndexDamaged):
            self.store = None
            return empty


def _compare(spool: Spool, settings: Settings, rebuild: bool, report: IngestReport) -> None:
    """Pass 2: each paper's content hash against the index's, a batch at a time; the verdicts (and
    the papers to write) go to the spool, the counts to the report; then the indexed papers that
    are not in the inputs (`not_in_inputs`, or to prune)."""
    index = _Index(settings, rebuild)
    for batch in _papers(spool, max(1, settings.ingest_batch_papers)):
        indexed = index.hashes([p.paper_id for _, p in batch])
        rows = []
        for n, paper in batch:
            digest = content_hash(paper, settings.embed_model, settings.max_chunk_tokens)
            old = indexed.get(paper.paper_id)
            rows.append((n, paper, digest, UNCHANGED if old == digest else ADDED if old is None else CHANGED))
        spool.mark(rows)
    report.added, report.changed, report.unchanged = (spool.count(s) for s in (ADDED, CHANGED, UNCHANGED))
    for page in index.id_pages():
        spool.add_gone([pid for pid in page if not spool.has(pid)])


def _generation(settings: Settings) -> int:
    try:
        return Store.open(settings).generation()
    except IndexMissing:
        return 0


def _index_complete(settings: Settings) -> bool:
    try:
        return Store.open(settings).complete()
    except IndexMissing:
        return True
    except IndexDamaged:
        return False


def _prepare(paper: Paper, digest: str, embedder, settings: Settings, report: IngestReport) -> Prepared:
    sentences = split_sentences(paper.abstract)
    chunks, notes = make_chunks(paper.paper_id, paper.title, sentences, embedder.count_tokens, settings.max_chunk_tokens)
    report.notes.extend(notes)
    return Prepared(paper, digest, sentences, chunks)


def _load_embedder(settings: Settings):
    # Imported here: loading the model costs time, and an unchanged corpus needs none.
    from assistant.embedder import get_embedder

    return get_embedder(settings.embed_model, settings.embed_runtime)


@contextmanager
def _quiet_length_warning():
    # Measuring texts longer than the model window is the point of chunking; the tokenizer's
    # "sequence length is longer than the specified maximum" warning would only alarm users.
    logger = logging.getLogger("transformers.tokenization_utils_base")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _serving_data_missing(settings: Settings) -> bool:
    from assistant import derived

    try:
        generation = derived.current_generation(Store.open(settings), settings)
    except IndexMissing:
        return False
    return generation is None or not (derived.folder_of(settings, generation) / "DONE").exists()


def run_ingest(
    paths: list[Path] | None,
    settings: Settings,
    prune: bool = False,
    rebuild: bool = False,
    progress: bool = True,
    ray_address: str | None = None,
) -> IngestReport:
    """ray_address: embed on a Ray cluster ("auto" finds a local one) instead of in this process."""
    started = time.perf_counter()
    clock = [started]

    def lap(name: str) -> None:
        now = time.perf_counter()
        report.timings[name] = round(now - clock[0], 2)
        clock[0] = now

    say = Progress(progress, always=settings.progress).say
    say(f"reading {', '.join(str(p) for p in paths) if paths else settings.data_dir}…")
    with read_inputs(paths, settings) as (spool, problems):
        report = IngestReport(papers=spool.papers, index=index_location(settings), warnings=problems)
        say(f"{report.papers:,} papers in the inputs: comparing them with the index…")
        with ingest_lock(settings):
            # Compare under the lock: another writer could otherwise change what "unchanged" means.
            _compare(spool, settings, rebuild, report)
            _write(spool, settings, report, prune, rebuild, ray_address, say, lap)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _write(spool: Spool, settings: Settings, report: IngestReport, prune: bool, rebuild: bool,
           ray_address: str | None, say, lap) -> None:
    todo = report.added + report.changed
    lap("read")
    gone = spool.gone_count()
    if not prune:
        report.not_in_inputs, gone = gone, 0
    size = max(1, settings.ingest_batch_papers)

    # ---- from here on we write, one bounded batch at a time ------------------------------
    # Papers are chunked, embedded and written settings.ingest_batch_papers at a time, so
    # memory stays flat however large the corpus, and a killed ingest keeps what it wrote:
    # new rows go in before old ones go out (see assistant/store.py), each written paper
    # answers at its new version, and the next run skips it by its content hash.
    if todo:
        say(f"{todo:,} of {report.papers:,} papers are new or changed: loading the model…")
    embedder = _load_embedder(settings) if todo else None
    if todo:
        lap("model")
    if todo or gone or rebuild:
        if ray_address:
            say(f"embedding on the Ray cluster at {ray_address}…")
        writer = Store.writer(settings, model_dim=embedder.dim if embedder else 0, rebuild=rebuild)
        meter = _Meter(todo, say)
        step = settings.write_batch
        for batch in _embedded_batches(spool.todo(size), embedder, settings, report, ray_address, meter):
            t = time.perf_counter()
            meter.writing(len(batch))
            for start in range(0, len(batch), step):
                writer.put_papers([
                    (i.paper, i.content_hash, i.chunks, i.chunk_vectors, i.sentences, i.sentence_vectors)
                    for i in batch[start:start + step]
                ])
            meter.add("write", time.perf_counter() - t)
            meter.done(len(batch))
            report.embedded_texts += sum(len(p.chunks) + len(p.sentences) for p in batch)
        if gone:
            for ids in spool.gone(size):
                writer.delete_papers(ids)
        report.generation = writer.commit()
        phases = meter.phases
    else:
        phases = {}
    if not (todo or gone or rebuild) and not _index_complete(settings):
        # An earlier ingest was interrupted after writing: sweep its leftovers now.
        report.generation = Store.writer(settings, model_dim=0).commit()
    elif not (todo or gone or rebuild):
        report.generation = _generation(settings)
    report.pruned = gone
    lap("write")
    # "write" so far is the whole batched loop: split it into its phases.
    if phases:
        report.timings.update({k: round(v, 2) for k, v in phases.items()})
        report.timings["commit"] = round(max(0.0, report.timings.pop("write") - sum(phases.values())), 2)
        report.timings["write"] = round(phases.get("write", 0.0), 2)
    # What serving processes load instead of rebuilding it from every chunk (keyword index,
    # paper metadata, vocabulary), published under the new generation; also when nothing
    # changed but it is missing (an index written by an older paperchat).
    if todo or gone or rebuild or _serving_data_missing(settings):
        from assistant import derived

        derived.build(Store.open(settings), settings)
        lap("serving data")


class _Meter:
    """Time per phase, and per batch a line saying what is being embedded and what is being
    written, with the rate so far and the time left ("writing papers 5,121-5,632 of 100,000
    (41.3 papers/s, 38 min left)…"). A batch takes seconds, so the lines come a few seconds apart."""

    def __init__(self, total: int, say):
        self.total, self.say, self.n, self.embedding_from = total, say, 0, 0
        self.phases: dict[str, float] = {}
        self.started = time.perf_counter()

    def add(self, phase: str, seconds: float) -> None:
        self.phases[phase] = self.phases.get(phase, 0.0) + seconds

    def embedding(self, n: int) -> None:
        start = self.embedding_from
        self.embedding_from += n
        self.say(f"embedding papers {start + 1:,}-{start + n:,} of {self.total:,}…")

    def writing(self, n: int) -> None:
        self.say(f"writing papers {self.n + 1:,}-{self.n + n:,} of {self.total:,}{self._pace()}…")

    def done(self, n: int) -> None:
        self.n += n
        if self.n >= self.total:
            self.say(f"wrote {self.n:,} of {self.total:,} papers{self._pace()}")

    def _pace(self) -> str:
        if not self.n:
            return ""
        rate = self.n / max(time.perf_counter() - self.started, 1e-9)
        left = (self.total - self.n) / rate
        when = f"{left / 60:.0f} min left" if left >= 90 else f"{left:.0f} s left"
        return f" ({rate:.1f} papers/s" + (f", {when})" if self.n < self.total else ")")


def _embedded_batches(todo: Iterator[list[tuple[Paper, str]]], embedder, settings: Settings, report: IngestReport,
                      ray_address: str | None, meter: _Meter):
    """Yields lists of Prepared papers with their vectors, a batch of `todo` (settings.ingest_batch_papers) at a time."""

    def prepared():
        for papers in todo:
            meter.embedding(len(papers))
            t = time.perf_counter()
            with _quiet_length_warning():
                batch = [_prepare(p, digest, embedder, settings, report) for p, digest in papers]
            meter.add("chunk", time.perf_counter() - t)
            yield batch

    if ray_address:
        from .ray_embed import RayEmbedding

        with RayEmbedding(ray_address, settings) as ray_pool:
            t = time.perf_counter()
            for batch in ray_pool.embed(prepared()):
                meter.add("embed", time.perf_counter() - t)
                yield batch
                t = time.perf_counter()
        return
    for batch in prepared():
        t = time.perf_counter()
        embed_prepared(batch, embedder, settings.embed_batch_size, progress=False)
        meter.add("embed", time.perf_counter() - t)
        yield batch


def ensure_index(settings: Settings, progress: bool = True) -> IngestReport | None:
    """Build the index from the bundled corpus unless one already exists (for `paperchat ui`).
    Returns the report when it ingested, None when an index was already there."""
    try:
        if Store.open(settings).has_papers():
            return None
    except (IndexMissing, IndexDamaged):  # none, or an interrupted one: the ingest finishes it
        pass
    return run_ingest(None, settings, progress=progress)
