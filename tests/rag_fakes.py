"""Embedding stand-ins for the RAG tests: a cheap deterministic one, and a wrapper that counts the work done."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import PrivateAttr


class HashEmbedding(BaseEmbedding):
    """Bag of hashed words as a unit vector: texts sharing words are similar, and no model is loaded."""

    model_id: str = "hash-embedding-v1"
    dimension: int = 384

    @classmethod
    def class_name(cls) -> str:
        return "HashEmbedding"

    def _vector(self, text: str) -> Embedding:
        vector = np.zeros(self.dimension, dtype=np.float64)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dimension] += 1.0 if digest[4] % 2 else -1.0
        norm = np.linalg.norm(vector)
        result: Embedding = (vector / norm if norm else vector).tolist()
        return result

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return self._vector(query)


class CountingEmbedding(BaseEmbedding):
    """Delegates to another embedding and counts the texts and queries it was asked to embed."""

    model_id: str
    dimension: int
    texts: int = 0
    queries: int = 0
    _inner: BaseEmbedding = PrivateAttr()

    def __init__(self, inner: BaseEmbedding, **kwargs: Any) -> None:
        super().__init__(model_id=inner.model_id, dimension=inner.dimension, model_name=inner.model_name, **kwargs)
        self._inner = inner

    @classmethod
    def class_name(cls) -> str:
        return "CountingEmbedding"

    def reset(self) -> None:
        self.texts = 0
        self.queries = 0

    def _get_query_embedding(self, query: str) -> Embedding:
        self.queries += 1
        return self._inner.get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> Embedding:
        self.texts += 1
        return self._inner.get_text_embedding(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        self.texts += len(texts)
        return self._inner.get_text_embedding_batch(texts)

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return self._get_query_embedding(query)
