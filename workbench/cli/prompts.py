"""`workbench prompts ...`: versions and labels in the prompt registry. Registered in workbench/cli/__init__.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
import yaml

from workbench.cli.common import open_registry, print_table, readable_errors, version_of, when, who
from workbench.prompting.templates import TemplateError

prompts_app = typer.Typer(help="Prompt versions and labels (the prompt registry).", no_args_is_help=True)

# prompts ----------------------------------------------------------------------------------------------------------


@prompts_app.command("list")
def prompts_list() -> None:
    """List prompts with their latest version, labels, version count and last change."""
    with readable_errors(), open_registry() as registry:
        summaries = registry.summaries()
        problems = registry.last_sync.problems
    for file_name, problem in sorted(problems.items()):
        typer.secho(f"prompts/{file_name} not recorded: {problem}", fg=typer.colors.YELLOW, err=True)
    if not summaries:
        typer.echo(f"no prompts yet: add a .md file to {registry.directory} or run `workbench prompts save`")
        return
    rows = [
        [s.name, f"v{s.latest_version}", " ".join(f"{label}=v{v}" for label, v in sorted(s.labels.items())) or "-",
         str(s.version_count), when(s.updated_at)]
        for s in summaries
    ]  # fmt: skip
    print_table(["name", "latest", "labels", "versions", "updated"], rows, right={3})


@prompts_app.command("show")
def prompts_show(
    name: str,
    ref: str | None = typer.Option(None, "--version", "-v", help="number, label or latest (default: production)"),
    versions: bool = typer.Option(False, "--versions", help="list the history instead"),
) -> None:
    """Print one version: a header line (to stderr, so `show NAME > file.md` keeps only the content), then it."""
    with readable_errors(), open_registry() as registry:
        if versions:
            history = registry.versions(name)
            rows = [[f"v{v.version}", ",".join(v.labels) or "-", v.source, v.author, when(v.created_at), v.message]
                    for v in history]  # fmt: skip
            print_table(["version", "labels", "source", "author", "created", "message"], rows)
            return
        version = version_of(registry, name, ref)
    labels = f"  [{', '.join(version.labels)}]" if version.labels else ""
    message = f"  {version.message}" if version.message else ""
    header = f"{version.name} v{version.version}{labels}  by {version.author}, {when(version.created_at)}{message}"
    typer.secho(header, bold=True, err=True)
    typer.echo(version.content, nl=not version.content.endswith("\n"))


@prompts_app.command("diff")
def prompts_diff(name: str, old: str, new: str) -> None:
    """Unified diff between two versions (numbers, labels or latest)."""
    with readable_errors(), open_registry() as registry:
        lines = registry.diff(name, old, new)
    if not lines:
        typer.echo(f"{name}: {old} and {new} have the same content")
        return
    colour = sys.stdout.isatty()
    for line in lines:
        typer.echo(_coloured(line) if colour else line)


def _coloured(line: str) -> str:
    if line.startswith(("+++", "---")):
        return typer.style(line, bold=True)
    if line.startswith("@@"):
        return typer.style(line, fg=typer.colors.CYAN)
    if line.startswith("+"):
        return typer.style(line, fg=typer.colors.GREEN)
    if line.startswith("-"):
        return typer.style(line, fg=typer.colors.RED)
    return line


@prompts_app.command("render")
def prompts_render(
    name: str,
    ref: str | None = typer.Option(None, "--version", "-v", help="number, label or latest (default: production)"),
    var: list[str] | None = typer.Option(None, "--var", help="key=value, or key=@file.txt to read the value"),
    vars_file: Path | None = typer.Option(None, "--vars-file", help="a JSON or YAML object of values"),
) -> None:
    """Print the system and user messages a version renders to with the given values."""
    with readable_errors():
        values = {**_values_file(vars_file), **_pairs(var or [])}
        with open_registry() as registry:
            template = version_of(registry, name, ref).template
        system, user = template.render(**values)  # missing and unused values are named errors
    if system.strip():
        typer.secho("--- system", bold=True)
        typer.echo(system)
    typer.secho("--- user", bold=True)
    typer.echo(user)


def _pairs(pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise TemplateError(f"--var '{pair}' is not key=value (or key=@file).")
        values[key.strip()] = _read(Path(value[1:]), "--var") if value.startswith("@") else value
    return values


def _values_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    text = _read(path, "--vars-file")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise TemplateError(
            f"--vars-file {path} is not valid {path.suffix.lstrip('.').upper() or 'YAML'}: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise TemplateError(f"--vars-file {path} must hold an object of name: value pairs.")
    return {str(key): value for key, value in data.items()}


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{option}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}.") from exc


@prompts_app.command("save")
def prompts_save(
    name: str,
    file: Path = typer.Argument(..., help="the prompt text: front matter and template body"),
    message: str = typer.Option("", "--message", "-m", help="what changed"),
    label: str | None = typer.Option(None, "--label", help="point this label at the version"),
) -> None:
    """Record FILE's content as a version of NAME (nothing new when a version already has that content)."""
    with readable_errors():
        content = _read(file, "FILE")
        with open_registry() as registry:
            result = registry.save(name, content, author=who(), source="cli", message=message, label=label)
    number = result.version.version
    typer.echo(f"recorded v{number}" if result.created else f"unchanged: v{number} already has this content")
    if label:
        typer.echo(f"{label} -> v{number}")


@prompts_app.command("label")
def prompts_label(name: str, label: str, version: str = typer.Argument(..., help="number, label or latest")) -> None:
    """Point LABEL at VERSION of NAME (creating the label or moving it)."""
    with readable_errors(), open_registry() as registry:
        target = registry.get(name, version).version
        registry.set_label(name, label, target, actor=who())
    typer.echo(f"{name}: {label} -> v{target}")


# playground -------------------------------------------------------------------------------------------------------
