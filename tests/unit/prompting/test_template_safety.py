"""The sandbox: known server-side template injection payloads are refused, and what a template builds is bounded.

The payloads come from public SSTI references (PayloadsAllTheThings "Jinja2", HackTricks "Jinja2 SSTI", PortSwigger's
server-side template injection research): each reaches for Python internals through a string, a tuple, a global or
a filter. Each must fail with a TemplateError that says why, or render something with no internals in it; none
may take long.
"""

from __future__ import annotations

import pytest

from workbench.prompting import MissingVariables, PromptTemplate, TemplateError, sandbox
from workbench.prompting.templates import MAX_RENDERED_CHARS, MAX_WORK_STEPS

pytestmark = pytest.mark.timeout(30)  # a hang fails the test, not the run (the bound in time: MAX_RENDER_SECONDS)


def _render(body: str, **values: object) -> str:
    return PromptTemplate(name="t", body=body).render(**values)[1]


UNSAFE = "tried something the sandbox refuses: access to attribute"

INJECTIONS = [  # payload, what the error says
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", f"{UNSAFE} '__class__' of 'str' object is unsafe."),
    ("{{ ().__class__.__bases__[0].__subclasses__() }}", f"{UNSAFE} '__class__' of 'tuple' object is unsafe."),
    ("{{ (1).__class__.__base__.__subclasses__() }}", f"{UNSAFE} '__class__' of 'int' object is unsafe."),
    ("{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}", f"{UNSAFE} '__class__' of 'list'"),
    ("{{ dict.__base__.__subclasses__() }}", f"{UNSAFE} '__base__' of 'type' object is unsafe."),
    ("{{ namespace.__init__.__globals__ }}", f"{UNSAFE} '__init__' of 'type' object is unsafe."),
    ("{{ range.__globals__['__builtins__'] }}", f"{UNSAFE} '__globals__' of 'function' object is unsafe."),
    ("{{ self._TemplateReference__context }}", f"{UNSAFE} '_TemplateReference__context' of 'TemplateReference'"),
    ("{{ self.__init__.__globals__ }}", f"{UNSAFE} '__init__' of 'TemplateReference' object is unsafe."),
    ("{{ namespace()._Namespace__attrs }}", f"{UNSAFE} '_Namespace__attrs' of 'Namespace' object is unsafe."),
    ("{{ ''|attr('__class__') }}", f"{UNSAFE} '__class__' of 'str' object is unsafe."),
    (r"{{ ''|attr('\x5f\x5fclass\x5f\x5f') }}", f"{UNSAFE} '__class__' of 'str' object is unsafe."),
    ("{{ ''|attr('__cla' ~ 'ss__') }}", f"{UNSAFE} '__class__' of 'str' object is unsafe."),
    ("{{ [1]|selectattr('__class__')|list }}", f"{UNSAFE} '__class__' of 'int' object is unsafe."),
    ("{{ ''['__class__'] }}", f"{UNSAFE} '__class__' of 'str' object is unsafe."),
    ("{% set c = ''.__class__ %}{{ c }}", f"{UNSAFE} '__class__' of 'str' object is unsafe."),
    ("{{ '{0.__class__}'.format('') }}", f"{UNSAFE} '__class__' of 'str' object is unsafe."),
    ("{{ '{x.__class__}'.format_map({'x': ''}) }}", f"{UNSAFE} '__class__' of 'str' object is unsafe."),
    ("{{ '%s'|format(''.__class__) }}", f"{UNSAFE} '__class__' of 'str' object is unsafe."),
    ("{{ [].append(1) }}", f"{UNSAFE} 'append' of 'list' object is unsafe."),
    ("{{ {}.update(a=1) }}", f"{UNSAFE} 'update' of 'dict' object is unsafe."),
    ("{{ {}.__setitem__('a', 1) }}", f"{UNSAFE} '__setitem__' of 'dict' object is unsafe."),
]


@pytest.mark.parametrize(("payload", "refusal"), INJECTIONS)
def test_injection_payloads_are_refused(payload: str, refusal: str) -> None:
    with pytest.raises(TemplateError) as caught:
        _render(payload)
    assert str(caught.value).startswith(f"Prompt 't' {refusal}")


