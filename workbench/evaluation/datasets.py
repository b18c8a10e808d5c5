"""Versioned eval datasets in SQL: import from CSV/JSONL with a column mapping (rejected rows reported by line),
from golden datasets of the labelling queues, and the shipped sample. Each change is a new immutable version."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.domain.ids import new_id
from workbench.storage.conflicts import is_unique_violation
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import EvalDatasetRow, EvalDatasetVersionRow, EvalItemRow
from workbench.tabular import Table, datasets_dir, load_table

FIELDS = ("question", "reference_answer", "reference_contexts", "tags")
REQUIRED = ("question",)
MAX_QUESTION_CHARS = 8_000
MAX_CONTEXTS = 50
SAMPLE_DATASET = "northwind-qa"
SAMPLE_FILE = "eval/northwind-qa.jsonl"
_SYNONYMS = {
    "question": ("question", "query", "input", "prompt", "user_input"),
    "reference_answer": ("reference_answer", "reference", "answer", "ground_truth", "expected", "expected_output"),
    "reference_contexts": ("reference_contexts", "contexts", "context", "ground_truth_contexts", "passages"),
    "tags": ("tags", "tag", "topic", "category", "labels"),
}


class EvalDatasetError(ValueError):
    """A dataset that cannot be imported or found; the message says what to do. `rejected` lists every row that
    was refused when nothing could be imported."""

    def __init__(self, message: str, rejected: list[RejectedRow] | None = None) -> None:
        super().__init__(message)
        self.rejected = rejected or []


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int | None  # the file line the row starts on (CSV/JSONL), None for other sources
    reason: str
    question: str = ""
    item: int | None = None  # the row's position among the rows given (1-based)

    @property
    def where(self) -> str:
        """'line 7' in a file, 'item 3' in a .json list or a golden dataset."""
        if self.line is not None:
            return f"line {self.line}"
        return f"item {self.item}" if self.item is not None else ""


@dataclass(frozen=True, slots=True)
class EvalItem:
    id: str
    position: int
    item_key: str
    question: str
    reference_answer: str | None
    reference_contexts: tuple[str, ...]
    tags: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    id: str
    dataset_id: str
    name: str
    version: int
    source: str
    source_detail: dict[str, Any]
    item_count: int
    note: str
    created_by: str
    created_at: datetime

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    version: DatasetVersion
    imported: int
    rejected: list[RejectedRow]
    unchanged: bool  # the content equals the latest version, which is returned instead of a copy


def item_key(question: str) -> str:
    """Pairs the same question across dataset versions: case, spacing and Unicode form do not matter."""
    normal = " ".join(unicodedata.normalize("NFKC", question).casefold().split())
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


def suggest_mapping(columns: Sequence[str]) -> dict[str, str | None]:
    """field -> the column that most likely holds it (None when no column looks right)."""
    normal = {c.strip().lower().replace(" ", "_").replace("-", "_"): c for c in columns}
    return {f: next((normal[s] for s in _SYNONYMS[f] if s in normal), None) for f in FIELDS}


def parse_rows(
    rows: Sequence[Mapping[str, Any]], mapping: Mapping[str, str | None], lines: Sequence[int | None] | None = None
) -> tuple[list[dict[str, Any]], list[RejectedRow]]:
    """Turn mapped rows into items, rejecting (with a reason) those without a question, duplicates and bad lists."""
    if not mapping.get("question"):
        raise EvalDatasetError("Map a column to 'question': every item needs one.")
    mapped = {v for v in mapping.values() if v}
    items: list[dict[str, Any]] = []
    rejected: list[RejectedRow] = []
    seen: dict[str, tuple[int | None, int]] = {}
    for index, row in enumerate(rows):
        line = lines[index] if lines is not None else index + 1
        try:
            item = _item(row, mapping)
        except EvalDatasetError as exc:
            question = _text(row.get(mapping["question"] or ""))[:200]
            rejected.append(RejectedRow(line, str(exc), question, index + 1))
            continue
        key = item_key(item["question"])
        if key in seen:
            earlier = RejectedRow(seen[key][0], "", item=seen[key][1]).where
            rejected.append(RejectedRow(line, f"the same question as {earlier}", item["question"][:200], index + 1))
            continue
        seen[key] = (line, index + 1)
        item["extra"] = {k: _text(v) for k, v in row.items() if k not in mapped and _text(v)}
        items.append(item)
    return items, rejected


class EvalDatasetService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    # Importing --------------------------------------------------------------------------------------------------

    def import_table(
        self, table: Table, name: str, mapping: Mapping[str, str | None], *, actor: str, description: str = "",
        note: str = "",
    ) -> ImportReport:  # fmt: skip
        """Import an uploaded or shipped table (see workbench.tabular.load_table) as a new version."""
        items, rejected = parse_rows(table.rows, mapping, table.lines or [None] * len(table.rows))
        detail = {"file": table.name, "sha256": table.sha256, "mapping": {k: v for k, v in mapping.items() if v}}
        return self._store(name, items, rejected, "import", detail, actor, description, note)

    def import_file(self, path: Path, name: str, mapping: Mapping[str, str | None] | None = None, *,
                    actor: str, note: str = "", max_bytes: int | None = None) -> ImportReport:  # fmt: skip
        """Import a CSV/JSONL file from disk; `mapping` overrides the suggested column of the fields it names."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise EvalDatasetError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        table = load_table(data, path.name, **({"max_bytes": max_bytes} if max_bytes else {}))
        chosen = {**suggest_mapping(table.columns), **(mapping or {})}
        return self.import_table(table, name, chosen, actor=actor, note=note)

    def import_golden(self, golden: Any, name: str | None = None, *, actor: str, note: str = "") -> ImportReport:
        """Import a golden dataset of the labelling queues (workbench.labelling.review.GoldenDataset).

        Items a reviewer decided not to keep (a `keep` field set to false, as the question generator's rubric
        asks) are left out and reported as rejected.
        """
        rows, rejected = [], []
        for position, row in enumerate(golden.rows, start=1):
            labels = row.get("labels") or {}
            if labels.get("keep") is False:
                rejected.append(RejectedRow(None, "the reviewer chose not to keep it", row["question"], position))
                continue
            rows.append(row)
        mapping = {"question": "question", "reference_answer": "reference_answer",
                   "reference_contexts": "reference_contexts", "tags": "tags"}  # fmt: skip
        items, bad = parse_rows(rows, mapping, [None] * len(rows))
        detail = {"golden": golden.name, "golden_version": golden.version}
        return self._store(name or golden.name, items, rejected + bad, "golden", detail, actor, "", note)

    def import_items(self, name: str, items: Sequence[Mapping[str, Any]], *, source: str, actor: str,
                     detail: Mapping[str, Any] | None = None, note: str = "") -> ImportReport:  # fmt: skip
        """Import items given as dicts with the FIELDS keys (the question generator, tests)."""
        parsed, rejected = parse_rows(items, {f: f for f in FIELDS}, [None] * len(items))
        return self._store(name, parsed, rejected, source, dict(detail or {}), actor, "", note)

    def append_items(self, name: str, items: Sequence[Mapping[str, Any]], *, source: str, actor: str,
                     note: str = "") -> ImportReport:  # fmt: skip
        """A new version: the latest version's items and these (a question already in it is not added twice);
        a dataset of that name that does not exist yet is made."""
        with self._uow() as uow:
            dataset = uow.evaluation.dataset_by_name(name.strip())
            latest = uow.evaluation.version_of(dataset.id) if dataset is not None else None
            kept = [eval_item(row) for row in uow.evaluation.items(latest.id)] if latest is not None else []
            after = latest.version if latest is not None else None
        known = {item.item_key for item in kept}
        fresh = [item for item in items if item_key(str(item.get("question") or "")) not in known]
        earlier = [{**i.extra, "question": i.question, "reference_answer": i.reference_answer,
                    "reference_contexts": list(i.reference_contexts), "tags": list(i.tags)} for i in kept]  # fmt: skip
        detail = {"appended": len(fresh), "after_version": after}
        return self.import_items(name, [*earlier, *fresh], source=source, actor=actor, detail=detail, note=note)

    def ensure_sample(self, actor: str = "system") -> DatasetVersion | None:
        """Import the shipped sample dataset unless a dataset of that name exists; None when it is missing."""
        path = datasets_dir() / SAMPLE_FILE
        with self._uow() as uow:
            if uow.evaluation.dataset_by_name(SAMPLE_DATASET) is not None:
                return self.version(SAMPLE_DATASET)
        if not path.is_file():
            return None
        try:
            return self.import_file(path, SAMPLE_DATASET, actor=actor, note="shipped sample").version
        except EvalDatasetError:
            return self.version(SAMPLE_DATASET)  # imported by another process just now

    # Reading ----------------------------------------------------------------------------------------------------

    def datasets(self) -> list[DatasetVersion]:
        """The latest version of every dataset, by name."""
        with self._uow() as uow:
            latest = []
            for dataset in uow.evaluation.datasets():
                version = uow.evaluation.version_of(dataset.id)
                if version is not None:
                    latest.append(_version(version, dataset.name))
            return latest

    def versions(self, name: str) -> list[DatasetVersion]:
        with self._uow() as uow:
            dataset = self._dataset(uow, name)
            return [_version(v, dataset.name) for v in uow.evaluation.versions(dataset.id)]

    def version(self, name: str, version: int | None = None) -> DatasetVersion:
        """A numbered version of a dataset, or its latest."""
        with self._uow() as uow:
            dataset = self._dataset(uow, name)
            row = uow.evaluation.version_of(dataset.id, version)
            if row is None:
                raise EvalDatasetError(f"Dataset '{name}' has no version {version}.")
            return _version(row, dataset.name)

    def items(self, version_id: str) -> list[EvalItem]:
        with self._uow() as uow:
            return [eval_item(row) for row in uow.evaluation.items(version_id)]

    # Internals --------------------------------------------------------------------------------------------------

    def _dataset(self, uow: UnitOfWork, name: str) -> EvalDatasetRow:
        dataset = uow.evaluation.dataset_by_name(name.strip())
        if dataset is None:
            raise EvalDatasetError(f"There is no eval dataset '{name}'. Import one first (Evaluation → Datasets).")
        return dataset

    def _store(
        self, name: str, items: list[dict[str, Any]], rejected: list[RejectedRow], source: str,
        detail: dict[str, Any], actor: str, description: str, note: str,
    ) -> ImportReport:  # fmt: skip
        name = name.strip()
        if not 1 <= len(name) <= 128:
            raise EvalDatasetError("Give the dataset a name (up to 128 characters).")
        if not items:
            reasons = "; ".join(f"{r.where}: {r.reason}" if r.where else r.reason for r in rejected[:3])
            more = f" and {len(rejected) - 3} more" if len(rejected) > 3 else ""
            raise EvalDatasetError("No row could be imported" + (f" ({reasons}{more})." if reasons else "."), rejected)
        content = hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()
        try:
            with self._uow() as uow:
                dataset = uow.evaluation.dataset_by_name(name)
                if dataset is None:
                    dataset = EvalDatasetRow(id=new_id(), name=name, description=description, created_by=actor)
                    uow.evaluation.add(dataset)
                    uow.evaluation.flush()
                latest = uow.evaluation.version_of(dataset.id)
                if latest is not None and latest.source_detail.get("content_sha256") == content:
                    return ImportReport(_version(latest, name), 0, rejected, unchanged=True)
                version = EvalDatasetVersionRow(
                    id=new_id(), dataset_id=dataset.id, version=(latest.version + 1) if latest else 1, source=source,
                    source_detail={**detail, "content_sha256": content}, item_count=len(items), note=note,
                    created_by=actor,
                )  # fmt: skip
                uow.evaluation.add(version)
                uow.evaluation.flush()
                uow.evaluation.add_all([_item_row(version.id, position, item) for position, item in enumerate(items)])
                uow.commit()
                return ImportReport(_version(version, name), len(items), rejected, unchanged=False)
        except Exception as exc:
            if is_unique_violation(exc):
                raise EvalDatasetError(f"Dataset '{name}' was changed at the same time; import again.") from exc
            raise


