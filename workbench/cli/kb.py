"""`workbench kb ...`: knowledge bases (documents for retrieval)."""

from __future__ import annotations

import typer

from workbench.bootstrap import open_rag

kb_app = typer.Typer(help="Knowledge bases (documents for retrieval).", no_args_is_help=True)


@kb_app.command("list")
def kb_list() -> None:
    """List knowledge bases with their documents, chunks and embedding model."""
    with open_rag() as engine:
        knowledge_bases = engine.list_knowledge_bases()
    if not knowledge_bases:
        typer.echo("no knowledge bases yet: run `workbench ingest PATH --kb NAME`")
        return
    for kb in knowledge_bases:
        typer.echo(
            f"{kb.name:<24} {kb.document_count:>5} docs {kb.chunk_count:>7} chunks  "
            f"chunk {kb.chunk_size}/{kb.chunk_overlap}  {kb.embedding_model}"
        )
