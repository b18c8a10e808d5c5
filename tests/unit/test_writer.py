"""RunLogWriter over a fake sink and a real on-disk spool: delivery, spooling, replay order, exactly once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.factories import run_log
from tests.fakes import FakeRunLogSink
from workbench.storage.runlog.spool import Segment, Spool
from workbench.storage.runlog.writer import RunLogWriter

MakeWriter = Callable[..., RunLogWriter]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def documents(count: int) -> list[dict[str, Any]]:
    return [run_log().to_document() for _ in range(count)]


def ids(docs: list[dict[str, Any]]) -> list[str]:
    return [doc["_id"] for doc in docs]


def segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("segment-*"))


def spooled_ids(directory: Path) -> list[str]:
    return [doc["_id"] for path in segment_files(directory) if path.suffix == ".jsonl"
            for batch in Segment(path).batches() for doc in batch.docs]  # fmt: skip


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def sink() -> FakeRunLogSink:
    return FakeRunLogSink()


@pytest.fixture
def make_writer(sink: FakeRunLogSink, spool_dir: Path) -> Iterator[MakeWriter]:
    writers: list[RunLogWriter] = []

    def make(**options: Any) -> RunLogWriter:
        the_sink = options.pop("sink", sink)
        settings = {"batch_size": 50, "flush_interval_s": 0.01, "retry_interval_s": 0.05} | options
        writer = RunLogWriter(the_sink, Spool(spool_dir), **settings).start()
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        writer.close(timeout=5)


def log_all(writer: RunLogWriter, docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        writer.log_document(doc)


# Normal delivery --------------------------------------------------------------------------------


def test_delivers_everything_in_order(make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path) -> None:
    writer = make_writer()
    records = [run_log() for _ in range(1_000)]

    for record in records:
        writer.log(record)

    assert writer.wait_delivered(timeout=10)
    assert sink.inserted_ids == [r.id for r in records]
    assert sink.rolled_up_ids == sink.inserted_ids
    assert sink.rolled_up_total == 1_000
    assert (writer.stats.enqueued, writer.stats.written, writer.stats.spooled) == (1_000, 1_000, 0)
    assert segment_files(spool_dir) == []
    assert sink.insert_calls >= 1_000 // 50  # batched, not one call per record


def test_close_flushes_what_is_queued(make_writer: MakeWriter, sink: FakeRunLogSink) -> None:
    writer = make_writer(flush_interval_s=5.0)
    docs = documents(120)
    log_all(writer, docs)

    writer.close()

    assert sink.inserted_ids == ids(docs)
    with pytest.raises(RuntimeError, match="closed"):
        writer.log(run_log())
    writer.close()  # a second close is harmless


# MongoDB away ----------------------------------------------------------------------------------


def test_sink_down_spools_everything_and_loses_nothing(
    make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path
) -> None:
    sink.down = True
    sink.delay_s = 0.2  # each failed attempt costs a server-selection timeout
    writer = make_writer(retry_interval_s=60)
    docs = documents(300)

    started = time.perf_counter()
    log_all(writer, docs)
    logging_took = time.perf_counter() - started
    assert writer.flush(timeout=5)

    assert logging_took < 0.5, "log() must never wait for storage"
    assert sink.inserted_ids == []
    assert writer.spool_pending
    assert writer.stats.spooled == 300
    assert writer.stats.waiting_in_spool == 300
    assert writer.stats.last_error is not None
    assert "AutoReconnect" in writer.stats.last_error
    assert spooled_ids(spool_dir) == ids(docs)
    assert sink.failed_calls <= 2, "while the spool is pending, new batches go straight to it"


def test_sink_back_replays_the_spool_in_order_exactly_once(
    make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path
) -> None:
    sink.down = True
    writer = make_writer()
    docs = documents(400)
    log_all(writer, docs)
    assert writer.flush(timeout=5)
    assert writer.stats.spooled == 400

    sink.down = False
    # No wait_delivered here: the retry timer alone brings the spool back.
    assert wait_until(lambda: not writer.spool_pending)

    assert sink.inserted_ids == ids(docs)
    assert sink.rolled_up_ids == ids(docs)
    assert writer.stats.replayed == 400
    assert writer.stats.waiting_in_spool == 0
    assert segment_files(spool_dir) == []


def test_records_logged_while_the_spool_is_pending_keep_their_order(
    make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path
) -> None:
    sink.down = True
    writer = make_writer(retry_interval_s=60)
    older, newer = documents(150), documents(150)
    log_all(writer, older)
    assert writer.flush(timeout=5)

    sink.down = False  # back, but the writer will not retry for a minute
    log_all(writer, newer)
    assert writer.flush(timeout=5)
    assert sink.inserted_ids == []  # the newer ones queued behind the spool rather than jumping ahead
    assert spooled_ids(spool_dir) == ids(older + newer)

    assert writer.wait_delivered(timeout=10)
    assert sink.inserted_ids == ids(older + newer)
    assert segment_files(spool_dir) == []


def test_flapping_sink_keeps_every_record_exactly_once_in_order(make_writer: MakeWriter, sink: FakeRunLogSink) -> None:
    writer = make_writer(batch_size=20, retry_interval_s=0.01)
    docs = documents(2_000)

    for i, doc in enumerate(docs):
        if i % 200 == 0:
            sink.down = not sink.down
        writer.log_document(doc)
        if i % 50 == 0:
            time.sleep(0.002)  # let the writer thread interleave with the stream
    sink.down = False

    assert writer.wait_delivered(timeout=20)
    assert sink.inserted_ids == ids(docs)
    assert sink.rolled_up_total == len(docs)
    assert writer.stats.spooled > 0
    assert writer.stats.written + writer.stats.replayed == len(docs)


def test_rollup_failure_is_spooled_and_applied_once_later(make_writer: MakeWriter, sink: FakeRunLogSink) -> None:
    sink.rollups_down = True
    writer = make_writer(retry_interval_s=0.02)
    docs = documents(200)
    log_all(writer, docs)
    assert writer.flush(timeout=5)
    # The first batch's logs are in; only its rollup is owed. Later batches queue behind it in the spool.
    assert sink.inserted_ids
    assert sink.inserted_ids == ids(docs)[: len(sink.inserted_ids)]
    assert sink.rolled_up_total == 0

    sink.rollups_down = False
    assert writer.wait_delivered(timeout=10)

    assert sink.inserted_ids == ids(docs)
    assert sorted(sink.rolled_up_ids) == sorted(ids(docs))
    assert sink.rolled_up_total == len(docs)


def test_lost_acknowledgement_stores_each_log_once(make_writer: MakeWriter, sink: FakeRunLogSink) -> None:
    sink.lose_ack = True
    writer = make_writer(batch_size=1_000)
    docs = documents(100)
    log_all(writer, docs)
    assert writer.flush(timeout=5)
    assert writer.stats.spooled == 100

    sink.lose_ack = False
    assert writer.wait_delivered(timeout=10)

    assert sink.inserted_ids == ids(docs)  # the replay's duplicates were skipped, not stored twice


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: when an insert lands but its reply is lost, the replay sees duplicate ids and "
    "skips their rollups; `workbench runlog rebuild-rollups` repairs the counts",
)
def test_lost_acknowledgement_still_rolls_each_log_up_once(make_writer: MakeWriter, sink: FakeRunLogSink) -> None:
    sink.lose_ack = True
    writer = make_writer(batch_size=1_000)
    docs = documents(100)
    log_all(writer, docs)
    assert writer.flush(timeout=5)
    sink.lose_ack = False
    assert writer.wait_delivered(timeout=10)

    assert sink.rolled_up_total == len(docs)


# Segments left by another process -------------------------------------------------------------------


def test_orphan_segment_of_a_dead_writer_is_adopted_and_replayed_first(
    make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path
) -> None:
    orphaned = documents(120)
    dead = Spool(spool_dir)
    dead.append(orphaned[:60])
    dead.append(orphaned[60:])
    dead.close()  # the process "died": the segment stays, unlocked
    assert len(segment_files(spool_dir)) == 1

    writer = make_writer()
    fresh = documents(80)
    log_all(writer, fresh)

    assert writer.wait_delivered(timeout=10)
    assert sink.inserted_ids == ids(orphaned + fresh)
    assert writer.stats.replayed == 120
    assert segment_files(spool_dir) == []


def test_segment_of_a_live_writer_is_left_alone(make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path) -> None:
    alive = Spool(spool_dir)
    theirs = documents(30)
    alive.append(theirs)
    try:
        writer = make_writer()
        mine = documents(30)
        log_all(writer, mine)
        assert writer.wait_delivered(timeout=10)

        assert sink.inserted_ids == ids(mine)
        assert spooled_ids(spool_dir) == ids(theirs)
    finally:
        alive.close()


def test_two_orphans_replay_oldest_first(make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path) -> None:
    first, second = documents(10), documents(10)
    for docs in (first, second):
        dead = Spool(spool_dir)
        dead.append(docs)
        dead.close()
        time.sleep(0.001)  # segment names carry a nanosecond clock
    writer = make_writer()

    assert writer.wait_delivered(timeout=10)
    assert sink.inserted_ids == ids(first + second)


def test_torn_last_line_is_ignored(make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path) -> None:
    complete = documents(40)
    dead = Spool(spool_dir)
    dead.append(complete[:20])
    dead.append(complete[20:])
    dead.close()
    [path] = segment_files(spool_dir)
    with path.open("ab") as handle:  # the crash happened in the middle of writing a third batch
        handle.write(b'{"action": "write", "docs": [{"_id": "torn-record", "created_at": {"$date":')

    writer = make_writer()

    assert writer.wait_delivered(timeout=10)
    assert sink.inserted_ids == ids(complete)
    assert "torn-record" not in sink.docs
    assert segment_files(spool_dir) == []


def test_replay_resumes_after_the_saved_offset(make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path) -> None:
    batches = [documents(10) for _ in range(3)]
    dead = Spool(spool_dir)
    for batch in batches:
        dead.append(batch)
    dead.close()
    [path] = segment_files(spool_dir)
    segment = Segment(path)
    first = next(segment.batches())
    segment.save_offset(first.end_offset)  # the dead writer had replayed the first batch already

    writer = make_writer()

    assert writer.wait_delivered(timeout=10)
    assert sink.inserted_ids == ids(batches[1] + batches[2])


def test_close_while_down_leaves_a_segment_the_next_writer_replays(
    make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path
) -> None:
    sink.down = True
    first_writer = make_writer()
    docs = documents(90)
    log_all(first_writer, docs)
    first_writer.close()
    assert spooled_ids(spool_dir) == ids(docs)

    sink.down = False
    second_writer = make_writer()

    assert second_writer.wait_delivered(timeout=10)
    assert sink.inserted_ids == ids(docs)
    assert segment_files(spool_dir) == []


# Records MongoDB cannot store ------------------------------------------------------------------------------


def _unencodable(doc: dict[str, Any]) -> dict[str, Any]:
    doc["parameters"]["as_of"] = date(2026, 1, 31)  # BSON has no date-only type
    return doc


def rejected_lines(spool_dir: Path) -> list[dict[str, Any]]:
    path = spool_dir / "rejected.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_unencodable_record_is_rejected_and_the_rest_of_the_batch_lands(
    make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path
) -> None:
    writer = make_writer(batch_size=100, flush_interval_s=1.0)
    docs = documents(30)
    bad = _unencodable(docs[7])

    log_all(writer, docs)

    assert writer.wait_delivered(timeout=10)
    good = [doc for doc in docs if doc is not bad]
    assert sink.inserted_ids == ids(good)
    assert sink.rolled_up_total == len(good)
    assert writer.stats.rejected == 1
    [line] = rejected_lines(spool_dir)
    assert line["doc"]["_id"] == bad["_id"]
    assert "date" in line["error"]


def test_unencodable_record_while_the_sink_is_down_does_not_stop_the_writer(
    make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path
) -> None:
    sink.down = True
    writer = make_writer()
    docs = documents(30)
    bad = _unencodable(docs[12])

    log_all(writer, docs)
    assert writer.flush(timeout=5), "the writer thread must survive a record it cannot spool"
    sink.down = False
    later = documents(5)
    log_all(writer, later)

    assert writer.wait_delivered(timeout=10)
    assert sink.inserted_ids == ids([doc for doc in docs if doc is not bad] + later)
    assert [line["doc"]["_id"] for line in rejected_lines(spool_dir)] == [bad["_id"]]


def test_log_never_blocks_the_caller_while_the_sink_hangs(make_writer: MakeWriter, sink: FakeRunLogSink) -> None:
    sink.down = True
    sink.delay_s = 0.5
    writer = make_writer()
    durations = []
    for _ in range(500):
        started = time.perf_counter()
        writer.log(run_log())
        durations.append(time.perf_counter() - started)

    assert max(durations) < 0.1
    assert writer.flush(timeout=5)


# Trace spans ------------------------------------------------------------------------------------


def spans(count: int, trace: str = "ab" * 16) -> list[dict[str, Any]]:
    from datetime import UTC, datetime

    from workbench.domain.traces import new_span_id, span_document

    now = datetime.now(UTC)
    return [span_document(trace_id=trace, span_id=new_span_id(), parent_span_id=None, name=f"s{i}", kind="LLM",
                          start=now, end=now, attributes={"input.value": "q"}) for i in range(count)]  # fmt: skip


def test_spans_go_beside_the_logs(make_writer: MakeWriter, sink: FakeRunLogSink) -> None:
    writer = make_writer()
    docs, tree = documents(5), spans(3)
    log_all(writer, docs)
    writer.log_spans(tree)
    assert writer.flush(timeout=5)
    assert set(sink.spans) == set(ids(tree)) and sink.inserted_ids == ids(docs)
    assert writer.stats.spans_written == 3


def test_spans_spool_while_mongodb_is_away_and_replay_once(
    make_writer: MakeWriter, sink: FakeRunLogSink, spool_dir: Path
) -> None:
    sink.down = True
    writer = make_writer(retry_interval_s=0.05)
    tree = spans(4)
    writer.log_spans(tree)
    log_all(writer, documents(2))
    assert writer.flush(timeout=5)
    assert sink.spans == {} and set(ids(tree)) <= set(spooled_ids(spool_dir))
    sink.down = False
    assert writer.wait_delivered(timeout=10)
    assert set(sink.spans) == set(ids(tree))
    replayed = sink.spans[tree[0]["_id"]]["start"]  # a date survives the spool, to BSON's milliseconds
    assert abs((replayed - tree[0]["start"]).total_seconds()) < 0.001
