"""Shared fixtures. Tests never touch the developer's real index: every index lives in tmp."""
from __future__ import annotations

import pytest

from assistant.settings import REPO_ROOT, Settings


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory) -> Settings:
    """Settings whose index_dir holds the bundled corpus (data/), built once per test session
    (~30-60 s of embedding). Read-only for tests: copy index_dir before writing to it."""
    from ingest.pipeline import run_ingest

    index_dir = tmp_path_factory.mktemp("bundled") / "index"
    # _env_file=None: a developer's .env must not redirect the test index or the corpus.
    settings = Settings(_env_file=None, index_dir=index_dir, data_dir=REPO_ROOT / "data", chroma_url=None)
    run_ingest(None, settings, progress=False)
    return settings
