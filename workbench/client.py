"""A small Python client of the workbench's HTTP API (httpx), for applications and CI jobs:

    from workbench.client import WorkbenchClient
    with WorkbenchClient("http://127.0.0.1:8502", key="wbk_...") as wb:
        prompt = wb.prompt("rag-answer")                 # production, else the latest; cached by its ETag
        turn = wb.chat("How long is the warranty?", knowledge_base="sample")
        wb.feedback(turn["message_id"], rating=1)

A refusal raises ApiRefused with the status and the server's reason. Nothing here imports the rest of the
workbench: an application can vendor this one file.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

V1 = "/api/v1"


class ApiRefused(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class WorkbenchClient:
    def __init__(self, url: str, key: str, *, timeout_s: float = 120.0, transport: httpx.BaseTransport | None = None):
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"},
                                  timeout=timeout_s, transport=transport)  # fmt: skip
        self._prompts: dict[tuple[str, str | None, int | None], tuple[str, dict[str, Any]]] = {}  # -> (etag, body)

    # Reading ------------------------------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        return self._json("GET", "/me")

    def prompt(self, name: str, *, label: str | None = None, version: int | None = None) -> dict[str, Any]:
        """A prompt version; asked again with its ETag, so an unchanged prompt costs a 304 and no body."""
        cache_key = (name, label, version)
        cached = self._prompts.get(cache_key)
        params = {key: value for key, value in (("label", label), ("version", version)) if value is not None}
        headers = {"If-None-Match": cached[0]} if cached else {}
        response = self._http.get(f"{V1}/prompts/{name}", params=params, headers=headers)
        if response.status_code == 304 and cached is not None:
            return cached[1]
        body = self._checked(response)
        self._prompts[cache_key] = (response.headers.get("etag", ""), body)
        return body

    def render(
        self, name: str, variables: dict[str, Any], *, label: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        return self._json("POST", f"/prompts/{name}/render",
                          json={"variables": variables, "label": label, "version": version})  # fmt: skip

    def run_logs(self, *, limit: int = 50, cursor: str | None = None, **filters: Any) -> dict[str, Any]:
        return self._json("GET", "/runlogs", params={"limit": limit, "cursor": cursor, **filters})

    def eval_run(self, run_id: str) -> dict[str, Any]:
        return self._json("GET", f"/eval-runs/{run_id}")

    def eval_runs(self, **filters: Any) -> list[dict[str, Any]]:
        """Newest first (filters: dataset, tag, status, limit), each with its metric summary."""
        return self._json_list("GET", "/eval-runs", params=filters)

    def eval_results(self, run_id: str) -> dict[str, Any]:
        return self._json("GET", f"/eval-runs/{run_id}/results")

    def eval_scores_csv(self, run_id: str) -> str:
        response = self._http.get(f"{V1}/eval-runs/{run_id}/results", params={"format": "csv"})
        if response.status_code >= 400:
            self._checked(response)
        return response.text

    def eval_datasets(self) -> list[dict[str, Any]]:
        return self._json_list("GET", "/eval-datasets")

    def annotation_queues(self) -> list[dict[str, Any]]:
        return self._json_list("GET", "/annotation-queues")

    def traces(self, *, session_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        return self._json_list("GET", "/traces", params={"session_id": session_id, "limit": limit})

    def sessions(self, limit: int = 50) -> list[dict[str, Any]]:
        return self._json_list("GET", "/traces/sessions", params={"limit": limit})

    def trace(self, trace_id: str) -> dict[str, Any]:
        return self._json("GET", f"/traces/{trace_id}")

    # Acting -------------------------------------------------------------------------------------------------

    def chat(self, question: str, **options: Any) -> dict[str, Any]:
        """A whole answer with its citations (options: knowledge_base, model, conversation_id, max_tokens)."""
        return self._json("POST", "/chat", json={"question": question, **options, "stream": False})

    def feedback(self, message_id: str, rating: int, comment: str | None = None) -> str:
        body = self._json("POST", "/feedback", json={"message_id": message_id, "rating": rating, "comment": comment})
        return str(body["id"])

    def trace_feedback(
        self, trace_id: str, *, rating: int | None = None, score: float | None = None, comment: str | None = None
    ) -> str:
        """Thumbs (1 or -1), a score from 0 to 1 and/or a comment on a trace your application sent."""
        body = self._json("POST", "/feedback", json={"trace_id": trace_id, "rating": rating, "score": score,
                                                      "comment": comment})  # fmt: skip
        return str(body["id"])

    def start_eval_run(self, dataset: str, config: dict[str, Any], **options: Any) -> list[dict[str, Any]]:
        """Runs of a configuration on the server's queue workers (options: version, repeats, name, tags)."""
        body = self._json("POST", "/eval-runs", json={"dataset": dataset, "config": config, **options})
        runs: list[dict[str, Any]] = body["runs"]
        return runs

    def stop_eval_run(self, run_id: str) -> dict[str, Any]:
        return self._json("POST", f"/eval-runs/{run_id}/stop")

    def compare(self, baseline: str, candidate: str, **options: Any) -> dict[str, Any]:
        """The comparison and, with fail_if_worse=["metric:delta", ...], the gate: `passed` and `exit_code`."""
        return self._json("POST", "/eval-runs/compare", json={"baseline": baseline, "candidate": candidate, **options})

    def add_to_dataset(
        self, name: str, *, items: list[dict[str, Any]] | None = None, traces: list[str] | None = None,
        replace: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """A new version of an eval dataset with these items (or items made from stored traces) added."""
        return self._json("POST", f"/eval-datasets/{name}/items",
                          json={"items": items or [], "traces": traces or [], "replace": replace})  # fmt: skip

    def add_to_queue(self, queue_id: str, traces: list[str]) -> dict[str, Any]:
        return self._json("POST", f"/annotation-queues/{queue_id}/items", json={"traces": traces})

    # Plumbing -----------------------------------------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if "params" in kwargs:
            kwargs["params"] = {key: value for key, value in kwargs["params"].items() if value is not None}
        return self._checked(self._http.request(method, V1 + path, **kwargs))

    def _json_list(self, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        return self._json(method, path, **kwargs)  # type: ignore[return-value] # the routes that answer a list

    @staticmethod
    def _checked(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:500] or response.reason_phrase
            raise ApiRefused(response.status_code, message)
        body: dict[str, Any] = response.json()
        return body

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WorkbenchClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
