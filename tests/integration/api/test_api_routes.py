"""Every /api/v1 route over real SQL (SQLite and PostgreSQL) and the MongoDB-wire run log: what each role gets,
the key check, ETags on prompts, errors as JSON bodies that say what was wrong, and the body-size limit."""

from __future__ import annotations

import time

import pytest

from tests.integration.api.conftest import ApiWorld
from workbench.domain.runlog import RunKind, RunLog
from workbench.services import api_keys
from workbench.services.conversations import append_message, start_conversation

pytestmark = pytest.mark.integration
V1 = "/api/v1"


def test_health_needs_no_key_and_the_openapi_document_lists_the_routes(api_world: ApiWorld) -> None:
    assert api_world.client.get(f"{V1}/health").json() == {"status": "ok"}
    document = api_world.client.get(f"{V1}/openapi.json").json()
    assert {"/api/v1/prompts/{name}", "/api/v1/feedback", "/api/v1/runlogs", "/api/v1/eval-runs/{run_id}"} <= set(
        document["paths"]
    )
    assert api_world.client.get(f"{V1}/docs").status_code == 200


def test_an_expired_key_is_refused_and_what_it_sent_before_is_kept(
    api_world: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from workbench.domain.clock import utcnow

    me = api_world.client.get(f"{V1}/me", headers=api_world.as_("analyst")).json()
    key = api_keys.create_key(api_world.container.uow(), me["id"], "ci", expires_in_days=1).secret
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "s",
            "startTimeUnixNano": str(time.time_ns() - 10**9), "endTimeUnixNano": str(time.time_ns())}]}]}]}  # fmt: skip
    sent = api_world.client.post("/v1/traces", json=body, headers={"Authorization": f"Bearer {key}"})
    assert sent.status_code == 200
    later = utcnow() + timedelta(days=2)
    monkeypatch.setattr("workbench.services.api_keys.utcnow", lambda: later)
    refused = api_world.client.get(f"{V1}/me", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 401 and "expired" in refused.json()["error"]["message"]
    kept = api_world.client.get(f"{V1}/traces/{'ab' * 16}", headers=api_world.as_("viewer"))
    assert kept.status_code == 200 and kept.json()["spans"] == 1


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no API key"),
        ({"Authorization": "Bearer wbk_nonsense"}, "unknown API key"),
        ({"X-API-Key": "sk-other"}, "not a workbench API key"),
    ],
)
def test_a_missing_or_unknown_key_is_refused_with_the_reason(
    api_world: ApiWorld, headers: dict[str, str], reason: str
) -> None:
    answer = api_world.client.get(f"{V1}/me", headers=headers)
    assert answer.status_code == 401
    assert reason in answer.json()["error"]["message"]
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_key_signs_in_its_user_until_it_is_revoked(api_world: ApiWorld) -> None:
    me = api_world.client.get(f"{V1}/me", headers=api_world.as_("analyst")).json()
    assert (me["username"], me["role"]) == ("analyst-user", "analyst")
    (key,) = api_keys.list_keys(api_world.container.uow(), me["id"])
    api_keys.revoke_key(api_world.container.uow(), me["id"], key.id)
    refused = api_world.client.get(f"{V1}/me", headers=api_world.as_("analyst"))
    assert (refused.status_code, refused.json()["error"]["message"]) == (401, "this API key was revoked")


@pytest.mark.parametrize(
    ("route", "allowed"),
    [
        (f"{V1}/prompts", {"admin", "analyst"}),
        (f"{V1}/runlogs", {"admin", "analyst", "viewer"}),
        (f"{V1}/eval-runs/none", {"admin", "analyst"}),
    ],
)
def test_each_role_gets_what_its_pages_give(api_world: ApiWorld, route: str, allowed: set[str]) -> None:
    for role in api_world.keys:
        status = api_world.client.get(route, headers=api_world.as_(role)).status_code
        if role in allowed:
            assert status in (200, 404), (role, route)
        else:
            assert status == 403, (role, route)


