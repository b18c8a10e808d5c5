"""The sample corpus (datasets/sample-corpus) that the first run ingests, so a newcomer can chat at once."""

from __future__ import annotations

from pathlib import Path

from workbench.config.settings import PROJECT_ROOT
from workbench.rag.engine import RagEngine
from workbench.rag.errors import KnowledgeBaseExists
from workbench.rag.records import IngestReport

SAMPLE_KB = "sample"
SAMPLE_DOCUMENTS = PROJECT_ROOT / "datasets" / "sample-corpus" / "documents"
SAMPLE_DESCRIPTION = "Northwind Robotics, a fictional robot maker: specs, warranty, support, FAQ, release notes"


def ensure_sample_knowledge_base(engine: RagEngine, folder: Path = SAMPLE_DOCUMENTS) -> IngestReport | None:
    """Ingest the sample corpus into a knowledge base named "sample" when no knowledge base exists yet."""
    if engine.list_knowledge_bases() or not folder.is_dir():
        return None
    try:
        engine.create_knowledge_base(SAMPLE_KB, description=SAMPLE_DESCRIPTION)
    except KnowledgeBaseExists:  # another session of the app got there first
        return None
    return engine.ingest(SAMPLE_KB, [folder])
