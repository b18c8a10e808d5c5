"""Chunk ids are deterministic; chunks carry their source, title, page or row, and index; sizes are respected."""

from __future__ import annotations

import pytest

from workbench.rag.chunking import build_splitter, chunk_document, chunk_id, split_sentences
from workbench.rag.loaders import LoadedDocument, Part


def test_chunk_ids_depend_on_kb_source_index_and_content_only() -> None:
    base = chunk_id("kb", "docs/a.md", 0, "f" * 64)
    assert base == chunk_id("kb", "docs/a.md", 0, "f" * 64)
    assert len(base) == 40
    variants = {
        chunk_id("kb2", "docs/a.md", 0, "f" * 64),
        chunk_id("kb", "docs/b.md", 0, "f" * 64),
        chunk_id("kb", "docs/a.md", 1, "f" * 64),
        chunk_id("kb", "docs/a.md", 0, "e" * 64),
        chunk_id("k", "bdocs/a.md", 0, "f" * 64),  # the separator keeps fields from running together
    }
    assert base not in variants
    assert len(variants) == 5


def test_chunks_carry_metadata_and_running_indexes() -> None:
    document = LoadedDocument(
        "guide.pdf", "Guide", "application/pdf", [Part("one. two.", {"page": 1}), Part("three.", {"page": 3})]
    )
    chunks = chunk_document(document, kb="kb", content_sha256="a" * 64, split=lambda text: text.split(" "))
    assert [chunk.text for chunk in chunks] == ["one.", "two.", "three."]
    assert [chunk.metadata["chunk_index"] for chunk in chunks] == [0, 1, 2]
    assert [chunk.metadata["page"] for chunk in chunks] == [1, 1, 3]
    assert chunks[0].metadata == {
        "source": "guide.pdf", "title": "Guide", "chunk_index": 0, "content_sha256": "a" * 64, "page": 1,
    }  # fmt: skip
    assert [chunk.id for chunk in chunks] == [chunk_id("kb", "guide.pdf", i, "a" * 64) for i in range(3)]
    again = chunk_document(document, kb="kb", content_sha256="a" * 64, split=lambda text: text.split(" "))
    assert [chunk.id for chunk in again] == [chunk.id for chunk in chunks]


def test_sentence_split_keeps_every_character() -> None:
    text = "Dr. Smith met Mr. Jones at 9 a.m. today. They talked!  Then they left?\nNew line here."
    sentences = split_sentences(text)
    assert "".join(sentences) == text
    assert len(sentences) >= 3


@pytest.mark.parametrize(("size", "overlap"), [(64, 8), (256, 32)])
def test_splitter_respects_chunk_size(size: int, overlap: int) -> None:
    import tiktoken

    splitter = build_splitter(size, overlap)
    text = " ".join(f"Sentence number {i} talks about robot arms and warranty periods." for i in range(200))
    chunks = splitter.split_text(text)
    encoding = tiktoken.get_encoding("cl100k_base")
    assert len(chunks) > 1
    assert max(len(encoding.encode(chunk)) for chunk in chunks) <= size
    assert "Sentence number 0 " in chunks[0]
    assert "Sentence number 199 " in chunks[-1]
