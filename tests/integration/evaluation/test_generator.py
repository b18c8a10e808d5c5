"""The question generator over real SQL (SQLite and PostgreSQL), real Chroma and the local embedding model: drafts
go to a review queue, reviewers keep or drop them, and the golden export becomes an eval dataset of the kept ones.
One slow test drafts questions with the real local model."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import random_user
from workbench.config.rag import RagSettings
from workbench.domain.users import Role
from workbench.evaluation.datasets import EvalDatasetService
from workbench.evaluation.generator import (
    DRAFT_RUBRIC_NAME,
    GenerationError,
    QuestionGenerator,
    draft_rubric,
    parse_reply,
)
from workbench.labelling.annotation import AnnotationService
from workbench.labelling.queues import QueueService
from workbench.labelling.review import ReviewService
from workbench.labelling.rubrics import DEFAULT_RUBRIC, LabelValues
from workbench.labelling.views import Actor, LabellingError, LabellingForbidden
from workbench.llm.errors import FailureKind, ModelNotConfigured, ProviderError
from workbench.prompting.registry import PromptRegistry
from workbench.rag.embeddings import OnnxMiniLMEmbedding
from workbench.rag.engine import RagEngine
from workbench.storage.sql import migrate
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = pytest.mark.integration
MakeUow = Callable[[], SqlUnitOfWork]
MODEL = "scripted"

# One short document per scripted reply: each is one chunk, and the fake model knows it by its first words.
DOCUMENTS = {
    "arm.txt": "The R2 arm lifts five kilograms at full reach and weighs 21 kilograms.",
    "base.txt": "The M1 mobile base charges in 90 minutes at its dock.",
    "support.txt": "Support is open on Saturdays from nine to one.",
    "lunch.txt": "Lunch at the Northwind office is served at noon.",
    "gripper.txt": "The G3 gripper finger set costs 120 euros.",
    "outage.txt": "The status page lists planned maintenance windows.",
}
REPLIES = {  # the fake model's answer per document: fenced, wrapped in prose, plain, and three unusable ones
    "The R2 arm": '```json\n{"question": "How many kilograms does the R2 arm lift at full reach?", '
    '"answer": "Five"}\n```',
    "The M1 mobile": 'Sure! {"question": "How long does the M1 base take to charge at its dock?", "answer": "90 min"} '
    "I hope this helps.",
    "Support is open": '{"question": "When is Northwind support open on Saturdays?", "answer": "From nine to one."}',
    "Lunch at": "I am sorry, but I cannot write questions about lunch.",
    "The G3 gripper": '{"question": "Cost?", "answer": "120 euros"}',
    "The status page": "FAIL",
}


class ScriptedRuntime:
    """Answers each passage with its scripted reply, streamed in two pieces; records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def stream_chat(self, model_id: str, messages: list[Any], **overrides: Any) -> Iterator[str]:
        if model_id != MODEL:
            raise ModelNotConfigured(model_id, [MODEL])
        user = messages[-1].content
        with self._lock:
            self.calls.append((model_id, user, overrides))
        reply = next(text for start, text in REPLIES.items() if start in user)
        return self._stream(reply)

    @staticmethod
    def _stream(reply: str) -> Iterator[str]:
        if reply == "FAIL":
            yield "{"
            raise ProviderError("local", MODEL, "the server went away", kind=FailureKind.CONNECTION)
        middle = len(reply) // 2
        yield reply[:middle]
        yield reply[middle:]


@pytest.fixture(scope="module")
def minilm() -> OnnxMiniLMEmbedding:
    return OnnxMiniLMEmbedding()


@pytest.fixture
def rag(make_uow: MakeUow, tmp_path: Path, minilm: OnnxMiniLMEmbedding) -> RagEngine:
    engine = RagEngine(RagSettings(), tmp_path / "data", make_uow, embedding=minilm)
    engine.create_knowledge_base("docs")
    report = engine.ingest("docs", [(name, text.encode()) for name, text in DOCUMENTS.items()])
    assert sorted(report.added) == sorted(DOCUMENTS)
    return engine


def make_actor(make_uow: MakeUow, username: str, role: Role) -> Actor:
    user = random_user(username=username, role=role)
    with make_uow() as uow:
        uow.users.add(user)
        uow.commit()
    return Actor(user.id, username, role)


class World:
    def __init__(self, make_uow: MakeUow, rag: RagEngine) -> None:
        self.runtime = ScriptedRuntime()
        self.queues = QueueService(make_uow)
        self.generator = QuestionGenerator(rag, self.runtime, PromptRegistry(make_uow), self.queues)
        self.analyst = make_actor(make_uow, "ana", Role.ANALYST)
        self.annotator = make_actor(make_uow, "ann", Role.ANNOTATOR)


