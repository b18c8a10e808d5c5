"""Eval datasets, eval runs (start, status, results, the gate) and annotation queues over the API, on real SQL and
the MongoDB-wire server; runs are seeded with the scripted pipeline, as the CLI's gate tests are."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest

from tests.evaluation_fakes import SAMPLE_ITEMS
from tests.integration.api.conftest import ApiWorld
from workbench.domain.traces import flatten, span_document
from workbench.domain.users import Role
from workbench.evaluation.datasets import EvalDatasetService
from workbench.labelling.rubrics import DEFAULT_RUBRIC
from workbench.labelling.views import Actor

pytestmark = pytest.mark.integration
V1 = "/api/v1"
TRACE = "0af7651916cd43dd8448eb211c80319c"


def store_trace(api_world: ApiWorld, trace_id: str = TRACE, question: str = "How long is the warranty?") -> None:
    """An application's trace: a chain with a retriever and an LLM span, as OpenInference instrumentors send it."""
    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC) - timedelta(seconds=2)
    end = start + timedelta(seconds=1)
    documents = [{"id": "d1", "content": "The R2 arm has 24 months of warranty.", "score": 0.8,
                  "metadata": '{"source": "warranty.md"}'}]  # fmt: skip
    spans = [
        span_document(trace_id=trace_id, span_id="a" * 16, parent_span_id=None, name="answer", kind="CHAIN",
                      start=start, end=end, attributes={"input.value": question, "output.value": "24 months.",
                                                        "session.id": "s-9"}),
        span_document(trace_id=trace_id, span_id="b" * 16, parent_span_id="a" * 16, name="retrieve",
                      kind="RETRIEVER", start=start, end=end,
                      attributes=flatten("retrieval.documents", documents, "document")),
    ]  # fmt: skip
    api_world.container.traces.add(spans)


def test_gate_over_the_api_has_the_clis_exit_semantics(api_world: ApiWorld, seeded_runs: dict[str, str]) -> None:
    analyst, good, bad = api_world.as_("analyst"), seeded_runs["good"], seeded_runs["bad"]
    body = {"baseline": good, "candidate": bad, "fail_if_worse": ["string_similarity:0.05"]}
    failed = api_world.client.post(f"{V1}/eval-runs/compare", json=body, headers=analyst).json()
    assert (failed["passed"], failed["exit_code"], failed["failed_metrics"]) == (False, 1, ["string_similarity"])
    (verdict,) = failed["gate"]
    assert verdict["worse"] and verdict["delta"] < -0.05 and verdict["p_holm"] < 0.05

    same = api_world.client.post(f"{V1}/eval-runs/compare", json={**body, "candidate": good}, headers=analyst)
    assert (same.json()["passed"], same.json()["exit_code"]) == (True, 0)
    plain = api_world.client.post(f"{V1}/eval-runs/compare", json={"baseline": good[:8], "candidate": bad},
                                  headers=analyst).json()  # fmt: skip
    assert plain["gate"] == [] and {m["metric"] for m in plain["metrics"]} >= {"exact_match", "string_similarity"}

    malformed = api_world.client.post(f"{V1}/eval-runs/compare", json={**body, "fail_if_worse": ["chrf"]},
                                      headers=analyst)  # fmt: skip
    assert malformed.status_code == 400 and "METRIC:DELTA" in malformed.json()["error"]["message"]
    alpha = api_world.client.post(f"{V1}/eval-runs/compare", json={**body, "alpha": 1}, headers=analyst)
    assert alpha.status_code == 400 and "alpha must lie strictly between 0 and 1" in alpha.text
    unknown = api_world.client.post(f"{V1}/eval-runs/compare", json={**body, "candidate": "ffffffffff"},
                                    headers=analyst)  # fmt: skip
    assert unknown.status_code == 404


def test_runs_list_status_and_results_as_json_and_csv(api_world: ApiWorld, seeded_runs: dict[str, str]) -> None:
    analyst = api_world.as_("analyst")
    listed = api_world.client.get(f"{V1}/eval-runs", params={"tag": "good"}, headers=analyst).json()
    assert [run["id"] for run in listed] == [seeded_runs["good"]]
    status = api_world.client.get(f"{V1}/eval-runs/{seeded_runs['bad']}", headers=analyst).json()
    assert (status["status"], status["items"], status["done"], status["progress"]) == ("completed", 12, 12, 1.0)
    results = api_world.client.get(f"{V1}/eval-runs/{seeded_runs['good']}/results", headers=analyst).json()
    assert results["summary"]["exact_match"]["mean"] == 1.0 and results["summary"]["exact_match"]["n_ok"] == 12
    scores = api_world.client.get(f"{V1}/eval-runs/{seeded_runs['good']}/results", params={"format": "csv"},
                                  headers=analyst)  # fmt: skip
    assert scores.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(scores.text)))
    assert len({row["item_key"] for row in rows}) == 12
    assert api_world.client.get(f"{V1}/eval-runs", headers=api_world.as_("viewer")).status_code == 403


