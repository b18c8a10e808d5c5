from __future__ import annotations

import random
from datetime import UTC, datetime

import bson
import pytest
from bson.codec_options import CodecOptions

from tests.factories import run_log, utc
from workbench.domain.runlog import RunKind, RunLog, RunStatus
from workbench.domain.runlog_query import RunLogFilter, ceil_hour, floor_hour


@pytest.mark.parametrize("seed", range(5))
def test_document_round_trip(seed: int) -> None:
    record = run_log(rng=random.Random(seed))
    assert RunLog.from_document(record.to_document()) == record


def test_document_round_trip_through_bson() -> None:
    record = run_log(parameters={"temperature": 0.2, "stop": ["\n"]}, metadata={"nested": {"a": 1}})
    raw = bson.encode(record.to_document())
    decoded = bson.decode(raw, codec_options=CodecOptions(tz_aware=True, tzinfo=UTC))
    assert RunLog.from_document(decoded) == record


def test_document_fields() -> None:
    record = run_log(kind=RunKind.LLM, status=RunStatus.TIMEOUT, input_tokens=7, output_tokens=None)
    doc = record.to_document()
    assert doc["_id"] == record.id
    assert (doc["kind"], doc["status"]) == ("llm", "timeout")
    assert doc["total_tokens"] == 7
    assert "id" not in doc
    doc["parameters"]["temperature"] = 99  # the document holds copies, not the record's own dicts
    assert record.parameters.get("temperature") != 99


def test_from_document_makes_naive_datetimes_utc_and_ignores_unknown_fields() -> None:
    record = run_log()
    doc = record.to_document()
    doc["created_at"] = doc["created_at"].replace(tzinfo=None)
    doc["added_by_a_later_version"] = True
    restored = RunLog.from_document(doc)
    assert restored.created_at.tzinfo is not None
    assert restored.created_at == record.created_at


def test_defaults_give_unique_ids_and_aware_timestamps() -> None:
    first, second = RunLog(kind=RunKind.EMBEDDING), RunLog(kind=RunKind.EMBEDDING)
    assert first.id != second.id
    assert len(first.id) == 32
    assert first.created_at.tzinfo is UTC
    assert first.total_tokens == 0


def test_hour_alignment_of_filters() -> None:
    moment = utc(2026, 2, 3, 4, 5, 6)
    assert floor_hour(moment) == utc(2026, 2, 3, 4)
    assert ceil_hour(moment) == utc(2026, 2, 3, 5)
    assert ceil_hour(utc(2026, 2, 3, 4)) == utc(2026, 2, 3, 4)
    naive = datetime(2026, 2, 3, 4, 5)
    assert floor_hour(naive) == utc(2026, 2, 3, 4)
    aligned = RunLogFilter(models=("m",), start=moment, end=moment).aligned()
    assert (aligned.start, aligned.end, aligned.models) == (utc(2026, 2, 3, 4), utc(2026, 2, 3, 5), ("m",))
