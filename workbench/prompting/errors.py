"""Why a prompt template cannot be loaded or rendered: one exception family, each naming the template."""

from __future__ import annotations

from collections.abc import Iterable


class TemplateError(ValueError):
    """A template that cannot be loaded or rendered; the message names the template and the problem."""


class TemplateSyntaxProblem(TemplateError):
    """A problem at a place in the template text: `line` and `column` are 1-based.

    From `PromptTemplate.parse` they count in the whole file text; from a template built in code, in its `part`.
    """

    def __init__(self, template: str, part: str, line: int, column: int, detail: str, *, in_part: bool = False) -> None:
        self.template, self.part, self.line, self.column, self.detail = template, part, line, column, detail
        where = f" of the {part}" if in_part else ""
        super().__init__(f"Prompt '{template}': {detail} at line {line}, column {column}{where}.")


class FrontMatterProblem(TemplateSyntaxProblem):
    """A front matter field with the wrong shape or value; `field` is its name, like 'parameters.temperature'."""

    def __init__(self, template: str, field: str, line: int, column: int, detail: str) -> None:
        self.field = field
        super().__init__(template, "front matter", line, column, detail)


class VariableErrors(TemplateError):
    """Values that do not fit the template: `field_errors` maps each variable name to a message for its form field."""

    def __init__(self, template: str, missing: list[str], extra: Iterable[str] = ()) -> None:
        self.template, self.missing, self.extra = template, list(missing), list(extra)
        self.field_errors = {name: "required" for name in self.missing}
        self.field_errors.update((name, "not used by this template") for name in self.extra)
        problems = [f"needs a value for: {', '.join(self.missing)}"] if self.missing else []
        problems += [f"does not use: {', '.join(self.extra)}"] if self.extra else []
        super().__init__(f"Prompt '{template}' {'; it '.join(problems)}.")


class MissingVariables(VariableErrors):
    """Raised whenever a value is missing (unexpected values, if any, are listed too)."""
