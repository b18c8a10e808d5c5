"""The prompt registry: every distinct content of a prompt is an immutable, numbered version in SQL.

Sources of versions: files in prompts/ (picked up when they change on disk), the Prompts and Playground pages,
and the CLI. Saving content that some version already has returns that version; nothing is ever overwritten.
Labels (production, staging, any name) point at versions and move; chat answers with the `production` version.

Files stay the source of truth until someone takes control: the `file` label marks the version the file in
prompts/ has now, and a file change moves `production` with it only while `production` still points where `file`
pointed. Once a person moves `production` elsewhere, file changes add versions but leave it where it was put.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from workbench.domain.clock import utcnow
from workbench.domain.ids import new_id
from workbench.prompting.templates import PromptTemplate, TemplateError, prompts_dir
from workbench.prompting.versions import (
    PromptNotFound,
    PromptSummary,
    PromptVersion,
    RegistryError,
    SaveResult,
    SyncReport,
    content_hash,
    normalise,
)
from workbench.storage.conflicts import is_unique_violation
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import PromptLabelRow, PromptVersionRow

__all__ = [
    "LATEST",
    "PRODUCTION",
    "PromptNotFound",
    "PromptRegistry",
    "PromptSummary",
    "PromptVersion",
    "RegistryError",
    "SaveResult",
    "SyncReport",
    "content_hash",
]

log = logging.getLogger(__name__)

PRODUCTION = "production"
LATEST = "latest"  # not stored: always the newest version
FILE = "file"  # moved by the registry only: the version the file in prompts/ has now
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
LABEL_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_CONTENT_CHARS = 100_000


class PromptRegistry:
    """Thread-safe; one per process is enough (the container holds it)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], directory: Path | None = None) -> None:
        self._uow = uow_factory
        self._directory = directory
        self._seen: dict[Path, tuple[int, int]] = {}  # file -> (mtime_ns, size) when last synced
        self._sync_lock = threading.Lock()
        self.last_sync = SyncReport()

    @property
    def directory(self) -> Path:
        return self._directory or prompts_dir()

    # Files ------------------------------------------------------------------------------------------------------

    def sync_files(self) -> SyncReport:
        """Record the prompts/ files whose content is new as versions. Cheap when nothing changed on disk."""
        with self._sync_lock:
            created: list[PromptVersion] = []
            paths = sorted(self.directory.glob("*.md"))
            present = {path.name for path in paths}
            # A file fixed or deleted since is no longer a problem.
            problems = {name: text for name, text in self.last_sync.problems.items() if name in present}
            for path in paths:
                try:
                    stat = path.stat()
                except OSError:
                    continue
                signature = (stat.st_mtime_ns, stat.st_size)
                if self._seen.get(path) == signature:
                    continue
                relative = f"prompts/{path.name}"
                try:
                    content = path.read_text(encoding="utf-8")
                    result = self._save(path.stem, content, author=relative, author_id=None, source="file",
                                        message=f"Picked up from {relative}")  # fmt: skip
                except (OSError, UnicodeDecodeError, RegistryError) as exc:
                    problems[path.name] = str(exc)
                    log.warning("prompt file %s not recorded: %s", relative, exc)
                else:
                    problems.pop(path.name, None)
                    if result.created:
                        created.append(result.version)
                self._seen[path] = signature
            self.last_sync = SyncReport(created, problems)
            return self.last_sync

    # Reading ----------------------------------------------------------------------------------------------------

    def summaries(self) -> list[PromptSummary]:
        self.sync_files()
        with self._uow() as uow:
            labels: dict[str, dict[str, int]] = {}
            for label, version in uow.prompts.labels():
                labels.setdefault(label.name, {})[label.label] = version
            return [
                PromptSummary(name, latest, count, updated_at, labels.get(name, {}))
                for name, latest, count, updated_at in uow.prompts.names()
            ]

    def versions(self, name: str) -> list[PromptVersion]:
        """Every version of a prompt, newest first."""
        self.sync_files()
        with self._uow() as uow:
            rows = uow.prompts.versions(name)
            if not rows:
                raise PromptNotFound(f"There is no prompt named '{name}'.")
            labels = self._labels_by_version(uow, name)
            return [_view(row, labels.get(row.id, ())) for row in rows]

    def get(self, name: str, ref: int | str | None = None) -> PromptVersion:
        """A version by number, by label, or the latest (ref None or "latest"). Raises PromptNotFound."""
        self.sync_files()
        with self._uow() as uow:
            row = self._find(uow, name, ref)
            return _view(row, self._labels_by_version(uow, name).get(row.id, ()))

    def resolve(self, name: str, label: str = PRODUCTION) -> tuple[PromptTemplate, int]:
        """The template a label points at, with its version; the latest version when the label is not set."""
        self.sync_files()
        with self._uow() as uow:
            row = self._labelled_or_latest(uow, name, label)
            return PromptTemplate.parse(row.content, fallback_name=name), row.version

    def labelled(self, name: str, label: str = PRODUCTION) -> PromptVersion:
        """The version a label points at, as `resolve` picks it (the latest when the label is not set)."""
        self.sync_files()
        with self._uow() as uow:
            row = self._labelled_or_latest(uow, name, label)
            return _view(row, self._labels_by_version(uow, name).get(row.id, ()))

    def diff(self, name: str, old: int | str, new: int | str, context: int = 3) -> list[str]:
        """Unified diff lines from one version to another."""
        before, after = self.get(name, old), self.get(name, new)
        return list(
            difflib.unified_diff(
                normalise(before.content).splitlines(),
                normalise(after.content).splitlines(),
                fromfile=f"{name} v{before.version}",
                tofile=f"{name} v{after.version}",
                n=context,
                lineterm="",
            )
        )

    # Writing ----------------------------------------------------------------------------------------------------

    def save(
        self, name: str, content: str, *, author: str, author_id: str | None = None, message: str = "",
        source: str = "ui", label: str | None = None,
    ) -> SaveResult:  # fmt: skip
        """Record content as a new version (or find the version that has it); optionally point a label at it."""
        if label:
            _check_label(label)  # before saving: a bad label name must not leave a half-done save
        self.sync_files()
        result = self._save(name, content, author=author, author_id=author_id, source=source, message=message)
        if label:
            self.set_label(name, label, result.version.version, actor=author)
            result = SaveResult(self.get(name, result.version.version), result.created)
        return result

    def set_label(self, name: str, label: str, version: int, *, actor: str) -> None:
        """Point a label at a version (creating the label, or moving it)."""
        _check_label(label)
        with self._uow() as uow:
            target = uow.prompts.version(name, version)
            if target is None:
                raise PromptNotFound(f"Prompt '{name}' has no version {version}.")
            row = uow.prompts.label(name, label)
            if row is None:
                uow.prompts.add_label(PromptLabelRow(name=name, label=label, version_id=target.id, moved_by=actor))
            else:
                row.version_id, row.moved_by, row.moved_at = target.id, actor, utcnow()
            uow.commit()
        log.info("prompt %s: label %s -> v%d (by %s)", name, label, version, actor)

    def remove_label(self, name: str, label: str) -> None:
        if label == FILE:
            raise RegistryError("'file' marks the version the file in prompts/ has; it cannot be removed.")
        with self._uow() as uow:
            row = uow.prompts.label(name, label)
            if row is not None:
                uow.prompts.delete_label(row)
                uow.commit()

    # Internals --------------------------------------------------------------------------------------------------

    def _save(
        self, name: str, content: str, *, author: str, author_id: str | None, source: str, message: str
    ) -> SaveResult:
        _check(name, content)
        digest = content_hash(content)
        for attempt in range(3):  # two writers can race for the next number; the unique key decides, we retry
            with self._uow() as uow:
                existing = uow.prompts.version_by_content(name, digest)
                if existing is not None:
                    if source == "file":  # a file put back to earlier content: the labels follow it there too
                        self._follow_file(uow, existing, author)
                        uow.commit()
                    return SaveResult(_view(existing, self._labels_by_version(uow, name).get(existing.id, ())), False)
                latest = uow.prompts.latest(name)
                row = PromptVersionRow(
                    id=new_id(), name=name, version=(latest.version + 1) if latest else 1, content=normalise(content),
                    content_sha256=digest, source=source, author=author[:128], author_id=author_id,
                    message=message.strip(),
                )  # fmt: skip
                uow.prompts.add_version(row)
                if source == "file":
                    self._follow_file(uow, row, author)
                elif uow.prompts.label(name, PRODUCTION) is None:  # a prompt's first version is its production
                    uow.prompts.add_label(PromptLabelRow(name=name, label=PRODUCTION, version_id=row.id,
                                                         moved_by=author))  # fmt: skip
                try:
                    uow.commit()
                except Exception as exc:  # an IntegrityError from any backend: someone saved first
                    if attempt == 2 or not is_unique_violation(exc):
                        raise
                    continue
                log.info("prompt %s: v%d recorded (%s, by %s)", name, row.version, source, author)
                return SaveResult(_view(row, self._labels_by_version(uow, name).get(row.id, ())), True)
        raise AssertionError("unreachable")

    @staticmethod
    def _follow_file(uow: UnitOfWork, row: PromptVersionRow, author: str) -> None:
        """Point the `file` label at the version the file now has; move `production` with it while production
        still points where `file` pointed (nobody moved it elsewhere). A prompt's first version is production."""
        file_label = uow.prompts.label(row.name, FILE)
        production = uow.prompts.label(row.name, PRODUCTION)
        if production is None:
            uow.prompts.add_label(PromptLabelRow(name=row.name, label=PRODUCTION, version_id=row.id, moved_by=author))
        elif file_label is not None and production.version_id == file_label.version_id:
            production.version_id, production.moved_by, production.moved_at = row.id, author, utcnow()
        if file_label is None:
            uow.prompts.add_label(PromptLabelRow(name=row.name, label=FILE, version_id=row.id, moved_by=author))
        else:
            file_label.version_id, file_label.moved_by, file_label.moved_at = row.id, author, utcnow()

    @staticmethod
    def _labels_by_version(uow: UnitOfWork, name: str) -> dict[str, tuple[str, ...]]:
        labels: dict[str, list[str]] = {}
        for label, _ in uow.prompts.labels(name):
            labels.setdefault(label.version_id, []).append(label.label)
        return {version_id: tuple(sorted(names)) for version_id, names in labels.items()}

    def _labelled_or_latest(self, uow: UnitOfWork, name: str, label: str) -> PromptVersionRow:
        row = self._label_target(uow, name, label) or uow.prompts.latest(name)
        if row is None:
            raise PromptNotFound(f"There is no prompt named '{name}'.")
        return row

    @staticmethod
    def _label_target(uow: UnitOfWork, name: str, label: str) -> PromptVersionRow | None:
        row = uow.prompts.label(name, label)
        return None if row is None else uow.prompts.version_by_id(row.version_id)

    def _find(self, uow: UnitOfWork, name: str, ref: int | str | None) -> PromptVersionRow:
        if ref is None or ref == LATEST:
            row = uow.prompts.latest(name)
            if row is None:
                raise PromptNotFound(f"There is no prompt named '{name}'.")
            return row
        if isinstance(ref, int) or str(ref).lstrip("v").isdigit():
            number = int(str(ref).lstrip("v"))
            row = uow.prompts.version(name, number)
            if row is None:
                raise PromptNotFound(f"Prompt '{name}' has no version {number}.")
            return row
        row = self._label_target(uow, name, str(ref))
        if row is None:
            raise PromptNotFound(f"Prompt '{name}' has no label '{ref}'.")
        return row


