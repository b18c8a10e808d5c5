"""Compiling template text in the sandbox, and placing a syntax error at its line and column.

Jinja reports most syntax errors by line only, and an unclosed block at the end of the text. People edit whole files
in the UI, so `compile_source` re-lexes with offsets and raises `SourceProblem` at the character that is wrong: the
bad token, the name the message quotes, or the tag that is never closed. It also refuses what prompts may not use
(`{% include %}` and friends, unknown filters and tests), and wraps every loop so the sandbox counts its steps.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from jinja2 import Template, TemplateSyntaxError, meta, nodes
from jinja2.lexer import Token, TokenStream
from jinja2.parser import Parser

from workbench.prompting.sandbox import ENVIRONMENT, LOOP_FILTER

NEWLINE = re.compile(r"\r\n|\r")  # what a template's text has in place of "\n"
_TAG_NAMES = {
    "begin of print statement": "{{",
    "end of print statement": "}}",
    "begin of statement block": "{%",
    "end of statement block": "%}",
}
_UNAVAILABLE_TAGS = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)


class SourceProblem(Exception):
    """A syntax error at `line` and `column` (1-based) of the compiled text; `detail` says what is wrong."""

    def __init__(self, source: str, offset: int, detail: str) -> None:
        self.line, self.column = _position(source, offset)
        self.detail = _plain(detail)


class Compiled(NamedTuple):
    template: Template
    referenced: frozenset[str]


class _TracingParser(Parser):
    """Remembers the innermost statement being parsed when parsing failed, to point at an unclosed block."""

    innermost: Token | None = None

    def parse_statement(self) -> nodes.Node | list[nodes.Node]:
        token = self.stream.current
        try:
            return super().parse_statement()
        except TemplateSyntaxError:
            self.innermost = self.innermost or token
            raise


@functools.lru_cache(maxsize=256)
def compile_source(source: str) -> Compiled:
    """The compiled template and the variables it uses; a syntax error raises `SourceProblem`."""
    source = NEWLINE.sub("\n", source)
    tree = _parse(source)
    _refuse_unavailable(tree, source)
    try:
        referenced = frozenset(meta.find_undeclared_variables(tree))
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, LOOP_FILTER, [], [], None, None, lineno=loop.lineno)
        tree.set_environment(ENVIRONMENT)
        return Compiled(ENVIRONMENT.from_string(tree), referenced)
    except TemplateSyntaxError as exc:  # found while compiling: an unknown filter or test, a misplaced tag
        raise _on_line(exc, source) from exc


def _parse(source: str) -> nodes.Template:
    tokens = _tokens(source)
    parser = _TracingParser(ENVIRONMENT, source)
    parser.stream = TokenStream(iter([token for _, token in tokens]), None, None)
    try:
        return parser.parse()
    except TemplateSyntaxError as exc:
        raise _parser_problem(exc, source, tokens, parser) from exc


def _refuse_unavailable(tree: nodes.Template, source: str) -> None:
    """Refuse tags that reach other templates, and filters or tests that do not exist."""
    for node in tree.find_all(_UNAVAILABLE_TAGS):
        tag = {nodes.Extends: "extends", nodes.Include: "include", nodes.Import: "import"}.get(type(node), "from")
        raise _on_line(TemplateSyntaxError(f"'{{% {tag} %}}' is not available in prompts", node.lineno), source)
    for check in tree.find_all((nodes.Filter, nodes.Test)):  # Jinja finds unknown ones in an {% if %} only when run
        is_filter = isinstance(check, nodes.Filter)
        kind, known = ("filter", ENVIRONMENT.filters) if is_filter else ("test", ENVIRONMENT.tests)
        if check.name not in known:
            raise _on_line(TemplateSyntaxError(f"no {kind} named '{check.name}'", check.lineno), source)


def _tokens(source: str) -> list[tuple[int, Token]]:
    """Tokens with their offsets in `source`; a lexer error raises `SourceProblem` at the exact character."""
    found: list[tuple[int, Token]] = []
    cursor = opened = 0
    try:
        for lineno, kind, value in ENVIRONMENT.lexer.tokeniter(source, None):
            start = source.find(value, cursor) if value else cursor  # whitespace control strips text before tags
            cursor = start + len(value)
            if kind.endswith("_begin"):
                opened = start
            try:
                found.extend((start, token) for token in ENVIRONMENT.lexer.wrap([(lineno, kind, value)]))
            except TemplateSyntaxError as exc:  # a bad string escape or identifier
                raise SourceProblem(source, start, exc.message or "invalid token") from exc
    except TemplateSyntaxError as exc:
        message = re.sub(r" at \d+$", "", exc.message or "")
        if message.startswith("Missing end of"):
            raise SourceProblem(source, opened, message) from exc
        if source[cursor : cursor + 1] in ("'", '"'):
            message = "unterminated string"
        raise SourceProblem(source, cursor, message) from exc
    return found


# -- placing an error ---------------------------------------------------------------------------------------------


def _position(source: str, offset: int) -> tuple[int, int]:
    return source.count("\n", 0, offset) + 1, offset - source.rfind("\n", 0, offset)


def _parser_problem(
    exc: TemplateSyntaxError, source: str, tokens: list[tuple[int, Token]], parser: _TracingParser
) -> SourceProblem:
    message = exc.message or "invalid template"
    current = parser.stream.current
    if current.type == "eof":
        return _unclosed(message, source, tokens, parser.innermost)
    starts = {id(token): start for start, token in tokens}
    start = starts.get(id(current))
    if start is not None and _position(source, start)[0] == exc.lineno:
        return SourceProblem(source, start, message)
    return _on_line(exc, source)


def _on_line(exc: TemplateSyntaxError, source: str) -> SourceProblem:
    """Jinja gives only the line: point at the name its message quotes, else at the first tag on that line."""
    lines = source.split("\n")
    line = lines[exc.lineno - 1] if exc.lineno <= len(lines) else ""
    message = exc.message or "invalid template"
    candidates = [*re.findall(r"'([^']+)'", message), "{{", "{%"]
    column = next((line.find(word) for word in candidates if word in line), 0)
    return SourceProblem(source, sum(len(text) + 1 for text in lines[: exc.lineno - 1]) + column, message)


def _unclosed(message: str, source: str, tokens: list[tuple[int, Token]], innermost: Token | None) -> SourceProblem:
    """Point an 'unexpected end of template' at the tag or block that is never closed."""
    open_tag: tuple[int, Token] | None = None
    for start, token in tokens:
        if token.type in ("variable_begin", "block_begin"):
            open_tag = (start, token)
        elif token.type in ("variable_end", "block_end"):
            open_tag = None
    if open_tag:
        return SourceProblem(source, open_tag[0], f"'{open_tag[1].value}' is never closed")
    index = next((i for i, (_, token) in enumerate(tokens) if token is innermost), None)
    if index is None or innermost is None:
        return SourceProblem(source, len(source), message)
    expected = re.search(r"looking for the following tags: (.*?)\.", message)
    hint = f" (expected {expected.group(1)})" if expected else ""
    return SourceProblem(source, tokens[max(index - 1, 0)][0], f"'{{% {innermost.value} %}}' is never closed{hint}")


def _plain(message: str) -> str:
    """Jinja's message, shorter and without its final period (the location follows it)."""
    unknown = re.match(r"Encountered unknown tag '(\w+)'\.(?: Jinja was .*?tags: (.*?)\. .*? is '(\w+)')?", message)
    if unknown:
        tag, expected, block = unknown.groups()
        return f"unknown tag '{tag}'" + (f" (the open '{{% {block} %}}' expects {expected})" if block else "")
    for description, tag in _TAG_NAMES.items():
        message = message.replace(f"'{description}'", f"'{tag}'")
    return message[:1].lower() + message[1:].rstrip(".")
