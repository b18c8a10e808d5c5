"""Settings of retrieval: where vectors live, how documents are chunked, which embedding model is used."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

EmbeddingProvider = Literal["local", "openai", "huggingface"]

LOCAL_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DEFAULT_MODELS: dict[str, str] = {
    "local": LOCAL_MODEL_ID,
    "openai": "text-embedding-3-small",
    "huggingface": "sentence-transformers/all-MiniLM-L6-v2",
}


class RagSettings(BaseModel):
    """`WORKBENCH_RAG__*`. Chunk sizes here are the defaults of a new knowledge base; each KB keeps its own."""

    chroma_path: Path | None = Field(default=None, description="Chroma directory; unset means <data_dir>/chroma")
    max_file_mb: float = Field(default=20.0, gt=0, le=2_000, description="larger files are refused")
    # 256, not the common 512: the local model reads at most 256 tokens, so the rest of a longer chunk would
    # never reach its vector (measured on the sample corpus: answers late in a 512-token chunk were not found).
    chunk_size: int = Field(default=256, ge=32, le=8_192, description="tokens per chunk (tiktoken cl100k)")
    chunk_overlap: int = Field(default=32, ge=0, le=4_096, description="tokens shared by neighbouring chunks")
    top_k: int = Field(default=4, ge=1, le=100)
    embedding_provider: EmbeddingProvider = Field(
        default="local", description="local: all-MiniLM-L6-v2 int8 ONNX, offline, no torch"
    )
    embedding_model: str = Field(
        default="", description="model name for openai/huggingface; unset means the provider's usual default"
    )
    embed_batch_size: int = Field(default=32, ge=1, le=2_048)
    embedding_threads: int = Field(
        default=0, ge=0, le=256, description="onnxruntime intra-op threads for the local model; 0 = all cores"
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Self:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("rag.chunk_overlap must be smaller than rag.chunk_size")
        return self

    @model_validator(mode="after")
    def _local_model_is_fixed(self) -> Self:
        if self.embedding_provider == "local" and self.embedding_model not in ("", LOCAL_MODEL_ID):
            raise ValueError(f"the local embedding provider runs {LOCAL_MODEL_ID} only; leave embedding_model unset")
        return self

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def resolved_embedding_model(self) -> str:
        return self.embedding_model or DEFAULT_MODELS[self.embedding_provider]

    @property
    def embedding_model_id(self) -> str:
        """The id an index built with these settings records (known without loading the model)."""
        if self.embedding_provider == "local":
            return LOCAL_MODEL_ID
        return f"{self.embedding_provider}:{self.resolved_embedding_model}"
