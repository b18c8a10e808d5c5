"""Rubrics and queues: what reviewers (analysts, admins) set up, and what every member may read of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.domain.users import Role
from workbench.labelling.rubrics import Rubric, RubricError
from workbench.labelling.sources import ChatSource, chat_items, playground_items
from workbench.labelling.views import (
    Actor,
    AnnotatorProgress,
    ItemDraft,
    LabellingError,
    LabellingForbidden,
    QueueProgress,
    QueueView,
    RubricView,
)
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import (
    LabelAssignmentRow,
    LabelItemRow,
    LabelQueueMemberRow,
    LabelQueueRow,
    RubricRow,
    RubricVersionRow,
)

MAX_ANNOTATORS = 20
MAX_ITEMS_PER_ADD = 10_000
SOURCE_KINDS = ("chat", "playground", "eval", "trace", "draft")


def require_reviewer(actor: Actor) -> None:
    if not actor.reviews:
        raise LabellingForbidden("Only analysts and admins can do this.")


class QueueService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    # Rubrics --------------------------------------------------------------------------------------------------

    def save_rubric(self, actor: Actor, name: str, rubric: Rubric, description: str = "") -> RubricView:
        """Create a rubric, or record a new version of it; the same fields as the latest version change nothing."""
        require_reviewer(actor)
        name = name.strip()
        if not 1 <= len(name) <= 128:
            raise LabellingError("Give the rubric a name (up to 128 characters).")
        definition = rubric.to_dict()
        with self._uow() as uow:
            row = uow.labelling.rubric_by_name(name)
            if row is None:
                row = RubricRow(id=new_id(), name=name, description=description, created_by=actor.username)
                uow.labelling.add(row)
                uow.labelling.flush()
            versions = uow.labelling.rubric_versions(row.id)
            if versions and versions[0].definition == definition:
                if description and description != row.description:  # a description is not a version
                    row.description = description
                    uow.commit()
                return _rubric_view(row, versions[0])
            version = RubricVersionRow(
                id=new_id(), rubric_id=row.id, version=(versions[0].version + 1) if versions else 1,
                definition=definition, created_by=actor.username,
            )  # fmt: skip
            uow.labelling.add(version)
            if description:
                row.description = description
            uow.commit()
            return _rubric_view(row, version)

    def rubrics(self, actor: Actor) -> list[RubricView]:
        """The latest version of every rubric."""
        require_reviewer(actor)
        with self._uow() as uow:
            views = []
            for row in uow.labelling.rubrics():
                versions = uow.labelling.rubric_versions(row.id)
                if versions:
                    views.append(_rubric_view(row, versions[0]))
            return views

    # Queues ---------------------------------------------------------------------------------------------------

    def create_queue(
        self, actor: Actor, name: str, rubric_version_id: str, annotators_per_item: int,
        member_ids: Sequence[str] = (), description: str = "",
    ) -> QueueView:  # fmt: skip
        require_reviewer(actor)
        name = name.strip()
        if not 1 <= len(name) <= 128:
            raise LabellingError("Give the queue a name (up to 128 characters).")
        if not 1 <= annotators_per_item <= MAX_ANNOTATORS:
            raise LabellingError(f"Each item needs between 1 and {MAX_ANNOTATORS} annotators.")
        with self._uow() as uow:
            if uow.labelling.queue_by_name(name) is not None:
                raise LabellingError(f"There is already a queue named '{name}'.")
            if uow.labelling.rubric_version(rubric_version_id) is None:
                raise LabellingError("That rubric version does not exist.")
            queue = LabelQueueRow(
                id=new_id(), name=name, description=description, rubric_version_id=rubric_version_id,
                annotators_per_item=annotators_per_item, created_by=actor.username,
            )  # fmt: skip
            uow.labelling.add(queue)
            uow.labelling.flush()
            self._set_members(uow, queue.id, member_ids)
            uow.commit()
            return self._view(uow, queue)

    def set_members(self, actor: Actor, queue_id: str, member_ids: Sequence[str]) -> QueueView:
        """Who labels this queue. Removing someone keeps the labels they gave; they get no new items."""
        require_reviewer(actor)
        with self._uow() as uow:
            queue = self._queue(uow, queue_id)
            for member in uow.labelling.members(queue_id):
                if member.user_id not in member_ids:
                    uow.labelling.delete(member)
                    # The items they had open go back to the others; what they finished stays.
                    _release(uow.labelling.assignments(queue_id, member.user_id, "assigned"), "removed from the queue")
            uow.labelling.flush()
            self._set_members(uow, queue_id, member_ids)
            uow.commit()
            return self._view(uow, queue)

    def set_status(self, actor: Actor, queue_id: str, status: str) -> None:
        require_reviewer(actor)
        if status not in ("open", "closed"):
            raise LabellingError("A queue is open or closed.")
        with self._uow() as uow:
            self._queue(uow, queue_id).status = status
            uow.commit()

    def release_held(self, actor: Actor, queue_id: str, older_than: timedelta = timedelta(hours=24)) -> int:
        """Give back items annotators opened longer ago than `older_than` and never finished; returns how many."""
        require_reviewer(actor)
        cutoff = utcnow() - older_than
        with self._uow() as uow:
            self._queue(uow, queue_id)
            held = [a for a in uow.labelling.assignments(queue_id, status="assigned") if a.assigned_at <= cutoff]
            _release(held, "released by a reviewer: open too long")
            uow.commit()
            return len(held)

    def chat_drafts(self, actor: Actor, source: ChatSource) -> list[ItemDraft]:
        """Chat answers matching the filters, as items a reviewer may add to a queue (they hold others' chats)."""
        require_reviewer(actor)
        return chat_items(self._uow(), source)

    def playground_drafts(self, actor: Actor, run_id: str) -> list[ItemDraft]:
        """A playground run's finished cells, one item per row and variant."""
        require_reviewer(actor)
        return playground_items(self._uow(), run_id)

    def add_items(self, actor: Actor, queue_id: str, drafts: Sequence[ItemDraft]) -> tuple[int, int]:
        """Add items; a source record already in the queue is skipped. Returns (added, already there)."""
        require_reviewer(actor)
        if len(drafts) > MAX_ITEMS_PER_ADD:
            raise LabellingError(f"Add at most {MAX_ITEMS_PER_ADD:,} items at a time.")
        with self._uow() as uow:
            self._queue(uow, queue_id)
            seen: dict[str, set[str]] = {}
            added = 0
            for draft in drafts:
                if draft.source_kind not in SOURCE_KINDS:
                    raise LabellingError(f"Unknown item source '{draft.source_kind}'.")
                known = seen.setdefault(draft.source_kind, uow.labelling.source_ids(queue_id, draft.source_kind))
                if draft.source_id in known:
                    continue
                known.add(draft.source_id)
                uow.labelling.add(LabelItemRow(id=new_id(), queue_id=queue_id, source_kind=draft.source_kind,
                                               source_id=draft.source_id, payload=draft.payload()))  # fmt: skip
                added += 1
            uow.commit()
            return added, len(drafts) - added

    def queues(self, actor: Actor) -> list[QueueView]:
        """Reviewers see every queue; annotators only the queues they are members of."""
        with self._uow() as uow:
            rows = uow.labelling.queues(None if actor.reviews else actor.id)
            return [self._view(uow, row) for row in rows]

    def queue(self, actor: Actor, queue_id: str) -> QueueView:
        with self._uow() as uow:
            queue = self._queue(uow, queue_id)
            check_member(uow, actor, queue_id)
            return self._view(uow, queue)

    def progress(self, actor: Actor, queue_id: str) -> QueueProgress:
        """Per queue and per annotator; an annotator sees only their own line."""
        with self._uow() as uow:
            queue = self._queue(uow, queue_id)
            check_member(uow, actor, queue_id)
            items = uow.labelling.items(queue_id)
            counts = uow.labelling.assignment_counts(queue_id)
            done_by_item: dict[str, int] = {}
            taken_by_item: dict[str, int] = {}
            items_of: dict[str, set[str]] = {}
            for assignment in uow.labelling.assignments(queue_id):
                items_of.setdefault(assignment.annotator_id, set()).add(assignment.item_id)
                if assignment.status in ("submitted", "flagged"):
                    done_by_item[assignment.item_id] = done_by_item.get(assignment.item_id, 0) + 1
                if assignment.status != "skipped":
                    taken_by_item[assignment.item_id] = taken_by_item.get(assignment.item_id, 0) + 1
            places = queue.annotators_per_item
            annotators = []
            users = {member.user_id for member in uow.labelling.members(queue_id)} | {a for a, _ in counts}
            for user_id in sorted(users):
                if not actor.reviews and user_id != actor.id:
                    continue
                mine = {status: counts.get((user_id, status), 0) for status in ("submitted", "flagged", "skipped",
                                                                                 "assigned")}  # fmt: skip
                own = items_of.get(user_id, set())
                # Items this annotator could still be given: a free place, and never given to them before.
                available = sum(1 for item in items if taken_by_item.get(item.id, 0) < places and item.id not in own)
                annotators.append(AnnotatorProgress(
                    user_id, username(uow, user_id), mine["submitted"], mine["flagged"],
                    mine["skipped"], mine["assigned"], available,
                ))  # fmt: skip
            return QueueProgress(
                items=len(items), places=len(items) * places, labels=sum(done_by_item.values()),
                complete_items=sum(1 for n in done_by_item.values() if n >= places),
                adjudicated=len(uow.labelling.adjudications(queue_id)), annotators=annotators,
            )  # fmt: skip

    # Internals ------------------------------------------------------------------------------------------------

    @staticmethod
    def _queue(uow: UnitOfWork, queue_id: str) -> LabelQueueRow:
        queue = uow.labelling.queue(queue_id)
        if queue is None:
            raise LabellingError("That queue does not exist.")
        return queue

    @staticmethod
    def _set_members(uow: UnitOfWork, queue_id: str, member_ids: Sequence[str]) -> None:
        for user_id in dict.fromkeys(member_ids):
            user = uow.users.get(user_id)
            if user is None or not user.is_active:
                raise LabellingError("Only active users can label.")
            if Role(user.role) == Role.VIEWER:
                raise LabellingError(f"{user.username} is a viewer; viewers cannot label.")
            if uow.labelling.member(queue_id, user_id) is None:
                uow.labelling.add(LabelQueueMemberRow(id=new_id(), queue_id=queue_id, user_id=user_id))

    @staticmethod
    def _view(uow: UnitOfWork, queue: LabelQueueRow) -> QueueView:
        version = uow.labelling.rubric_version(queue.rubric_version_id)
        assert version is not None
        rubric = uow.labelling.rubric(version.rubric_id)
        assert rubric is not None
        names = []
        for member in uow.labelling.members(queue.id):
            user = uow.users.get(member.user_id)
            if user is not None:
                names.append(user.username)
        return QueueView(
            id=queue.id, name=queue.name, description=queue.description, rubric=_rubric_view(rubric, version),
            annotators_per_item=queue.annotators_per_item, status=queue.status, created_by=queue.created_by,
            created_at=queue.created_at, members=names,
        )  # fmt: skip


def _release(assignments: Sequence[LabelAssignmentRow], reason: str) -> None:
    """Unfinished assignments become skipped: their places go to other annotators."""
    now = utcnow()
    for assignment in assignments:
        assignment.status, assignment.reason, assignment.finished_at = "skipped", reason, now


def queue_rubric(uow: UnitOfWork, queue_id: str) -> tuple[Rubric, str]:
    """The rubric a queue labels with, and its version id."""
    queue = uow.labelling.queue(queue_id)
    if queue is None:
        raise LabellingError("That queue does not exist.")
    version = uow.labelling.rubric_version(queue.rubric_version_id)
    assert version is not None  # the foreign key keeps it
    return Rubric.from_dict(version.definition), version.id


def username(uow: UnitOfWork, user_id: str, missing: str = "(deleted)") -> str:
    user = uow.users.get(user_id)
    return user.username if user else missing


def check_member(uow: UnitOfWork, actor: Actor, queue_id: str) -> None:
    """Reviewers may open any queue; annotators only the queues they are members of."""
    if not actor.reviews and uow.labelling.member(queue_id, actor.id) is None:
        raise LabellingForbidden("You are not an annotator of this queue.")


def _rubric_view(row: RubricRow, version: RubricVersionRow) -> RubricView:
    try:
        rubric = Rubric.from_dict(version.definition)
    except RubricError as exc:  # stored rubrics were checked when saved; a hand-edited row says so here
        raise LabellingError(f"Rubric '{row.name}' v{version.version} is damaged: {exc}") from exc
    return RubricView(row.id, row.name, version.id, version.version, rubric, row.description)
