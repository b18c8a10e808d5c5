"""What the prompt registry hands out: versions, summaries, save and sync results, and its errors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from workbench.prompting.templates import PromptTemplate, TemplateError


class RegistryError(ValueError):
    """A registry request that cannot be done as asked; the message says what to change.

    `problem` is the template error behind it, when there is one (with line and column for a syntax error).
    """

    def __init__(self, message: str, problem: TemplateError | None = None) -> None:
        super().__init__(message)
        self.problem = problem


class PromptNotFound(RegistryError):
    pass


@dataclass(frozen=True, slots=True)
class PromptVersion:
    id: str
    name: str
    version: int
    content: str
    content_sha256: str
    source: str
    author: str
    message: str
    created_at: datetime
    labels: tuple[str, ...] = ()

    @property
    def template(self) -> PromptTemplate:
        return PromptTemplate.parse(self.content, fallback_name=self.name)


@dataclass(frozen=True, slots=True)
class PromptSummary:
    name: str
    latest_version: int
    version_count: int
    updated_at: datetime
    labels: dict[str, int] = field(default_factory=dict)  # label -> version


@dataclass(frozen=True, slots=True)
class SaveResult:
    version: PromptVersion
    created: bool  # False: this content was already a version


@dataclass(frozen=True, slots=True)
class SyncReport:
    created: list[PromptVersion] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # file name -> what is wrong with it


def content_hash(content: str) -> str:
    return hashlib.sha256(normalise(content).encode("utf-8")).hexdigest()


def normalise(content: str) -> str:
    # Line endings and trailing blanks are not a change worth a version.
    return "\n".join(line.rstrip() for line in content.replace("\r\n", "\n").split("\n")).strip() + "\n"
