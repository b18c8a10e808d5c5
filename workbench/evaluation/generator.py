"""Drafting eval questions from a knowledge base: the model writes one question per sampled passage, and
reviewers keep, fix or drop each in a labelling queue before it joins an eval dataset.

The drafts go to a queue labelled with the `eval-question-review` rubric: `keep` (the question is good and the
passage answers it), `reference_answer` (a corrected answer) and a relevance mark on the passage. The queue's
golden export then imports into an eval dataset (EvalDatasetService.import_golden), which leaves out what the
reviewers did not keep; the passage is the item's reference context.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from workbench.labelling.queues import MAX_ANNOTATORS, QueueService, require_reviewer
from workbench.labelling.rubrics import Rubric, RubricField
from workbench.labelling.views import Actor, ItemDraft, LabellingError, QueueView
from workbench.llm.errors import ProviderError
from workbench.llm.messages import Message, prompt_messages
from workbench.prompting.registry import PRODUCTION
from workbench.prompting.templates import PromptTemplate, TemplateError

if TYPE_CHECKING:
    from workbench.rag.engine import SampledChunk

DRAFT_RUBRIC_NAME = "eval-question-review"
PROMPT_NAME = "eval-question"
SOURCE_KIND = "draft"  # allowed by label_items' source_kind check constraint
TEMPERATURE = 0.2  # used when the prompt's front matter sets none
MAX_TOKENS = 200
MIN_QUESTION_CHARS = 10
KEEP_HELP = "Is this a good eval question, answerable from the passage?"
ANSWER_HELP = "Correct or complete the answer"
MAX_DRAFTS = 500
REPLY_PREVIEW = 80

# progress(done, total): called after each passage.
Progress = Callable[[int, int], None]


class Rag(Protocol):
    def sample_chunks(self, kb: str, count: int, seed: int = 0) -> list[SampledChunk]: ...


class Runtime(Protocol):
    def stream_chat(self, model_id: str, messages: list[Message], **overrides: Any) -> Any: ...


class Prompts(Protocol):
    def resolve(self, name: str, label: str = ...) -> tuple[PromptTemplate, int]: ...


class GenerationError(ValueError):
    """Questions cannot be drafted as asked; the message says what to do instead."""


@dataclass(frozen=True)
class GenerationReport:
    queue_id: str | None  # None when nothing was drafted: no queue is created for nothing
    queue_name: str
    added: int  # new items in the queue
    failed: list[str]  # per passage that gave no usable question: which passage, and why
    skipped: int = 0  # drafts whose passage the queue already had (the same seed samples the same passages)


def draft_rubric() -> Rubric:
    """What a reviewer decides for each drafted question."""
    return Rubric(
        fields=(
            RubricField("keep", "Keep this question?", "binary", help=KEEP_HELP),
            RubricField("reference_answer", "Reference answer", "text", required=False, help=ANSWER_HELP),
        ),
        chunk_relevance=True,
        instructions=(
            "Each question was drafted by a model from the passage shown. Keep it when it is clear on its own and "
            "the passage answers it; fix the answer if it is wrong or incomplete."
        ),
    )


def parse_reply(text: str) -> tuple[str, str]:
    """(question, answer) from the model's reply, which may wrap the JSON in code fences or prose.

    Raises ValueError saying why the reply gives no usable question.
    """
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and "question" in value:
            found = value
            break
    if found is None:
        raise ValueError("the reply holds no JSON object with a question")
    question = found["question"]
    if not isinstance(question, str) or not question.strip():
        raise ValueError("the question is empty")
    question = " ".join(question.split())
    if len(question) < MIN_QUESTION_CHARS:
        raise ValueError(f"the question is too short ({question!r})")
    if not question.endswith("?"):
        raise ValueError(f"not a question, no question mark ({question[:REPLY_PREVIEW]!r})")
    answer = found.get("answer")
    if answer is None:
        return question, ""  # the reviewer can write it
    if isinstance(answer, bool) or not isinstance(answer, str | int | float):
        raise ValueError("the answer is not text")
    return question, " ".join(str(answer).split())


class QuestionGenerator:
    def __init__(self, rag: Rag, runtime: Runtime, prompts: Prompts, queues: QueueService) -> None:
        self._rag = rag
        self._runtime = runtime
        self._prompts = prompts
        self._queues = queues

    def draft(
        self, kb: str, *, count: int, model: str, seed: int = 0, progress: Progress | None = None
    ) -> tuple[list[ItemDraft], list[str]]:
        """One drafted question per sampled passage of `kb`, and why each other passage gave none.

        Raises GenerationError when nothing can be sampled, ModelNotConfigured for an unknown model.
        """
        if not 1 <= count <= MAX_DRAFTS:
            raise GenerationError(f"Ask for between 1 and {MAX_DRAFTS} questions.")
        template, version = self._prompts.resolve(PROMPT_NAME, PRODUCTION)
        chunks = self._rag.sample_chunks(kb, count, seed)
        if not chunks:
            raise GenerationError(f"Knowledge base {kb!r} holds no passages yet: ingest documents first.")
        metadata = {"kb": kb, "model": model, "generator": f"{PROMPT_NAME} v{version}"}
        drafts: list[ItemDraft] = []
        failed: list[str] = []
        for done, chunk in enumerate(chunks, start=1):
            try:
                question, answer = self._question(template, model, chunk.text)
            except ValueError as exc:
                failed.append(f"{chunk.source} ({chunk.chunk_id}): {exc}")
            else:
                drafts.append(ItemDraft(
                    source_kind=SOURCE_KIND, source_id=f"{kb}:{chunk.chunk_id}", question=question, answer=answer,
                    chunks=[{"chunk_id": chunk.chunk_id, "source": chunk.source, "text": chunk.text, "score": 1.0}],
                    metadata=dict(metadata),
                ))  # fmt: skip
            if progress is not None:
                progress(done, len(chunks))
        return drafts, failed

    def generate(
        self, actor: Actor, *, kb: str, count: int, model: str, queue_name: str | None = None,
        annotators_per_item: int = 1, seed: int = 0, progress: Progress | None = None,
    ) -> GenerationReport:  # fmt: skip
        """Draft questions from `kb` and add them to a review queue.

        A new queue (default name `questions-<kb>`) gets the review rubric, `annotators_per_item` and the actor as
        its annotator; an existing one of that name keeps its settings and members. A passage already in the
        queue is not added again: another seed samples other passages.
        """
        require_reviewer(actor)
        name = (queue_name or f"questions-{kb}").strip()
        # Everything that can be refused is checked before the model works, not after.
        existing = self._queue_named(actor, name)
        if existing is None and not 1 <= len(name) <= 128:
            raise LabellingError("Give the queue a name (up to 128 characters).")
        if existing is None and not 1 <= annotators_per_item <= MAX_ANNOTATORS:
            raise LabellingError(f"Each item needs between 1 and {MAX_ANNOTATORS} annotators.")
        drafts, failed = self.draft(kb, count=count, model=model, seed=seed, progress=progress)
        if not drafts and existing is None:
            return GenerationReport(None, name, 0, failed)
        queue = existing or self._create_queue(actor, name, kb, annotators_per_item)
        added, skipped = self._queues.add_items(actor, queue.id, drafts) if drafts else (0, 0)
        return GenerationReport(queue.id, queue.name, added, failed, skipped)

    # Internals --------------------------------------------------------------------------------------------------

    def _question(self, template: PromptTemplate, model: str, passage: str) -> tuple[str, str]:
        """(question, answer) the model drafts from one passage; ValueError says why there is none."""
        try:
            system, user = template.render(passage=passage)
        except TemplateError as exc:
            raise ValueError(f"the prompt could not be rendered: {exc}") from exc
        parameters = template.parameters
        stream = None
        try:
            stream = self._runtime.stream_chat(
                model, prompt_messages(system, user), temperature=parameters.get("temperature", TEMPERATURE),
                max_tokens=parameters.get("max_tokens", MAX_TOKENS),
            )  # fmt: skip
            text = "".join(stream).strip()
        except ProviderError as exc:
            raise ValueError(f"the model failed: {exc}") from exc
        finally:
            if stream is not None and not getattr(stream, "finished", True):
                stream.close()
        if not text:
            raise ValueError("the model returned an empty reply")
        try:
            return parse_reply(text)
        except ValueError as exc:
            preview = " ".join(text.split())[:REPLY_PREVIEW]
            raise ValueError(f"{exc}; the model said: {preview!r}") from exc

    def _queue_named(self, actor: Actor, name: str) -> QueueView | None:
        """The queue of that name, if it reviews drafted questions; LabellingError if it labels something else."""
        queue = next((q for q in self._queues.queues(actor) if q.name == name), None)
        if queue is not None and queue.rubric.name != DRAFT_RUBRIC_NAME:
            raise LabellingError(
                f"Queue '{name}' labels with the rubric '{queue.rubric.name}', not '{DRAFT_RUBRIC_NAME}': "
                "name another queue for the drafted questions."
            )
        return queue

    def _create_queue(self, actor: Actor, name: str, kb: str, annotators_per_item: int) -> QueueView:
        rubric = self._queues.save_rubric(
            actor, DRAFT_RUBRIC_NAME, draft_rubric(), "Review eval questions a model drafted from passages."
        )
        try:
            return self._queues.create_queue(
                actor, name, rubric.version_id, annotators_per_item, [actor.id],
                description=f"Eval questions drafted from knowledge base '{kb}'.",
            )  # fmt: skip
        except LabellingError:
            queue = self._queue_named(actor, name)  # created by someone else just now
            if queue is None:
                raise
            return queue