# The usual stepping stones are not there: Flask's config, request and url_for never were, and cycler, joiner and
# lipsum are removed from the globals. A name the template does not have is a missing variable, never empty.
STEPPING_STONES = [  # payload, the name it needs
    ("{{ config.items() }}", "config"),
    ("{{ config.__class__.__init__.__globals__['os'].popen('id').read() }}", "config"),
    ("{{ request.application.__globals__.__builtins__.__import__('os').popen('id').read() }}", "request"),
    ("{{ url_for.__globals__['current_app'].config }}", "url_for"),
    ("{{ get_flashed_messages.__globals__ }}", "get_flashed_messages"),
    ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "cycler"),
    ("{{ joiner.__init__.__globals__.os.popen('id').read() }}", "joiner"),
    ("{{ lipsum.__globals__['os'].popen('id').read() }}", "lipsum"),
]


@pytest.mark.parametrize(("payload", "name"), STEPPING_STONES)
def test_payloads_through_names_the_template_lacks_fail_as_missing(payload: str, name: str) -> None:
    with pytest.raises(MissingVariables) as caught:
        _render(payload)
    assert caught.value.missing == [name]


def test_a_name_the_template_does_not_have_is_missing_not_empty() -> None:
    with pytest.raises(MissingVariables) as caught:
        _render("{{ lipsum }}{{ cycler }}{{ joiner }}")
    assert caught.value.missing == ["cycler", "joiner", "lipsum"]


def test_the_attributes_of_values_are_guarded_too() -> None:
    with pytest.raises(TemplateError, match=f"{UNSAFE} '__class__' of 'str' object is unsafe"):
        _render("{{ question.__class__.__mro__ }}", question="q")
    with pytest.raises(TemplateError, match="'str object' has no attribute 'nothing'"):
        _render("{{ question.nothing }}", question="q")


def test_what_the_sandbox_renders_holds_no_internals() -> None:
    rendered = _render("{{ ['a']|map(attribute='__class__')|list }}")  # an undefined value, not the class
    assert "class" not in rendered and "__" not in rendered and "0x" not in rendered


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ("{{ self }}", "a TemplateReference object"),
        ("{{ range }}", "a function"),
        ("{{ range|string }}", "a function"),
        ("{{ [range]|join(',') }}", "a function"),
        ("{{ 'x' ~ namespace }}", "a type object"),
        ("{{ '%s'|format(range) }}", "a function"),
        ("{{ '{}'.format(range) }}", "a function"),
        ("{% set n = namespace(a=1) %}{{ n }}", "a Namespace object"),
        ("{% for x in [1] %}{{ loop }}{% endfor %}", "a LoopContext object"),
    ],
)
def test_objects_are_not_shown_in_their_python_form(payload: str, kind: str) -> None:
    with pytest.raises(TemplateError, match=f"a template shows text, numbers and lists of them, not {kind}"):
        _render(payload)


def test_text_numbers_lists_ranges_and_mappings_still_show() -> None:
    body = (
        "{{ range(3)|list }} {{ range(3)|join(',') }} {{ {'a': [1, 2.5, none]} }} {{ x|map('upper')|join }} "
        "{{ 'n=%d'|format(2) }} {{ '{}!'.format(x[0]) }} {{ true ~ 1 }}"
    )
    rendered = _render(body, x=["a", "b"])
    assert rendered == "[0, 1, 2] 0,1,2 {'a': [1, 2.5, None]} AB n=2 a! True1"


def test_powers_are_evaluated_left_to_right_and_stay_small() -> None:
    assert _render("{{ 9**9**9 }}") == str((9**9) ** 9)  # Jinja's ** is left-associative: (9**9)**9, 77 digits


