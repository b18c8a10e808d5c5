"""A new playground run as rows to store: checked first, so a run that cannot work is never stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.domain.ids import new_id
from workbench.domain.runs import PlaygroundRunStatus
from workbench.playground.errors import PlaygroundError
from workbench.playground.variants import MAX_VARIANTS, Variant, VariantError
from workbench.prompting.templates import TemplateError
from workbench.storage.sql.models import PlaygroundInputRow, PlaygroundRunRow, PlaygroundVariantRow

MAX_TITLE = 200


@dataclass(frozen=True, slots=True)
class NewRun:
    run: PlaygroundRunRow
    variants: list[PlaygroundVariantRow]
    inputs: list[PlaygroundInputRow]


def new_run(
    *,
    user_id: str | None,
    variants: Sequence[Variant],
    rows: Sequence[Mapping[str, Any]],
    kind: str,
    title: str,
    mapping: Mapping[str, str] | None,
    dataset_name: str | None,
    dataset_sha256: str | None,
    concurrency: int,
    max_rows: int,
    max_concurrency: int,
) -> NewRun:
    """The run's rows, its variants and input rows; PlaygroundError says what to change when it cannot run."""
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise PlaygroundError(f"Choose between 1 and {MAX_VARIANTS} variants (got {len(variants)}).")
    if not rows:
        raise PlaygroundError("There are no input rows to run.")
    if len(rows) > max_rows:
        raise PlaygroundError(f"The dataset has {len(rows):,} rows; the limit is {max_rows:,}.")
    if not 1 <= concurrency <= max_concurrency:
        raise PlaygroundError(f"Concurrency must be between 1 and {max_concurrency}.")
    for variant in variants:
        try:
            variant.check()
            variant.template  # noqa: B018 - parsing reports a broken template before anything is stored
        except (VariantError, TemplateError) as exc:
            raise PlaygroundError(str(exc)) from exc
    run_id = new_id()
    run = PlaygroundRunRow(
        id=run_id, user_id=user_id, title=(title or _default_title(kind, dataset_name, rows))[:MAX_TITLE],
        kind=kind, status=PlaygroundRunStatus.PENDING, dataset_name=dataset_name, dataset_sha256=dataset_sha256,
        mapping=dict(mapping or {}), concurrency=concurrency, row_count=len(rows),
    )  # fmt: skip
    variant_rows = [
        PlaygroundVariantRow(
            run_id=run_id,
            position=position,
            prompt_name=variant.prompt_name,
            prompt_version=variant.prompt_version,
            template_text=variant.template_text,
            model_id=variant.model_id,
            parameters=variant.parameters(),
            system_prompt=variant.system_prompt,
        )
        for position, variant in enumerate(variants)
    ]
    input_rows = [PlaygroundInputRow(run_id=run_id, row_index=i, values=dict(values)) for i, values in enumerate(rows)]
    return NewRun(run, variant_rows, input_rows)


def _default_title(kind: str, dataset_name: str | None, rows: Sequence[Mapping[str, Any]]) -> str:
    if kind == "dataset":
        return f"{dataset_name or 'dataset'} · {len(rows)} rows"
    first = next((str(value) for value in rows[0].values() if str(value).strip()), "") if rows else ""
    first = " ".join(first.split())
    return f"Try: {first[:60]}{'…' if len(first) > 60 else ''}" if first else "Try"
