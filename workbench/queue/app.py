"""The Celery app every process shares: the UI and the CLI send tasks with it, `workbench worker` works them.

Tasks are sent by name (`EVAL_ITEM`, `PLAYGROUND_CELL`), so a sender never imports the worker's code. With no
broker configured, kombu's filesystem transport keeps the queue in data_dir/queue: every process on the machine
sees the same messages, and no server is needed. A configured broker (Redis, RabbitMQ) carries the same tasks to
workers on any machine.

Delivery is at least once: a task is acknowledged after it returns (its result is committed by then), and a task
whose worker died is delivered again. The results are keyed (run and item, run and row and variant), so a task that
runs twice stores its result once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery

from workbench.config import Settings

EVAL_ITEM = "workbench.eval.item"
PLAYGROUND_CELL = "workbench.playground.cell"


def broker_of(settings: Settings) -> tuple[str, dict[str, Any]]:
    """The broker URL and its transport options (the filesystem folders for the embedded default)."""
    queue = settings.queue
    if queue.broker_url is not None:
        url = queue.broker_url.get_secret_value()
        options: dict[str, Any] = {}
        if url.startswith(("redis://", "rediss://")):
            options = {
                "visibility_timeout": queue.visibility_timeout_s,
                # Look for tasks of dead workers every few seconds, not every 100 s (kombu's default sweep).
                "unacked_restore_interval": max(1.0, min(10.0, queue.visibility_timeout_s / 2)),
                "unacked_restore_throttle": 1,
                # The sweep's lock: a worker killed while holding it (it sweeps every few seconds) must not stop
                # every other worker's sweep for kombu's default 300 s.
                "unacked_mutex_expire": 10,
                # Every key under the queue's name, the list of unacknowledged tasks included: deployments (or test
                # runs) sharing one Redis neither restore nor lock each other's tasks.
                "global_keyprefix": f"{queue.name}:",
                "socket_connect_timeout": queue.connect_timeout_s,
                "socket_timeout": max(queue.connect_timeout_s, 10.0),
            }
        return url, options
    folder = embedded_queue_dir(settings)
    for sub in ("messages", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return "filesystem://", {
        # One folder in and out: every process on the machine shares one queue.
        "data_folder_in": str(folder / "messages"),
        "data_folder_out": str(folder / "messages"),
        # A taken message is moved (an atomic rename on one file system), so two workers never take the same one;
        # the default moves it to the system's temp folder, which may be another file system.
        "store_processed": True,
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "polling_interval": 0.1,
    }


def embedded_queue_dir(settings: Settings) -> Path:
    return settings.resolved_data_dir / "queue"


def broker_for_display(settings: Settings) -> str:
    """Where the queue is, without credentials."""
    if settings.queue.broker_url is None:
        return f"embedded (files in {embedded_queue_dir(settings)})"
    url = settings.queue.broker_url.get_secret_value()
    scheme, _, rest = url.partition("://")
    host = rest.rpartition("@")[2]
    return f"{scheme}://{host}"


def celery_app(settings: Settings) -> Celery:
    url, options = broker_of(settings)
    app = Celery("workbench", set_as_current=False)
    app.conf.update(
        broker_url=url,
        broker_transport_options=options,
        broker_connection_timeout=settings.queue.connect_timeout_s,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker whose broker went away reconnects until it is back
        task_default_queue=settings.queue.name,
        control_exchange=settings.queue.name,  # a ping reaches (and counts) this deployment's workers only
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # results live in SQL; no result backend
        task_acks_late=True,  # acknowledged after the result is committed
        task_reject_on_worker_lost=True,  # a task whose worker died goes back to the queue
        worker_prefetch_multiplier=1,  # a worker holds no more tasks than it works, so others take the rest
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
        enable_utc=True,
    )
    return app
