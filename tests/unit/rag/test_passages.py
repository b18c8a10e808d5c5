"""Retrieved chunks as numbered context and citations (what the chat and eval runs answer with)."""

from __future__ import annotations

from workbench.rag.passages import CITATION_PREVIEW_CHARS, NO_PASSAGES, passages
from workbench.rag.records import RetrievedChunk


def chunk(source: str, text: str, **metadata: object) -> RetrievedChunk:
    return RetrievedChunk(source=source, text=text, score=0.812345, chunk_id=f"{source}#0", metadata=dict(metadata))


def test_each_chunk_is_numbered_in_the_context_and_cited_by_that_number() -> None:
    citations, context = passages([chunk("a.md", "Alpha.", page=2, secret="x"), chunk("b.md", "Beta.")])
    assert context == "[1] (from a.md)\nAlpha.\n\n[2] (from b.md)\nBeta."
    assert citations[0] == {"n": 1, "source": "a.md", "chunk_id": "a.md#0", "score": 0.8123, "text": "Alpha.",
                            "page": 2}  # fmt: skip
    assert citations[1]["n"] == 2


def test_a_citation_keeps_a_preview_and_no_chunks_say_so() -> None:
    citations, _ = passages([chunk("long.md", "x" * (CITATION_PREVIEW_CHARS + 50))])
    assert len(citations[0]["text"]) == CITATION_PREVIEW_CHARS
    assert passages([]) == ([], NO_PASSAGES)
