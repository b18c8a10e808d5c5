"""workbench.client against the live API: prompts cached by ETag, run logs, refusals as ApiRefused with the reason."""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import ApiWorld
from workbench.client import ApiRefused, WorkbenchClient

pytestmark = pytest.mark.integration


def test_the_client_reads_prompts_with_their_etag_and_says_why_when_refused(api_world: ApiWorld, served: str) -> None:
    api_world.container.prompts.save("greet", "Say hello to {{ name }}.", author="ci", message="first")
    with WorkbenchClient(served, api_world.keys["analyst"]) as wb:
        assert wb.me()["role"] == "analyst"
        first = wb.prompt("greet")
        assert wb.prompt("greet") == first  # answered 304: the cached body
        assert "Say hello to Ada." in wb.render("greet", {"name": "Ada"})["user"]
        assert wb.run_logs(limit=5)["items"] == []
        with pytest.raises(ApiRefused) as caught:
            wb.eval_run("nope")
        assert caught.value.status == 404 and "nope" in caught.value.message
    with WorkbenchClient(served, "wbk_wrong") as stranger, pytest.raises(ApiRefused, match="401: unknown API key"):
        stranger.me()
