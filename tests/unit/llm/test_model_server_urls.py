"""Where the model server tells a client its model runs."""

from __future__ import annotations

from workbench.llm.model_server import _as_seen_from


def test_a_loopback_model_is_left_as_it_is() -> None:
    assert _as_seen_from("models:8765", "http://127.0.0.1:40001/v1") == "http://127.0.0.1:40001/v1"


def test_a_model_on_every_interface_is_reached_by_the_askers_name() -> None:
    assert _as_seen_from("models:8765", "http://0.0.0.0:40001/v1") == "http://models:40001/v1"
    assert _as_seen_from("10.0.0.7", "http://0.0.0.0:40001/v1") == "http://10.0.0.7:40001/v1"
    assert _as_seen_from(None, "http://0.0.0.0:40001/v1") == "http://0.0.0.0:40001/v1"
