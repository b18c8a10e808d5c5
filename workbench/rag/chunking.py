"""Chunking with LlamaIndex's SentenceSplitter, and the deterministic ids of chunks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer_internal

from workbench.rag.loaders import LoadedDocument


@dataclass(frozen=True, slots=True)
class Chunk:
    id: str
    text: str
    metadata: dict[str, str | int]


@cache
def _sentence_tokenizer() -> Any:
    from nltk.tokenize import PunktSentenceTokenizer  # type: ignore[import-untyped]

    return PunktSentenceTokenizer()


def split_sentences(text: str) -> list[str]:
    """LlamaIndex's default sentence split (untrained Punkt), without loading its NLTK stopword files.

    SentenceSplitter's default loads nltk's English stopwords from llama_index's bundled cache; nltk 3.10
    refuses to open hard-linked data files, and uv installs packages as hard links, so that default fails.
    The stopwords are not used for splitting: this gives exactly the same sentences.
    """
    return split_by_sentence_tokenizer_internal(text, _sentence_tokenizer())


def build_splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, chunking_tokenizer_fn=split_sentences)


def chunk_id(kb: str, source: str, index: int, content_sha256: str) -> str:
    """Same knowledge base, source, position and content give the same id, so re-runs cannot duplicate."""
    key = "\x1f".join((kb, source, str(index), content_sha256))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def chunk_document(
    document: LoadedDocument,
    *,
    kb: str,
    content_sha256: str,
    split: Callable[[str], list[str]],
) -> list[Chunk]:
    """Split each part of `document`; chunks carry source, title, page or row, and their index."""
    chunks: list[Chunk] = []
    for part in document.parts:
        for text in split(part.text):
            if not text.strip():
                continue
            index = len(chunks)
            metadata: dict[str, str | int] = {
                "source": document.source,
                "title": document.title,
                "chunk_index": index,
                "content_sha256": content_sha256,
                **part.metadata,
            }
            chunks.append(Chunk(chunk_id(kb, document.source, index, content_sha256), text, metadata))
    return chunks
