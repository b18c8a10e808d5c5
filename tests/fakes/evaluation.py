"""The in-memory repository of RAG evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tests.fakes import dispatch
from tests.fakes.tables import Tables
from workbench.storage.ports import ScoreTuple
from workbench.storage.sql.models import (
    EvalDatasetRow,
    EvalDatasetVersionRow,
    EvalItemRow,
    EvalResultRow,
    EvalRunRow,
    EvalScoreRow,
    EvalSummaryRow,
    EvaluationRow,
)


class FakeEvaluationRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add(self, row: EvaluationRow) -> None:
        self._tables.add(row)

    def add_all(self, rows: Sequence[EvaluationRow]) -> None:
        for row in rows:
            self._tables.add(row)

    def flush(self) -> None:
        self._tables.check_unique()  # a flush is where the database reports a clash

    # Datasets -------------------------------------------------------------------------------------------------

    def dataset_by_name(self, name: str) -> EvalDatasetRow | None:
        return self._tables.first(EvalDatasetRow, name=name)

    def datasets(self) -> Sequence[EvalDatasetRow]:
        return sorted(self._tables.where(EvalDatasetRow), key=lambda row: row.name)

    def version_of(self, dataset_id: str, version: int | None = None) -> EvalDatasetVersionRow | None:
        rows = [row for row in self.versions(dataset_id) if version in (None, row.version)]
        return rows[0] if rows else None

    def versions(self, dataset_id: str | None = None) -> Sequence[EvalDatasetVersionRow]:
        rows = self._tables.where(EvalDatasetVersionRow, lambda row: dataset_id in (None, row.dataset_id))
        return sorted(rows, key=lambda row: row.version, reverse=True)

    def items(self, version_id: str) -> Sequence[EvalItemRow]:
        return sorted(self._tables.where(EvalItemRow, version_id=version_id), key=lambda row: row.position)

    def items_with_key(self, version_ids: Sequence[str], item_key: str) -> Sequence[EvalItemRow]:
        return self._tables.where(EvalItemRow, lambda row: row.version_id in version_ids, item_key=item_key)

    def dataset_names(self, version_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        names = {}
        for version in self._tables.where(EvalDatasetVersionRow, lambda row: row.id in version_ids):
            dataset = self._tables.get(EvalDatasetRow, version.dataset_id)
            if dataset is not None:
                names[version.id] = (dataset.name, version.version)
        return names

    # Runs -----------------------------------------------------------------------------------------------------

    def run(self, run_id: str) -> EvalRunRow | None:
        return self._tables.get(EvalRunRow, run_id)

    def runs(
        self, *, dataset_id: str | None = None, version_ids: Sequence[str] | None = None,
        created_by: str | None = None, statuses: Sequence[str] | None = None, limit: int = 500,
    ) -> Sequence[EvalRunRow]:  # fmt: skip
        of_dataset = None if dataset_id is None else {row.id for row in self.versions(dataset_id)}
        rows = self._tables.where(
            EvalRunRow,
            lambda row: (
                created_by in (None, row.created_by)
                and (statuses is None or row.status in statuses)
                and (of_dataset is None or row.version_id in of_dataset)
                and (version_ids is None or row.version_id in version_ids)
            ),
        )
        return sorted(rows, key=lambda row: row.created_at, reverse=True)[:limit]

    def run_ids_starting(self, prefix: str, limit: int = 2) -> list[str]:
        return sorted(row.id for row in self._tables.where(EvalRunRow) if row.id.startswith(prefix))[:limit]

    def runs_by_id(self, run_ids: Sequence[str]) -> Sequence[EvalRunRow]:
        return self._tables.where(EvalRunRow, lambda row: row.id in run_ids)

    def last_repeat(self, version_id: str, config_hash: str) -> int:
        repeats = [row.repeat for row in self._tables.where(EvalRunRow, version_id=version_id, config_hash=config_hash)]
        return max(repeats, default=0)

    def begin_dispatch(self, run_id: str, dispatch_id: str, now: datetime) -> bool:
        run = self.run(run_id)
        started = (run.started_at if run is not None else None) or now
        return dispatch.begin(
            run, dispatch_id, status="running", started_at=started, error=None, finished_at=None, dispatched_at=now
        )

    def end_dispatch(
        self, run_id: str, dispatch_id: str | None, status: str, error: str | None, finished_at: datetime | None
    ) -> bool:
        return dispatch.end(self.run(run_id), dispatch_id, status=status, error=error, finished_at=finished_at)

    def lock_run(self, run_id: str) -> None:
        pass  # one thread at a time works on the in-memory tables

    def dispatched_runs(self) -> Sequence[EvalRunRow]:
        return self._tables.where(EvalRunRow, lambda row: row.dispatch_id is not None)

    def last_result_at(self, run_id: str) -> datetime | None:
        return max((row.created_at for row in self._tables.where(EvalResultRow, run_id=run_id)), default=None)

    def set_counts(self, run_id: str, *, grow_only: bool = False) -> tuple[int, int]:
        statuses = [row.status for row in self._tables.where(EvalResultRow, run_id=run_id)]
        done, failed = len(statuses), statuses.count("failed")
        run = self.run(run_id)
        if run is not None and not (grow_only and run.done_count >= done):
            run.done_count, run.failed_count = done, failed
        return done, failed

    def set_tags(self, run_id: str, tags: list[str]) -> None:
        run = self.run(run_id)
        if run is not None:
            run.tags = list(tags)

    # Results and scores ---------------------------------------------------------------------------------------

    def done_item_ids(self, run_id: str) -> set[str]:
        return {row.item_id for row in self._tables.where(EvalResultRow, run_id=run_id)}

    def has_result(self, run_id: str, item_id: str) -> bool:
        return bool(self._tables.where(EvalResultRow, run_id=run_id, item_id=item_id))

    def item(self, item_id: str) -> EvalItemRow | None:
        return next(iter(self._tables.where(EvalItemRow, id=item_id)), None)

    def delete_failed_results(self, run_id: str) -> None:
        failed = {row.item_id for row in self._tables.where(EvalResultRow, run_id=run_id, status="failed")}
        failed |= {row.item_id for row in self._tables.where(EvalScoreRow, run_id=run_id, status="failed")}
        stale = [
            *self._tables.where(EvalScoreRow, lambda row: row.item_id in failed, run_id=run_id),
            *self._tables.where(EvalResultRow, lambda row: row.item_id in failed, run_id=run_id),
        ]
        for row in stale:
            self._tables.delete(row)

    def results(self, run_id: str, item_keys: Sequence[str] | None = None) -> Sequence[EvalResultRow]:
        return self._tables.where(EvalResultRow, lambda row: item_keys is None or row.item_key in item_keys,
                                  run_id=run_id)  # fmt: skip

    def scores(
        self, run_ids: Sequence[str], metrics: Sequence[str] | None = None, item_keys: Sequence[str] | None = None
    ) -> list[ScoreTuple]:
        rows = self._tables.where(
            EvalScoreRow,
            lambda row: (
                row.run_id in run_ids
                and (metrics is None or row.metric in metrics)
                and (item_keys is None or row.item_key in item_keys)
            ),
        )
        return [(row.run_id, row.item_key, row.metric, row.value, row.status, row.cause) for row in rows]

    def score_rows(self, run_id: str, item_keys: Sequence[str]) -> Sequence[EvalScoreRow]:
        return self._tables.where(EvalScoreRow, lambda row: row.item_key in item_keys, run_id=run_id)

    def metric_values(self, run_id: str) -> dict[str, list[tuple[float | None, str, str | None]]]:
        values: dict[str, list[tuple[float | None, str, str | None]]] = {}
        for row in self._tables.where(EvalScoreRow, run_id=run_id):
            values.setdefault(row.metric, []).append((row.value, row.status, row.cause))
        return values

    # Summaries ------------------------------------------------------------------------------------------------

    def replace_summaries(self, run_id: str, rows: Sequence[EvalSummaryRow]) -> None:
        for old in self._tables.where(EvalSummaryRow, run_id=run_id):
            self._tables.delete(old)
        self.add_all(rows)

    def summaries(self, run_ids: Sequence[str], metrics: Sequence[str] | None = None) -> Sequence[EvalSummaryRow]:
        rows = self._tables.where(
            EvalSummaryRow, lambda row: row.run_id in run_ids and (metrics is None or row.metric in metrics)
        )
        return sorted(rows, key=lambda row: row.metric)
