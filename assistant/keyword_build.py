"""Builds the keyword index folder (assistant/keyword.py) a page of chunks at a time, so a build
never holds every chunk's text: `bm25s.BM25.index` wants every document's tokens as Python lists
(~330 MB at 100k papers, ~8 GB at 2.5M). The result is what bm25s itself would save for the same
texts, scores to the bit (bm25s's own tokenizer, parameters and scoring functions, the same
float32/float64 steps), so search results do not change; only its vocabulary ids are numbered
otherwise (bm25s numbers them by set order, which differs from run to run anyway).

  add(page):  tokenize the page (bm25s.tokenize), count each chunk's terms, append one
              (chunk, term, tf) entry per distinct term to a spill file; document frequencies
              and chunk lengths are kept as numpy arrays, ids and dates spilled too.
  finish():   with every document frequency known, entries are split into term ranges of at
              most `block` entries (one pass), and each range sorted by term, scored and appended
              to the saved score matrix (CSC: term by term, chunks ascending), so the peak is one
              range's numpy arrays whatever the corpus size.

What stays corpus-sized in memory: the vocabulary (a dict of each distinct stem) and one int32
length per chunk (13 MB at 2.5M papers). The vocabulary is also saved sorted (vocab_stems.npy,
vocab_ids.npy) for serving processes to search memory-mapped."""
from __future__ import annotations

import json
import shutil
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from .keyword import TOKEN_PATTERN, VOCAB_IDS, VOCAB_STEMS, _stemmer, keyword_text

ENTRY = np.dtype([("doc", "<i4"), ("term", "<i4"), ("tf", "<f4")])
COPY_ROWS = 100_000  # rows per read when turning a spill file into a saved array


def start_npy(out, dtype, shape: tuple) -> None:
    """The .npy header of an array whose data the caller then appends (np.load reads it, mmap too)."""
    np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": shape})


def npy_from_raw(raw: Path, out: Path, dtype, shape: tuple) -> None:
    """Save a spill file of raw values as a .npy of this shape, copied in bounded reads."""
    with open(out, "wb") as dst, open(raw, "rb") as src:
        start_npy(dst, dtype, shape)
        shutil.copyfileobj(src, dst, 16 << 20)


