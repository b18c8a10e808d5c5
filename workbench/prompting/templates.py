"""A prompt template is a Markdown file in prompts/: YAML front matter, then a Jinja2 body.

Front matter: name, description, variables (declared, all required), system (the system message, also a
template), parameters (default model parameters). Parsing validates all of it and reports a problem with its line
and column in the file, since people edit whole files in the UI. Rendering uses the sandboxed environment with
StrictUndefined: a missing or unexpected variable is a named error, templates cannot reach Python internals, and what
a template may build is bounded.

This module holds `PromptTemplate` and loading from prompts/; the parts live beside it: `errors` (the exceptions),
`front_matter` (reading and validating it), `compiler` (compiling, with the line and column of a syntax error) and
`sandbox` (the environment and its limits). Their public names are importable from here too.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2.exceptions import SecurityError, TemplateRuntimeError, UndefinedError

from workbench.config.settings import PROJECT_ROOT
from workbench.prompting.compiler import NEWLINE, Compiled, SourceProblem, compile_source
from workbench.prompting.errors import (
    FrontMatterProblem,
    MissingVariables,
    TemplateError,
    TemplateSyntaxProblem,
    VariableErrors,
)
from workbench.prompting.front_matter import (
    FRONT_MATTER_FIELDS,
    PARAMETER_RANGES,
    Locate,
    check_front_matter,
    read_front_matter,
)
from workbench.prompting.sandbox import MAX_RENDERED_CHARS, MAX_WORK_STEPS, render_budget

__all__ = [
    "FRONT_MATTER_FIELDS",
    "MAX_RENDERED_CHARS",
    "MAX_WORK_STEPS",
    "PARAMETER_RANGES",
    "FrontMatterProblem",
    "MissingVariables",
    "PromptTemplate",
    "TemplateError",
    "TemplateSyntaxProblem",
    "VariableErrors",
    "list_prompts",
    "load_prompt",
    "prompts_dir",
]


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
        """The template in a file's text; any problem raises a TemplateError, located in the file when it can be."""
        text = NEWLINE.sub("\n", text)
        matter, body_start = read_front_matter(text, fallback_name)
        values = matter.values if matter else {}
        given = values.get("name")
        name = given if isinstance(given, str) and given.strip() else fallback_name
        if matter:
            check_front_matter(matter, name)
        body_line = text.count("\n", 0, body_start) + 1
        body = _checked_part(name, "body", text[body_start:], lambda line, col: (body_line + line - 1, col))
        system = ""
        if matter and values.get("system"):
            raw = values["system"]
            system = _checked_part(name, "system message", raw, matter.locate_system(raw), matter.system_start())
        return cls(
            name=name,
            body=body,
            description=values.get("description") or "",
            system=system,
            variables=tuple(values.get("variables") or ()),
            parameters=dict(values.get("parameters") or {}),
        )

    def referenced(self) -> set[str]:
        """Variables the system and body templates use."""
        return set().union(*(self._compiled(part).referenced for part in ("system", "body")))

    def required_variables(self) -> list[str]:
        """Every variable a render needs: the declared ones in order, then any others the text uses."""
        return [*self.variables, *sorted(self.referenced() - set(self.variables))]

    def check_values(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Problems with `values` by variable name ("required", "not used by this template"); empty when they fit."""
        required = self.required_variables()
        problems = {name: "required" for name in required if name not in values}
        problems.update((name, "not used by this template") for name in sorted(set(values) - set(required)))
        return problems

    def render(self, /, **values: Any) -> tuple[str, str]:
        """(system message, user message) with every declared variable filled."""
        problems = self.check_values(values)
        if problems:
            missing = [name for name, problem in problems.items() if problem == "required"]
            extra = [name for name, problem in problems.items() if problem != "required"]
            raise (MissingVariables if missing else VariableErrors)(self.name, missing, extra)
        with render_budget():  # one budget of work and time for both parts
            system = self._render("system", values, MAX_RENDERED_CHARS)
            return system, self._render("body", values, MAX_RENDERED_CHARS - len(system))

    def _compiled(self, part: str) -> Compiled:
        try:
            return compile_source(self.system if part == "system" else self.body)
        except SourceProblem as problem:
            raise TemplateSyntaxProblem(
                self.name, part, problem.line, problem.column, problem.detail, in_part=True
            ) from None

    def _render(self, part: str, values: dict[str, Any], limit: int) -> str:
        pieces: list[str] = []
        try:
            for piece in self._compiled(part).template.generate(**values):  # streamed, to stop at the limit
                limit -= len(piece)
                if limit < 0:
                    raise TemplateError(
                        f"Prompt '{self.name}': the rendered prompt is longer than {MAX_RENDERED_CHARS:,} characters."
                    )
                pieces.append(piece)
        except TemplateError:
            raise
        except SecurityError as exc:
            raise TemplateError(f"Prompt '{self.name}' tried something the sandbox refuses: {_sentence(exc)}") from exc
        except UndefinedError as exc:
            raise TemplateError(f"Prompt '{self.name}': {_sentence(exc)}") from exc
        except (TemplateRuntimeError, ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as exc:
            raise TemplateError(f"Prompt '{self.name}' failed while rendering the {part}: {_sentence(exc)}") from exc
        return "".join(pieces)


def _sentence(exc: Exception) -> str:
    return str(exc).rstrip(".") + "."


def _checked_part(template: str, part: str, raw: str, locate: Locate, start: tuple[int, int] = (1, 1)) -> str:
    """`raw` stripped, once it compiles; a syntax error is reported where it is in the file."""
    text = raw.strip()
    try:
        compile_source(text)
    except SourceProblem as problem:
        leading = raw[: len(raw) - len(raw.lstrip())]
        line, column = problem.line + leading.count("\n"), problem.column
        if problem.line == 1:
            column += len(leading) - leading.rfind("\n") - 1
        located = locate(line, column)
        if located is None:  # a folded or multi-line quoted value: point at its start, and say where inside it
            detail = f"{problem.detail} (line {line}, column {column} of the {part})"
            raise TemplateSyntaxProblem(template, part, *start, detail) from None
        raise TemplateSyntaxProblem(template, part, *located, problem.detail) from None
    return text


def load_prompt(name: str, directory: Path | None = None) -> PromptTemplate:
    """The template `prompts/<name>.md` (names are file stems; no paths)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise TemplateError(f"'{name}' is not a prompt name.")
    path = (directory or prompts_dir()) / f"{name}.md"
    if not path.exists():
        raise TemplateError(f"No prompt named '{name}' in {path.parent}.")
    return _load(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _load(path: Path, _mtime: int) -> PromptTemplate:  # mtime in the key: an edited file is re-read
    return PromptTemplate.parse(path.read_text(encoding="utf-8"), fallback_name=path.stem)


def list_prompts(directory: Path | None = None) -> list[str]:
    return sorted(path.stem for path in (directory or prompts_dir()).glob("*.md"))
