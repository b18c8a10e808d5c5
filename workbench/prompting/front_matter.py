"""The YAML front matter of a prompt file: read, validated, and every problem placed at its line and column.

Fields: name, description, variables (declared, all required), system (the system message, also a template),
parameters (default model parameters, within PARAMETER_RANGES). `FrontMatter` keeps the YAML node of each field and
list item, so a problem points at the value (or key) in the file, and a syntax error in the system message can be
placed in the file too (`FrontMatter.locate_system`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from workbench.prompting.errors import FrontMatterProblem, TemplateSyntaxProblem
from workbench.prompting.sandbox import RESERVED_NAMES

PARAMETER_RANGES: dict[str, tuple[float, float]] = {  # whole-number bounds: the value must be a whole number
    "temperature": (0.0, 2.0),
    "max_tokens": (1, 200_000),
    "top_p": (0.0, 1.0),
}
FRONT_MATTER_FIELDS = ("name", "description", "variables", "parameters", "system")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:(.*?)\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_OPENS_FRONT_MATTER = re.compile(r"\A---[ \t]*\n")

Locate = Callable[[int, int], "tuple[int, int] | None"]  # a (line, column) in a part -> the same place in the file


@dataclass(frozen=True, slots=True)
class FrontMatter:
    values: dict[str, Any]
    nodes: dict[str, tuple[yaml.Node, yaml.Node]]  # "system", "parameters.top_p", "variables[0]" -> key, value
    source: str
    first_line: int = 2  # the file line of its first line, after the opening '---'

    def problem(self, template: str, field: str, detail: str, *, at_key: bool = False) -> FrontMatterProblem:
        pair = self.nodes.get(field) or self.nodes.get(re.split(r"[.\[]", field)[0])
        node = None if pair is None else pair[0] if at_key else pair[1]
        if node is None:
            return FrontMatterProblem(template, field, self.first_line - 1, 1, detail)
        return FrontMatterProblem(
            template, field, self.first_line + node.start_mark.line, node.start_mark.column + 1, detail
        )

    def system_start(self) -> tuple[int, int]:
        _, node = self.nodes["system"]
        return self.first_line + node.start_mark.line, node.start_mark.column + 1

    def locate_system(self, raw: str) -> Locate:
        _, node = self.nodes["system"]
        start, column = self.system_start()
        if isinstance(node, yaml.ScalarNode) and node.style == "|":
            # A literal block: each line of the value is a line of the file, after the same indent.
            lines, file_lines = raw.split("\n"), self.source.split("\n")
            first = next((i for i, line in enumerate(lines) if line.strip()), 0)
            indent = len(file_lines[node.start_mark.line + 1 + first]) - len(lines[first])
            return lambda line, col: (start + line, col + indent)
        if node.start_mark.line == node.end_mark.line:  # one line, plain or quoted
            quote = 1 if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"') else 0
            return lambda line, col: (start, column + quote + col - 1) if line == 1 else None
        return lambda line, col: None  # folded or multi-line: point at the value and say where inside it


def read_front_matter(text: str, template: str) -> tuple[FrontMatter | None, int]:
    """The front matter of `text` (None when there is none) and the offset where the body starts."""
    match = _FRONT_MATTER.match(text)
    if not match:
        if _OPENS_FRONT_MATTER.match(text):
            raise TemplateSyntaxProblem(
                template, "front matter", 1, 1, "the front matter is never closed by a '---' line"
            )
        return None, 0
    source = match.group(1) or ""
    root, values = _load_yaml(source, template)
    if values is not None and not isinstance(values, dict):
        raise TemplateSyntaxProblem(template, "front matter", 2, 1, "the front matter must be 'field: value' lines")
    matter = FrontMatter(values or {}, {}, source)
    _index(matter, root, "", template)
    return matter, match.end()


def _load_yaml(source: str, template: str) -> tuple[yaml.Node | None, Any]:
    """The YAML node tree and the values of `source`; invalid YAML raises where the YAML parser stopped."""
    try:
        return yaml.compose(source, Loader=yaml.SafeLoader), yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if exc.context_mark and (mark is None or mark.index >= len(source)):  # ran off the end: point at the opening
            mark = exc.context_mark
        line, column = (2 + mark.line, mark.column + 1) if mark else (2, 1)
        detail = " ".join(["invalid YAML,", str(exc.problem), *([exc.context] if exc.context else [])])
        raise TemplateSyntaxProblem(template, "front matter", line, column, detail) from exc
    except yaml.YAMLError as exc:
        raise TemplateSyntaxProblem(template, "front matter", 2, 1, f"invalid YAML, {exc}") from exc


def _index(matter: FrontMatter, node: yaml.Node | None, prefix: str, template: str) -> None:
    """Record where each field and list item is; a field given twice is an error (YAML would keep the last)."""
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            matter.nodes[f"{prefix}[{index}]"] = (item, item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}{key.value}"
            if path in matter.nodes:
                matter.nodes[path] = (key, value)
                raise matter.problem(template, path, f"'{path}' is given twice", at_key=True)
            matter.nodes[path] = (key, value)
            if not prefix:
                _index(matter, value, f"{path}." if isinstance(value, yaml.MappingNode) else path, template)


# -- validation ---------------------------------------------------------------------------------------------------


def check_front_matter(matter: FrontMatter, template: str) -> None:
    """Raise a FrontMatterProblem for the first field with an unknown name or a wrong shape or value."""
    values = matter.values
    for key in values:
        if key not in FRONT_MATTER_FIELDS:
            known = ", ".join(FRONT_MATTER_FIELDS)
            raise matter.problem(template, str(key), f"unknown field '{key}' (the fields are {known})", at_key=True)
    for key in ("name", "description", "system"):
        if values.get(key) is not None and not isinstance(values[key], str):
            raise matter.problem(template, key, f"'{key}' must be text (put it in quotes)")
    if values.get("name") is not None and not values["name"].strip():
        raise matter.problem(template, "name", "'name' must not be empty")
    _check_variables(matter, template, values.get("variables"))
    _check_parameters(matter, template, values.get("parameters"))


def _check_variables(matter: FrontMatter, template: str, variables: Any) -> None:
    if variables is None:
        return
    if not isinstance(variables, list):
        raise matter.problem(template, "variables", "'variables' must be a list of names, like [context, question]")
    for index, name in enumerate(variables):
        where = f"variables[{index}]"
        if not isinstance(name, str) or not name.isidentifier():
            raise matter.problem(template, where, f"'variables' has {name!r}, which is not a name (letters, digits, _)")
        if name in RESERVED_NAMES:
            raise matter.problem(template, where, f"'{name}' is a name Jinja keeps for itself; choose another")
        if name in variables[:index]:
            raise matter.problem(template, where, f"'{name}' is declared twice in 'variables'")


def _check_parameters(matter: FrontMatter, template: str, parameters: Any) -> None:
    if parameters is None:
        return
    if not isinstance(parameters, dict):
        raise matter.problem(template, "parameters", "'parameters' must be a mapping, like 'temperature: 0.2'")
    for key, value in parameters.items():
        where = f"parameters.{key}"
        if key not in PARAMETER_RANGES:
            known = ", ".join(PARAMETER_RANGES)
            raise matter.problem(
                template, where, f"unknown parameter '{key}' (the parameters are {known})", at_key=True
            )
        low, high = PARAMETER_RANGES[key]
        whole = isinstance(low, int)
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            raise matter.problem(template, where, f"'{where}' must be {'a whole number' if whole else 'a number'}")
        if not low <= value <= high:
            raise matter.problem(template, where, f"'{where}' must be between {low:g} and {high:g}")


def with_system(text: str, system: str) -> str:
    """The prompt file text with `system:` in its front matter replaced (front matter added when there is none)."""
    match = _FRONT_MATTER.match(text)
    header: dict[str, Any] = {}
    body = text
    if match:
        loaded = yaml.safe_load(match.group(1) or "") or {}
        header = dict(loaded) if isinstance(loaded, dict) else {}
        body = text[match.end() :]
    system = system.strip()
    header["system"] = system + "\n" if "\n" in system else system
    dumped = yaml.dump(header, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return f"---\n{dumped}---\n{body.lstrip(chr(10))}"


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (`|`), as people write system prompts by hand."""


def _literal(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_BlockDumper.add_representer(str, _literal)