class KeywordBuilder:
    def __init__(self, folder: Path, work: Path, block: int):
        self.folder, self.work, self.block = folder, work, block
        self.vocab: dict[str, int] = {}  # stem -> term id, in order of first use
        self.df = np.zeros(1024, dtype=np.int64)  # chunks using each term id
        self.docs = self.entries = 0
        self.widths = [1, 1]  # longest chunk id, paper id (UTF-8 bytes)
        self._stem = _stemmer()
        self._files = ExitStack()
        self._spill = {name: self._files.enter_context(open(work / f"kw-{name}", "wb"))
                       for name in ("entries", "lengths", "dates", "ids")}

    def add(self, rows: list[tuple[str, str, dict]], date_nums: list[int]) -> None:
        import bm25s

        if not rows:
            return
        texts = [keyword_text(text, meta) for _, text, meta in rows]
        docs = bm25s.tokenize(texts, stopwords="en", stemmer=self._stem, token_pattern=TOKEN_PATTERN,
                              show_progress=False, return_ids=False)
        doc_ix, terms, tfs = [], [], []
        for i, tokens in enumerate(docs):
            counts = Counter(self.vocab.setdefault(t, len(self.vocab)) for t in tokens)
            doc_ix += [self.docs + i] * len(counts)
            terms += counts.keys()
            tfs += counts.values()
        page = np.empty(len(terms), dtype=ENTRY)
        page["doc"], page["term"], page["tf"] = doc_ix, terms, tfs
        if len(self.vocab) > len(self.df):
            self.df = np.concatenate([self.df, np.zeros(max(len(self.vocab), 2 * len(self.df)) - len(self.df), np.int64)])
        self.df += np.bincount(page["term"], minlength=len(self.df))  # one entry per (chunk, term): its df share
        self._spill["entries"].write(page.tobytes())
        self._spill["lengths"].write(np.asarray([len(t) for t in docs], dtype=np.int32).tobytes())
        self._spill["dates"].write(np.asarray(date_nums, dtype=np.int32).tobytes())
        for cid, _, meta in rows:
            self._spill["ids"].write(json.dumps([cid, meta["paper_id"]]).encode() + b"\n")
            self.widths = [max(w, len(s.encode())) for w, s in zip(self.widths, (cid, meta["paper_id"]))]
        self.docs += len(rows)
        self.entries += len(page)

    def finish(self) -> None:
        self._files.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        npy_from_raw(self.work / "kw-dates", self.folder / "date_num.npy", np.int32, (self.docs,))
        self._save_ids()
        if self.docs:  # an index with every paper pruned: nothing to search, nothing to fit
            self._save_bm25()
        for name in self._spill:
            (self.work / f"kw-{name}").unlink(missing_ok=True)

    def _save_ids(self) -> None:
        """Chunk ids and paper ids as fixed-width byte arrays a serving process maps, not lists."""
        with open(self.work / "kw-ids", "rb") as src, ExitStack() as files:
            outs = [files.enter_context(open(self.folder / name, "wb")) for name in ("chunk_ids.npy", "paper_ids.npy")]
            for out, width in zip(outs, self.widths):
                start_npy(out, f"S{width}", (self.docs,))
            while lines := src.readlines(8 << 20):
                pairs = [json.loads(line) for line in lines]
                for k, (out, width) in enumerate(zip(outs, self.widths)):
                    out.write(np.asarray([p[k].encode() for p in pairs], dtype=f"S{width}").tobytes())

    def _save_bm25(self) -> None:
        import bm25s
        from bm25s.scoring import _select_idf_scorer, _select_tfc_scorer

        bm25 = bm25s.BM25()
        if bm25.method in bm25.methods_requiring_nonoccurrence:
            raise NotImplementedError(f"paged keyword build of BM25 method {bm25.method}")
        n_vocab = len(self.vocab)
        df = self.df[:n_vocab]
        lengths = np.fromfile(self.work / "kw-lengths", dtype=np.int32)
        avg = lengths.mean()  # as bm25s: np.array([len(doc) ...]).mean()
        # bm25s's _build_idf_array, without its dict of every term: the same function per term,
        # each value cast to float32 on assignment as there.
        idf, idf_of = np.zeros(n_vocab, dtype=bm25.dtype), _select_idf_scorer(bm25.idf_method)
        for term in np.flatnonzero(df):
            idf[term] = idf_of(int(df[term]), N=self.docs)
        tfc = _select_tfc_scorer(bm25.method)
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        # Every file bm25s writes (params, vocabulary, indptr), then the two big arrays replaced
        # by ones appended range by range.
        bm25.scores = {"data": np.zeros(0, bm25.dtype), "indices": np.zeros(0, bm25.int_dtype),
                       "indptr": indptr, "num_docs": self.docs}
        bm25.vocab_dict = {**self.vocab, "": n_vocab}
        bm25.nonoccurrence_array = None  # set by bm25s's own index(); none for this method  # bm25s's empty token (a query of unknown words)
        bm25.save(str(self.folder), show_progress=False)
        # The vocabulary again, sorted, for serving processes to search memory-mapped instead of
        # loading vocab.index.json as a dict and a set (~160 B a stem per process).
        stems = np.asarray([t.encode() for t in bm25.vocab_dict], dtype=bytes)
        order = np.argsort(stems, kind="stable")
        np.save(self.folder / VOCAB_STEMS, stems[order])
        np.save(self.folder / VOCAB_IDS, np.asarray(list(bm25.vocab_dict.values()), dtype=np.int32)[order])
        del stems, order
        starts = self._ranges(indptr)
        with open(self.folder / "data.csc.index.npy", "wb") as data, \
                open(self.folder / "indices.csc.index.npy", "wb") as indices:
            start_npy(data, bm25.dtype, (self.entries,))
            start_npy(indices, bm25.int_dtype, (self.entries,))
            for part in self._split(starts):
                block = np.fromfile(part, dtype=ENTRY)
                part.unlink()
                block = block[np.argsort(block["term"], kind="stable")]  # spilled in chunk order: stays ascending
                scores = idf[block["term"]] * tfc(tf_array=block["tf"], l_d=lengths[block["doc"]], l_avg=avg,
                                                  k1=bm25.k1, b=bm25.b, delta=bm25.delta)
                data.write(scores.astype(bm25.dtype).tobytes())
                indices.write(block["doc"].astype(bm25.int_dtype).tobytes())

    def _ranges(self, indptr: np.ndarray) -> np.ndarray:
        """First term id of each range of about `block` entries (a term used more has one alone)."""
        starts = [0]
        while starts[-1] < len(indptr) - 1:
            end = int(np.searchsorted(indptr, indptr[starts[-1]] + self.block, side="right")) - 1
            starts.append(min(max(end, starts[-1] + 1), len(indptr) - 1))
        return np.asarray(starts[:-1], dtype=np.int64)

    def _split(self, starts: np.ndarray) -> list[Path]:
        """One pass over the entries, appending each to its term range's file (chunk order kept)."""
        parts = [self.work / f"kw-range-{i}" for i in range(len(starts))]
        with ExitStack() as files:
            outs = [files.enter_context(open(p, "wb")) for p in parts]
            with open(self.work / "kw-entries", "rb") as src:
                while (chunk := np.fromfile(src, dtype=ENTRY, count=self.block)).size:
                    which = np.searchsorted(starts, chunk["term"], side="right") - 1
                    order = np.argsort(which, kind="stable")
                    bounds = np.cumsum(np.bincount(which, minlength=len(starts)))
                    for i, piece in enumerate(np.split(chunk[order], bounds[:-1])):
                        if piece.size:
                            outs[i].write(piece.tobytes())
        (self.work / "kw-entries").unlink()  # the disk it took (12 B an entry) is the range files' now
        return parts