def test_a_prompt_by_label_or_version_with_an_etag_and_rendered(api_world: ApiWorld) -> None:
    registry = api_world.container.prompts
    registry.save("greet", "Say hello to {{ name }}.", author="ci", message="first")
    registry.save("greet", "Say hi to {{ name }}.", author="ci", message="second")
    headers = api_world.as_("analyst")
    first = api_world.client.get(f"{V1}/prompts/greet", headers=headers)
    assert first.json()["version"] == 1  # a prompt's first version is its production until the label moves
    registry.set_label("greet", "production", 1, actor="ci")

    production = api_world.client.get(f"{V1}/prompts/greet", headers=headers)
    assert production.status_code == 200
    assert (production.json()["version"], production.json()["variables"]) == (1, ["name"])
    etag = production.headers["etag"]
    again = api_world.client.get(f"{V1}/prompts/greet", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    second = api_world.client.get(f"{V1}/prompts/greet", params={"version": 2}, headers=headers)
    assert "Say hi" in second.json()["body"] and second.headers["etag"] != etag

    rendered = api_world.client.post(f"{V1}/prompts/greet/render", json={"variables": {"name": "Ada"}}, headers=headers)
    assert "Say hello to Ada." in rendered.json()["user"]
    missing = api_world.client.post(f"{V1}/prompts/greet/render", json={"variables": {}}, headers=headers)
    assert missing.status_code == 422 and "name" in missing.json()["error"]["message"]
    unknown = api_world.client.get(f"{V1}/prompts/nope", headers=headers)
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]["message"]


def test_feedback_on_an_answer(api_world: ApiWorld) -> None:
    uow = api_world.container.uow
    with uow() as session:
        owner = session.users.get_by_username("viewer-user")
        assert owner is not None
        owner_id = owner.id
    conversation = start_conversation(uow(), owner_id, "Q")
    answer = append_message(uow(), conversation, "assistant", "Paris.")
    headers = api_world.as_("viewer")

    given = api_world.client.post(f"{V1}/feedback", json={"message_id": answer.id, "rating": -1, "comment": "vague"},
                                  headers=headers)  # fmt: skip
    assert given.status_code == 201 and given.json()["id"]
    bad = api_world.client.post(f"{V1}/feedback", json={"message_id": answer.id, "rating": 5}, headers=headers)
    assert bad.status_code == 422 and "rating" in bad.json()["error"]["message"]
    gone = api_world.client.post(f"{V1}/feedback", json={"message_id": "missing", "rating": 1}, headers=headers)
    assert gone.status_code == 404
    annotator = api_world.client.post(f"{V1}/feedback", json={"message_id": answer.id, "rating": 1},
                                      headers=api_world.as_("annotator"))  # fmt: skip
    assert annotator.status_code == 403


def test_run_logs_newest_first_a_page_at_a_time(api_world: ApiWorld) -> None:
    store = api_world.container.runlog_store
    store.write([RunLog(kind=RunKind.LLM, model=f"m{i}").to_document() for i in range(5)])
    headers = api_world.as_("viewer")
    first = api_world.client.get(f"{V1}/runlogs", params={"kind": "llm", "limit": 3}, headers=headers).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = api_world.client.get(f"{V1}/runlogs", params={"limit": 3, "cursor": first["next_cursor"]},
                                headers=headers).json()  # fmt: skip
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert {item["id"] for item in first["items"]}.isdisjoint(item["id"] for item in rest["items"])
    bad = api_world.client.get(f"{V1}/runlogs", params={"cursor": "###"}, headers=headers)
    assert bad.status_code == 422 and "cursor" in bad.json()["error"]["message"]


def test_an_eval_run_that_is_not_there_and_an_unknown_route(api_world: ApiWorld) -> None:
    missing = api_world.client.get(f"{V1}/eval-runs/nope", headers=api_world.as_("analyst"))
    assert missing.status_code == 404 and "nope" in missing.json()["error"]["message"]
    route = api_world.client.get(f"{V1}/nothing-here", headers=api_world.as_("analyst"))
    assert route.status_code == 404 and "no such route" in route.json()["error"]["message"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(api_world: ApiWorld) -> None:
    limit = api_world.container.settings.api.max_body_bytes
    answer = api_world.client.post(f"{V1}/feedback", content=b"x" * (limit + 1), headers={
        **api_world.as_("viewer"), "Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 413 and "larger than" in answer.json()["error"]["message"]


def test_each_key_has_its_own_request_budget(api_world: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.security.ratelimit import RateLimiter

    api_world.client.app.state.rate_limiter = RateLimiter(per_minute=3)  # type: ignore[attr-defined]
    statuses = [api_world.client.get(f"{V1}/me", headers=api_world.as_("viewer")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api_world.client.get(f"{V1}/me", headers=api_world.as_("viewer"))
    assert int(refused.headers["retry-after"]) >= 1 and "wait" in refused.json()["error"]["message"]
    assert api_world.client.get(f"{V1}/me", headers=api_world.as_("admin")).status_code == 200  # another key
