"""The in-memory repository of feedback labelling."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from tests.fakes.tables import Tables
from workbench.storage.sql.models import (
    AdjudicationRow,
    ConversationRow,
    FeedbackRow,
    GoldenDatasetRow,
    GoldenItemRow,
    LabelAssignmentRow,
    LabelItemRow,
    LabellingRow,
    LabelQueueMemberRow,
    LabelQueueRow,
    LabelRow,
    MessageRow,
    RubricRow,
    RubricVersionRow,
)
from workbench.storage.sql.repositories.labelling import COUNTED


class FakeLabellingRepository:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def add(self, row: LabellingRow) -> None:
        self._tables.add(row)

    def flush(self) -> None:
        self._tables.check_unique()  # a flush is where the database reports a clash

    def delete(self, row: LabelQueueMemberRow | LabelRow | AdjudicationRow) -> None:
        self._tables.delete(row)

    # Rubrics --------------------------------------------------------------------------------------------------

    def rubric(self, rubric_id: str) -> RubricRow | None:
        return self._tables.get(RubricRow, rubric_id)

    def rubric_by_name(self, name: str) -> RubricRow | None:
        return self._tables.first(RubricRow, name=name)

    def rubrics(self) -> Sequence[RubricRow]:
        return sorted(self._tables.where(RubricRow), key=lambda row: row.name)

    def rubric_version(self, version_id: str) -> RubricVersionRow | None:
        return self._tables.get(RubricVersionRow, version_id)

    def rubric_versions(self, rubric_id: str) -> Sequence[RubricVersionRow]:
        versions = self._tables.where(RubricVersionRow, rubric_id=rubric_id)
        return sorted(versions, key=lambda row: row.version, reverse=True)

    # Queues ---------------------------------------------------------------------------------------------------

    def queue(self, queue_id: str) -> LabelQueueRow | None:
        return self._tables.get(LabelQueueRow, queue_id)

    def queue_by_name(self, name: str) -> LabelQueueRow | None:
        return self._tables.first(LabelQueueRow, name=name)

    def queues(self, member_id: str | None = None) -> Sequence[LabelQueueRow]:
        queues = self._tables.where(LabelQueueRow)
        if member_id is not None:
            joined = {row.queue_id for row in self._tables.where(LabelQueueMemberRow, user_id=member_id)}
            queues = [queue for queue in queues if queue.id in joined]
        return sorted(queues, key=lambda row: row.created_at, reverse=True)

    def members(self, queue_id: str) -> Sequence[LabelQueueMemberRow]:
        return sorted(self._tables.where(LabelQueueMemberRow, queue_id=queue_id), key=lambda row: row.added_at)

    def member(self, queue_id: str, user_id: str) -> LabelQueueMemberRow | None:
        return self._tables.first(LabelQueueMemberRow, queue_id=queue_id, user_id=user_id)

    # Items and assignments ------------------------------------------------------------------------------------

    def item(self, item_id: str) -> LabelItemRow | None:
        return self._tables.get(LabelItemRow, item_id)

    def items(self, queue_id: str) -> Sequence[LabelItemRow]:
        return sorted(self._tables.where(LabelItemRow, queue_id=queue_id), key=lambda row: (row.created_at, row.id))

    def source_ids(self, queue_id: str, source_kind: str) -> set[str]:
        return {row.source_id for row in self._tables.where(LabelItemRow, queue_id=queue_id, source_kind=source_kind)}

    def open_item_for(self, queue_id: str, annotator_id: str, places: int) -> LabelItemRow | None:
        assignments = self._tables.where(LabelAssignmentRow, queue_id=queue_id)
        taken = Counter(row.item_id for row in assignments if row.status in COUNTED)
        mine = {row.item_id for row in assignments if row.annotator_id == annotator_id}
        decided = {row.item_id for row in self._tables.where(AdjudicationRow)}
        return next(
            (item for item in self.items(queue_id)
             if taken[item.id] < places and item.id not in mine and item.id not in decided),
            None,
        )  # fmt: skip

    def taken_places(self, item_id: str) -> int:
        return len(self._tables.where(LabelAssignmentRow, lambda row: row.status in COUNTED, item_id=item_id))

    def assignment_for(self, item_id: str, annotator_id: str) -> LabelAssignmentRow | None:
        return self._tables.first(LabelAssignmentRow, item_id=item_id, annotator_id=annotator_id)

    def assignments(
        self, queue_id: str, annotator_id: str | None = None, status: str | None = None
    ) -> Sequence[LabelAssignmentRow]:
        rows = self._tables.where(
            LabelAssignmentRow,
            lambda row: (
                (annotator_id is None or row.annotator_id == annotator_id) and (status is None or row.status == status)
            ),
            queue_id=queue_id,
        )
        return sorted(rows, key=lambda row: (row.assigned_at, row.id))

    def assignment_counts(self, queue_id: str) -> dict[tuple[str, str], int]:
        rows = self._tables.where(LabelAssignmentRow, queue_id=queue_id)
        return dict(Counter((row.annotator_id, row.status) for row in rows))

    # Labels and decisions -------------------------------------------------------------------------------------

    def label_for(self, assignment_id: str) -> LabelRow | None:
        return self._tables.first(LabelRow, assignment_id=assignment_id)

    def labels_of_item(self, item_id: str) -> Sequence[LabelRow]:
        return sorted(self._tables.where(LabelRow, item_id=item_id), key=lambda row: (row.created_at, row.id))

    def labels_of_queue(self, queue_id: str) -> Sequence[LabelRow]:
        items = {item.id for item in self._tables.where(LabelItemRow, queue_id=queue_id)}
        labels = self._tables.where(LabelRow, lambda row: row.item_id in items)
        return sorted(labels, key=lambda row: (row.item_id, row.created_at))

    def adjudication(self, item_id: str) -> AdjudicationRow | None:
        return self._tables.first(AdjudicationRow, item_id=item_id)

    def adjudications(self, queue_id: str) -> Sequence[AdjudicationRow]:
        order = {item.id: position for position, item in enumerate(self.items(queue_id))}
        decided = self._tables.where(AdjudicationRow, lambda row: row.item_id in order)
        return sorted(decided, key=lambda row: order[row.item_id])

    # Golden datasets ------------------------------------------------------------------------------------------

    def golden_datasets(self) -> Sequence[GoldenDatasetRow]:
        by_version = sorted(self._tables.where(GoldenDatasetRow), key=lambda row: row.version, reverse=True)
        return sorted(by_version, key=lambda row: row.name)

    def golden_dataset(self, name: str, version: int | None = None) -> GoldenDatasetRow | None:
        rows = [row for row in self.golden_datasets() if row.name == name and version in (None, row.version)]
        return rows[0] if rows else None

    def golden_items(self, dataset_id: str) -> Sequence[GoldenItemRow]:
        return sorted(self._tables.where(GoldenItemRow, dataset_id=dataset_id), key=lambda row: row.position)

    # Sources --------------------------------------------------------------------------------------------------

    def chat_answers(
        self,
        *,
        feedback: str = "any",
        knowledge_base: str | None = None,
        model: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> Sequence[tuple[MessageRow, ConversationRow, float | None]]:
        ratings: dict[str, list[int]] = {}
        for row in self._tables.where(FeedbackRow):
            ratings.setdefault(row.message_id, []).append(row.rating)
        conditions: dict[str, Callable[[float | None], bool]] = {
            "rated": lambda r: r is not None,
            "unrated": lambda r: r is None,
            "down": lambda r: r is not None and r < 0,
            "up": lambda r: r is not None and r > 0,
        }
        keep = conditions.get(feedback)  # "any", or a word it does not know: no condition
        found = []
        for message in sorted(self._tables.where(MessageRow, role="assistant"), key=lambda row: row.id):
            conversation = self._tables.get(ConversationRow, message.conversation_id)
            given = ratings.get(message.id)
            rating = sum(given) / len(given) if given else None
            if (
                conversation is not None
                and (keep is None or keep(rating))
                and knowledge_base in (None, conversation.knowledge_base)
                and model in (None, message.model)
                and (since is None or message.created_at >= since)
                and (until is None or message.created_at < until)
            ):
                found.append((message, conversation, rating))
        return sorted(found, key=lambda answer: answer[0].created_at, reverse=True)[:limit]  # stable: ties by id

    def conversation_messages(self, conversation_ids: Sequence[str]) -> dict[str, list[MessageRow]]:
        return {
            conversation_id: sorted(self._tables.where(MessageRow, conversation_id=conversation_id),
                                    key=lambda row: row.seq)
            for conversation_id in conversation_ids
        }  # fmt: skip
