"""A real headless Chromium against `workbench serve`: two Playground variants answer side by side."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ARTIFACTS
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, RunningApp, _sign_in, running_app  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]
QUESTIONS_CSV = b"id,question\n1,What is 2 + 2?\n2,Name a colour.\n3,Say hello.\n"
LATENCY = re.compile(r"latency \d+(\.\d+)? (ms|s)")


def _by_key(page: Any, key: str) -> Any:
    """A widget by its Streamlit key (each keyed element's container carries the class st-key-<key>)."""
    return page.locator(f".st-key-{key}")


def _settle(page: Any) -> None:
    """Wait until the script run is over: the page's last widget (on the hidden Dataset tab) is there, none runs."""
    _by_key(page, "pg_ds_start").wait_for(state="attached", timeout=30_000)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=30_000)


def _choose(page: Any, key: str, option: str) -> None:
    _settle(page)  # a rerun that lands while the list is open closes it
    _by_key(page, key).click()
    page.get_by_role("option", name=option, exact=True).click()
    _settle(page)


def _set_number(page: Any, key: str, value: str, shown: str) -> None:
    from playwright.sync_api import expect

    box = _by_key(page, key).locator("input")
    box.fill(value)
    box.press("Enter")
    expect(box).to_have_value(shown, timeout=15_000)
    _settle(page)


def test_two_variants_answer_side_by_side(running_app: RunningApp) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Tall enough for the editors and both answers: Streamlit scrolls inside the page, not the document.
        page = browser.new_page(viewport={"width": 1500, "height": 1900})
        _sign_in(page, running_app.url)
        page.get_by_role("link", name="Playground").click()
        expect(page.get_by_role("heading", name="Playground")).to_be_visible(timeout=30_000)
        for position, temperature in ((0, "0.20"), (1, "1.10")):
            _choose(page, f"pg_v{position}_prompt", "plain-chat")
            _set_number(page, f"pg_v{position}_temperature", temperature, temperature)
            _set_number(page, f"pg_v{position}_max_tokens", "16", "16")
        question = _by_key(page, "pg_try_question").locator("textarea")
        question.fill("What is the capital of France?")
        question.press("Control+Enter")  # commits the text before the click
        _settle(page)
        _by_key(page, "pg_try_run").locator("button").click()
        results = [_by_key(page, f"pg_result_{position}") for position in (0, 1)]
        for result in results:
            expect(result).to_contain_text("first token", timeout=240_000)
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "playground.png", full_page=True)
        texts = [result.inner_text() for result in results]
        answers = [
            [m.inner_text() for m in result.locator("[data-testid='stMarkdown']").all()][1:] for result in results
        ]

        # The same variants over an uploaded table: the progress refreshes by itself until the grid is full.
        page.get_by_role("tab", name="Dataset").click()
        _by_key(page, "pg_ds_source").get_by_text("An uploaded file").click()
        _by_key(page, "pg_ds_upload").locator("input[type=file]").set_input_files(
            files=[{"name": "questions.csv", "mimeType": "text/csv", "buffer": QUESTIONS_CSV}]
        )
        expect(page.get_by_text("questions.csv (3 rows, 2 columns)", exact=False)).to_be_visible(timeout=30_000)
        _by_key(page, "pg_ds_start").locator("button").click()
        progress = page.get_by_text("6 of 6 cells · 6 ok · 0 failed")
        expect(progress).to_be_visible(timeout=240_000)
        page.wait_for_timeout(1_000)
        progress.evaluate("element => element.scrollIntoView({block: 'start'})")  # the grid, in the picture
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "playground-dataset.png", full_page=True)
        # Both runs used the saved version the editors started from, not an accidental draft.
        assert page.get_by_text("draft (edited template)").count() == 0
        assert page.get_by_text("v2 plain-chat v1 · smollm2-135m-instruct").count() == 1
        browser.close()
    for text, temperature in zip(texts, ("temperature 0.2", "temperature 1.1"), strict=True):
        assert LATENCY.search(text), text
        assert temperature in text and "max tokens 16" in text, text
    assert all("".join(answer).strip() for answer in answers), answers
