"""Prompt templates: files in prompts/ with YAML front matter, rendered in Jinja2's sandbox."""

from workbench.prompting.templates import (
    FrontMatterProblem,
    MissingVariables,
    PromptTemplate,
    TemplateError,
    TemplateSyntaxProblem,
    VariableErrors,
    list_prompts,
    load_prompt,
    prompts_dir,
)

__all__ = [
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
