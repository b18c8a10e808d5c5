"""Reviewing a queue: every label of an item, the final decision (adjudication), and golden datasets.

Only reviewers (analysts and admins) get here; the service checks, so calling it directly is no way around
the pages. A decision records who made it and whether it was the majority accepted or set by hand; after it,
the item's labels are frozen. Adjudicated items export as a numbered version of a golden dataset (question,
reference answer, reference contexts, labels) that the evaluation uses, and as JSONL or CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.labelling.analysis import (
    Disagreement,
    LabelledItem,
    QueueAgreement,
    disagreements,
    queue_agreement,
)
from workbench.labelling.annotation import LabelProblems, label_view
from workbench.labelling.queues import queue_rubric, require_reviewer, username
from workbench.labelling.rubrics import LabelValues, Rubric, RubricField
from workbench.labelling.views import Actor, LabellingError, LabelView
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import AdjudicationRow, GoldenDatasetRow, GoldenItemRow, LabelItemRow

REFERENCE_FIELD = "reference_answer"  # a rubric's free-text field whose decided value is the reference answer


@dataclass(frozen=True, slots=True)
class Decision:
    item_id: str
    reviewer: str
    method: str  # manual or majority
    values: dict[str, Any]
    chunk_relevance: dict[str, bool]
    note: str
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """An item with every label given to it, the majority per field, and the decision if there is one."""

    id: str
    question: str
    answer: str
    chunks: list[dict[str, Any]]
    metadata: dict[str, Any]
    labels: list[LabelView]
    flags: list[tuple[str, str]]  # (annotator, reason)
    majority: LabelValues
    decision: Decision | None = None
    history: list[dict[str, str]] = field(default_factory=list)  # the conversation's earlier turns
    ties: tuple[str, ...] = ()  # fields whose majority is a tie: the reviewer should decide them


@dataclass(frozen=True, slots=True)
class GoldenDataset:
    id: str
    name: str
    version: int
    item_count: int
    created_by: str
    created_at: datetime
    description: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)


class ReviewService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    def item(self, actor: Actor, item_id: str) -> ReviewItem:
        require_reviewer(actor)
        with self._uow() as uow:
            item = uow.labelling.item(item_id)
            if item is None:
                raise LabellingError("That item does not exist.")
            return self._review_item(uow, item)

    def items(self, actor: Actor, queue_id: str) -> list[ReviewItem]:
        """Every item of a queue that has at least one label, oldest first."""
        require_reviewer(actor)
        with self._uow() as uow:
            labelled = {row.item_id for row in uow.labelling.labels_of_queue(queue_id)}
            return [self._review_item(uow, item) for item in uow.labelling.items(queue_id) if item.id in labelled]

    def adjudicate(self, actor: Actor, item_id: str, label: LabelValues | None = None, note: str = "") -> Decision:
        """Set the final label of an item: the given values, or (label None) the majority of its labels."""
        require_reviewer(actor)
        with self._uow() as uow:
            item = uow.labelling.item(item_id)
            if item is None:
                raise LabellingError("That item does not exist.")
            review = self._review_item(uow, item)
            if not review.labels:
                raise LabellingError("Nobody has labelled this item yet.")
            if label is None and review.ties:
                names = ", ".join(queue_rubric(uow, item.queue_id)[0].field(key).label for key in review.ties)
                raise LabellingError(f"The annotators are split on {names}: set the final label by hand.")
            method = "majority" if label is None else "manual"
            final = review.majority if label is None else label
            problems = queue_rubric(uow, item.queue_id)[0].check(final.values)
            if problems:
                raise LabelProblems(problems)
            row = uow.labelling.adjudication(item_id)
            if row is None:
                row = AdjudicationRow(id=new_id(), item_id=item_id, reviewer=actor.username, method=method,
                                      values={}, chunk_relevance={})  # fmt: skip
                uow.labelling.add(row)
            row.reviewer_id, row.reviewer, row.method = actor.id, actor.username, method
            row.values, row.chunk_relevance, row.note = dict(final.values), dict(final.chunk_relevance), note.strip()
            row.decided_at = utcnow()
            uow.commit()
            return _decision(row)

    # Agreement ------------------------------------------------------------------------------------------------

    def agreement(self, actor: Actor, queue_id: str) -> QueueAgreement:
        """Per compared rubric field: percent, Cohen's, Fleiss', Krippendorff's alpha; per-annotator figures."""
        require_reviewer(actor)
        with self._uow() as uow:
            rubric, items, names = self._labelled(uow, queue_id)
        return queue_agreement(rubric, items, names)

    def disagreements(self, actor: Actor, queue_id: str, limit: int = 50) -> list[Disagreement]:
        """The items whose labels disagree most, most first."""
        require_reviewer(actor)
        with self._uow() as uow:
            rubric, items, _ = self._labelled(uow, queue_id)
        return disagreements(rubric, items, limit)

    @staticmethod
    def _labelled(uow: UnitOfWork, queue_id: str) -> tuple[Rubric, list[LabelledItem], dict[str, str]]:
        rubric, _ = queue_rubric(uow, queue_id)
        values: dict[str, dict[str, dict[str, object]]] = {}
        for row in uow.labelling.labels_of_queue(queue_id):
            values.setdefault(row.item_id, {})[row.annotator_id] = dict(row.values)
        items = [
            LabelledItem(item.id, str(item.payload.get("question", "")), values[item.id])
            for item in uow.labelling.items(queue_id)
            if item.id in values
        ]
        annotators = {a for labels in values.values() for a in labels}
        return rubric, items, {a: username(uow, a, missing=a) for a in annotators}

    # Golden datasets ------------------------------------------------------------------------------------------

    def export_golden(self, actor: Actor, queue_id: str, name: str, description: str = "") -> GoldenDataset:
        """Record the queue's adjudicated items as the next version of golden dataset `name`."""
        require_reviewer(actor)
        name = name.strip()
        if not 1 <= len(name) <= 128:
            raise LabellingError("Give the golden dataset a name (up to 128 characters).")
        with self._uow() as uow:
            decisions = uow.labelling.adjudications(queue_id)
            if not decisions:
                raise LabellingError("No item of this queue is adjudicated yet: decide some items first.")
            latest = uow.labelling.golden_dataset(name)
            dataset = GoldenDatasetRow(
                id=new_id(), name=name, version=(latest.version + 1) if latest else 1, queue_id=queue_id,
                description=description, item_count=len(decisions), created_by=actor.username,
            )  # fmt: skip
            uow.labelling.add(dataset)
            uow.labelling.flush()
            for position, decision in enumerate(decisions):
                item = uow.labelling.item(decision.item_id)
                assert item is not None
                uow.labelling.add(_golden_item(dataset.id, position, item, decision))
            uow.commit()
            return self.golden(actor, name, dataset.version)

    def golden_datasets(self, actor: Actor) -> list[GoldenDataset]:
        require_reviewer(actor)
        with self._uow() as uow:
            return [_golden(row, []) for row in uow.labelling.golden_datasets()]

    def golden(self, actor: Actor, name: str, version: int | None = None) -> GoldenDataset:
        """A golden dataset version with its rows (the latest version when none is given)."""
        require_reviewer(actor)
        with self._uow() as uow:
            row = uow.labelling.golden_dataset(name, version)
            if row is None:
                raise LabellingError(f"There is no golden dataset '{name}'" + (f" v{version}." if version else "."))
            rows = [
                {"question": item.question, "reference_answer": item.reference_answer,
                 "reference_contexts": list(item.reference_contexts), "labels": dict(item.labels),
                 "source": dict(item.source)}
                for item in uow.labelling.golden_items(row.id)
            ]  # fmt: skip
            return _golden(row, rows)

    # Internals ------------------------------------------------------------------------------------------------

    def _review_item(self, uow: UnitOfWork, item: LabelItemRow) -> ReviewItem:
        rubric, _ = queue_rubric(uow, item.queue_id)
        labels = [label_view(uow, row) for row in uow.labelling.labels_of_item(item.id)]
        flags = []
        for assignment in uow.labelling.assignments(item.queue_id):
            if assignment.item_id == item.id and assignment.status == "flagged":
                flags.append((username(uow, assignment.annotator_id), assignment.reason or ""))
        decision = uow.labelling.adjudication(item.id)
        payload = item.payload
        return ReviewItem(
            id=item.id, question=str(payload.get("question", "")), answer=str(payload.get("answer", "")),
            chunks=list(payload.get("chunks", [])), metadata=dict(payload.get("metadata", {})), labels=labels,
            flags=flags, majority=majority(rubric, labels), decision=_decision(decision) if decision else None,
            history=list(payload.get("history", [])), ties=tied_fields(rubric, labels),
        )  # fmt: skip


