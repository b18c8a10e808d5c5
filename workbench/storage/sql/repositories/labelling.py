"""The SQL repository of feedback labelling: rubrics, queues, items, assignments, labels, adjudications, golden
datasets, and the chat answers they are drawn from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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

COUNTED = ("assigned", "submitted", "flagged")  # assignments that take one of an item's annotator places


class SqlLabellingRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, row: LabellingRow) -> None:
        self._session.add(row)

    def flush(self) -> None:
        self._session.flush()

    # Rubrics --------------------------------------------------------------------------------------------------

    def rubric(self, rubric_id: str) -> RubricRow | None:
        return self._session.get(RubricRow, rubric_id)

    def rubric_by_name(self, name: str) -> RubricRow | None:
        return self._session.scalar(select(RubricRow).where(RubricRow.name == name))

    def rubrics(self) -> Sequence[RubricRow]:
        return self._session.scalars(select(RubricRow).order_by(RubricRow.name)).all()

    def rubric_version(self, version_id: str) -> RubricVersionRow | None:
        return self._session.get(RubricVersionRow, version_id)

    def rubric_versions(self, rubric_id: str) -> Sequence[RubricVersionRow]:
        query = select(RubricVersionRow).where(RubricVersionRow.rubric_id == rubric_id)
        return self._session.scalars(query.order_by(RubricVersionRow.version.desc())).all()

    # Queues ---------------------------------------------------------------------------------------------------

    def queue(self, queue_id: str) -> LabelQueueRow | None:
        return self._session.get(LabelQueueRow, queue_id)

    def queue_by_name(self, name: str) -> LabelQueueRow | None:
        return self._session.scalar(select(LabelQueueRow).where(LabelQueueRow.name == name))

    def queues(self, member_id: str | None = None) -> Sequence[LabelQueueRow]:
        query = select(LabelQueueRow)
        if member_id is not None:
            query = query.join(LabelQueueMemberRow, LabelQueueMemberRow.queue_id == LabelQueueRow.id).where(
                LabelQueueMemberRow.user_id == member_id
            )
        return self._session.scalars(query.order_by(LabelQueueRow.created_at.desc())).all()

    def members(self, queue_id: str) -> Sequence[LabelQueueMemberRow]:
        query = select(LabelQueueMemberRow).where(LabelQueueMemberRow.queue_id == queue_id)
        return self._session.scalars(query.order_by(LabelQueueMemberRow.added_at)).all()

    def member(self, queue_id: str, user_id: str) -> LabelQueueMemberRow | None:
        query = select(LabelQueueMemberRow).where(
            LabelQueueMemberRow.queue_id == queue_id, LabelQueueMemberRow.user_id == user_id
        )
        return self._session.scalar(query)

    def delete(self, row: LabelQueueMemberRow | LabelRow | AdjudicationRow) -> None:
        self._session.delete(row)

    # Items and assignments ------------------------------------------------------------------------------------

    def item(self, item_id: str) -> LabelItemRow | None:
        return self._session.get(LabelItemRow, item_id)

    def items(self, queue_id: str) -> Sequence[LabelItemRow]:
        query = select(LabelItemRow).where(LabelItemRow.queue_id == queue_id)
        return self._session.scalars(query.order_by(LabelItemRow.created_at, LabelItemRow.id)).all()

    def source_ids(self, queue_id: str, source_kind: str) -> set[str]:
        query = select(LabelItemRow.source_id).where(
            LabelItemRow.queue_id == queue_id, LabelItemRow.source_kind == source_kind
        )
        return set(self._session.scalars(query))

    def open_item_for(self, queue_id: str, annotator_id: str, places: int) -> LabelItemRow | None:
        """The oldest item of the queue this annotator has no assignment for, with a free annotator place,
        locked until commit, so annotators asking at once queue on it (PostgreSQL; SQLite locks the database)."""
        taken = (
            select(LabelAssignmentRow.item_id, func.count().label("n"))
            .where(LabelAssignmentRow.queue_id == queue_id, LabelAssignmentRow.status.in_(COUNTED))
            .group_by(LabelAssignmentRow.item_id)
            .subquery()
        )
        mine = select(LabelAssignmentRow.item_id).where(
            LabelAssignmentRow.queue_id == queue_id, LabelAssignmentRow.annotator_id == annotator_id
        )
        decided = select(AdjudicationRow.item_id)
        query = (
            select(LabelItemRow)
            .outerjoin(taken, taken.c.item_id == LabelItemRow.id)
            .where(
                LabelItemRow.queue_id == queue_id,
                func.coalesce(taken.c.n, 0) < places,
                LabelItemRow.id.not_in(mine),
                LabelItemRow.id.not_in(decided),  # a decided item needs no more labels
            )
            .order_by(LabelItemRow.created_at, LabelItemRow.id)
            .limit(1)
            .with_for_update(of=LabelItemRow)
        )
        return self._session.scalar(query)

    def taken_places(self, item_id: str) -> int:
        query = select(func.count()).where(
            LabelAssignmentRow.item_id == item_id, LabelAssignmentRow.status.in_(COUNTED)
        )
        return int(self._session.scalar(query) or 0)

    def assignment(self, assignment_id: str) -> LabelAssignmentRow | None:
        return self._session.get(LabelAssignmentRow, assignment_id)

    def assignment_for(self, item_id: str, annotator_id: str) -> LabelAssignmentRow | None:
        query = select(LabelAssignmentRow).where(
            LabelAssignmentRow.item_id == item_id, LabelAssignmentRow.annotator_id == annotator_id
        )
        return self._session.scalar(query)

    def assignments(
        self, queue_id: str, annotator_id: str | None = None, status: str | None = None
    ) -> Sequence[LabelAssignmentRow]:
        query = select(LabelAssignmentRow).where(LabelAssignmentRow.queue_id == queue_id)
        if annotator_id is not None:
            query = query.where(LabelAssignmentRow.annotator_id == annotator_id)
        if status is not None:
            query = query.where(LabelAssignmentRow.status == status)
        return self._session.scalars(query.order_by(LabelAssignmentRow.assigned_at, LabelAssignmentRow.id)).all()

    def assignment_counts(self, queue_id: str) -> dict[tuple[str, str], int]:
        """(annotator id, status) -> number of assignments in the queue."""
        query = (
            select(LabelAssignmentRow.annotator_id, LabelAssignmentRow.status, func.count())
            .where(LabelAssignmentRow.queue_id == queue_id)
            .group_by(LabelAssignmentRow.annotator_id, LabelAssignmentRow.status)
        )
        return {(annotator, status): int(n) for annotator, status, n in self._session.execute(query)}

    # Labels and decisions -------------------------------------------------------------------------------------

    def label_for(self, assignment_id: str) -> LabelRow | None:
        return self._session.scalar(select(LabelRow).where(LabelRow.assignment_id == assignment_id))

    def labels_of_item(self, item_id: str) -> Sequence[LabelRow]:
        query = select(LabelRow).where(LabelRow.item_id == item_id).order_by(LabelRow.created_at, LabelRow.id)
        return self._session.scalars(query).all()

    def labels_of_queue(self, queue_id: str) -> Sequence[LabelRow]:
        query = (
            select(LabelRow)
            .join(LabelItemRow, LabelItemRow.id == LabelRow.item_id)
            .where(LabelItemRow.queue_id == queue_id)
            .order_by(LabelRow.item_id, LabelRow.created_at)
        )
        return self._session.scalars(query).all()

    def adjudication(self, item_id: str) -> AdjudicationRow | None:
        return self._session.scalar(select(AdjudicationRow).where(AdjudicationRow.item_id == item_id))

    def adjudications(self, queue_id: str) -> Sequence[AdjudicationRow]:
        query = (
            select(AdjudicationRow)
            .join(LabelItemRow, LabelItemRow.id == AdjudicationRow.item_id)
            .where(LabelItemRow.queue_id == queue_id)
            .order_by(LabelItemRow.created_at, LabelItemRow.id)
        )
        return self._session.scalars(query).all()

    # Golden datasets ------------------------------------------------------------------------------------------

    def golden_datasets(self) -> Sequence[GoldenDatasetRow]:
        query = select(GoldenDatasetRow).order_by(GoldenDatasetRow.name, GoldenDatasetRow.version.desc())
        return self._session.scalars(query).all()

    def golden_dataset(self, name: str, version: int | None = None) -> GoldenDatasetRow | None:
        query = select(GoldenDatasetRow).where(GoldenDatasetRow.name == name)
        if version is not None:
            query = query.where(GoldenDatasetRow.version == version)
        return self._session.scalar(query.order_by(GoldenDatasetRow.version.desc()).limit(1))

    def golden_items(self, dataset_id: str) -> Sequence[GoldenItemRow]:
        query = select(GoldenItemRow).where(GoldenItemRow.dataset_id == dataset_id)
        return self._session.scalars(query.order_by(GoldenItemRow.position)).all()

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
        """Assistant answers with their conversation and mean rating (None: unrated), newest first.

        feedback: any, rated, unrated, down (mean rating below zero) or up (above zero).
        """
        rating = (
            select(FeedbackRow.message_id, func.avg(FeedbackRow.rating).label("rating"))
            .group_by(FeedbackRow.message_id)
            .subquery()
        )
        query = (
            select(MessageRow, ConversationRow, rating.c.rating)
            .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
            .outerjoin(rating, rating.c.message_id == MessageRow.id)
            .where(MessageRow.role == "assistant")
        )
        conditions = {
            "rated": rating.c.rating.is_not(None),
            "unrated": rating.c.rating.is_(None),
            "down": rating.c.rating < 0,
            "up": rating.c.rating > 0,
        }
        if feedback in conditions:
            query = query.where(conditions[feedback])
        if knowledge_base is not None:
            query = query.where(ConversationRow.knowledge_base == knowledge_base)
        if model is not None:
            query = query.where(MessageRow.model == model)
        if since is not None:
            query = query.where(MessageRow.created_at >= since)
        if until is not None:
            query = query.where(MessageRow.created_at < until)
        query = query.order_by(MessageRow.created_at.desc(), MessageRow.id).limit(limit)
        return [(message, conversation, None if r is None else float(r)) for message, conversation, r in
                self._session.execute(query)]  # fmt: skip

    def conversation_messages(self, conversation_ids: Sequence[str]) -> dict[str, list[MessageRow]]:
        """Every message of these conversations in order, by conversation (one query for many answers)."""
        found: dict[str, list[MessageRow]] = {conversation_id: [] for conversation_id in conversation_ids}
        for start in range(0, len(conversation_ids), 500):  # bounded IN lists
            query = (
                select(MessageRow)
                .where(MessageRow.conversation_id.in_(list(conversation_ids[start : start + 500])))
                .order_by(MessageRow.conversation_id, MessageRow.seq)
            )
            for message in self._session.scalars(query):
                found[message.conversation_id].append(message)
        return found
