"""The embedding class around a fake ONNX session: batching, padding, truncation, pooling, normalisation.

The fake session returns, for each token, a vector made from its token id alone, so a text's embedding must not
depend on the batch it is in; the real model is checked against a numpy reference in the integration tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.rag.embeddings import DIMENSION, OnnxMiniLMEmbedding, mean_pool_normalise


class FakeSession:
    def __init__(self) -> None:
        self.feeds: list[dict[str, np.ndarray]] = []

    def run(self, output_names: list[str] | None, input_feed: dict[str, Any]) -> list[Any]:
        self.feeds.append(input_feed)
        ids = input_feed["input_ids"]
        dims = np.arange(DIMENSION, dtype=np.float32)
        hidden = np.sin(ids[..., None].astype(np.float32) * 0.37 + dims * 0.11) + 0.05 * ids[..., None]
        hidden[input_feed["attention_mask"] == 0] = 1e6  # padding must never leak into the mean
        return [hidden.astype(np.float32)]


def fake_embedding(batch_size: int = 32) -> tuple[OnnxMiniLMEmbedding, FakeSession]:
    session = FakeSession()
    return OnnxMiniLMEmbedding(session=session, embed_batch_size=batch_size), session


def test_mean_pooling_matches_a_loop() -> None:
    rng = np.random.default_rng(7)
    hidden = rng.normal(size=(3, 5, 4)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=np.int64)
    pooled = mean_pool_normalise(hidden, mask)
    for row in range(3):
        kept = hidden[row][mask[row] == 1]
        expected = kept.mean(axis=0)
        np.testing.assert_allclose(pooled[row], expected / np.linalg.norm(expected), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, rtol=1e-6)


def test_batches_pad_to_their_longest_text_and_mask_the_padding() -> None:
    model, session = fake_embedding()
    texts = ["short", "a somewhat longer sentence with more tokens in it", "mid length text"]
    batch = np.array(model.get_text_embedding_batch(texts))
    assert batch.shape == (3, DIMENSION)
    feed = session.feeds[-1]
    lengths = feed["attention_mask"].sum(axis=1)
    assert feed["input_ids"].shape[1] == lengths.max() < 128  # not tokenizer.json's fixed 128
    assert (feed["token_type_ids"] == 0).all()
    alone = np.array([model.get_text_embedding(text) for text in texts])
    np.testing.assert_allclose(batch, alone, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, rtol=1e-5)
    assert model.get_query_embedding("short") == model.get_text_embedding("short")


def test_long_texts_are_truncated_to_256_tokens() -> None:
    model, session = fake_embedding()
    model.get_text_embedding("robot " * 1000)
    assert session.feeds[-1]["input_ids"].shape == (1, 256)
    assert model.count_tokens("robot " * 1000) == 256
    assert model.count_tokens("robot") == 3  # [CLS] robot [SEP]


def test_batch_size_splits_the_calls() -> None:
    model, session = fake_embedding(batch_size=2)
    vectors = model.get_text_embedding_batch([f"text {i}" for i in range(5)])
    assert len(vectors) == 5
    assert [feed["input_ids"].shape[0] for feed in session.feeds] == [2, 2, 1]
    assert model.model_id == "all-MiniLM-L6-v2-onnx-int8"
    assert model.dimension == 384