def majority(rubric: Rubric, labels: list[LabelView]) -> LabelValues:
    """Per field: the most frequent value (nominal), the median (ordinal, numeric), the longest text; per chunk:
    relevant when most who marked it said so. Ties go to the value given first."""
    values: dict[str, Any] = {}
    for item in rubric.fields:
        given = [label.values[item.key] for label in labels if label.values.get(item.key) not in (None, "")]
        if given:
            values[item.key] = _central(item, given)
    votes: dict[str, list[bool]] = {}
    for label in labels:
        for chunk_id, relevant in label.chunk_relevance.items():
            votes.setdefault(chunk_id, []).append(bool(relevant))
    relevance = {chunk_id: sum(marks) * 2 > len(marks) for chunk_id, marks in votes.items()}
    return LabelValues(values, relevance)


def tied_fields(rubric: Rubric, labels: list[LabelView]) -> tuple[str, ...]:
    """Compared fields whose majority is a tie (two or more values equally often; two different middle values)."""
    tied = []
    for item in rubric.compared:
        given = [label.values[item.key] for label in labels if label.values.get(item.key) not in (None, "")]
        if len(set(map(str, given))) < 2:
            continue
        if item.kind in ("binary", "categorical"):
            counts = Counter(given).most_common()
            if len(counts) > 1 and counts[0][1] == counts[1][1]:
                tied.append(item.key)
        elif len(given) % 2 == 0:
            ordered = sorted(float(value) for value in given)
            if ordered[len(ordered) // 2 - 1] != ordered[len(ordered) // 2]:
                tied.append(item.key)
    return tuple(tied)


def _central(item: RubricField, given: list[Any]) -> Any:
    if item.kind in ("binary", "categorical"):
        counts = Counter(given)
        best = max(counts.values())
        return next(value for value in given if counts[value] == best)
    if item.kind == "text":
        return max(given, key=len)
    middle = median(float(value) for value in given)
    if item.kind == "ordinal":  # a point on the scale: of two middle values, the lower one
        return int(sorted(int(value) for value in given)[(len(given) - 1) // 2])
    return middle


def _decision(row: AdjudicationRow) -> Decision:
    return Decision(row.item_id, row.reviewer, row.method, dict(row.values), dict(row.chunk_relevance or {}),
                    row.note, row.decided_at)  # fmt: skip


def _golden_item(dataset_id: str, position: int, item: LabelItemRow, decision: AdjudicationRow) -> GoldenItemRow:
    payload = item.payload
    chunks = list(payload.get("chunks", []))
    relevance = decision.chunk_relevance or {}
    marked = [chunk for chunk in chunks if relevance.get(str(chunk.get("chunk_id")))]
    # Without relevance marks every retrieved passage is a reference context; with them, only the relevant ones.
    contexts = [str(chunk.get("text", "")) for chunk in (marked if relevance else chunks)]
    reference = str(decision.values.get(REFERENCE_FIELD) or "").strip() or str(payload.get("answer", ""))
    return GoldenItemRow(
        id=new_id(), dataset_id=dataset_id, position=position, question=str(payload.get("question", "")),
        reference_answer=reference, reference_contexts=contexts,
        labels={key: value for key, value in decision.values.items() if key != REFERENCE_FIELD},
        source={"queue_id": item.queue_id, "item_id": item.id, "source_kind": item.source_kind,
                "source_id": item.source_id, "decided_by": decision.reviewer, "method": decision.method},
    )  # fmt: skip


def _golden(row: GoldenDatasetRow, rows: list[dict[str, Any]]) -> GoldenDataset:
    return GoldenDataset(row.id, row.name, row.version, row.item_count, row.created_by, row.created_at,
                         row.description, rows)  # fmt: skip


def to_jsonl(dataset: GoldenDataset) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n" for row in dataset.rows)


def to_csv(dataset: GoldenDataset) -> str:
    """One line per item; contexts and labels as JSON in their cells (a spreadsheet keeps them intact)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["question", "reference_answer", "reference_contexts", "labels", "source_kind", "source_id"])
    for row in dataset.rows:
        writer.writerow([
            row["question"], row["reference_answer"], json.dumps(row["reference_contexts"], ensure_ascii=False),
            json.dumps(row["labels"], ensure_ascii=False), row["source"].get("source_kind", ""),
            row["source"].get("source_id", ""),
        ])  # fmt: skip
    return buffer.getvalue()
