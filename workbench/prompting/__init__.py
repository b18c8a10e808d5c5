"""Prompt templates: files in prompts/ with YAML front matter, rendered in Jinja2's sandbox."""

from workbench.prompting.templates import (
    MissingVariables,
    PromptTemplate,
    TemplateError,
    load_prompt,
    prompts_dir,
)

__all__ = ["MissingVariables", "PromptTemplate", "TemplateError", "load_prompt", "prompts_dir"]
