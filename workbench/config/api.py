"""The HTTP API (`workbench api`; the `api:` section, WORKBENCH_API__*)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApiSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="interface `workbench api` listens on")
    port: int = Field(default=8502, ge=1, le=65535, description="its port (`workbench serve` starts it there)")
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, le=1024**3, description="larger request bodies are refused with 413"
    )
    requests_per_minute: int = Field(
        default=600, ge=1, le=1_000_000, description="per API key; more are refused with 429 and Retry-After"
    )
