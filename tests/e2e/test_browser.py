"""A real headless Chromium against `workbench serve`: sign in, open the Run log, save a screenshot.

This runs the app the way `make run` does, embedded MongoDB-wire server included, and checks that
stopping the app stops that server too.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS, IN_CI
from tests.e2e.conftest import ADMIN_PASSWORD, PROJECT_ROOT
from tests.factories import run_logs_between
from workbench.storage.runlog.embedded import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclass
class RunningApp:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    api_url: str = ""


def _workbench(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "workbench.cli", *args], env=env, check=True, cwd=PROJECT_ROOT)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"workbench serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the app did not become healthy")


@pytest.fixture
def running_app(tmp_path: Path) -> Iterator[RunningApp]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Debian chromium is required in CI (make browser installs it)")
        pytest.skip("chromium is not installed (make browser)")
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(
        WORKBENCH_DATA_DIR=str(data_dir),
        WORKBENCH_NEW_USER_PASSWORD=ADMIN_PASSWORD,
        WORKBENCH_LLM__DEFAULT_MODEL="smollm2-135m-instruct",  # the fastest packaged model
        WORKBENCH_API__PORT=str(api_port := free_port()),
    )
    _workbench("user", "create", "admin", "--role", "admin", env=env)
    _workbench("seed-demo", env=env)  # the admin exists: this ingests the sample corpus only
    port = free_port()
    log_file = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port)],
        env=env, cwd=PROJECT_ROOT, stdout=log_file, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield RunningApp(url=url, data_dir=data_dir, process=process, api_url=f"http://127.0.0.1:{api_port}/api/v1")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log_file.close()


def _seed_embedded_logs(app: RunningApp, count: int) -> None:
    from datetime import UTC, datetime, timedelta

    from pymongo import MongoClient

    from workbench.storage.runlog.store import MongoRunLogStore

    state = json.loads((app.data_dir / "mongo-server.json").read_text())
    client: MongoClient[dict[str, object]] = MongoClient(f"mongodb://127.0.0.1:{state['port']}/", tz_aware=True)
    store = MongoRunLogStore(client["workbench"])
    end = datetime.now(UTC)
    store.write([log.to_document() for log in run_logs_between(count, end - timedelta(hours=20), end)])
    client.close()


def _sign_in(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.slow
def test_ask_a_question_and_see_a_streamed_answer_with_its_source(running_app: RunningApp) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _sign_in(page, running_app.url)
        page.get_by_role("link", name="Chat").click()
        expect(page.get_by_role("heading", name="Chat")).to_be_visible(timeout=30_000)
        box = page.get_by_placeholder("Ask a question…")
        box.fill("How long is the warranty on the R2 arm?")
        box.press("Enter")
        expect(page.get_by_test_id("stChatMessage").nth(1)).to_be_visible(timeout=120_000)
        expect(page.get_by_text("Sources (")).to_be_visible(timeout=180_000)
        page.get_by_text("Sources (").first.click()
        expect(page.get_by_text("warranty-policy.md").first).to_be_visible(timeout=10_000)
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "chat.png", full_page=True)
        answer = page.get_by_test_id("stChatMessage").nth(1).inner_text()

        # The turn's trace, on the Run log: the list, then its span tree with the passage it retrieved.
        page.get_by_role("link", name="Run log").click()
        page.get_by_role("tab", name="Traces").click()
        expect(page.get_by_text("1 traces, newest first")).to_be_visible(timeout=30_000)
        page.get_by_role("textbox", name="Open a trace by id").fill(_trace_ids(running_app)[0])
        page.get_by_role("textbox", name="Open a trace by id").press("Enter")
        expect(page.get_by_text("3 spans")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("ms from the trace's start")).to_be_visible(timeout=10_000)  # the timeline drawn
        page.wait_for_timeout(500)
        page.screenshot(path=ARTIFACTS / "trace.png", full_page=True)
        browser.close()
    assert len(answer.strip()) > 10


def _trace_ids(app: RunningApp) -> list[str]:
    """The traces the app stored in its embedded run-log server (the chat's turns)."""
    from pymongo import MongoClient

    state = json.loads((app.data_dir / "mongo-server.json").read_text())
    client: MongoClient[dict[str, object]] = MongoClient(f"mongodb://127.0.0.1:{state['port']}/", tz_aware=True)
    try:
        return [str(doc["trace_id"]) for doc in client["workbench"]["spans"].find({"parent_span_id": None})]
    finally:
        client.close()


def test_sign_in_open_the_run_log_and_stop_cleanly(running_app: RunningApp) -> None:
    from playwright.sync_api import expect, sync_playwright

    _seed_embedded_logs(running_app, 250)
    from tests.workers import answers_ok, wait_until

    wait_until(lambda: answers_ok(running_app.api_url + "/health"), timeout=60,
               what="the HTTP API that workbench serve starts")  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _sign_in(page, running_app.url)
        page.get_by_role("link", name="Run log").click()
        expect(page.get_by_role("heading", name="Run log")).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("stMetricValue").first).to_have_text("250", timeout=30_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        expect(page.get_by_text("Page 1 · 50 of 250 matching calls")).to_be_visible()
        page.wait_for_timeout(1_000)  # let the charts finish drawing before the picture
        page.screenshot(path=ARTIFACTS / "run-log.png", full_page=True)
        page.get_by_role("button", name="Older →").click()
        expect(page.get_by_text("Page 2 · 50 of 250 matching calls")).to_be_visible(timeout=30_000)
        browser.close()
    assert (ARTIFACTS / "run-log.png").stat().st_size > 20_000

    # Ctrl-C on `workbench serve` stops the app and the embedded server it started.
    state = json.loads((running_app.data_dir / "mongo-server.json").read_text())
    running_app.process.send_signal(signal.SIGINT)
    running_app.process.wait(timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _alive(state["pid"]):
        time.sleep(0.2)
    assert not _alive(state["pid"])
    assert not (running_app.data_dir / "mongo-server.json").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); its state in /proc tells it has exited.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"
