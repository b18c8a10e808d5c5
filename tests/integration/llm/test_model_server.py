"""`workbench model-server`: one process runs a local model for several others (the app and its workers), which
find it through `llm.model_server_url`; a wrong key and an unknown model are refused with the reason, and a
model server that is not there is a clear connection error, not a hang."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.llm.conftest import require_weights
from tests.workers import answers_ok, wait_until
from workbench.llm import LLMRuntime, LLMSettings, ModelWeights, ProviderError
from workbench.llm.errors import FailureKind
from workbench.llm.messages import Message, Role
from workbench.storage.runlog.embedded import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SMOL = "smollm2-135m-instruct"
KEY = "test-model-server-key"


@pytest.fixture
def model_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    host = getattr(request, "param", "127.0.0.1")
    port = free_port()
    env = {**os.environ, "WORKBENCH_LLM__MODEL_SERVER_KEY": KEY, "WORKBENCH_LLM__LOCAL_THREADS": "1"}
    log = (tmp_path / "model-server.log").open("wb")
    command = [sys.executable, "-m", "workbench.cli", "model-server", "--port", str(port), "--parallel", "2",
               "--host", host]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers_ok(url + "/health"), timeout=60, what="the model server")
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def runtime(tmp_path: Path, url: str, key: str = KEY) -> LLMRuntime:
    settings = LLMSettings(model_server_url=url, model_server_key=key, request_timeout_s=60, max_retries=0)
    return LLMRuntime(settings, ModelWeights(tmp_path / "models"))


def test_two_processes_share_one_running_model(model_server: str, tmp_path: Path) -> None:
    app, worker = runtime(tmp_path, model_server), runtime(tmp_path, model_server)
    try:
        require_weights(app, SMOL)
        spec = app.catalog.get(SMOL)
        assert app.local_server(spec).base_url == worker.local_server(spec).base_url  # one llama.cpp server
        for side in (app, worker):
            stream = side.stream_chat(SMOL, [Message(Role.USER, "Say hello.")], max_tokens=8)
            assert "".join(stream).strip() and stream.output_tokens
        assert app.running_local_models() == [SMOL]  # known here, run there
    finally:
        app.close()
        worker.close()


def test_a_wrong_key_an_unknown_model_and_an_absent_server_say_why(model_server: str, tmp_path: Path) -> None:
    wrong = runtime(tmp_path, model_server, key="not-the-key")
    with pytest.raises(ProviderError, match="wrong or missing key"):
        "".join(wrong.stream_chat(SMOL, [Message(Role.USER, "Hi")], max_tokens=2))
    absent = runtime(tmp_path, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderError, match="does not answer") as caught:
        "".join(absent.stream_chat(SMOL, [Message(Role.USER, "Hi")], max_tokens=2))
    assert caught.value.kind == FailureKind.CONNECTION
    assert "workbench model-server" in str(caught.value)


@pytest.mark.parametrize("model_server", ["0.0.0.0"], indirect=True)
def test_a_model_server_for_other_machines_points_them_at_the_name_they_used(model_server: str, tmp_path: Path) -> None:
    port = model_server.rsplit(":", 1)[1]
    other = runtime(tmp_path, f"http://localhost:{port}")  # as another container would: by a name, not 127.0.0.1
    try:
        require_weights(other, SMOL)
        base_url = other.local_server(other.catalog.get(SMOL)).base_url
        assert base_url.startswith("http://localhost:") and base_url.endswith("/v1")
        stream = other.stream_chat(SMOL, [Message(Role.USER, "Say hello.")], max_tokens=4)
        assert "".join(stream).strip()
    finally:
        other.close()
