"""What the labelling services hand to pages and the CLI (no ORM rows leave the services)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workbench.domain.users import Role
from workbench.labelling.rubrics import Rubric


class LabellingError(ValueError):
    """A labelling request that cannot be done as asked; the message says what to do instead."""


class LabellingForbidden(PermissionError):
    """The user may not do this (checked by the services themselves, not only by the pages)."""


REVIEWERS = frozenset({Role.ADMIN, Role.ANALYST})  # manage queues, see every label, adjudicate, export


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: every labelling service call says, and the service checks."""

    id: str
    username: str
    role: Role

    @property
    def reviews(self) -> bool:
        return self.role in REVIEWERS


@dataclass(frozen=True, slots=True)
class RubricView:
    id: str
    name: str
    version_id: str
    version: int
    rubric: Rubric
    description: str = ""


@dataclass(frozen=True, slots=True)
class ItemDraft:
    """One thing to label, as a source describes it (chat message, playground cell, eval item)."""

    source_kind: str
    source_id: str
    question: str
    answer: str
    history: list[dict[str, str]] = field(default_factory=list)  # earlier turns: role, content
    chunks: list[dict[str, Any]] = field(default_factory=list)  # chunk_id, source, text, score
    metadata: dict[str, Any] = field(default_factory=dict)  # model, knowledge base, feedback, time, …

    def payload(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "history": self.history,
            "chunks": self.chunks,
            "metadata": self.metadata,
        }


@dataclass(frozen=True, slots=True)
class QueueView:
    id: str
    name: str
    description: str
    rubric: RubricView
    annotators_per_item: int
    status: str
    created_by: str
    created_at: datetime
    members: list[str] = field(default_factory=list)  # usernames


@dataclass(frozen=True, slots=True)
class LabelView:
    annotator_id: str
    annotator: str
    values: dict[str, Any]
    chunk_relevance: dict[str, bool]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ItemView:
    """An item as one annotator sees it: others' labels only once their own is in (blind labelling)."""

    id: str
    queue_id: str
    source_kind: str
    source_id: str
    question: str
    answer: str
    history: list[dict[str, str]]
    chunks: list[dict[str, Any]]
    metadata: dict[str, Any]
    assignment_id: str | None = None
    status: str | None = None  # this annotator's assignment status
    reason: str | None = None  # why they skipped or flagged it
    finished_at: datetime | None = None
    mine: LabelView | None = None
    others: list[LabelView] | None = None  # None: hidden until this annotator submits
    adjudicated: bool = False


@dataclass(frozen=True, slots=True)
class AnnotatorProgress:
    annotator_id: str
    username: str
    submitted: int
    flagged: int
    skipped: int
    in_progress: int
    available: int  # items they could still be given


@dataclass(frozen=True, slots=True)
class QueueProgress:
    items: int
    places: int  # items x annotators per item
    labels: int  # submitted + flagged assignments
    complete_items: int  # items with every place filled by a submitted or flagged label
    adjudicated: int
    annotators: list[AnnotatorProgress] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.labels / self.places if self.places else 0.0