RESOURCE_ABUSE = [  # payload, what the error says
    ("{{ range(10**9)|list }}", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."),
    ("{{ 'a' * 10**9 }}", "repeating something 1,000,000,000 times (the limit is 200,000)."),
    ("{{ 10**9 * 'a' }}", "repeating something 1,000,000,000 times"),
    ("{{ [0] * 10**9 }}", "repeating something 1,000,000,000 times"),
    ("{{ 9**(9**9) }}", "a power of more than 10,000 bits."),
    ("{{ 2**5000 * 2**5000 }}", "a product of more than 10,000 bits."),
    ("{{ 'x'|center(10**9) }}", "a width over the limit"),
    ("{{ 'x'.ljust(10**9) }}", "a width over the limit"),
    ("{{ 'x'.zfill(10**9) }}", "a width over the limit"),
    ("{{ '%999999999s'|format('a') }}", "a width over the limit"),
    ("{{ '%999999999s' % 'a' }}", "a width over the limit"),
    ("{{ '%*s' % (10**9, 'a') }}", "a width over the limit"),
    ("{{ '{:>999999999}'.format('a') }}", "a width over the limit"),
    ("{{ '{:>{}}'.format('a', 10**9) }}", "a width over the limit"),
    ("{{ ('x\n' * 1000)|indent(1000) }}", "an indent over the limit"),
    ("{{ range(100000)|join(',') }}", "a value of 588,889 characters or items"),
    ("{% set a = 'x' * 150000 %}{% set a = a ~ a %}{{ a|length }}", "a value of 300,000 characters or items"),
    ("{% set a = 'x' * 150000 %}{% set b %}{{ a }}{{ a }}{% endset %}{{ b|length }}", "a block of text over the limit"),
    (
        "{% set ns = namespace(s='xx') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "a value of 262,144 characters or items",
    ),
    (
        "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% endif %}{% endmacro %}{{ d('x', 40) }}",
        "a value of 262,144 characters or items",
    ),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "more than 100,000 loop"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "macros nested more than 50 deep"),
    ("{% for i in range(100000) %}{{ 'abcd' }}{% endfor %}", "the rendered prompt is longer than 200,000 characters"),
]


@pytest.mark.parametrize(("payload", "refusal"), RESOURCE_ABUSE)
def test_resource_abuse_is_refused_quickly(payload: str, refusal: str) -> None:
    with pytest.raises(TemplateError) as caught:
        _render(payload)
    assert refusal in str(caught.value)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("{{ 1/0 }}", "failed while rendering the body: division by zero."),
        ("{{ 'a' + 1 }}", 'failed while rendering the body: can only concatenate str (not "int") to str.'),
        ("{{ [1][5] }}", "Prompt 't': list object has no element 5."),
    ],
)
def test_runtime_errors_are_template_errors(payload: str, error: str) -> None:
    with pytest.raises(TemplateError) as caught:
        _render(payload)
    assert error in str(caught.value)


def test_up_to_the_limits_is_fine() -> None:
    assert len(_render(f"{{{{ 'x' * {MAX_RENDERED_CHARS} }}}}")) == MAX_RENDERED_CHARS
    steps = f"{{% for i in range({MAX_WORK_STEPS - 1}) %}}{{% endfor %}}done"  # the call of range() counts too
    template = PromptTemplate(name="t", body=steps)
    assert template.render() == ("", "done")
    assert template.render() == ("", "done")  # each render counts its own loop steps


def test_the_output_limit_counts_the_system_message_too() -> None:
    template = PromptTemplate(name="t", system="{{ 'x' * 150000 }}", body="{{ 'y' * 60000 }}")
    with pytest.raises(TemplateError, match="the rendered prompt is longer than 200,000 characters"):
        template.render()


RECURSIVE_MACRO = "{% macro m(n) %}{% if n %}{{ m(n-1) }}{{ m(n-1) }}{% endif %}{% endmacro %}{{ m(40) }}"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (RECURSIVE_MACRO, "more than 100,000 loop steps and calls (a call of m went past the limit)"),
        ("{% macro m(n) %}{{ m(n+1) }}{% endmacro %}{{ m(0) }}", "macros nested more than 50 deep"),
        (
            "{% macro m() %}{{ caller() }}{{ caller() }}{% endmacro %}"
            "{% macro r(n) %}{% if n %}{% call m() %}{{ r(n-1) }}{% endcall %}{% endif %}{% endmacro %}{{ r(16) }}",
            "loop steps and calls",
        ),
        ("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", "nested more than 50 deep"),
        (
            "{% for x in [1, 2] recursive %}{% if loop.depth < 40 %}{{ loop([1, 2]) }}{% endif %}{% endfor %}",
            "loop steps and calls",
        ),
        ("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "loop steps and calls"),
    ],
)
def test_work_without_an_end_is_refused_quickly_naming_what(payload: str, reason: str) -> None:
    with pytest.raises(TemplateError) as caught:
        _render(payload)
    assert reason in str(caught.value)
    assert "tried something the sandbox refuses" in str(caught.value)


def test_a_render_past_its_time_stops_at_the_next_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "MAX_RENDER_SECONDS", 0.0)
    with pytest.raises(TemplateError, match=r"rendering took longer than 0 s"):
        _render("{% for i in range(5000) %}{{ i }}{% endfor %}")


def test_every_render_has_its_own_budget() -> None:
    template = PromptTemplate(name="t", body="{% for i in range(60000) %}{% endfor %}ok")
    assert [template.render() for _ in range(3)] == [("", "ok")] * 3
