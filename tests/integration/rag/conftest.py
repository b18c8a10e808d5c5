"""The real embedding model (loaded once per session), real Chroma in tmp_path, real SQL through the unit of work."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.rag_fakes import CountingEmbedding
from workbench.config.rag import RagSettings
from workbench.rag.embeddings import OnnxMiniLMEmbedding
from workbench.rag.engine import RagEngine
from workbench.rag.sample import SAMPLE_DOCUMENTS
from workbench.storage.sql import migrate
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.uow import SqlUnitOfWork

MakeEngine = Callable[..., RagEngine]


@pytest.fixture(scope="session")
def minilm() -> OnnxMiniLMEmbedding:
    return OnnxMiniLMEmbedding()


@pytest.fixture
def counting(minilm: OnnxMiniLMEmbedding) -> CountingEmbedding:
    return CountingEmbedding(minilm)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    migrate.upgrade(sqlite_url)
    engine = build_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_engine(sqlite_engine: Engine, tmp_path: Path, counting: CountingEmbedding) -> MakeEngine:
    """RagEngine on the SQLite file and <tmp_path>/data/chroma; the counting real model unless told otherwise."""
    factory = build_session_factory(sqlite_engine)

    def make(embedding: object = counting, **settings: object) -> RagEngine:
        return RagEngine(
            RagSettings(**settings),  # type: ignore[arg-type]
            tmp_path / "data",
            lambda: SqlUnitOfWork(factory),
            embedding=embedding,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def rag(make_engine: MakeEngine) -> RagEngine:
    return make_engine()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the sample corpus that a test may change."""
    return Path(shutil.copytree(SAMPLE_DOCUMENTS, tmp_path / "corpus"))