def _item(row: Mapping[str, Any], mapping: Mapping[str, str | None]) -> dict[str, Any]:
    def cell(field_name: str) -> Any:
        column = mapping.get(field_name)
        return row.get(column) if column else None

    question = _text(cell("question")).strip()
    if not question:
        raise EvalDatasetError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise EvalDatasetError(f"the question has {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}")
    reference = _text(cell("reference_answer")).strip() or None
    contexts = _string_list(cell("reference_contexts"), "reference_contexts", split=None)
    if len(contexts) > MAX_CONTEXTS:
        raise EvalDatasetError(f"{len(contexts)} reference contexts; the limit is {MAX_CONTEXTS}")
    tags = _string_list(cell("tags"), "tags", split=",;")
    return {"question": question, "reference_answer": reference, "reference_contexts": contexts, "tags": tags}


def _string_list(value: Any, name: str, split: str | None) -> list[str]:
    """A list of strings from a JSON list, a JSON-encoded list in a CSV cell, or plain text (split on `split`)."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise EvalDatasetError(f"{name} looks like a JSON list but is not valid JSON ({exc.msg})") from exc
        elif split:
            for separator in split[1:]:
                text = text.replace(separator, split[0])
            return [part.strip() for part in text.split(split[0]) if part.strip()]
        else:
            return [text]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EvalDatasetError(f"{name} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _item_row(version_id: str, position: int, item: Mapping[str, Any]) -> EvalItemRow:
    return EvalItemRow(
        id=new_id(), version_id=version_id, position=position, item_key=item_key(item["question"]),
        question=item["question"], reference_answer=item["reference_answer"],
        reference_contexts=list(item["reference_contexts"]), tags=list(item["tags"]), extra=dict(item.get("extra", {})),
    )  # fmt: skip


def _version(row: EvalDatasetVersionRow, name: str) -> DatasetVersion:
    return DatasetVersion(
        id=row.id, dataset_id=row.dataset_id, name=name, version=row.version, source=row.source,
        source_detail=dict(row.source_detail), item_count=row.item_count, note=row.note, created_by=row.created_by,
        created_at=row.created_at,
    )  # fmt: skip


def eval_item(row: EvalItemRow) -> EvalItem:
    return EvalItem(
        id=row.id, position=row.position, item_key=row.item_key, question=row.question,
        reference_answer=row.reference_answer, reference_contexts=tuple(row.reference_contexts), tags=tuple(row.tags),
        extra=dict(row.extra),
    )  # fmt: skip
