"""Copy every collection of an embedded index into a Chroma server, rows, vectors and collection
metadata as they are: move an index built on a laptop to the shared server without embedding again.

    python -m deploy.copy_index --from .paperchat/index --to http://127.0.0.1:8000
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlparse

# Rows per get/add: Chroma's own max batch is larger, but a page of vectors is ~1.5 kB a row and
# this keeps the copy's memory flat whatever the index size.
PAGE = 2000


def _server(url: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    u = urlparse(url)
    return chromadb.HttpClient(host=u.hostname or "127.0.0.1", port=u.port or 8000, ssl=u.scheme == "https",
                               settings=ChromaSettings(anonymized_telemetry=False))


def copy_index(index_dir: Path, url: str, replace: bool = True) -> dict[str, int]:
    """Rows copied per collection. replace=True drops same-named collections on the server first."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    src = chromadb.PersistentClient(path=str(index_dir), settings=ChromaSettings(anonymized_telemetry=False))
    dst = _server(url)
    copied: dict[str, int] = {}
    for listed in src.list_collections():
        name = listed if isinstance(listed, str) else listed.name
        coll = src.get_collection(name, embedding_function=None)
        if replace:
            try:
                dst.delete_collection(name)
            except Exception:  # not there: nothing to replace
                pass
        target = dst.get_or_create_collection(name, metadata=coll.metadata, embedding_function=None,
                                              configuration={"hnsw": {"space": (coll.configuration or {}).get("hnsw", {}).get("space", "cosine")}})
        total = coll.count()
        for offset in range(0, total, PAGE):
            got = coll.get(limit=PAGE, offset=offset, include=["documents", "metadatas", "embeddings"])
            if got["ids"]:
                target.add(ids=got["ids"], documents=got["documents"], metadatas=got["metadatas"],
                           embeddings=got["embeddings"])
        copied[name] = total
    return copied


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="src", type=Path, required=True, help="embedded index dir (has chroma.sqlite3)")
    p.add_argument("--to", dest="url", required=True, help="Chroma server URL, e.g. http://127.0.0.1:8000")
    args = p.parse_args(argv)
    if not (args.src / "chroma.sqlite3").exists():
        print(f"copy_index: no index at {args.src}", file=sys.stderr)
        return 2
    for name, n in copy_index(args.src, args.url).items():
        print(f"{name}: {n} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
