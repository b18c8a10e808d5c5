"""A prompt template is a Markdown file in prompts/: YAML front matter, then a Jinja2 body.

Front matter: name, description, variables (declared, all required), system (the system message, also a
template), parameters (default model parameters). Rendering uses the sandboxed environment with StrictUndefined:
a missing variable is a named error, never an empty string, and templates cannot reach Python internals.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from workbench.config.settings import PROJECT_ROOT

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)
_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class TemplateError(ValueError):
    """A template that cannot be loaded or rendered; the message names the template and the problem."""


class MissingVariables(TemplateError):
    def __init__(self, template: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(f"Prompt '{template}' needs a value for: {', '.join(missing)}.")


def prompts_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_PROMPTS_DIR", PROJECT_ROOT / "prompts"))


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    name: str
    body: str
    description: str = ""
    system: str = ""
    variables: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, fallback_name: str) -> PromptTemplate:
        match = _FRONT_MATTER.match(text)
        header: dict[str, Any] = {}
        body = text
        if match:
            header = yaml.safe_load(match.group(1)) or {}
            body = match.group(2)
        template = cls(
            name=str(header.get("name", fallback_name)),
            body=body.strip(),
            description=str(header.get("description", "")),
            system=str(header.get("system", "")).strip(),
            variables=tuple(header.get("variables") or ()),
            parameters=dict(header.get("parameters") or {}),
        )
        template.referenced()  # syntax errors surface at load time
        return template

    def referenced(self) -> set[str]:
        """Variables the system and body templates use."""
        names: set[str] = set()
        for source in (self.system, self.body):
            try:
                names |= meta.find_undeclared_variables(_ENV.parse(source))
            except TemplateSyntaxError as exc:
                raise TemplateError(f"Prompt '{self.name}': {exc.message} (line {exc.lineno}).") from exc
        return names

    def render(self, **values: Any) -> tuple[str, str]:
        """(system message, user message) with every declared variable filled."""
        missing = sorted((set(self.variables) | self.referenced()) - set(values))
        if missing:
            raise MissingVariables(self.name, missing)
        try:
            return _ENV.from_string(self.system).render(**values), _ENV.from_string(self.body).render(**values)
        except UndefinedError as exc:
            raise TemplateError(f"Prompt '{self.name}': {exc.message}.") from exc
        except SecurityError as exc:
            raise TemplateError(f"Prompt '{self.name}' tried something the sandbox refuses: {exc}.") from exc


def load_prompt(name: str, directory: Path | None = None) -> PromptTemplate:
    """The template `prompts/<name>.md` (names are file stems; no paths)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise TemplateError(f"'{name}' is not a prompt name.")
    path = (directory or prompts_dir()) / f"{name}.md"
    if not path.exists():
        raise TemplateError(f"No prompt named '{name}' in {path.parent}.")
    return _load(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _load(path: Path, _mtime: int) -> PromptTemplate:  # mtime in the key: an edited file is re-read
    return PromptTemplate.parse(path.read_text(encoding="utf-8"), fallback_name=path.stem)


def list_prompts(directory: Path | None = None) -> list[str]:
    return sorted(path.stem for path in (directory or prompts_dir()).glob("*.md"))
