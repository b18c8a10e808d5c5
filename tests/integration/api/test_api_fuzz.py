"""Property-based fuzzing of every route in the OpenAPI document (schemathesis, over the ASGI app on real SQLite and
the MongoDB-wire server): no 500 for any input, every refusal a JSON body that says what was wrong, and every route
but /health refused without a key and for a role the route does not allow."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.integration.api.conftest import serving
from workbench.api.app import create_api
from workbench.bootstrap import build_container
from workbench.config import Settings
from workbench.config.api import ApiSettings
from workbench.domain.users import Role
from workbench.services import api_keys, users
from workbench.storage.runlog.embedded import free_port

pytestmark = pytest.mark.integration
KEYS: dict[str, str] = {}
OPEN = {"/api/v1/health"}


def _document() -> dict[str, Any]:
    """The OpenAPI document, made without a container (routes are declared, not called, to make it)."""
    # Built at collection, so from no settings of the environment (a .env in the checkout must not matter).
    bare = SimpleNamespace(settings=SimpleNamespace(api=ApiSettings()))
    document: dict[str, Any] = create_api(bare).openapi()  # type: ignore[arg-type]
    return document


# Loaded at collection from the document alone; the cases are sent over HTTP to the live API of the fixture below.
# (schemathesis.pytest.from_fixture would build the app lazily, but reads a pytest internal that pytest 9 dropped.)
schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory, mongo_server: Any) -> Iterator[str]:
    data = tmp_path_factory.mktemp("fuzz")
    nowhere = f"http://127.0.0.1:{free_port()}/v1"  # chat's model: a server that is not there (a fast 502)
    config = Settings(
        data_dir=data, mongodb_url=mongo_server.url, mongodb_database="fuzz",  # type: ignore[arg-type]
        llm={"default_model": "away", "extra_models": [{"id": "away", "provider": "openai_compatible",
             "model": "m", "base_url": nowhere}], "warm_up_on_open": False, "request_timeout_s": 2, "max_retries": 0},
        api={"requests_per_minute": 1_000_000},
    )  # fmt: skip
    container = build_container(config, register_atexit=False)
    for role in (Role.ADMIN, Role.VIEWER, Role.ANNOTATOR):
        user = users.create_user(container.uow(), f"fuzz-{role.value}", "a-long-enough-password", role)
        KEYS[role.value] = api_keys.create_key(container.uow(), user.id, "fuzz").secret
    try:
        with serving(create_api(container)) as url:
            yield url
    finally:
        container.close()


# A fixed sequence of examples by default (the same in every CI run of the same code); WORKBENCH_FUZZ_EXAMPLES=200
# explores further, with fresh examples each time.
EXPLORE = os.environ.get("WORKBENCH_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(EXPLORE or "15"), deadline=None, derandomize=EXPLORE is None,
                suppress_health_check=list(HealthCheck))  # fmt: skip


def assert_said(response: Any) -> None:
    assert response.status_code != 500, response.text
    if response.status_code >= 500:
        assert response.status_code in (502, 503), response.text  # an upstream away: said so, not a crash
    if response.status_code >= 400:
        body = response.json()
        assert body["error"]["message"], body
        assert body["error"]["status"] == response.status_code


@schema.parametrize()
@FUZZ
def test_no_input_is_a_server_error_and_every_refusal_says_why(case: Any, live_api: str) -> None:
    response = case.call(base_url=live_api, headers={"Authorization": f"Bearer {KEYS['admin']}"})
    assert_said(response)


@schema.parametrize()
@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_route_but_health_answers_without_a_key(case: Any, live_api: str) -> None:
    response = case.call(base_url=live_api)
    if case.method.upper() != case.operation.method.upper():  # a method the route does not take
        assert response.status_code == 405
        assert_said(response)
    elif case.path in OPEN:
        assert response.status_code == 200
    else:
        # 400/404/413/422: refused for the body or the path itself before the key was looked at; never answered
        assert response.status_code in (400, 401, 404, 413, 422), response.text
        assert_said(response)
        if response.status_code == 401:
            challenge = response.headers["www-authenticate"]  # schemathesis keeps every value of a header
            assert (challenge[0] if isinstance(challenge, list) else challenge).startswith("Bearer")


def test_an_annotator_key_is_refused_on_every_route_but_its_own(live_api: str) -> None:
    annotator = {"Authorization": f"Bearer {KEYS['annotator']}"}
    theirs = {("get", "/api/v1/me"), ("get", "/api/v1/annotation-queues")}  # who they are; the queues they label
    for path, methods in _document()["paths"].items():
        if path in OPEN:
            continue
        concrete = re.sub(r"\{[a-z_]+\}", "x", path)
        for method in methods:
            answer = httpx.request(method.upper(), live_api + concrete, headers=annotator, json={})
            expected = 200 if (method, path) in theirs else 403  # annotators label; nothing else here
            assert answer.status_code == expected, (method, path, answer.text)
