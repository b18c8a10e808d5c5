"""Chat through the API with the real small local model: a whole answer, the same streamed as server-sent events,
the caller's conversations, and refusals that say why."""

from __future__ import annotations

import json

import pytest

from tests.integration.api.conftest import ApiWorld

pytestmark = [pytest.mark.integration, pytest.mark.slow]
V1 = "/api/v1"
SMOL = {"model": "smollm2-135m-instruct", "max_tokens": 8}


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest) -> str:  # one SQL engine is enough here: the model is under test
    return str(request.getfixturevalue("sqlite_url"))


def test_an_answer_is_stored_in_a_conversation_and_can_be_rated(api_world: ApiWorld) -> None:
    headers = api_world.as_("viewer")
    answer = api_world.client.post(f"{V1}/chat", json={"question": "Say hello.", **SMOL}, headers=headers)
    assert answer.status_code == 200, answer.text
    turn = answer.json()
    assert turn["answer"].strip() and turn["message_id"] and turn["model"] == SMOL["model"]

    (conversation,) = api_world.client.get(f"{V1}/conversations", headers=headers).json()
    assert conversation["id"] == turn["conversation_id"]
    transcript = api_world.client.get(f"{V1}/conversations/{conversation['id']}/messages", headers=headers).json()
    assert [m["role"] for m in transcript] == ["user", "assistant"]
    rated = api_world.client.post(f"{V1}/feedback", json={"message_id": turn["message_id"], "rating": 1},
                                  headers=headers)  # fmt: skip
    assert rated.status_code == 201
    others = api_world.client.get(f"{V1}/conversations/{conversation['id']}/messages", headers=api_world.as_("admin"))
    assert others.status_code == 404  # another user's conversation


def test_a_streamed_answer_arrives_as_server_sent_events(api_world: ApiWorld) -> None:
    with api_world.client.stream("POST", f"{V1}/chat", json={"question": "Say hi.", "stream": True, **SMOL},
                                 headers=api_world.as_("analyst")) as response:  # fmt: skip
        assert response.headers["content-type"].startswith("text/event-stream")
        events = []
        for block in response.read().decode().split("\n\n"):
            if block.strip():
                name, data = block.split("\n", 1)
                events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    names = [name for name, _ in events]
    assert names[0] == "citations" and names[-1] == "done" and "delta" in names
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text == events[-1][1]["answer"] and events[-1][1]["message_id"]


def test_bad_chat_requests_say_why(api_world: ApiWorld) -> None:
    headers = api_world.as_("viewer")
    unknown = api_world.client.post(f"{V1}/chat", json={"question": "Hi", "model": "gpt-9"}, headers=headers)
    assert unknown.status_code == 422 and "gpt-9" in unknown.json()["error"]["message"]
    empty = api_world.client.post(f"{V1}/chat", json={"question": "", **SMOL}, headers=headers)
    assert empty.status_code == 422 and "question" in empty.json()["error"]["message"]
    annotator = api_world.client.post(f"{V1}/chat", json={"question": "Hi", **SMOL}, headers=api_world.as_("annotator"))
    assert annotator.status_code == 403