@pytest.fixture
def world(make_uow: MakeUow, rag: RagEngine) -> World:
    return World(make_uow, rag)


def test_drafts_one_question_per_passage_and_reports_the_rest(world: World) -> None:
    drafts, failed = world.generator.draft("docs", count=10, model=MODEL)

    assert sorted(d.question for d in drafts) == [
        "How long does the M1 base take to charge at its dock?",
        "How many kilograms does the R2 arm lift at full reach?",
        "When is Northwind support open on Saturdays?",
    ]
    by_source = {d.chunks[0]["source"]: d for d in drafts}
    arm = by_source["arm.txt"]
    assert (arm.source_kind, arm.answer, arm.metadata) == (
        "draft", "Five", {"kb": "docs", "model": MODEL, "generator": "eval-question v1"},
    )  # fmt: skip
    assert arm.chunks == [{"chunk_id": arm.source_id.removeprefix("docs:"), "source": "arm.txt",
                           "text": DOCUMENTS["arm.txt"], "score": 1.0}]  # fmt: skip
    assert len(failed) == 3
    reasons = {line.split(" ", 1)[0]: line for line in failed}
    assert "no JSON object" in reasons["lunch.txt"] and "cannot write questions" in reasons["lunch.txt"]
    assert "too short" in reasons["gripper.txt"]
    assert "the server went away" in reasons["outage.txt"]
    assert len(world.runtime.calls) == 6  # capped at the six passages the knowledge base has
    assert {(model, tuple(sorted(o.items()))) for model, _, o in world.runtime.calls} == {
        (MODEL, (("max_tokens", 200), ("temperature", 0.2)))
    }


def test_generated_questions_are_reviewed_and_only_kept_ones_reach_the_dataset(world: World, make_uow: MakeUow) -> None:
    report = world.generator.generate(world.analyst, kb="docs", count=6, model=MODEL)

    assert (report.queue_name, report.added, report.skipped, len(report.failed)) == ("questions-docs", 3, 0, 3)
    queue = world.queues.queue(world.analyst, report.queue_id)
    assert (queue.rubric.name, queue.rubric.rubric, queue.members) == (DRAFT_RUBRIC_NAME, draft_rubric(), ["ana"])
    # The same passages again (same seed) are not added twice.
    again = world.generator.generate(world.analyst, kb="docs", count=6, model=MODEL)
    assert (again.queue_id, again.added, again.skipped) == (report.queue_id, 0, 3)
    assert world.queues.progress(world.analyst, report.queue_id).items == 3

    world.queues.set_members(world.analyst, report.queue_id, [world.analyst.id, world.annotator.id])
    annotation, review = AnnotationService(make_uow), ReviewService(make_uow)
    decisions = {  # question start -> (keep, corrected answer)
        "How many": (True, "Five kilograms, at full reach."),
        "How long": (True, ""),
        "When is": (False, ""),
    }
    while (item := annotation.next_item(world.annotator, report.queue_id)) is not None:
        keep, answer = next(v for start, v in decisions.items() if item.question.startswith(start))
        values = {"keep": keep, "reference_answer": answer} if answer else {"keep": keep}
        annotation.submit(world.annotator, item.id, LabelValues(values, {item.chunks[0]["chunk_id"]: keep}))
    for reviewed in review.items(world.analyst, report.queue_id):
        review.adjudicate(world.analyst, reviewed.id)  # the annotator's label, as the majority
    golden = review.export_golden(world.analyst, report.queue_id, "generated-golden")
    assert golden.item_count == 3

    imported = EvalDatasetService(make_uow).import_golden(golden, "generated", actor="ana")

    assert (imported.imported, imported.unchanged) == (2, False)
    assert [r.question for r in imported.rejected] == ["When is Northwind support open on Saturdays?"]
    items = EvalDatasetService(make_uow).items(imported.version.id)
    assert sorted((i.question, i.reference_answer, i.reference_contexts) for i in items) == [
        ("How long does the M1 base take to charge at its dock?", "90 min", (DOCUMENTS["base.txt"],)),
        ("How many kilograms does the R2 arm lift at full reach?", "Five kilograms, at full reach.",
         (DOCUMENTS["arm.txt"],)),
    ]  # fmt: skip


