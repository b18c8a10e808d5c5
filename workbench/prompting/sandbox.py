"""The Jinja2 sandbox prompts render in: no Python internals, and a bound on what a template may build.

`ENVIRONMENT` is the one immutable sandboxed environment (StrictUndefined, no autoescape) every prompt compiles in.
Operators, calls, filters and captured blocks are checked against MAX_RENDERED_CHARS; repetition, powers and format
widths are refused before they are built. The work of one render is bounded inside `render_budget()`: every
`{% for %}` step (the compiler wraps each loop's iterable in the LOOP_FILTER filter) and every call (a macro, a
`caller()`, a recursive `loop()`, a method) counts against MAX_WORK_STEPS, macros nest at most MAX_CALL_DEPTH deep,
and past MAX_RENDER_SECONDS the next counted step stops the render: a template with no loop at all, such as a macro
calling itself twice per level, is refused like a loop that runs too long.
"""

from __future__ import annotations

import functools
import math
import re
import time
import types
from collections.abc import Callable, ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import do_center, do_format, do_indent
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_RENDERED_CHARS = 200_000  # a rendered prompt, and any string or list a template builds on the way
MAX_WORK_STEPS = 100_000  # loop iterations and calls in one render, all together
MAX_CALL_DEPTH = 50  # macros (and caller blocks) called inside one another
MAX_RENDER_SECONDS = 2.0  # the last resort: a render still going after this stops at its next counted step
LOOP_FILTER = "_counted_loop"  # wraps every {% for %} iterable at compile time (see `compiler.compile_source`)
_MAX_INT_BITS = 10_000  # about 3,000 decimal digits

# Every render gets its own budget; None outside `render_budget` (each loop then counts alone, calls not at all).
_BUDGET: ContextVar[_Budget | None] = ContextVar("prompt_render_budget", default=None)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*:((?:[^{}]|\{[^{}]*\})*)\}")
_T = TypeVar("_T")


class _Budget:
    __slots__ = ("deadline", "depth", "seconds", "steps")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.steps = 0
        self.depth = 0
        self.deadline = time.monotonic() + seconds

    def spend(self, what: str) -> None:
        self.steps += 1
        if self.steps > MAX_WORK_STEPS:
            raise SecurityError(f"more than {MAX_WORK_STEPS:,} loop steps and calls ({what} went past the limit)")
        if not self.steps & 0xFF and time.monotonic() > self.deadline:  # the clock is read every 256 steps
            raise SecurityError(f"rendering took longer than {self.seconds:g} s")


@contextmanager
def render_budget(seconds: float | None = None) -> Iterator[None]:
    """Count the loop steps and calls of everything rendered inside together, against MAX_WORK_STEPS, with a
    deadline of `seconds` (default MAX_RENDER_SECONDS)."""
    token = _BUDGET.set(_Budget(MAX_RENDER_SECONDS if seconds is None else seconds))
    try:
        yield
    finally:
        _BUDGET.reset(token)


# -- the checks ---------------------------------------------------------------------------------------------------


def _refuse(what: str) -> SecurityError:
    return SecurityError(f"{what} (the limit is {MAX_RENDERED_CHARS:,})")


def _bounded(value: _T) -> _T:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset) and len(value) > MAX_RENDERED_CHARS:
        raise _refuse(f"a value of {len(value):,} characters or items")
    return value


_PLAIN = (str, int, float, bool, type(None), Undefined)


def _shown(value: _T, depth: int = 0) -> _T:
    """A value a prompt may show: text, numbers, and lists or mappings of them. A function, a class, a module or any
    other object would print its Python form (`<function safe_range at 0x7f...>`): the sandbox's insides."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, range):
        return value
    if isinstance(value, list | tuple | set | frozenset | dict | KeysView | ValuesView | ItemsView) and depth < 4:
        for item in value.items() if isinstance(value, dict) else value:
            for part in item if isinstance(value, dict) else (item,):
                _shown(part, depth + 1)
        return value
    functions = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, functools.partial)
    kind = "a function" if isinstance(value, functions) else f"a {type(value).__name__} object"
    raise SecurityError(f"a template shows text, numbers and lists of them, not {kind}")


def _check_product(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > _MAX_INT_BITS:
            raise SecurityError(f"a product of more than {_MAX_INT_BITS:,} bits")
        return
    for sequence, times in ((left, right), (right, left)):
        if (
            isinstance(times, int)
            and isinstance(sequence, str | list | tuple)
            and len(sequence) * times > MAX_RENDERED_CHARS
        ):
            raise _refuse(f"repeating something {times:,} times")


def _check_power(base: Any, exponent: Any) -> None:
    ints = isinstance(base, int) and isinstance(exponent, int)
    if ints and exponent > 0 and abs(base) > 1 and exponent * math.log2(abs(base)) > _MAX_INT_BITS:
        raise SecurityError(f"a power of more than {_MAX_INT_BITS:,} bits")


def _check_format(text: Any, values: Iterable[Any]) -> None:
    """Refuse format widths that would build a huge string, like '%999999999s' or '{:>999999999}', and values a
    prompt may not show."""
    values = [_shown(value) for value in values]
    if not isinstance(text, str):
        return
    numbers = [n for m in _PERCENT_SPEC.finditer(text) for n in m.groups() if n]
    numbers += [n for m in _BRACE_SPEC.finditer(text) for n in re.findall(r"\d+|\{", m.group(1))]
    widths = [int(n) for n in numbers if n.isdigit()]
    if any(n in ("*", "{") for n in numbers):  # the width comes from the values
        widths += [v for v in values if isinstance(v, int)]
    if any(width > MAX_RENDERED_CHARS for width in widths):
        raise _refuse("a width over the limit")


# -- checked filters ----------------------------------------------------------------------------------------------


def _center(value: Any, width: int = 80) -> str:
    _check_format("%*s", [width])
    return do_center(value, width)


def _indent(text: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    lines = str(text).count("\n") + 1
    if (width if isinstance(width, int) else len(width)) * lines > MAX_RENDERED_CHARS:
        raise _refuse("an indent over the limit")
    return do_indent(text, width, first, blank)


def _format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_format(value, [*args, *kwargs.values()])
    return do_format(value, *args, **kwargs)


def _showing(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that turns its input into text: the input must be something a prompt may show."""

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        given = list(args)
        for index, value in enumerate(given):
            if isinstance(value, EvalContext | Context):  # what pass_context / pass_eval_context put first
                continue
            if isinstance(value, Iterator):  # a generator (map, select): listed once, checked, then handed on
                given[index] = list(value)
            _shown(given[index])
            break
        return function(*given, **kwargs)

    return checked


