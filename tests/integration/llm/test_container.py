"""The container owns one LLMRuntime: built without touching any model, closed with the container."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.bootstrap import build_container
from workbench.llm import ProviderError

pytestmark = pytest.mark.integration


def test_the_container_builds_the_runtime_lazily_and_closes_it(
    mongo_url: str, mongo_database_name: str, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", mongo_url)
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", mongo_database_name)
    container = build_container(register_atexit=False)
    try:
        runtime = container.llm_runtime
        assert runtime.settings == container.settings.llm
        assert runtime.running_local_models() == []
        assert not (isolated_environment / "models").exists(), "no weights assembled before first use"
        assert [spec.id for spec in runtime.catalog.all()][:2] == ["qwen2.5-0.5b-instruct", "smollm2-135m-instruct"]
    finally:
        container.close()
    with pytest.raises(ProviderError, match="shut down"):
        runtime.llm("smollm2-135m-instruct")
