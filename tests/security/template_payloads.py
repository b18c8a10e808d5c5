"""Server-side template injection and resource-exhaustion payloads, by what they try. Each is a prompt body with one
variable, `question`; a payload is refused (a TemplateError naming the reason) or renders without anything of
Python's insides, within the render's budget of work and time."""

from __future__ import annotations

BIG = "10**9"

DUNDER_WALKS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ question.__class__.__mro__ }}",
    "{{ question.__class__.__base__.__subclasses__() }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ [].__class__ }}",
    "{{ (1).__class__.__init__.__globals__ }}",
    "{{ range.__globals__ }}",
    "{{ range.__init__.__globals__['os'] }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{% set n = namespace(a=1) %}{{ n.__dict__ }}",
    "{% set n = namespace(a=1) %}{{ n.__class__.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self._TemplateReference__context.environment }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ config.items() }}",
    "{{ request.application.__globals__ }}",
    "{{ question.upper.__self__.__class__ }}",
    "{{ [].pop.__self__.__class__ }}",
    "{{ question.format.__globals__ }}",
    "{{ dict(a=1).items().__class__.__mro__ }}",
    "{{ question['__class__'] }}",
    "{{ (question|string).__class__ }}",
    "{% for x in [1] %}{{ loop.__class__.__init__.__globals__ }}{% endfor %}",
    "{% macro m() %}{{ caller.__globals__ }}{% endmacro %}{% call m() %}x{% endcall %}",
    "{% macro m() %}x{% endmacro %}{{ m.__globals__ }}",
    "{% macro m() %}x{% endmacro %}{{ m._func.__globals__ }}",
]
FILTERS_AND_TESTS = [
    "{{ question|attr('__class__') }}",
    "{{ question|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ ''|attr('__class__')|attr('__mro__') }}",
    "{{ [question]|map(attribute='__class__')|list }}",
    "{{ [question]|map(attribute='__class__.__mro__')|list }}",
    "{{ [question]|selectattr('__class__')|list }}",
    "{{ [question]|sort(attribute='__class__')|list }}",
    "{{ [question]|groupby('__class__')|list }}",
    "{{ question is callable }}{{ range is callable }}",
    "{{ question|pprint }}",
    "{{ range|string }}",
    "{{ namespace|string }}",
]
FORMAT_STRINGS = [
    "{{ '{0.__class__.__mro__}'.format(question) }}",
    "{{ '{0.__init__.__globals__}'.format(range) }}",
    "{{ '%s'|format(question.__class__) }}",
    "{{ '%(a)s'|format(a=range.__globals__) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '%0*d'|format(999999999, 1) }}",
    "{{ '%.*f'|format(999999999, 1.0) }}",
    "{{ '{0:{1}}'.format(1, 999999999) }}",
]
RESOURCE_EXHAUSTION = [
    f"{{{{ 'x' * {BIG} }}}}",
    f"{{{{ [1] * {BIG} }}}}",
    "{{ 9**9**9 }}",
    f"{{{{ range({BIG})|list }}}}",
    f"{{{{ range({BIG})|join }}}}",
    f"{{{{ 'x'|center({BIG}) }}}}",
    f"{{{{ 'x'|indent({BIG}) }}}}",
    f"{{{{ 'x'.ljust({BIG}) }}}}",
    f"{{{{ 'x'.zfill({BIG}) }}}}",
    "{{ ('x' * 150000) ~ ('x' * 150000) }}",
    "{% set a = 'x' * 150000 %}{% set b = a + a %}{{ b|length }}",
    "{% for i in range(100000000) %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
]
RECURSION = [
    "{% macro m(n) %}{% if n %}{{ m(n-1) }}{{ m(n-1) }}{% endif %}{% endmacro %}{{ m(40) }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
    "{% macro a(n) %}{{ b(n) }}{{ b(n) }}{% endmacro %}{% macro b(n) %}{% if n %}{{ a(n-1) }}{% endif %}{% endmacro %}"
    "{{ a(30) }}",
    "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
    "{% for x in [1, 2] recursive %}{% if loop.depth < 60 %}{{ loop([1, 2]) }}{% endif %}{% endfor %}",
    "{% macro w() %}{{ caller() }}{{ caller() }}{% endmacro %}"
    "{% macro r(n) %}{% if n %}{% call w() %}{{ r(n-1) }}{% endcall %}{% endif %}{% endmacro %}{{ r(40) }}",
    "{% macro m(n) %}{% for i in range(1000) %}{{ m(n) if n else '' }}{% endfor %}{% endmacro %}{{ m(3) }}",
]
INCLUDES_AND_IMPORTS = [
    "{% include '/etc/passwd' %}",
    "{% include 'rag-answer.md' %}",
    "{% import 'os' as os %}{{ os.system('id') }}",
    "{% from 'x' import y %}{{ y }}",
    "{% extends 'base.html' %}",
    "{% debug %}",
    "{% do [].append(1) %}",
    "{% with x = range.__globals__ %}{{ x }}{% endwith %}",
]

PAYLOADS: dict[str, list[str]] = {
    "dunder walks": DUNDER_WALKS,
    "filters and tests": FILTERS_AND_TESTS,
    "format strings": FORMAT_STRINGS,
    "resource exhaustion": RESOURCE_EXHAUSTION,
    "recursion": RECURSION,
    "includes and imports": INCLUDES_AND_IMPORTS,
}
ALL = [payload for group in PAYLOADS.values() for payload in group]

# What must never appear in a rendered prompt: Python's insides.
LEAKS = ("<class", "<function", "<built-in", "<module", "<bound method", "__globals__", "<jinja2", "environ")
