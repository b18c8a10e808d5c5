"""Ingestion and retrieval end to end: the real ONNX model, real Chroma on tmp_path, SQL records on SQLite."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.integration.rag.conftest import MakeEngine
from tests.rag_fakes import CountingEmbedding, HashEmbedding
from tests.rag_files import pdf_bytes
from workbench.rag.engine import RagEngine
from workbench.rag.errors import EmbeddingModelMismatch
from workbench.rag.records import KnowledgeBase
from workbench.rag.sample import SAMPLE_KB, ensure_sample_knowledge_base

pytestmark = pytest.mark.integration

SAMPLE_FILES = [
    "faq.md", "m1-mobile-base.html", "onboarding-checklist.docx", "r2-arm-datasheet.md", "release-notes.md",
    "safety-guide.pdf", "spare-parts.csv", "support-hours.txt", "warranty-policy.md",
]  # fmt: skip

# The questions of datasets/sample-corpus/README.md: each is answered in exactly one document.
QUESTIONS = [
    ("How long is the warranty on the R2 arm?", "warranty-policy.md", {}),
    ("What is the maximum payload of the R2 arm?", "r2-arm-datasheet.md", {}),
    ("What is the top speed of the M1 mobile base?", "m1-mobile-base.html", {}),
    ("When is support open on Saturdays?", "support-hours.txt", {}),
    ("Which NRC OS version added collision detection, and when was it released?", "release-notes.md", {}),
    ("How much does the G3 gripper finger set cost?", "spare-parts.csv", {"row": 1}),
    ("What must an operator do before entering a fenced cell?", "safety-guide.pdf", {"page": 2}),
    ("Who is the onboarding engineer?", "onboarding-checklist.docx", {}),
    ("Within how many days can unused products be returned?", "faq.md", {}),
    ("Is there a simulator?", "faq.md", {}),
    ("Which languages does support speak?", "support-hours.txt", {}),
    ("How long does charging the M1 take?", "m1-mobile-base.html", {}),
]


def chunk_ids(rag: RagEngine, kb: str, source: str) -> list[str]:
    index = rag._index(rag.get_knowledge_base(kb), create=False)
    assert index is not None
    return sorted(index.ids_of(source))


def ingest_corpus(rag: RagEngine, corpus: Path, kb: str = "docs", **kwargs: object) -> KnowledgeBase:
    record, _ = rag.ensure_knowledge_base(kb)
    report = rag.ingest(kb, [corpus], **kwargs)  # type: ignore[arg-type]
    assert report.failed == []
    return record


def test_the_sample_corpus_answers_each_question_from_its_document(rag: RagEngine, counting: CountingEmbedding) -> None:
    report = ensure_sample_knowledge_base(rag)
    assert report is not None
    assert sorted(report.added) == SAMPLE_FILES
    assert report.failed == []
    assert report.chunks_embedded == counting.texts > len(SAMPLE_FILES)
    assert ensure_sample_knowledge_base(rag) is None  # a knowledge base exists: the first-run step does nothing

    for question, source, where in QUESTIONS:
        retrieval = rag.retrieve(SAMPLE_KB, question, top_k=3)
        best = retrieval.chunks[0]
        assert best.source == source, (question, [chunk.source for chunk in retrieval.chunks])
        assert {key: best.metadata[key] for key in where} == where
        assert retrieval.chunks == sorted(retrieval.chunks, key=lambda chunk: -chunk.score)
        assert 0.0 < best.score <= 1.0
    warranty = rag.retrieve(SAMPLE_KB, QUESTIONS[0][0])
    assert len(warranty.chunks) == 4  # settings.top_k
    assert "24 months" in warranty.chunks[0].text
    assert warranty.chunks[0].title == "Warranty Policy"
    assert warranty.latency_ms >= warranty.search_ms > 0
    assert warranty.embedding_model == "all-MiniLM-L6-v2-onnx-int8"
    log = warranty.run_log(user_id="u1", conversation_id="c1")
    assert (log.kind, log.provider, log.user_id, log.metadata["kb"]) == ("retrieval", "chroma", "u1", SAMPLE_KB)


def test_an_unchanged_corpus_is_not_embedded_again(rag: RagEngine, counting: CountingEmbedding, corpus: Path) -> None:
    ingest_corpus(rag, corpus)
    before = {source: chunk_ids(rag, "docs", source) for source in SAMPLE_FILES}
    counting.reset()

    report = rag.ingest("docs", [corpus])
    assert sorted(report.unchanged) == SAMPLE_FILES
    assert (report.added, report.replaced, report.removed, report.failed) == ([], [], [], [])
    assert report.chunks_embedded == counting.texts == 0
    assert {source: chunk_ids(rag, "docs", source) for source in SAMPLE_FILES} == before
    # The same files named one by one are the same documents (named by file name), not copies.
    assert sorted(rag.ingest("docs", sorted(corpus.iterdir())).unchanged) == SAMPLE_FILES
    assert counting.texts == 0


def test_a_changed_file_replaces_only_its_own_chunks(rag: RagEngine, counting: CountingEmbedding, corpus: Path) -> None:
    ingest_corpus(rag, corpus)
    before = {source: chunk_ids(rag, "docs", source) for source in SAMPLE_FILES}
    total = rag.get_knowledge_base("docs").chunk_count
    warranty = corpus / "warranty-policy.md"
    warranty.write_text(warranty.read_text().replace("24 months", "36 months"))
    counting.reset()

    report = rag.ingest("docs", [corpus])
    assert report.replaced == ["warranty-policy.md"]
    assert len(report.unchanged) == len(SAMPLE_FILES) - 1
    after = {source: chunk_ids(rag, "docs", source) for source in SAMPLE_FILES}
    assert report.chunks_embedded == counting.texts == len(after["warranty-policy.md"])
    assert set(after["warranty-policy.md"]).isdisjoint(before["warranty-policy.md"])  # new content, new ids
    assert {s: ids for s, ids in after.items() if s != "warranty-policy.md"} == {
        s: ids for s, ids in before.items() if s != "warranty-policy.md"
    }
    assert rag.get_knowledge_base("docs").chunk_count == total - len(before["warranty-policy.md"]) + len(
        after["warranty-policy.md"]
    )
    assert "36 months" in rag.retrieve("docs", "How long is the warranty on the R2 arm?").chunks[0].text


def test_sync_removes_files_deleted_from_the_folder(rag: RagEngine, counting: CountingEmbedding, corpus: Path) -> None:
    ingest_corpus(rag, corpus)
    (corpus / "faq.md").unlink()

    kept = rag.ingest("docs", [corpus])  # without sync nothing is removed
    assert kept.removed == []
    assert chunk_ids(rag, "docs", "faq.md")

    guarded = rag.ingest("docs", [corpus, corpus / "typo.md"], sync=True)  # a missing path: no removal at all
    assert guarded.removed == []
    assert guarded.failed == [(str(corpus / "typo.md"), "no such file or folder")]

    counting.reset()
    report = rag.ingest("docs", [corpus], sync=True)
    assert report.removed == ["faq.md"]
    assert counting.texts == 0
    assert chunk_ids(rag, "docs", "faq.md") == []
    assert "faq.md" not in {doc.source for doc in rag.documents("docs")}
    assert all(chunk.source != "faq.md" for chunk in rag.retrieve("docs", "Is there a simulator?", top_k=10).chunks)


def test_bad_files_are_reported_while_good_ones_land(make_engine: MakeEngine, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nThe R2 arm is painted signal blue.")
    (folder / "table.csv").write_text("name,colour\nR2,blue\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nthis file was cut off")
    (folder / "big.txt").write_text("robot " * 2_000)
    (folder / "image.png").write_bytes(b"\x89PNG\r\n")
    (folder / "empty.txt").write_text("  \n")
    (folder / ".hidden.md").write_text("never ingested")
    rag = make_engine(max_file_mb=0.01)  # about 10 kB
    rag.create_knowledge_base("mixed")
    progress: list[tuple[int, int, str]] = []

    report = rag.ingest("mixed", [folder], progress=lambda *call: progress.append(call))
    assert sorted(report.added) == ["good.md", "table.csv"]
    reasons = dict(report.failed)
    assert sorted(reasons) == ["big.txt", "broken.pdf", "empty.txt", "image.png"]
    assert "not a readable PDF" in reasons["broken.pdf"]
    assert "11.7 kB is over the 10.2 kB limit" in reasons["big.txt"]
    assert "unsupported file type '.png'" in reasons["image.png"]
    assert reasons["empty.txt"] == "no text found"
    assert progress[0] == (0, 6, "big.txt") and progress[-1] == (6, 6, "")
    assert [done for done, _, _ in progress] == list(range(7))

    documents = {doc.source: doc for doc in rag.documents("mixed")}
    assert documents["broken.pdf"].status == "failed"
    assert documents["broken.pdf"].chunk_count == 0
    assert "not a readable PDF" in (documents["broken.pdf"].error or "")
    assert documents["good.md"].status == "ok"
    assert documents["good.md"].size_bytes == (folder / "good.md").stat().st_size
    assert rag.retrieve("mixed", "What colour is the R2 arm?").chunks[0].source in ("good.md", "table.csv")

    # A failed file that is fixed is ingested on the next run.
    (folder / "broken.pdf").write_bytes(pdf_bytes([["Repaired PDF about the M1 base."]]))
    again = rag.ingest("mixed", [folder])
    assert again.added == ["broken.pdf"]
    assert {doc.source: doc.status for doc in rag.documents("mixed")}["broken.pdf"] == "ok"


def test_uploads_and_deleting_a_document(rag: RagEngine) -> None:
    rag.create_knowledge_base("uploads")
    report = rag.ingest(
        "uploads",
        [("C:\\Users\\me\\notes.txt", b"The cafeteria opens at eight."), ("guide.pdf", pdf_bytes([["Page text."]]))],
    )
    assert sorted(report.added) == ["guide.pdf", "notes.txt"]
    assert rag.retrieve("uploads", "When does the cafeteria open?").chunks[0].source == "notes.txt"

    assert rag.delete_document("uploads", "notes.txt")
    assert not rag.delete_document("uploads", "notes.txt")
    assert [doc.source for doc in rag.documents("uploads")] == ["guide.pdf"]
    assert {chunk.source for chunk in rag.retrieve("uploads", "cafeteria").chunks} == {"guide.pdf"}

    rag.delete_knowledge_base("uploads")
    assert rag.list_knowledge_bases() == []


def test_two_embedding_models_are_never_mixed(make_engine: MakeEngine, corpus: Path) -> None:
    minilm = make_engine()
    ingest_corpus(minilm, corpus, kb="minilm")
    other = make_engine(embedding=HashEmbedding())
    with pytest.raises(EmbeddingModelMismatch, match="'all-MiniLM-L6-v2-onnx-int8', but 'hash-embedding-v1'"):
        other.ingest("minilm", [corpus])
    with pytest.raises(EmbeddingModelMismatch):
        other.retrieve("minilm", "warranty")

    # The Chroma collection refuses on its own too, whatever the SQL record says.
    record = minilm.get_knowledge_base("minilm")
    with pytest.raises(EmbeddingModelMismatch):
        other._index(record, create=True)

    # Each model has its own knowledge bases side by side.
    other.create_knowledge_base("hashed")
    uploads = [("colour.txt", b"The R2 arm is painted signal blue."), ("lunch.txt", b"Lunch is served at noon.")]
    assert sorted(other.ingest("hashed", uploads).added) == ["colour.txt", "lunch.txt"]
    assert other.retrieve("hashed", "What colour is the R2 arm painted?").chunks[0].source == "colour.txt"


def test_an_empty_knowledge_base_retrieves_nothing(rag: RagEngine) -> None:
    rag.create_knowledge_base("empty")
    retrieval = rag.retrieve("empty", "anything")
    assert retrieval.chunks == []


def test_retrieval_from_many_threads_at_once(rag: RagEngine, corpus: Path) -> None:
    ingest_corpus(rag, corpus)
    expected = {question: source for question, source, _ in QUESTIONS}
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def ask(question: str) -> None:
        try:
            results[question] = rag.retrieve("docs", question).chunks[0].source
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(question,)) for question in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == expected


def test_changes_made_by_another_process_are_seen(make_engine: MakeEngine) -> None:
    """Chroma caches a collection's index per process; a newer updated_at in SQL makes the engine reload it."""
    from chromadb.api.shared_system_client import SharedSystemClient

    app = make_engine()
    app.create_knowledge_base("shared")
    app.ingest("shared", [("cafeteria.txt", b"The cafeteria opens at eight in the morning.")])
    assert [c.source for c in app.retrieve("shared", "When does the gym open?").chunks] == ["cafeteria.txt"]

    SharedSystemClient.clear_system_cache()  # what a second process (the CLI) has: its own Chroma system
    cli = make_engine()
    cli.ingest("shared", [("gym.txt", b"The gym opens at six in the evening.")])

    assert app.retrieve("shared", "When does the gym open?").chunks[0].source == "gym.txt"
    assert app.delete_document("shared", "gym.txt")
    assert cli.retrieve("shared", "When does the gym open?").chunks[0].source == "cafeteria.txt"
