"""Sampling stored chunks of a knowledge base (the question generator's passages), on real Chroma and SQLite."""

from __future__ import annotations

import pytest

from tests.integration.rag.conftest import MakeEngine
from workbench.rag.engine import RagEngine
from workbench.rag.errors import KnowledgeBaseNotFound

pytestmark = pytest.mark.integration

DOCUMENTS = {
    "arm.txt": "The R2 arm lifts five kilograms at full reach. Its reach is 900 millimetres. The arm weighs 21 kg. "
    "It mounts on floors, walls or ceilings. Each joint has an absolute encoder. The gripper port is ISO 9409. "
    "The arm is rated IP54 against dust and splashing water. It runs on a 48 volt supply.",
    "base.txt": "The M1 mobile base carries 150 kilograms. It charges in 90 minutes at its dock. It drives at up to "
    "two metres per second. Its lidar sees 25 metres around it. It stops for people within half a metre. The base "
    "maps a new floor in one walk-through. Its battery lasts eight hours of driving.",
    "support.txt": "Support is open on weekdays from eight to six. On Saturdays it is open from nine to one. It speaks "
    "English, German and Spanish. Urgent line-down calls are answered around the clock. Tickets get a first answer "
    "within four working hours. Remote sessions need the customer's consent.",
}


def ingest(rag: RagEngine, kb: str = "docs") -> int:
    """The documents in a knowledge base of small chunks; returns how many chunks it holds."""
    rag.create_knowledge_base(kb, chunk_size=32, chunk_overlap=0)
    report = rag.ingest(kb, [(name, text.encode()) for name, text in DOCUMENTS.items()])
    assert sorted(report.added) == sorted(DOCUMENTS)
    return rag.get_knowledge_base(kb).chunk_count


def test_samples_are_distinct_stored_chunks(rag: RagEngine) -> None:
    size = ingest(rag)
    assert size >= 8

    sample = rag.sample_chunks("docs", 5, seed=3)

    assert len(sample) == 5
    assert len({chunk.chunk_id for chunk in sample}) == 5
    for chunk in sample:
        assert chunk.source in DOCUMENTS
        assert chunk.metadata["source"] == chunk.source
        assert chunk.text and chunk.text.split(".")[0] in DOCUMENTS[chunk.source]


def test_the_same_seed_picks_the_same_chunks(rag: RagEngine, make_engine: MakeEngine) -> None:
    ingest(rag)

    first = rag.sample_chunks("docs", 4, seed=7)

    assert rag.sample_chunks("docs", 4, seed=7) == first
    assert make_engine().sample_chunks("docs", 4, seed=7) == first  # a fresh engine on the same files
    others = [[c.chunk_id for c in rag.sample_chunks("docs", 4, seed=seed)] for seed in range(5)]
    assert len({tuple(ids) for ids in others}) > 1


def test_a_sample_is_capped_at_the_knowledge_base_size(rag: RagEngine) -> None:
    size = ingest(rag)

    everything = rag.sample_chunks("docs", size + 10)

    assert len(everything) == size
    assert len({chunk.chunk_id for chunk in everything}) == size
    assert {chunk.source for chunk in everything} == set(DOCUMENTS)


def test_an_empty_knowledge_base_gives_no_chunks(rag: RagEngine) -> None:
    rag.create_knowledge_base("empty")
    assert rag.sample_chunks("empty", 3) == []  # no collection yet

    rag.create_knowledge_base("emptied")
    rag.ingest("emptied", [("note.txt", b"The cafeteria opens at eight.")])
    assert [chunk.source for chunk in rag.sample_chunks("emptied", 3)] == ["note.txt"]
    assert rag.delete_document("emptied", "note.txt")
    assert rag.sample_chunks("emptied", 3) == []  # a collection without chunks


def test_bad_requests_are_refused(rag: RagEngine) -> None:
    ingest(rag)
    with pytest.raises(ValueError, match="at least 1"):
        rag.sample_chunks("docs", 0)
    with pytest.raises(KnowledgeBaseNotFound):
        rag.sample_chunks("missing", 3)
