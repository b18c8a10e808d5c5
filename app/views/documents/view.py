"""Documents: knowledge bases, uploading files into them (with progress), and what each one holds."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.components.markdown import plain
from workbench.config.rag import RagSettings
from workbench.rag.engine import RagEngine
from workbench.rag.errors import RagError

KB_KEY = "docs_kb"


def render(*, rag: RagEngine, settings: RagSettings) -> None:
    st.title("Documents")
    st.caption(
        "Knowledge bases the Chat searches. Supported: txt, md, html, pdf, docx, csv and jsonl (one document per "
        f"row). Up to {settings.max_file_mb} MB a file. Re-uploading an unchanged file does no work; a changed one "
        "replaces its passages."
    )

    bases = rag.list_knowledge_bases()
    left, right = st.columns([3, 2], gap="large")
    with right:
        new_knowledge_base(rag, settings)
    with left:
        if not bases:
            st.info("No knowledge base yet. Create one on the right, then upload documents into it.")
            return
        st.dataframe(
            pd.DataFrame(
                [
                    {"name": kb.name, "documents": kb.document_count, "chunks": kb.chunk_count,
                     "chunk size": kb.chunk_size, "overlap": kb.chunk_overlap, "embedding model": kb.embedding_model,
                     "description": kb.description}
                    for kb in bases
                ]
            ),
            hide_index=True,
        )  # fmt: skip
        chosen = st.selectbox("Knowledge base", [kb.name for kb in bases], key=KB_KEY)

    upload(rag, chosen)
    contents(rag, chosen)


def new_knowledge_base(rag: RagEngine, settings: RagSettings) -> None:
    with st.form("new-kb", clear_on_submit=True, border=True):
        st.subheader("New knowledge base")
        name = st.text_input("Name", placeholder="e.g. support-docs", key="kb_name")
        description = st.text_input("Description", key="kb_description")
        cols = st.columns(2)
        size = cols[0].number_input("Chunk size (tokens)", 32, 4096, settings.chunk_size, step=32, key="kb_chunk_size")
        overlap = cols[1].number_input("Overlap", 0, 1024, settings.chunk_overlap, step=16, key="kb_overlap")
        if st.form_submit_button("Create", type="primary"):
            try:
                rag.create_knowledge_base(name, int(size), int(overlap), description)
            except (RagError, ValueError) as exc:
                st.error(str(exc))
            else:
                st.session_state[KB_KEY] = name.strip()
                st.rerun()


def upload(rag: RagEngine, chosen: str) -> None:
    st.subheader(f"Add documents to {chosen}")
    files = st.file_uploader(
        "Files", accept_multiple_files=True, key="docs_upload",
        type=["txt", "md", "markdown", "html", "htm", "pdf", "docx", "csv", "jsonl"],
    )  # fmt: skip
    if not files or not st.button(f"Ingest {len(files)} file(s)", type="primary", key="docs_ingest"):
        return
    bar = st.progress(0.0, text="Starting…")

    def progress(done: int, total: int, current: str) -> None:
        bar.progress(done / total if total else 1.0, text=f"{done}/{total} · {current}")

    try:
        report = rag.ingest(chosen, [(f.name, f.getvalue()) for f in files], progress=progress)
    except RagError as exc:
        st.error(str(exc))
        return
    bar.progress(1.0, text=f"Done in {report.seconds:.1f} s")
    st.success(
        f"{len(report.added)} added · {len(report.replaced)} replaced · {len(report.unchanged)} unchanged · "
        f"{report.chunks_embedded} passages embedded"
    )
    for source, reason in report.failed:  # a file's name and a parser's message are shown as written, not as Markdown
        st.error(f"**{plain(source)}** was skipped: {plain(reason)}")


def contents(rag: RagEngine, chosen: str) -> None:
    """The documents of a knowledge base, and removing one with its passages."""
    documents = rag.documents(chosen)
    if not documents:
        return
    st.subheader("In this knowledge base")
    table = pd.DataFrame(
        [
            {
                "document": d.source,
                "status": d.status,
                "chunks": d.chunk_count,
                "size KB": round(d.size_bytes / 1024, 1),
                "type": d.mime_type,
                "ingested (UTC)": d.ingested_at.strftime("%Y-%m-%d %H:%M"),
                "error": d.error or "",
            }
            for d in documents
        ]
    )
    st.dataframe(table, hide_index=True)
    with st.popover("Remove a document", icon=":material/delete:"):
        doomed = st.selectbox("Document", [d.source for d in documents], key="docs_delete_choice")
        if st.button("Remove it and its passages", type="primary", key="docs_delete"):
            rag.delete_document(chosen, doomed)
            st.toast(f"Removed {doomed}")
            st.rerun()