def test_a_run_started_over_the_api_waits_on_the_queue_and_can_be_stopped(api_world: ApiWorld) -> None:
    analyst = api_world.as_("analyst")
    EvalDatasetService(api_world.container.uow).import_items("facts", SAMPLE_ITEMS, source="test", actor="ana")
    config = {"model": "smollm2-135m-instruct", "knowledge_base": None, "metrics": ["exact_match"]}
    answer = api_world.client.post(f"{V1}/eval-runs", json={"dataset": "facts", "config": config, "repeats": 2,
                                                            "tags": ["ci"]}, headers=analyst)  # fmt: skip
    assert answer.status_code == 202, answer.text
    started = answer.json()
    assert [run["repeat"] for run in started["runs"]] == [1, 2] and started["workers"] == 0
    assert "no worker answers" in started["note"]
    assert all(run["status"] == "running" and "ci" in run["tags"] for run in started["runs"])
    assert api_world.container.queue.status().depth == 24  # one task per item and repeat, for the workers
    stopped = api_world.client.post(f"{V1}/eval-runs/{started['runs'][0]['id']}/stop", headers=analyst).json()
    assert stopped["status"] in ("stopping", "stopped")

    missing = api_world.client.post(f"{V1}/eval-runs", json={"dataset": "nope", "config": config}, headers=analyst)
    assert missing.status_code == 404 and "no eval dataset 'nope'" in missing.json()["error"]["message"]
    bad = api_world.client.post(f"{V1}/eval-runs", json={"dataset": "facts", "config": {"modle": "x"}},
                                headers=analyst)  # fmt: skip
    assert bad.status_code == 422 and "modle" in bad.json()["error"]["message"]


def test_items_and_traces_are_added_to_an_eval_dataset_as_a_new_version(api_world: ApiWorld) -> None:
    analyst = api_world.as_("analyst")
    store_trace(api_world)
    first = api_world.client.post(f"{V1}/eval-datasets/support/items", headers=analyst, json={
        "items": [{"question": "Where is the manual?", "reference_answer": "On page 2."}]}).json()  # fmt: skip
    assert (first["name"], first["version"], first["items"]) == ("support", 1, 1)
    second = api_world.client.post(f"{V1}/eval-datasets/support/items", headers=analyst,
                                   json={"traces": [TRACE]}).json()  # fmt: skip
    assert (second["version"], second["items"]) == (2, 2)  # appended to version 1
    service = api_world.container.eval_datasets
    items = service.items(service.version("support").id)
    from_trace = items[1]
    assert (from_trace.question, from_trace.reference_answer) == ("How long is the warranty?", "24 months.")
    assert from_trace.reference_contexts == ("The R2 arm has 24 months of warranty.",)
    again = api_world.client.post(f"{V1}/eval-datasets/support/items", headers=analyst, json={"traces": [TRACE]})
    assert again.json()["unchanged"] is True  # the same question is not added twice
    listed = api_world.client.get(f"{V1}/eval-datasets", headers=analyst).json()
    assert [(d["name"], d["version"]) for d in listed] == [("support", 2)]

    unknown = api_world.client.post(f"{V1}/eval-datasets/support/items", headers=analyst, json={"traces": ["ab"]})
    assert unknown.status_code == 404 and "No trace ab" in unknown.json()["error"]["message"]
    empty = api_world.client.post(f"{V1}/eval-datasets/support/items", headers=analyst, json={})
    assert empty.status_code == 422


def test_traces_are_added_to_an_annotation_queue_once(api_world: ApiWorld) -> None:
    container = api_world.container
    admin = next(u for u in container_users(api_world) if u.role == Role.ADMIN)
    actor = Actor(admin.id, admin.username, admin.role)
    rubric = container.label_queues.save_rubric(actor, "quality", DEFAULT_RUBRIC)
    queue = container.label_queues.create_queue(actor, "support answers", rubric.version_id, 1, [admin.id])
    store_trace(api_world)
    store_trace(api_world, "1" * 32, "Which arm is lighter?")
    path = f"{V1}/annotation-queues/{queue.id}/items"
    added = api_world.client.post(path, json={"traces": [TRACE, "1" * 32]}, headers=api_world.as_("analyst"))
    assert added.status_code == 201 and added.json() == {"added": 2, "already_there": 0}
    again = api_world.client.post(path, json={"traces": [TRACE]}, headers=api_world.as_("admin")).json()
    assert again == {"added": 0, "already_there": 1}
    with container.uow() as uow:
        assert uow.labelling.source_ids(queue.id, "trace") == {TRACE, "1" * 32}
    annotator = api_world.client.post(path, json={"traces": [TRACE]}, headers=api_world.as_("annotator"))
    assert annotator.status_code == 403
    missing = api_world.client.post(f"{V1}/annotation-queues/nope/items", json={"traces": [TRACE]},
                                    headers=api_world.as_("analyst"))  # fmt: skip
    assert missing.status_code == 404 and "does not exist" in missing.json()["error"]["message"]
    listed = api_world.client.get(f"{V1}/annotation-queues", headers=api_world.as_("analyst")).json()
    assert [q["name"] for q in listed] == ["support answers"]


def container_users(api_world: ApiWorld) -> list[Any]:
    from workbench.services import users

    return users.list_users(api_world.container.uow())


def test_a_chat_turns_trace_is_read_back_as_a_tree(api_world: ApiWorld) -> None:
    """The chat's own spans reach the store through the writer, keyed by the turn's run id."""
    from datetime import UTC, datetime

    from workbench.services.chat_trace import TurnTrace

    trace = TurnTrace("2" * 32, "u1", "conv-1", "api", started=datetime.now(UTC))
    api_world.container.runlog_writer.log_spans(trace.finish("q?", "a.", kb=None, model="m", error=None))
    assert api_world.container.runlog_writer.flush(10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        answer = api_world.client.get(f"{V1}/traces/{'2' * 32}", headers=api_world.as_("viewer"))
        if answer.status_code == 200:
            break
        time.sleep(0.05)
    (root,) = answer.json()["roots"]
    assert (root["kind"], root["session_id"], root["service"]) == ("CHAIN", "conv-1", "genai-workbench")