def _view(row: PromptVersionRow, labels: tuple[str, ...]) -> PromptVersion:
    return PromptVersion(
        id=row.id,
        name=row.name,
        version=row.version,
        content=row.content,
        content_sha256=row.content_sha256,
        source=row.source,
        author=row.author,
        message=row.message,
        created_at=row.created_at,
        labels=labels,
    )


def _check(name: str, content: str) -> None:
    """Refuse what cannot be a version of prompt `name`, saying what to change."""
    if not NAME_PATTERN.match(name):
        raise RegistryError(
            f"'{name}' is not a prompt name: use letters, digits, '.', '_' or '-' (up to 128 characters)."
        )
    if len(content) > MAX_CONTENT_CHARS:
        raise RegistryError(f"The prompt is {len(content):,} characters; the limit is {MAX_CONTENT_CHARS:,}.")
    try:
        template = PromptTemplate.parse(content, fallback_name=name)
    except TemplateError as exc:
        raise RegistryError(str(exc), exc) from exc
    if template.name != name:
        raise RegistryError(
            f"The front matter says name: {template.name}, but this is prompt '{name}'. "
            f"Change the name in the front matter to {name} (or remove it)."
        )


def _check_label(label: str) -> None:
    if label == LATEST:
        raise RegistryError("'latest' always means the newest version; it cannot be moved.")
    if label == FILE:
        raise RegistryError("'file' marks the version the file in prompts/ has; it moves when the file changes.")
    if not LABEL_PATTERN.match(label):
        raise RegistryError(
            f"'{label}' is not a label name: use up to 32 lower-case letters, digits, '-' or '_', "
            "starting with a letter."
        )
