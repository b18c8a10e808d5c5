"""Where runs go as tasks and how workers take them (the `queue:` section; WORKBENCH_QUEUE__*)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class QueueSettings(BaseModel):
    broker_url: SecretStr | None = Field(
        default=None,
        description="redis://host:6379/0 or amqp://user:pass@host:5672//; unset means kombu's filesystem transport "
        "under data_dir/queue, for one machine",
    )
    name: str = Field(
        default="workbench", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="the queue's name on the broker: deployments (or test runs) sharing one broker use their own",
    )  # fmt: skip
    worker_concurrency: int = Field(default=2, ge=1, le=64, description="tasks one worker process works at once")
    visibility_timeout_s: float = Field(
        default=600.0, ge=10, le=86_400,
        description="Redis: a task taken by a worker that died is given to another after this long",
    )  # fmt: skip
    task_retries: int = Field(default=3, ge=0, le=20, description="retries of a task that failed for a passing cause")
    connect_timeout_s: float = Field(default=3.0, gt=0, le=60, description="how long a page waits for the broker")
