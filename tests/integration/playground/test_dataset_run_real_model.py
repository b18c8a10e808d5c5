"""A 30-row x 2-variant dataset run with the real local model (SmolLM2), stopped, crashed and resumed: every cell
is done exactly once, counted in SQL and in the MongoDB-wire run log."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import MongoServerHandle
from workbench.bootstrap import Container, build_container
from workbench.config import get_settings
from workbench.domain.users import Role
from workbench.playground.datasets import load_dataset, require_mapping, row_values
from workbench.playground.service import Cell
from workbench.playground.variants import Variant
from workbench.services import users as user_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MODEL = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory, mongo_server: MongoServerHandle) -> Iterator[Container]:
    if mongo_server.server.process is None:
        mongo_server.start()
    settings = get_settings(
        data_dir=tmp_path_factory.mktemp("playground-data"),
        mongodb_url=mongo_server.url,
        mongodb_database=f"playground_{uuid.uuid4().hex[:8]}",
    )
    container = build_container(settings, register_atexit=False)
    yield container
    container.close()


def test_thirty_rows_two_variants_interrupted_twice_and_resumed(container: Container) -> None:
    user = user_service.create_user(container.uow(), "tester", "tester-password-1", Role.ANALYST)
    prompt = container.prompts.get("plain-chat", "production")
    variants = [
        Variant("plain-chat", prompt.content, MODEL, prompt.version, temperature=0.0, max_tokens=6),
        Variant("plain-chat", prompt.content, MODEL, prompt.version, temperature=0.9, max_tokens=6,
                system_prompt="Answer in one word."),
    ]  # fmt: skip
    table = load_dataset("playground/support-questions.csv")
    mapping = require_mapping(table, ["question"], {"question": "question"})
    assert table.row_count == 30
    playground = container.playground
    run_id = playground.create_run(
        user_id=user.id, variants=variants, rows=[row_values(row, mapping) for row in table.rows],
        dataset_name=table.name, dataset_sha256=table.sha256, mapping=mapping, concurrency=2,
    )  # fmt: skip

    # 1. Stopped by the user after 12 cells: the cells in progress finish, nothing new starts.
    stop = threading.Event()
    seen: list[Cell] = []

    def stop_after_twelve(cell: Cell) -> None:
        seen.append(cell)
        if len(seen) >= 12:
            stop.set()

    run = playground.execute(run_id, stop=stop, on_cell=stop_after_twelve)
    assert run.status == "stopped"
    assert 12 <= run.done_cells <= 14

    # 2. Crashed: the runner dies in the middle (an exception out of it).
    def crash(cell: Cell) -> None:
        if cell.row_index >= 12:
            raise RuntimeError("the process died")

    with pytest.raises(RuntimeError, match="died"):
        playground.execute(run_id, on_cell=crash)
    crashed = playground.run(run_id)
    assert crashed.status == "failed"
    assert run.done_cells < crashed.done_cells < 60

    # 3. Resumed to the end.
    run = playground.execute(run_id)
    assert (run.status, run.done_cells, run.counts) == ("done", 60, {"ok": 60})
    cells = playground.cells(run_id)
    assert sorted((c.row_index, c.position) for c in cells) == [(r, p) for r in range(30) for p in range(2)]
    assert all(c.output.strip() and c.latency_ms and c.output_tokens for c in cells)

    # Every cell made exactly one model call, and the run log holds exactly one record per cell.
    assert container.runlog_writer.flush(timeout=30)
    logs = list(container.runlog_store.logs.find({"run_id": run_id}))
    assert len(logs) == 60
    assert {doc["_id"] for doc in logs} == {c.id for c in cells}
    assert len({(doc["metadata"]["row"], doc["metadata"]["variant"]) for doc in logs}) == 60
    assert {doc["model"] for doc in logs} == {MODEL}
    assert {doc["prompt_version"] for doc in logs} == {prompt.version}
