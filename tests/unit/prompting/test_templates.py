"""Prompt templates: parsing and validating a file, rendering with named variable errors, precise error locations."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.prompting import (
    FrontMatterProblem,
    MissingVariables,
    PromptTemplate,
    TemplateError,
    TemplateSyntaxProblem,
    VariableErrors,
    list_prompts,
    load_prompt,
)
from workbench.prompting.templates import PARAMETER_RANGES

FRONT = "---\nname: t\nvariables: [a]\n---\n"  # four lines: a body's line 1 is the file's line 5


def _parse(text: str) -> PromptTemplate:
    return PromptTemplate.parse(text, fallback_name="fallback")


# -- rendering ----------------------------------------------------------------------------------------------------


def test_render_fills_system_and_body() -> None:
    template = _parse(
        "---\nname: greet\nvariables: [who, topic]\nparameters:\n  temperature: 0.2\n"
        "system: |\n  You help {{ who }}.\n---\n\nTell {{ who }} about {{ topic }}.\n"
    )
    assert template.render(who="Ada", topic="loops") == ("You help Ada.", "Tell Ada about loops.")
    assert template.parameters == {"temperature": 0.2}
    assert template.required_variables() == ["who", "topic"]


def test_a_file_without_front_matter_is_all_body() -> None:
    template = _parse("Summarise: {{ text }}")
    assert (template.name, template.variables) == ("fallback", ())
    assert template.render(text="x") == ("", "Summarise: x")


def test_loops_keep_their_features() -> None:
    template = _parse(
        "{% for x in items %}{{ loop.index }}/{{ loop.length }} {{ x }}{% if not loop.last %}, {% endif %}"
        "{% else %}none{% endfor %}"
    )
    assert template.render(items=["a", "b"])[1] == "1/2 a, 2/2 b"
    assert template.render(items=[])[1] == "none"


def test_range_dict_and_namespace_are_available() -> None:
    template = _parse(
        "{% set ns = namespace(total=0) %}{% for i in range(4) %}{% set ns.total = ns.total + i %}{% endfor %}"
        "{{ ns.total }} {{ dict(a=1)['a'] }} {{ '{:,}'.format(1234567) }} {{ '%.2f' % 3.14159 }}"
    )
    assert template.render()[1] == "6 1 1,234,567 3.14"


def test_render_takes_a_variable_named_like_its_own_parameter() -> None:
    assert _parse("{{ values }}").render(values="v")[1] == "v"


# -- missing and unexpected values --------------------------------------------------------------------------------


def test_a_missing_value_is_a_named_error_with_a_field_message() -> None:
    template = _parse("---\nname: t\nvariables: [context, question]\n---\n{{ context }} {{ question }}")
    with pytest.raises(MissingVariables) as caught:
        template.render(question="q")
    assert caught.value.missing == ["context"]
    assert caught.value.extra == []
    assert caught.value.field_errors == {"context": "required"}
    assert str(caught.value) == "Prompt 't' needs a value for: context."


def test_an_unexpected_value_is_a_named_error() -> None:
    template = _parse("---\nname: t\nvariables: [question]\n---\n{{ question }}")
    with pytest.raises(VariableErrors) as caught:
        template.render(question="q", context="c")
    assert not isinstance(caught.value, MissingVariables)
    assert (caught.value.missing, caught.value.extra) == ([], ["context"])
    assert caught.value.field_errors == {"context": "not used by this template"}
    assert str(caught.value) == "Prompt 't' does not use: context."


def test_missing_and_unexpected_values_are_reported_together() -> None:
    template = _parse("---\nname: t\nvariables: [a, b]\n---\n{{ a }}{{ b }}")
    with pytest.raises(MissingVariables) as caught:
        template.render(a="1", z="2")
    assert caught.value.field_errors == {"b": "required", "z": "not used by this template"}
    assert str(caught.value) == "Prompt 't' needs a value for: b; it does not use: z."


def test_declared_but_unused_variables_are_still_required() -> None:
    template = _parse("---\nname: t\nvariables: [question, tone]\n---\n{{ question }}")
    assert template.check_values({"question": "q"}) == {"tone": "required"}
    with pytest.raises(MissingVariables, match="tone"):
        template.render(question="q")


def test_used_but_undeclared_variables_are_required_after_the_declared_ones() -> None:
    template = _parse("---\nname: t\nvariables: [b]\nsystem: '{{ z }}'\n---\n{{ a }} {{ b }}")
    assert template.required_variables() == ["b", "a", "z"]
    assert template.check_values({"b": 1}) == {"a": "required", "z": "required"}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"a": 1}, {}),
        ({}, {"a": "required"}),
        ({"a": 1, "b": 2, "c": 3}, {"b": "not used by this template", "c": "not used by this template"}),
    ],
)
def test_check_values_returns_field_errors_without_raising(values: dict[str, int], expected: dict[str, str]) -> None:
    assert _parse(FRONT + "{{ a }}").check_values(values) == expected


# -- syntax errors with line and column ---------------------------------------------------------------------------

SYNTAX_ERRORS = [  # body, line, column (in the body), the message
    ("Hello {{ a", 1, 7, "'{{' is never closed"),
    ("{% foo %}", 1, 4, "unknown tag 'foo'"),
    ("line one\n{% if a %}\nyes", 2, 1, "'{% if %}' is never closed (expected 'elif' or 'else' or 'endif')"),
    ("{{ a + }}", 1, 8, "unexpected '}}'"),
    ("x\n  {{ 'abc }}", 2, 6, "unterminated string"),
    ('{{ "abc }}', 1, 4, "unterminated string"),
    ("{{ a ) }}", 1, 6, "unexpected ')'"),
    ("{{ f(a }}", 1, 8, "unexpected '}', expected ')'"),
    ("{{ [1, 2 }}", 1, 10, "unexpected '}', expected ']'"),
    ("{{ a|nofilter }}", 1, 6, "no filter named 'nofilter'"),
    ("{% if a is nosuchtest %}x{% endif %}", 1, 12, "no test named 'nosuchtest'"),
    ("{# a note", 1, 1, "missing end of comment tag"),
    ("{% raw %}x", 1, 1, "missing end of raw directive"),
    ("{% for %}", 1, 8, "expected an expression, got '%}'"),
    ("{{ }}", 1, 4, "expected an expression, got '}}'"),
    ("{{ 1a }}", 1, 5, "expected token '}}', got 'a'"),
    ("{% if a %}{% endfor %}", 1, 14, "unknown tag 'endfor' (the open '{% if %}' expects 'elif' or 'else' or 'endif')"),
    ("\n\n  {{ a + }}", 3, 10, "unexpected '}}'"),  # leading blank lines are stripped from the body, not lost
    (
        "{%- if a -%}\n   {{ a }}  {%- endiff %}",
        2,
        17,
        "unknown tag 'endiff' (the open '{% if %}' expects 'elif' or 'else' or 'endif')",
    ),
    ("{% include 'other.md' %}", 1, 1, "'{% include %}' is not available in prompts"),
]


@pytest.mark.parametrize(("body", "line", "column", "detail"), SYNTAX_ERRORS)
def test_a_syntax_error_in_a_template_built_in_code_is_located_in_its_part(
    body: str, line: int, column: int, detail: str
) -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        PromptTemplate(name="t", body=body).referenced()
    problem = caught.value
    assert (problem.part, problem.line, problem.column, problem.detail) == ("body", line, column, detail)
    assert str(problem) == f"Prompt 't': {detail} at line {line}, column {column} of the body."


@pytest.mark.parametrize(("body", "line", "column", "detail"), SYNTAX_ERRORS)
def test_a_syntax_error_in_a_file_counts_lines_from_the_top_of_the_file(
    body: str, line: int, column: int, detail: str
) -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        _parse(FRONT + body)
    problem = caught.value
    assert (problem.part, problem.line, problem.column, problem.detail) == ("body", line + 4, column, detail)
    assert str(problem) == f"Prompt 't': {detail} at line {line + 4}, column {column}."


def test_windows_line_endings_give_the_same_place() -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        _parse(FRONT.replace("\n", "\r\n") + "ok\r\n  {{ a + }}")
    assert (caught.value.line, caught.value.column) == (6, 10)


@pytest.mark.parametrize(
    ("system", "line", "column", "detail"),
    [
        ("system: |\n  Hello\n    {{ a + }}\n", 5, 12, "unexpected '}}'"),  # a literal block keeps lines
        ("system: |\n\n  Hello {{ a\n", 5, 9, "'{{' is never closed"),
        ("system: 'Hi {{ a + }}'\n", 3, 20, "unexpected '}}'"),  # one line: the column within the file
        ("system: Hi {{ a + }}\n", 3, 19, "unexpected '}}'"),
        ("system: >\n  Hi\n  there {{ a + }}\n", 3, 9, "unexpected '}}' (line 1, column 17 of the system message)"),
    ],
)
def test_a_syntax_error_in_the_system_message_is_located_in_the_file(
    system: str, line: int, column: int, detail: str
) -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        _parse(f"---\nname: t\n{system}---\nbody")
    problem = caught.value
    assert (problem.part, problem.line, problem.column, problem.detail) == ("system message", line, column, detail)


# -- front matter -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "line", "column", "detail"),
    [
        ("name: [t\n", 2, 7, "invalid YAML, expected ',' or ']', but got '<stream end>' while parsing a flow sequence"),
        ("name: t\n  bad: x\n", 3, 6, "invalid YAML, mapping values are not allowed here"),
        (
            "name: t\nparameters:\n\ttemperature: 1\n",
            4,
            1,
            "invalid YAML, found character '\\t' that cannot start any token while scanning for the next token",
        ),
        (
            'name: t\ndescription: "open\n',
            3,
            14,
            "invalid YAML, found unexpected end of stream while scanning a quoted scalar",
        ),
        ("- a\n- b\n", 2, 1, "the front matter must be 'field: value' lines"),
    ],
)
def test_invalid_yaml_is_located_in_the_file(front: str, line: int, column: int, detail: str) -> None:
    with pytest.raises(TemplateSyntaxProblem) as caught:
        _parse(f"---\n{front}---\nbody")
    problem = caught.value
    assert (problem.part, problem.line, problem.column, problem.detail) == ("front matter", line, column, detail)


def test_front_matter_that_is_never_closed_is_an_error() -> None:
    with pytest.raises(TemplateSyntaxProblem, match="never closed by a '---' line at line 1, column 1"):
        _parse("---\nname: t\n{{ a }}")


@pytest.mark.parametrize(
    ("front", "field", "line", "column", "detail"),
    [
        ("variables: question\n", "variables", 2, 12, "'variables' must be a list of names"),
        ("variables: [a, 1x]\n", "variables[1]", 2, 16, "'variables' has '1x', which is not a name"),
        ("variables: [a, {b: 1}]\n", "variables[1]", 2, 16, "'variables' has {'b': 1}, which is not a name"),
        ("variables: [a, a]\n", "variables[1]", 2, 16, "'a' is declared twice in 'variables'"),
        ("variables: [loop]\n", "variables[0]", 2, 13, "'loop' is a name Jinja keeps for itself"),
        ("variables: [range]\n", "variables[0]", 2, 13, "'range' is a name Jinja keeps for itself"),
        ("parameters: 0.2\n", "parameters", 2, 13, "'parameters' must be a mapping"),
        ("parameters:\n  temprature: 1\n", "parameters.temprature", 3, 3, "unknown parameter 'temprature'"),
        ("parameters:\n  temperature: hot\n", "parameters.temperature", 3, 16, "must be a number"),
        ("parameters:\n  temperature: true\n", "parameters.temperature", 3, 16, "must be a number"),
        ("parameters:\n  temperature: 3\n", "parameters.temperature", 3, 16, "must be between 0 and 2"),
        ("parameters:\n  top_p: -0.1\n", "parameters.top_p", 3, 10, "must be between 0 and 1"),
        ("parameters:\n  max_tokens: 1.5\n", "parameters.max_tokens", 3, 15, "must be a whole number"),
        ("parameters:\n  max_tokens: 0\n", "parameters.max_tokens", 3, 15, "must be between 1 and 200000"),
        ("parameters:\n  top_p: 0.5\n  top_p: 0.6\n", "parameters.top_p", 4, 3, "'parameters.top_p' is given twice"),
        ("name: a\nname: b\n", "name", 3, 1, "'name' is given twice"),
        ("versoin: 2\n", "versoin", 2, 1, "unknown field 'versoin' (the fields are name, description, variables"),
        ("description: yes\n", "description", 2, 14, "'description' must be text (put it in quotes)"),
        ("system: [a]\n", "system", 2, 9, "'system' must be text"),
        ("name: ''\n", "name", 2, 7, "'name' must not be empty"),
    ],
)
def test_front_matter_of_the_wrong_shape_names_the_field(
    front: str, field: str, line: int, column: int, detail: str
) -> None:
    with pytest.raises(FrontMatterProblem) as caught:
        _parse(f"---\n{front}---\nbody")
    problem = caught.value
    assert (problem.field, problem.line, problem.column) == (field, line, column)
    assert detail in problem.detail
    assert problem.part == "front matter"
    assert isinstance(problem, TemplateError)


def test_every_known_parameter_is_accepted() -> None:
    template = _parse("---\nparameters:\n  temperature: 0\n  max_tokens: 200\n  top_p: 1\n---\nbody")
    assert template.parameters == {"temperature": 0, "max_tokens": 200, "top_p": 1}
    assert set(template.parameters) == set(PARAMETER_RANGES)


# -- files --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list_prompts())
def test_the_shipped_prompts_parse_and_render(name: str) -> None:
    template = load_prompt(name)
    values = {variable: f"<{variable}>" for variable in template.required_variables()}
    system, user = template.render(**values)
    assert all(value in system + user for value in values.values())
    assert set(template.parameters) <= set(PARAMETER_RANGES)


def test_the_shipped_prompts_include_the_chat_defaults() -> None:
    assert {"plain-chat", "rag-answer"} <= set(list_prompts())


def test_load_prompt_rereads_an_edited_file(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text("---\nname: p\n---\none", encoding="utf-8")
    assert load_prompt("p", tmp_path).body == "one"
    path.write_text("---\nname: p\n---\ntwo {{ x", encoding="utf-8")
    with pytest.raises(TemplateSyntaxProblem, match="at line 4, column 5"):
        load_prompt("p", tmp_path)


@pytest.mark.parametrize("name", ["../secrets", "a/b", "", ".hidden", "missing"])
def test_load_prompt_refuses_paths_and_unknown_names(name: str, tmp_path: Path) -> None:
    with pytest.raises(TemplateError):
        load_prompt(name, tmp_path)


def test_with_system_replaces_the_system_message_and_keeps_the_rest() -> None:
    from workbench.prompting.front_matter import with_system

    text = "---\nname: x\nvariables: [q]\nsystem: Old.\n---\nAsk {{ q }}\n"
    edited = with_system(text, "Line one.\nLine two.")
    template = PromptTemplate.parse(edited, fallback_name="x")
    assert (template.name, template.variables, template.body) == ("x", ("q",), "Ask {{ q }}")
    assert template.system.strip() == "Line one.\nLine two."
    assert "system: |" in edited
    bare = PromptTemplate.parse(with_system("Ask {{ q }}", "Be brief."), fallback_name="y")
    assert (bare.system, bare.body) == ("Be brief.", "Ask {{ q }}")