def _checked_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps Jinja's pass_context / pass_eval_context marks
    def checked(*args: Any, **kwargs: Any) -> Any:
        return _bounded(function(*args, **kwargs))

    return checked


def _counted_loop(iterable: Iterable[_T]) -> Iterator[_T]:
    budget = _BUDGET.get() or _Budget(MAX_RENDER_SECONDS)
    for item in iterable:
        budget.spend("a loop")
        yield item


# -- the environment ----------------------------------------------------------------------------------------------


class _CodeGenerator(CodeGenerator):
    """Compiles `a ~ b` through a length check and a check of what it shows: the sandbox has no hook for `~`."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # As Jinja's own, with each operand checked to be something a prompt may show (autoescape is always off).
        self.write("environment.bounded(str_join((")
        for arg in node.nodes:
            self.write("environment.shown(")
            self.visit(arg, frame)
            self.write("), ")
        self.write(")))")


class PromptEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with only range, dict and namespace as globals, bounding what a template may build.

    Every string or list an operator, call, filter or captured block produces is checked against
    MAX_RENDERED_CHARS; repetition, powers and widths are checked before they are built. A quadratic operation on
    values under the limit (joining 10**5 items with a 10**5-character separator) can still allocate a lot once.
    """

    intercepted_binops = frozenset({"+", "*", "**", "%"})
    code_generator_class = _CodeGenerator

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False, finalize=_shown)
        for name in ("lipsum", "cycler", "joiner"):  # not needed in prompts, and the classic SSTI stepping stones
            del self.globals[name]
        self.filters.update(center=_center, indent=_indent, format=_format)
        for name in ("string", "pprint", "join", "tojson", "list", "safe", "e", "escape", "forceescape", "urlencode"):
            self.filters[name] = _showing(self.filters[name])
        self.filters = {name: _checked_filter(function) for name, function in self.filters.items()}
        self.filters[LOOP_FILTER] = _counted_loop

    def concat(self, pieces: Iterable[str]) -> str:  # joins what set blocks, macros and call blocks capture
        pieces = list(pieces)
        if sum(map(len, pieces)) > MAX_RENDERED_CHARS:
            raise _refuse("a block of text over the limit")
        return "".join(pieces)

    def bounded(self, value: _T) -> _T:
        return _bounded(value)

    def shown(self, value: _T) -> _T:
        return _shown(value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_product(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%":
            _check_format(
                left, right.values() if isinstance(right, Mapping) else right if isinstance(right, tuple) else [right]
            )
        return _bounded(super().call_binop(context, operator, left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        values = [*args, *kwargs.values()]
        if isinstance(getattr(obj, "__self__", None), str):  # 'x'.ljust(10**9), 'x'.zfill(10**9), ...
            _check_format("%*s", values)
        budget = _BUDGET.get()
        if budget is None:
            return _bounded(super().call(context, obj, *args, **kwargs))
        nests = isinstance(obj, Macro | LoopContext)  # macros, caller blocks, loop(): the calls that recurse
        budget.spend(f"a call of {getattr(obj, 'name', None) or type(obj).__name__}")
        if nests:
            budget.depth += 1
            if budget.depth > MAX_CALL_DEPTH:
                raise SecurityError(
                    f"macros nested more than {MAX_CALL_DEPTH} deep (a macro or recursive loop calling itself?)"
                )
        try:
            return _bounded(super().call(context, obj, *args, **kwargs))
        finally:
            if nests:
                budget.depth -= 1

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            mapping = args[0] if args and isinstance(args[0], Mapping) else {}
            _check_format(text, [*args, *kwargs.values(), *mapping.values()])
            return _bounded(wrapped(*args, **kwargs))

        return checked


ENVIRONMENT = PromptEnvironment()
RESERVED_NAMES = frozenset(  # names a variable cannot have: Jinja would read them as something else
    {"true", "false", "none", "True", "False", "None"}
    | {"and", "or", "not", "in", "is", "if", "else"}
    | {"self", "loop", "caller", "varargs", "kwargs", *ENVIRONMENT.globals}
)
