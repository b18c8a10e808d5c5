"""A real headless Chromium against `workbench serve`: compare two eval runs and open an item's drill-down.

The runs are seeded through the services into the app's own SQLite file (a scripted pipeline answers: 'good'
repeats the reference answers, 'bad' gets two items in three wrong); everything after that is done in the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.views.evaluation import compare as eval_compare
from tests.conftest import ARTIFACTS
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, RunningApp, _sign_in, running_app  # noqa: F401
from tests.evaluation_fakes import SAMPLE_ITEMS, ScriptedPipeline
from tests.playground_fakes import Recorder
from workbench.bootstrap import build_sql
from workbench.config import get_settings
from workbench.evaluation.config import EvalConfig
from workbench.evaluation.datasets import EvalDatasetService
from workbench.evaluation.reports import EvalReports
from workbench.evaluation.runs import EvalRunService
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
WAIT = 30_000
ROW = 35  # st.dataframe's row height in pixels (the header row too)


@pytest.fixture
def seeded(running_app: RunningApp, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # noqa: F811
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(running_app.data_dir))  # the app's SQLite file
    engine, factory = build_sql(get_settings())
    uow: Callable[[], SqlUnitOfWork] = lambda: SqlUnitOfWork(factory)  # noqa: E731
    EvalDatasetService(uow).import_items("facts", SAMPLE_ITEMS, source="test", actor="admin")
    service = EvalRunService(uow, ScriptedPipeline(), Recorder())
    ids = {}
    for model in ("good", "bad"):
        (run,) = service.create_run("facts", EvalConfig(model=model, knowledge_base=None), actor="admin")
        ids[model] = service.execute(run.id).id
    # The item the Compare tab lists first for its default metric, found the way the page finds it.
    comparison = EvalReports(uow).compare(ids["good"], ids["bad"])
    first = eval_compare.changed(comparison.deltas[eval_compare.default_metric(comparison.metrics)])[0]
    ids["question"], ids["item_key"] = first.question, first.item_key
    engine.dispose()
    return ids


def _settle(page: Any) -> None:
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=WAIT)


def test_compare_two_runs_and_open_an_item(running_app: RunningApp, seeded: dict[str, str]) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Tall: Streamlit scrolls inside its own container, so a full-page picture is only as tall as the window.
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        _sign_in(page, running_app.url)
        page.get_by_role("link", name="Evaluation").click()
        expect(page.get_by_role("heading", name="Evaluation")).to_be_visible(timeout=WAIT)
        _settle(page)

        # Select both runs in the table (the row checkboxes are drawn on the grid's canvas) and compare them.
        grid = page.get_by_test_id("stDataFrame").first
        expect(grid).to_contain_text("good · rag-answer v1 · no retrieval", timeout=WAIT)
        box = grid.bounding_box()
        for row in (0, 1):
            page.mouse.click(box["x"] + 18, box["y"] + ROW * (row + 1.5))
            _settle(page)
        export = page.get_by_role("button", name="Export 2 runs (CSV)")
        expect(export).to_be_visible(timeout=WAIT)
        with page.expect_download() as download:
            export.click()
        exported = Path(download.value.path()).read_text()
        assert exported.startswith("run_id,run_name,repeat,dataset,dataset_version,model,prompt,prompt_version,")
        assert {line.split(",")[0] for line in exported.splitlines()[1:]} == {seeded["good"], seeded["bad"]}
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "evaluation-runs.png", full_page=True)
        page.get_by_role("button", name="Compare 2 runs").click()
        expect(
            page.get_by_text("bad · rag-answer v1 · no retrieval  vs  good · rag-answer v1 · no retrieval")
        ).to_be_visible(timeout=WAIT)
        page.locator(".js-plotly-plot").nth(2).wait_for(timeout=WAIT)
        _settle(page)
        page.mouse.move(0, 0)  # no table toolbar or tooltip in the picture
        page.wait_for_timeout(1_000)  # let the charts finish drawing before the picture
        page.screenshot(path=ARTIFACTS / "evaluation-compare.png", full_page=True)
        table = page.get_by_test_id("stDataFrame").first
        expect(table).to_contain_text("p-value")
        expect(table).to_contain_text("p (Holm)")
        expect(table).to_contain_text("Exact match")

        expect(page.get_by_text(seeded["question"]).first).to_be_visible()
        opener = page.locator(f".st-key-eval_open_{seeded['bad']}_{seeded['item_key']}")
        opener.get_by_role("button", name="Open").first.click()
        panel = page.locator(".st-key-eval_item_panel")
        expect(panel).to_be_visible(timeout=WAIT)
        _settle(page)
        n = int(seeded["question"].rsplit(maxsplit=1)[-1].rstrip("?"))  # ScriptedPipeline's answers to fact n
        expect(panel).to_contain_text(seeded["question"])
        expect(panel.locator(".st-key-eval_item_baseline")).to_contain_text(f"Fact {n} is {n * 7} units.")
        expect(panel.locator(".st-key-eval_item_candidate")).to_contain_text(
            f"I think fact {n} is about {n * 5} things."
        )
        page.mouse.move(0, 0)  # no tooltip in the picture
        panel.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "evaluation-item.png")  # the window, scrolled to the drill-down

        page.get_by_role("tab", name="Summary").click()
        expect(page.get_by_text("Items answered and scored")).to_be_visible(timeout=WAIT)
        page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT)
        _settle(page)
        page.wait_for_timeout(1_000)
        page.screenshot(path=ARTIFACTS / "evaluation-summary.png", full_page=True)
        page.get_by_role("tab", name="Trends").click()
        page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT)
        _settle(page)
        page.wait_for_timeout(1_000)
        page.screenshot(path=ARTIFACTS / "evaluation-trends.png", full_page=True)
        browser.close()
    for name in ("runs", "compare", "item", "summary", "trends"):
        assert (ARTIFACTS / f"evaluation-{name}.png").stat().st_size > 20_000
