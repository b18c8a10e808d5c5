"""A real headless Chromium against `workbench serve`: two annotators label three items, a reviewer adjudicates.

The queue is seeded through the services on the app's own data directory (SQLite file and embedded MongoDB-wire
server, which the test process reuses while the app runs); everything after that is done in the browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import ARTIFACTS
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, RunningApp, running_app  # noqa: F401
from workbench.bootstrap import Container, build_container
from workbench.domain.users import Role
from workbench.labelling.rubrics import DEFAULT_RUBRIC
from workbench.labelling.views import Actor, ItemDraft
from workbench.services import users as user_service

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]
PASSWORD = "annotator-pass-1"
QUESTIONS = ["How long is the warranty on the R2 arm?", "Which plans include SSO?", "Can I export my data?"]
# (correct, helpfulness) per item: the annotators agree on the first and last item and disagree on the second.
LABELS = {"ann1": [(True, 4), (True, 5), (False, 2)], "ann2": [(True, 4), (False, 2), (False, 2)]}
NOTE = "The answer leaves out the enterprise plan."
WAIT = 30_000


@dataclass
class Seeded:
    container: Container
    queue_id: str
    admin: Actor


@pytest.fixture
def seeded(running_app: RunningApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:  # noqa: F811
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(running_app.data_dir))  # the app's SQLite file and MongoDB server
    container = build_container(register_atexit=False)
    try:
        people = [user_service.create_user(container.uow(), name, PASSWORD, Role.ANNOTATOR) for name in LABELS]
        admin_view = next(u for u in user_service.list_users(container.uow()) if u.username == "admin")
        admin = Actor(admin_view.id, admin_view.username, admin_view.role)
        queues = container.label_queues
        rubric = queues.save_rubric(admin, "answer quality", DEFAULT_RUBRIC)
        queue = queues.create_queue(admin, "Support answers", rubric.version_id, 2, [p.id for p in people])
        drafts = [
            ItemDraft(
                "eval", f"case-{n}", question, f"Answer number {n}.", metadata={"model": "qwen-0.5b"},
                chunks=[{"chunk_id": f"c{n}a", "source": "handbook.md", "text": f"Passage A about {question}"},
                        {"chunk_id": f"c{n}b", "source": "faq.md", "text": "An unrelated passage."}],
            )
            for n, question in enumerate(QUESTIONS)
        ]  # fmt: skip
        assert queues.add_items(admin, queue.id, drafts) == (3, 0)
        yield Seeded(container, queue.id, admin)
    finally:
        container.close()


def _sign_in_as(browser: Any, url: str, username: str, password: str) -> Any:
    """A fresh browser context (its own Streamlit session) signed in as `username`."""
    page = browser.new_context(viewport={"width": 1400, "height": 1300}).new_page()
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    return page


def _open(page: Any, link: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name=link)).to_be_visible(timeout=WAIT)


def _settle(page: Any) -> None:
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=WAIT)


def _choose(page: Any, field: str, position: int) -> None:
    """Click a rubric choice on the Labelling page and wait until it shows as chosen."""
    option = page.locator(f"[class*='_opt_{field}_{position}'] button")
    option.click()
    page.locator(f"[class*='_opt_{field}_{position}'] [data-testid='stBaseButton-primary']").wait_for(timeout=WAIT)


def _label_three_items(browser: Any, url: str, username: str, screenshot: str | None = None) -> None:
    from playwright.sync_api import expect

    page = _sign_in_as(browser, url, username, PASSWORD)
    _open(page, "Labelling")
    for n, (correct, helpfulness) in enumerate(LABELS[username]):
        expect(page.get_by_text(QUESTIONS[n], exact=True)).to_be_visible(timeout=WAIT)
        _settle(page)  # the previous item's form is gone once the run is over
        _choose(page, "correct", 0 if correct else 1)
        _choose(page, "helpfulness", helpfulness - 1)
        passage = page.locator(f"[class*='_c_c{n}a']")  # the first passage is relevant
        passage.locator("button").filter(has_text=re.compile(r"^Relevant$")).click()
        passage.locator("[aria-checked='true'], [data-testid*='Active']").first.wait_for(timeout=WAIT)
        _settle(page)
        if screenshot and n == 1:
            page.wait_for_timeout(500)
            page.screenshot(path=ARTIFACTS / screenshot, full_page=True)
        page.locator("[class*='st-key-lab_submit_'] button").click()
        expect(page.get_by_text("Label saved.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Nothing left for you in this queue.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("My labels (3)")).to_be_visible(timeout=WAIT)
    page.context.close()


def test_two_annotators_label_and_a_reviewer_adjudicates(running_app: RunningApp, seeded: Seeded) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _label_three_items(browser, running_app.url, "ann1", screenshot="labelling-annotator.png")
        _label_three_items(browser, running_app.url, "ann2")

        page = _sign_in_as(browser, running_app.url, "admin", ADMIN_PASSWORD)
        _open(page, "Review")
        expect(page.get_by_text("6 of 6 labels (100%)")).to_be_visible(timeout=WAIT)

        page.get_by_role("tab", name="Agreement").click()
        page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT)
        expect(page.get_by_text("Most disagreement")).to_be_visible()
        _settle(page)
        page.wait_for_timeout(1_000)  # let the chart finish drawing before the picture
        page.screenshot(path=ARTIFACTS / "review-agreement.png", full_page=True)

        page.get_by_role("tab", name="Adjudicate").click()
        accept = page.locator(".st-key-review_adj_accept button")
        expect(accept).to_contain_text("Accept majority", timeout=WAIT)
        accept.click()
        expect(page.get_by_text("Recorded the majority as the final label, decided by admin.")).to_be_visible(
            timeout=WAIT
        )
        expect(page.get_by_text("(majority accepted)")).to_be_visible()

        page.locator(".st-key-review_adj_next button").click()  # the second item: the one they disagree on
        expect(page.get_by_text("Answer number 1.")).to_be_visible(timeout=WAIT)
        _settle(page)
        page.locator(".st-key-review_adj_field_correct").get_by_text("no", exact=True).click()
        page.locator(".st-key-review_adj_field_helpfulness").get_by_text("3", exact=True).click()
        page.locator(".st-key-review_adj_note input").fill(NOTE)
        page.get_by_role("button", name="Save final label").click()
        expect(page.get_by_text("(set by hand)")).to_be_visible(timeout=WAIT)
        expect(page.get_by_text(NOTE)).to_be_visible()
        _settle(page)
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "review-adjudicate.png", full_page=True)
        browser.close()

    admin = seeded.admin
    assert seeded.container.label_queues.progress(admin, seeded.queue_id).labels == 6
    decided = {item.question: item.decision for item in seeded.container.review.items(admin, seeded.queue_id)}
    first, second, third = (decided[question] for question in QUESTIONS)
    assert first is not None and (first.reviewer, first.method) == ("admin", "majority")
    assert first.values == {"correct": True, "helpfulness": 4}
    assert second is not None and (second.reviewer, second.method, second.note) == ("admin", "manual", NOTE)
    assert second.values["correct"] is False and second.values["helpfulness"] == 3
    assert third is None
    for name in ("labelling-annotator.png", "review-agreement.png", "review-adjudicate.png"):
        assert (ARTIFACTS / name).stat().st_size > 20_000