def test_generating_needs_a_reviewer_and_a_question_queue(world: World) -> None:
    with pytest.raises(LabellingForbidden):
        world.generator.generate(world.annotator, kb="docs", count=2, model=MODEL)
    rubric = world.queues.save_rubric(world.analyst, "quality", DEFAULT_RUBRIC)
    world.queues.create_queue(world.analyst, "answers", rubric.version_id, 1, [world.analyst.id])
    with pytest.raises(LabellingError, match="rubric 'quality'"):
        world.generator.generate(world.analyst, kb="docs", count=2, model=MODEL, queue_name="answers")
    with pytest.raises(LabellingError, match="between 1 and 20 annotators"):
        world.generator.generate(world.analyst, kb="docs", count=2, model=MODEL, annotators_per_item=0)
    assert world.runtime.calls == []  # refused before the model was asked anything

    with pytest.raises(ModelNotConfigured):
        world.generator.generate(world.analyst, kb="docs", count=2, model="unknown")
    with pytest.raises(GenerationError, match="between 1 and"):
        world.generator.generate(world.analyst, kb="docs", count=0, model=MODEL)
    assert [q.name for q in world.queues.queues(world.analyst)] == ["answers"]  # no empty queue left behind


def test_a_named_queue_with_more_annotators(world: World) -> None:
    report = world.generator.generate(
        world.analyst, kb="docs", count=2, model=MODEL, queue_name="round one", annotators_per_item=2, seed=5
    )
    queue = world.queues.queue(world.analyst, report.queue_id)
    assert (queue.name, queue.annotators_per_item) == ("round one", 2)
    assert report.added + len(report.failed) == 2


def test_an_empty_knowledge_base_is_refused(world: World, rag: RagEngine) -> None:
    rag.create_knowledge_base("empty")
    with pytest.raises(GenerationError, match="no passages"):
        world.generator.draft("empty", count=3, model=MODEL)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"question": "What is the R2 reach?", "answer": "900 mm"}', ("What is the R2 reach?", "900 mm")),
        ('```\n{"question": " What  is\\nit? ", "answer": 900}\n```', ("What is it?", "900")),
        ('Here: {"note": {}} then {"question": "Who builds the R2 arm?"}', ("Who builds the R2 arm?", "")),
    ],
)
def test_replies_are_parsed_leniently(reply: str, expected: tuple[str, str]) -> None:
    assert parse_reply(reply) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("What is the reach of the R2 arm?", "no JSON object"),
        ('{"question": "", "answer": "x"}', "empty"),
        ('{"question": "Why?", "answer": "x"}', "too short"),
        ('{"question": "Describe the R2 arm.", "answer": "x"}', "no question mark"),
        ('{"question": "What is the reach of the R2 arm?", "answer": ["a"]}', "not text"),
        ('{"question": "What is the reach of the R2 arm?"', "no JSON object"),
    ],
)
def test_unusable_replies_say_why(reply: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_reply(reply)


@pytest.mark.slow
def test_the_local_model_drafts_questions_from_the_sample_corpus(
    sqlite_url: str, tmp_path: Path, minilm: OnnxMiniLMEmbedding
) -> None:
    """On SQLite only: what the model writes does not depend on the database."""
    from tests.integration.llm.conftest import require_weights
    from workbench.llm import LLMRuntime, LLMSettings
    from workbench.rag.sample import SAMPLE_DOCUMENTS

    migrate.upgrade(sqlite_url)
    engine = build_engine(sqlite_url)
    factory = build_session_factory(engine)

    def make_uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(factory)

    rag = RagEngine(RagSettings(), tmp_path / "data", make_uow, embedding=minilm)
    rag.create_knowledge_base("sample")
    rag.ingest("sample", [SAMPLE_DOCUMENTS / "warranty-policy.md", SAMPLE_DOCUMENTS / "support-hours.txt"])
    runtime = LLMRuntime.for_data_dir(LLMSettings(), tmp_path)
    try:
        require_weights(runtime, "qwen2.5-0.5b-instruct")
        generator = QuestionGenerator(rag, runtime, PromptRegistry(make_uow), QueueService(make_uow))
        drafts, failed = generator.draft("sample", count=2, model="qwen2.5-0.5b-instruct", seed=1)
    finally:
        runtime.close()
        engine.dispose()

    for draft in drafts:
        print(f"DRAFT {draft.chunks[0]['source']}: {draft.question!r} -> {draft.answer!r}")
    for reason in failed:
        print(f"FAILED {reason}")
    assert len(drafts) + len(failed) == 2
    assert all(draft.question.endswith("?") and draft.source_kind == "draft" for draft in drafts)


def test_when_nothing_is_drafted_no_queue_is_created(world: World, rag: RagEngine, make_uow: MakeUow) -> None:
    class Failing(ScriptedRuntime):
        def stream_chat(self, model_id: str, messages: list[Any], **overrides: Any) -> Iterator[str]:
            return self._stream("FAIL")

    generator = QuestionGenerator(rag, Failing(), PromptRegistry(make_uow), world.queues)
    report = generator.generate(world.analyst, kb="docs", count=2, model=MODEL, queue_name="nothing")

    assert (report.queue_id, report.added, len(report.failed)) == (None, 0, 2)
    assert world.queues.queues(world.analyst) == []
