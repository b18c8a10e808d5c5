"""The int8 ONNX embedding against an independent float32 numpy implementation of all-MiniLM-L6-v2."""

from __future__ import annotations

import numpy as np
import pytest

from tests.integration.rag.reference_minilm import ReferenceMiniLM
from workbench.rag.embeddings import OnnxMiniLMEmbedding, default_model_files, mean_pool_normalise

pytestmark = pytest.mark.integration

SENTENCES = [
    "How long is the warranty on the R2 arm?",
    "The R2 collaborative arm is covered for 24 months from delivery.",
    "Support is open on Saturdays from nine to one.",
    "A cat sat quietly on the warm windowsill.",
    "robot " * 400,  # longer than the 256-token window: both must truncate
]


@pytest.fixture(scope="module")
def reference() -> ReferenceMiniLM:
    _, _, tokenizer = default_model_files()
    return ReferenceMiniLM(tokenizer.parent)


def test_onnx_int8_matches_the_float32_reference(reference: ReferenceMiniLM, minilm: OnnxMiniLMEmbedding) -> None:
    expected = np.stack([reference.embed_one(text) for text in SENTENCES])
    actual = np.array(minilm.get_text_embedding_batch(SENTENCES))
    assert actual.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(actual, axis=1), 1.0, rtol=1e-5)
    cosines = (expected * actual).sum(axis=1)
    assert cosines.min() > 0.995, cosines  # int8 weights: close to, not equal to, float32
    # Every pairwise similarity within 0.01 of the reference's.
    np.testing.assert_allclose(actual @ actual.T, expected @ expected.T, atol=0.01)


def test_similarity_ordering_on_sentence_pairs(minilm: OnnxMiniLMEmbedding) -> None:
    def cosine(a: str, b: str) -> float:
        return float(np.dot(minilm.get_query_embedding(a), minilm.get_text_embedding(b)))

    question = "How long is the warranty on the R2 arm?"
    assert cosine(question, SENTENCES[1]) > cosine(question, SENTENCES[2]) > cosine(question, SENTENCES[3])
    assert cosine("The weather is lovely today.", "It is sunny and warm outside.") > cosine(
        "The weather is lovely today.", "The invoice is due next month."
    )
    assert cosine("A man is playing a guitar.", "Someone plays an instrument.") > 0.4


def test_pooling_of_the_raw_model_output_by_hand(minilm: OnnxMiniLMEmbedding) -> None:
    """Mean over real tokens only: a padded batch gives what each text gives alone."""
    texts = ["short one", "a much longer sentence than the first, with many more word pieces in it"]
    together = np.array(minilm.get_text_embedding_batch(texts))
    alone = np.array([minilm.get_text_embedding(text) for text in texts])
    np.testing.assert_allclose(together, alone, atol=2e-4)
    hidden = np.ones((1, 3, 384), dtype=np.float32)
    assert mean_pool_normalise(hidden, np.array([[1, 1, 0]])).shape == (1, 384)
