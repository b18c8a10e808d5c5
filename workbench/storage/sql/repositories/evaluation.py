"""The SQL repository of RAG evaluation: datasets, versions, items, runs, results, scores and summaries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from workbench.domain.runs import EvalRunStatus, ResultStatus
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
from workbench.storage.sql.repositories.dispatch import begin_dispatch, end_dispatch

if TYPE_CHECKING:
    from workbench.storage.ports import ScoreTuple


class SqlEvaluationRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, row: EvaluationRow) -> None:
        self._session.add(row)

    def add_all(self, rows: Sequence[EvaluationRow]) -> None:
        self._session.add_all(rows)

    def flush(self) -> None:
        self._session.flush()

    # Datasets -------------------------------------------------------------------------------------------------

    def dataset(self, dataset_id: str) -> EvalDatasetRow | None:
        return self._session.get(EvalDatasetRow, dataset_id)

    def dataset_by_name(self, name: str) -> EvalDatasetRow | None:
        return self._session.scalar(select(EvalDatasetRow).where(EvalDatasetRow.name == name))

    def datasets(self) -> Sequence[EvalDatasetRow]:
        return self._session.scalars(select(EvalDatasetRow).order_by(EvalDatasetRow.name)).all()

    def version(self, version_id: str) -> EvalDatasetVersionRow | None:
        return self._session.get(EvalDatasetVersionRow, version_id)

    def version_of(self, dataset_id: str, version: int | None = None) -> EvalDatasetVersionRow | None:
        """A numbered version of a dataset, or its latest when `version` is None."""
        query = select(EvalDatasetVersionRow).where(EvalDatasetVersionRow.dataset_id == dataset_id)
        if version is not None:
            return self._session.scalar(query.where(EvalDatasetVersionRow.version == version))
        return self._session.scalar(query.order_by(EvalDatasetVersionRow.version.desc()).limit(1))

    def versions(self, dataset_id: str | None = None) -> Sequence[EvalDatasetVersionRow]:
        query = select(EvalDatasetVersionRow)
        if dataset_id is not None:
            query = query.where(EvalDatasetVersionRow.dataset_id == dataset_id)
        return self._session.scalars(query.order_by(EvalDatasetVersionRow.version.desc())).all()

    def items(self, version_id: str) -> Sequence[EvalItemRow]:
        query = select(EvalItemRow).where(EvalItemRow.version_id == version_id).order_by(EvalItemRow.position)
        return self._session.scalars(query).all()

    def items_with_key(self, version_ids: Sequence[str], item_key: str) -> Sequence[EvalItemRow]:
        query = select(EvalItemRow).where(
            EvalItemRow.version_id.in_(list(version_ids)), EvalItemRow.item_key == item_key
        )
        return self._session.scalars(query).all()

    # Runs -----------------------------------------------------------------------------------------------------

    def run(self, run_id: str) -> EvalRunRow | None:
        return self._session.get(EvalRunRow, run_id)

    def runs(
        self, *, dataset_id: str | None = None, version_ids: Sequence[str] | None = None,
        created_by: str | None = None, statuses: Sequence[str] | None = None, limit: int = 500,
    ) -> Sequence[EvalRunRow]:  # fmt: skip
        query = select(EvalRunRow)
        if created_by is not None:
            query = query.where(EvalRunRow.created_by == created_by)
        if statuses is not None:
            query = query.where(EvalRunRow.status.in_(list(statuses)))
        if dataset_id is not None:
            versions = select(EvalDatasetVersionRow.id).where(EvalDatasetVersionRow.dataset_id == dataset_id)
            query = query.where(EvalRunRow.version_id.in_(versions))
        if version_ids is not None:
            query = query.where(EvalRunRow.version_id.in_(list(version_ids)))
        return self._session.scalars(query.order_by(EvalRunRow.created_at.desc()).limit(limit)).all()

    def run_ids_starting(self, prefix: str, limit: int = 2) -> list[str]:
        """Up to `limit` run ids that start with `prefix` (ids are lowercase hex, so no LIKE escaping is needed)."""
        query = select(EvalRunRow.id).where(EvalRunRow.id.like(f"{prefix}%")).order_by(EvalRunRow.id).limit(limit)
        return list(self._session.scalars(query))

    def runs_by_id(self, run_ids: Sequence[str]) -> Sequence[EvalRunRow]:
        return self._session.scalars(select(EvalRunRow).where(EvalRunRow.id.in_(list(run_ids)))).all()

    def last_repeat(self, version_id: str, config_hash: str) -> int:
        query = select(func.max(EvalRunRow.repeat)).where(
            EvalRunRow.version_id == version_id, EvalRunRow.config_hash == config_hash
        )
        return int(self._session.scalar(query) or 0)

    def begin_dispatch(self, run_id: str, dispatch_id: str, now: datetime) -> bool:
        values = {"status": EvalRunStatus.RUNNING, "started_at": func.coalesce(EvalRunRow.started_at, now),
                  "error": None, "finished_at": None}  # fmt: skip
        return begin_dispatch(self._session, EvalRunRow, run_id, dispatch_id, now, values)

    def end_dispatch(
        self, run_id: str, dispatch_id: str | None, status: str, error: str | None, finished_at: datetime | None
    ) -> bool:
        values = {"status": status, "error": error, "finished_at": finished_at}
        return end_dispatch(self._session, EvalRunRow, run_id, dispatch_id, values)

    def lock_run(self, run_id: str) -> None:
        """Take the run row's lock for this transaction (a write that changes nothing: SQLite's write lock,
        PostgreSQL's row lock), so what is read next cannot be overtaken by a dispatch ending meanwhile."""
        statement = update(EvalRunRow).where(EvalRunRow.id == run_id).values(dispatch_id=EvalRunRow.dispatch_id)
        self._session.execute(statement.execution_options(synchronize_session=False))

    def dispatched_runs(self) -> Sequence[EvalRunRow]:
        return self._session.scalars(select(EvalRunRow).where(EvalRunRow.dispatch_id.is_not(None))).all()

    def last_result_at(self, run_id: str) -> datetime | None:
        query = select(func.max(EvalResultRow.created_at)).where(EvalResultRow.run_id == run_id)
        return self._session.scalar(query)

    def set_counts(self, run_id: str, *, grow_only: bool = False) -> tuple[int, int]:
        """Recount a run's finished and failed items from its results (cheap: one indexed group per run).

        A worker counts again after its own result is committed, and the last to commit sees every result; but
        an earlier count can reach the row after a later one. grow_only writes a count only over a smaller one
        (re-checked under the row's lock), so a stale count never replaces a newer one."""
        query = select(EvalResultRow.status, func.count()).where(EvalResultRow.run_id == run_id)
        counts: dict[str, int] = {
            status: n for status, n in self._session.execute(query.group_by(EvalResultRow.status))
        }
        done, failed = sum(counts.values()), counts.get(ResultStatus.FAILED, 0)
        statement = update(EvalRunRow).where(EvalRunRow.id == run_id)
        if grow_only:
            statement = statement.where(EvalRunRow.done_count < done)
        statement = statement.values(done_count=done, failed_count=failed)
        self._session.execute(statement.execution_options(synchronize_session=False))
        return done, failed

    def set_tags(self, run_id: str, tags: list[str]) -> None:
        statement = update(EvalRunRow).where(EvalRunRow.id == run_id).values(tags=tags)
        self._session.execute(statement.execution_options(synchronize_session=False))

    # Results and scores ---------------------------------------------------------------------------------------

    def has_result(self, run_id: str, item_id: str) -> bool:
        query = select(EvalResultRow.id).where(EvalResultRow.run_id == run_id, EvalResultRow.item_id == item_id)
        return self._session.scalar(query.limit(1)) is not None

    def item(self, item_id: str) -> EvalItemRow | None:
        return self._session.get(EvalItemRow, item_id)

    def done_item_ids(self, run_id: str) -> set[str]:
        return set(self._session.scalars(select(EvalResultRow.item_id).where(EvalResultRow.run_id == run_id)))

    def delete_failed_results(self, run_id: str) -> None:
        """Forget the items whose answer failed or that have a failed score (a judge timeout, say), with all their
        scores, so a retry answers and scores them again."""
        failed_answers = select(EvalResultRow.item_id).where(
            EvalResultRow.run_id == run_id, EvalResultRow.status == ResultStatus.FAILED
        )
        failed_scores = select(EvalScoreRow.item_id).where(
            EvalScoreRow.run_id == run_id, EvalScoreRow.status == "failed"
        )
        items = [*self._session.scalars(failed_answers), *self._session.scalars(failed_scores)]
        for chunk in range(0, len(items), 500):
            some = items[chunk : chunk + 500]
            self._session.execute(delete(EvalScoreRow).where(EvalScoreRow.run_id == run_id,
                                                             EvalScoreRow.item_id.in_(some)))  # fmt: skip
            self._session.execute(delete(EvalResultRow).where(EvalResultRow.run_id == run_id,
                                                              EvalResultRow.item_id.in_(some)))  # fmt: skip

    def results(self, run_id: str, item_keys: Sequence[str] | None = None) -> Sequence[EvalResultRow]:
        query = select(EvalResultRow).where(EvalResultRow.run_id == run_id)
        if item_keys is not None:
            query = query.where(EvalResultRow.item_key.in_(list(item_keys)))
        return self._session.scalars(query).all()

    def scores(
        self, run_ids: Sequence[str], metrics: Sequence[str] | None = None, item_keys: Sequence[str] | None = None
    ) -> list[ScoreTuple]:
        """The scores of some runs as plain tuples (no ORM objects: a compare reads tens of thousands)."""
        query = select(
            EvalScoreRow.run_id, EvalScoreRow.item_key, EvalScoreRow.metric, EvalScoreRow.value, EvalScoreRow.status,
            EvalScoreRow.cause,
        ).where(EvalScoreRow.run_id.in_(list(run_ids)))  # fmt: skip
        if metrics is not None:
            query = query.where(EvalScoreRow.metric.in_(list(metrics)))
        if item_keys is not None:
            query = query.where(EvalScoreRow.item_key.in_(list(item_keys)))
        return [tuple(row) for row in self._session.execute(query).all()]  # type: ignore[misc]

    def score_rows(self, run_id: str, item_keys: Sequence[str]) -> Sequence[EvalScoreRow]:
        query = select(EvalScoreRow).where(EvalScoreRow.run_id == run_id, EvalScoreRow.item_key.in_(list(item_keys)))
        return self._session.scalars(query).all()

    def metric_values(self, run_id: str) -> dict[str, list[tuple[float | None, str, str | None]]]:
        """Per metric: (value, status, cause) of every item of the run."""
        query = select(EvalScoreRow.metric, EvalScoreRow.value, EvalScoreRow.status, EvalScoreRow.cause).where(
            EvalScoreRow.run_id == run_id
        )
        values: dict[str, list[tuple[float | None, str, str | None]]] = {}
        for metric, value, status, cause in self._session.execute(query):
            values.setdefault(metric, []).append((value, status, cause))
        return values

    # Summaries ------------------------------------------------------------------------------------------------

    def replace_summaries(self, run_id: str, rows: Sequence[EvalSummaryRow]) -> None:
        self._session.execute(delete(EvalSummaryRow).where(EvalSummaryRow.run_id == run_id))
        self._session.add_all(rows)

    def summaries(self, run_ids: Sequence[str], metrics: Sequence[str] | None = None) -> Sequence[EvalSummaryRow]:
        query = select(EvalSummaryRow).where(EvalSummaryRow.run_id.in_(list(run_ids)))
        if metrics is not None:
            query = query.where(EvalSummaryRow.metric.in_(list(metrics)))
        return self._session.scalars(query.order_by(EvalSummaryRow.metric)).all()

    def dataset_names(self, version_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """version id -> (dataset name, version number)."""
        query = (
            select(EvalDatasetVersionRow.id, EvalDatasetRow.name, EvalDatasetVersionRow.version)
            .join(EvalDatasetRow, EvalDatasetRow.id == EvalDatasetVersionRow.dataset_id)
            .where(EvalDatasetVersionRow.id.in_(list(version_ids)))
        )
        return {vid: (name, number) for vid, name, number in self._session.execute(query)}
