"""Labelling, as an annotator does it: take the next item, label it, skip or flag it, revise a label.

Each item needs `annotators_per_item` annotators; an annotator is given an item only while it has a free place,
and never the same item twice. Labels are blind: an item shows other annotators' labels only to someone who has
submitted their own. Every label is stored when submitted (one transaction), so a reload or a dropped connection
loses nothing; a label can be revised until the item is adjudicated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.labelling.queues import check_member, queue_rubric, username
from workbench.labelling.rubrics import LabelValues
from workbench.labelling.views import Actor, ItemView, LabellingError, LabellingForbidden, LabelView
from workbench.storage.conflicts import is_unique_violation
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import LabelAssignmentRow, LabelItemRow, LabelRow

MAX_REASON = 2_000
MAX_ATTEMPTS = 50


class AnnotationService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    def next_item(self, actor: Actor, queue_id: str) -> ItemView | None:
        """The item this annotator is working on, else a new one with a free place; None when nothing is left."""
        for _ in range(MAX_ATTEMPTS):  # a place taken by someone else in between: look again
            with self._uow() as uow:
                queue = uow.labelling.queue(queue_id)
                if queue is None:
                    raise LabellingError("That queue does not exist.")
                check_member(uow, actor, queue_id)
                if uow.labelling.member(queue_id, actor.id) is None:
                    raise LabellingForbidden("Only the queue's annotators are given its items.")
                current = uow.labelling.assignments(queue_id, actor.id, "assigned")
                if current:
                    if uow.labelling.adjudication(current[0].item_id) is None:
                        return self._view(uow, actor, current[0].item_id)
                    # Decided while it waited for this annotator: release it, it needs no more labels.
                    current[0].status, current[0].reason = "skipped", "decided by a reviewer before it was labelled"
                    current[0].finished_at = utcnow()
                    uow.commit()
                    continue
                if queue.status != "open":
                    return None
                item = uow.labelling.open_item_for(queue_id, actor.id, queue.annotators_per_item)
                if item is None:
                    return None
                uow.labelling.add(LabelAssignmentRow(id=new_id(), item_id=item.id, queue_id=queue_id,
                                                     annotator_id=actor.id))  # fmt: skip
                try:
                    uow.labelling.flush()
                except Exception as exc:  # the same annotator asking twice at once (two tabs): look again
                    if not is_unique_violation(exc):
                        raise
                    uow.rollback()
                    continue
                # SQLite does not lock rows: recount after our insert (writers are serialised), give up if over.
                if uow.labelling.taken_places(item.id) > queue.annotators_per_item:
                    uow.rollback()
                    continue
                uow.commit()
                return self._view(uow, actor, item.id)
        raise LabellingError("Many annotators are taking items right now; ask for the next item again.")

    def item(self, actor: Actor, item_id: str) -> ItemView:
        """An item as this user may see it: annotators only items given to them; reviewers every item."""
        with self._uow() as uow:
            return self._view(uow, actor, item_id)

    def my_items(self, actor: Actor, queue_id: str) -> list[ItemView]:
        """This annotator's finished items in a queue, newest first (to revise a label)."""
        with self._uow() as uow:
            check_member(uow, actor, queue_id)
            rows = [a for a in uow.labelling.assignments(queue_id, actor.id) if a.status != "assigned"]
            return [self._view(uow, actor, a.item_id) for a in reversed(rows)]

    def submit(self, actor: Actor, item_id: str, label: LabelValues) -> ItemView:
        """Store (or revise) this annotator's label; returns the item, now showing the others' labels."""
        try:
            return self._submit(actor, item_id, label)
        except LabellingError:
            raise
        except Exception as exc:  # a double click: the first submit stored the label; this one revises it
            if not is_unique_violation(exc):
                raise
            return self._submit(actor, item_id, label)

    def _submit(self, actor: Actor, item_id: str, label: LabelValues) -> ItemView:
        with self._uow() as uow:
            assignment, item = self._own(uow, actor, item_id)
            if assignment.status == "skipped":
                raise LabellingError("You skipped this item and its place went to someone else; it cannot be labelled.")
            rubric, version_id = queue_rubric(uow, item.queue_id)
            problems = rubric.check(label.values)
            if problems:
                raise LabelProblems(problems)
            chunk_ids = {str(chunk.get("chunk_id")) for chunk in item.payload.get("chunks", [])}
            relevance = {key: bool(value) for key, value in label.chunk_relevance.items() if key in chunk_ids}
            now = utcnow()
            row = uow.labelling.label_for(assignment.id)
            if row is None:
                uow.labelling.add(LabelRow(
                    id=new_id(), assignment_id=assignment.id, item_id=item.id, annotator_id=actor.id,
                    rubric_version_id=version_id, values=dict(label.values), chunk_relevance=relevance,
                    created_at=now, updated_at=now,
                ))  # fmt: skip
            else:
                row.values, row.chunk_relevance, row.updated_at = dict(label.values), relevance, now
            if assignment.status != "flagged":
                assignment.status = "submitted"
            assignment.finished_at = assignment.finished_at or now
            uow.commit()
            return self._view(uow, actor, item_id)

    def skip(self, actor: Actor, item_id: str, reason: str = "") -> None:
        """Pass an item on: it goes to another annotator, and is not given to this one again."""
        self._finish(actor, item_id, "skipped", reason)

    def flag(self, actor: Actor, item_id: str, reason: str) -> None:
        """Mark an item for a reviewer (broken, unsafe, unclear); it counts as this annotator's label."""
        if not reason.strip():
            raise LabellingError("Say why you flag this item.")
        self._finish(actor, item_id, "flagged", reason)

    # Internals ------------------------------------------------------------------------------------------------

    def _finish(self, actor: Actor, item_id: str, status: str, reason: str) -> None:
        with self._uow() as uow:
            assignment, _ = self._own(uow, actor, item_id)
            if status == "skipped" and uow.labelling.label_for(assignment.id) is not None:
                raise LabellingError("You labelled this item already; revise your label instead of skipping.")
            assignment.status, assignment.reason = status, reason.strip()[:MAX_REASON] or None
            assignment.finished_at = utcnow()
            uow.commit()

    @staticmethod
    def _own(uow: UnitOfWork, actor: Actor, item_id: str) -> tuple[LabelAssignmentRow, LabelItemRow]:
        item = uow.labelling.item(item_id)
        if item is None:
            raise LabellingError("That item does not exist.")
        assignment = uow.labelling.assignment_for(item_id, actor.id)
        if assignment is None:
            raise LabellingForbidden("This item was not given to you.")
        if uow.labelling.adjudication(item_id) is not None:
            raise LabellingError("This item has been adjudicated; its labels can no longer change.")
        return assignment, item

    def _view(self, uow: UnitOfWork, actor: Actor, item_id: str) -> ItemView:
        item = uow.labelling.item(item_id)
        if item is None:
            raise LabellingError("That item does not exist.")
        assignment = uow.labelling.assignment_for(item_id, actor.id)
        if assignment is None and not actor.reviews:
            raise LabellingForbidden("This item was not given to you.")
        labels = [label_view(uow, row) for row in uow.labelling.labels_of_item(item_id)]
        mine = next((label for label in labels if label.annotator_id == actor.id), None)
        # Blind: others' labels only for someone whose own label is in (flagging alone does not unlock them);
        # reviewers who do not annotate the item see them all.
        show_others = mine is not None or (assignment is None and actor.reviews)
        payload: dict[str, Any] = item.payload
        return ItemView(
            id=item.id, queue_id=item.queue_id, source_kind=item.source_kind, source_id=item.source_id,
            question=str(payload.get("question", "")), answer=str(payload.get("answer", "")),
            history=list(payload.get("history", [])), chunks=list(payload.get("chunks", [])),
            metadata=dict(payload.get("metadata", {})), assignment_id=assignment.id if assignment else None,
            status=assignment.status if assignment else None, reason=assignment.reason if assignment else None,
            finished_at=assignment.finished_at if assignment else None, mine=mine,
            others=[label for label in labels if label.annotator_id != actor.id] if show_others else None,
            adjudicated=uow.labelling.adjudication(item_id) is not None,
        )  # fmt: skip


class LabelProblems(LabellingError):
    """Values that do not fit the rubric; `problems` maps each field key to what is wrong, for the form."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("Check the fields: " + "; ".join(f"{key}: {text}" for key, text in problems.items()))


def label_view(uow: UnitOfWork, row: LabelRow) -> LabelView:
    return LabelView(row.annotator_id, username(uow, row.annotator_id), dict(row.values),
                     dict(row.chunk_relevance or {}), row.updated_at)  # fmt: skip
