"""The Run log page over real stores: empty state, figures that match the store, filters, paging, outage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.components.formatting import format_count
from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from tests.factories import MODELS, run_log, to_millis
from workbench.domain.runlog_query import RunLogFilter
from workbench.storage.runlog.embedded import free_port

pytestmark = pytest.mark.e2e


def metric(at, label: str) -> str:  # type: ignore[no-untyped-def]
    return next(m.value for m in at.metric if m.label == label)


def test_empty_run_log_says_what_will_appear(app_env: AppEnvironment) -> None:
    at = open_page(signed_in(), "run_log")
    assert [t.value for t in at.title] == ["Run log"]
    assert "No run logs yet" in at.info[0].value


def test_figures_match_the_store_and_filters_narrow_them(app_env: AppEnvironment) -> None:
    app_env.seed_logs(400, hours=48)
    store = app_env.store()
    last_day = RunLogFilter(start=datetime.now(UTC) - timedelta(hours=24))
    at = open_page(signed_in(), "run_log")
    assert metric(at, "Calls") == format_count(store.summary(last_day).count)

    at.selectbox(key="runlog_preset").select("All time").run()
    assert metric(at, "Calls") == "400"

    model = MODELS[0]
    at.multiselect(key="runlog_models").select(model).run()
    expected = store.summary(RunLogFilter(models=(model,))).count
    assert 0 < expected < 400
    assert metric(at, "Calls") == format_count(expected)
    table = at.dataframe[0].value
    assert set(table["model"]) == {model}


def test_paging_walks_older_and_back_without_overlap(app_env: AppEnvironment) -> None:
    app_env.seed_logs(120, hours=10)
    at = open_page(signed_in(), "run_log")
    at.selectbox(key="runlog_page_size").select(50).run()
    first = at.dataframe[0].value
    assert len(first) == 50
    assert at.button(key="runlog_newer").disabled
    at.button(key="runlog_older").click().run()
    second = at.dataframe[0].value
    assert len(second) == 50
    assert set(first["id"]).isdisjoint(second["id"])
    assert first["time (UTC)"].min() >= second["time (UTC)"].max()
    at.button(key="runlog_older").click().run()
    third = at.dataframe[0].value
    assert len(third) == 20
    assert at.button(key="runlog_older").disabled
    at.button(key="runlog_newer").click().run()
    assert list(at.dataframe[0].value["id"]) == list(second["id"])


def test_filter_with_no_match_suggests_widening(app_env: AppEnvironment) -> None:
    five_hours_ago = to_millis(datetime.now(UTC) - timedelta(hours=5))
    app_env.store().write([run_log(created_at=five_hours_ago).to_document() for _ in range(5)])
    at = open_page(signed_in(), "run_log")
    assert metric(at, "Calls") == "5"
    at.selectbox(key="runlog_preset").select("Last hour").run()
    assert "No run logs match these filters" in at.info[0].value


def test_unreachable_run_log_database_shows_what_to_do(
    app_env: AppEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(signed_in(), "run_log")
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", f"mongodb://127.0.0.1:{free_port()}/")
    monkeypatch.setenv("WORKBENCH_RUNLOG__SERVER_SELECTION_TIMEOUT_MS", "300")
    at.run()
    assert not at.exception
    assert "run-log database is not reachable" in at.error[0].value
