"""A scripted eval pipeline (no model, no retrieval) and a run-log recorder, for eval tests over real SQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from workbench.evaluation.config import EvalConfig
from workbench.evaluation.pipeline import PipelineAnswer

SAMPLE_ITEMS = [
    {"question": f"What is fact {i}?", "reference_answer": f"Fact {i} is {i * 7} units.",
     "reference_contexts": [f"Document {i % 3}: fact {i} is {i * 7} units, measured at noon."],
     "tags": ["even" if i % 2 == 0 else "odd"]}
    for i in range(12)
]  # fmt: skip


class ScriptedPipeline:
    """Answers by a rule of the config's model: 'good' repeats the reference, 'bad' says something else, and a
    question listed in `fail` fails like a model error. `delay_s` slows each answer (for stop/resume tests)."""

    def __init__(self, fail: set[str] | None = None, delay_s: float = 0.0) -> None:
        self.fail = fail or set()
        self.delay_s = delay_s
        self.calls: list[str] = []
        self._lock = threading.Lock()
        self.before_answer: Callable[[str], None] | None = None

    def resolve(self, config: EvalConfig) -> dict[str, Any]:
        config.check()
        return {**config.model_dump(mode="json", exclude={"metrics", "chunk_size", "chunk_overlap"}),
                "metrics": list(config.chosen_metrics()), "prompt_version": 1, "prompt_sha256": "x" * 64,
                "chunk_size": 512, "chunk_overlap": 64}  # fmt: skip

    def answer(self, question: str, config: dict[str, Any]) -> PipelineAnswer:
        if self.before_answer is not None:
            self.before_answer(question)
        with self._lock:
            self.calls.append(question)
        if self.delay_s:
            time.sleep(self.delay_s)
        if question in self.fail:
            return PipelineAnswer(error="local (echo): the server went away")
        i = int(question.rsplit(maxsplit=1)[-1].rstrip("?"))
        if config["model"] == "good":
            answer = f"Fact {i} is {i * 7} units."
            contexts = [f"Document {i % 3}: fact {i} is {i * 7} units, measured at noon.", "Unrelated passage."]
        else:
            answer = f"I think fact {i} is about {i * 5} things." if i % 3 else f"Fact {i} is {i * 7} units."
            contexts = ["Unrelated passage.", f"Document {i % 3}: fact {i} is {i * 7} units."]
        return PipelineAnswer(answer=answer, contexts=[{"text": c, "source": "doc", "score": 0.5} for c in contexts],
                              latency_ms=1.0, output_tokens=len(answer.split()))  # fmt: skip


def seed_good_and_bad_runs(uow_factory: Callable[[], Any]) -> dict[str, str]:
    """Two completed runs over the 12 facts: model "good" answers with the reference, "bad" mostly does not."""
    from tests.playground_fakes import Recorder
    from workbench.evaluation.datasets import EvalDatasetService
    from workbench.evaluation.runs import EvalRunService

    EvalDatasetService(uow_factory).import_items("facts", SAMPLE_ITEMS, source="test", actor="ana")
    service = EvalRunService(uow_factory, ScriptedPipeline(), Recorder())
    ids = {}
    for model in ("good", "bad"):
        config = EvalConfig(model=model, knowledge_base="kb", name=f"{model} model", tags=(model,))
        (created,) = service.create_run("facts", config, actor="ana")
        ids[model] = service.execute(created.id).id
    return ids
