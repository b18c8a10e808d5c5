"""Eval run configurations: files, validation messages, the metrics chosen, and what makes two runs repeats."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.evaluation.config import EvalConfig, EvalConfigError, config_hash
from workbench.evaluation.metrics import JUDGE_METRICS, MODEL_FREE_METRICS


def test_a_yaml_file_becomes_a_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model: qwen2.5-0.5b-instruct\ntop_k: 2\ntags: [nightly, ' ']\n")
    config = EvalConfig.from_file(path)
    assert (config.model, config.top_k, config.knowledge_base, config.tags) == (
        "qwen2.5-0.5b-instruct", 2, "sample", ("nightly",)
    )  # fmt: skip
    assert config.chosen_metrics() == MODEL_FREE_METRICS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("top_k: 0\nmodel: m", "top_k: Input should be greater than or equal to 1"),
        ("model: m\nmetrics: [nope]", "unknown metric"),
        ("model: m\ncolour: red", "colour: Extra inputs are not permitted"),
        ("- just a list", "must be a mapping"),
        ("model: [unclosed", "is not valid YAML"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(EvalConfigError, match=message):
        EvalConfig.from_file(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EvalConfigError, match="Cannot read"):
        EvalConfig.from_file(tmp_path / "missing.yaml")


def test_judged_metrics_need_a_judge() -> None:
    with pytest.raises(EvalConfigError, match="faithfulness need a judge model"):
        EvalConfig(model="m", metrics=("bleu", "faithfulness")).check()
    judged = EvalConfig(model="m", judge_model="j")
    judged.check()
    assert judged.chosen_metrics() == MODEL_FREE_METRICS + JUDGE_METRICS


def test_name_and_tags_do_not_change_the_configuration_hash() -> None:
    base = {"model": "m", "top_k": 4, "prompt_version": 3, "name": "a", "tags": ["x"]}
    assert config_hash(base) == config_hash({**base, "name": "b", "tags": []})
    assert config_hash(base) != config_hash({**base, "top_k": 2})
    assert config_hash(base) != config_hash({**base, "prompt_version": 4})
