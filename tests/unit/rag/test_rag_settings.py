"""RAG settings: defaults, the environment, refusals, and the model id an index records."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from workbench.config import get_settings
from workbench.config.rag import LOCAL_MODEL_ID, RagSettings


def test_defaults() -> None:
    settings = get_settings()
    assert settings.rag == RagSettings()
    assert (settings.rag.chunk_size, settings.rag.chunk_overlap, settings.rag.top_k) == (256, 32, 4)
    assert settings.rag.max_file_bytes == 20 * 1024 * 1024
    assert settings.rag.embedding_model_id == LOCAL_MODEL_ID
    assert settings.rag.chroma_path is None


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_RAG__CHUNK_SIZE", "512")
    monkeypatch.setenv("WORKBENCH_RAG__CHUNK_OVERLAP", "64")
    monkeypatch.setenv("WORKBENCH_RAG__EMBEDDING_PROVIDER", "openai")
    monkeypatch.setenv("WORKBENCH_RAG__MAX_FILE_MB", "1.5")
    rag = get_settings().rag
    assert (rag.chunk_size, rag.chunk_overlap) == (512, 64)
    assert rag.embedding_model_id == "openai:text-embedding-3-small"
    assert rag.max_file_bytes == int(1.5 * 1024 * 1024)


def test_refusals() -> None:
    with pytest.raises(ValidationError, match="chunk_overlap must be smaller"):
        RagSettings(chunk_size=64, chunk_overlap=64)
    with pytest.raises(ValidationError, match="local embedding provider"):
        RagSettings(embedding_model="BAAI/bge-small-en")
    assert RagSettings(embedding_provider="huggingface", embedding_model="BAAI/bge-small-en").embedding_model_id == (
        "huggingface:BAAI/bge-small-en"
    )
