"""The on-disk spool on its own: encoding, order, offsets, locks between spools."""

from __future__ import annotations

from pathlib import Path

from tests.factories import run_log
from workbench.domain.runlog import RunLog
from workbench.storage.runlog.spool import Spool


def test_append_and_read_back_keeps_types(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    records = [run_log(parameters={"temperature": 0.5, "stop": ["x"]}) for _ in range(3)]
    spool.append([r.to_document() for r in records])
    spool.append([records[0].to_document()], action="rollup")

    [segment] = spool.pending_segments()
    batches = list(segment.batches())

    assert [b.action for b in batches] == ["write", "rollup"]
    assert [RunLog.from_document(doc) for doc in batches[0].docs] == records
    assert batches[0].docs[0]["created_at"].tzinfo is not None
    assert batches[-1].end_offset == segment.path.stat().st_size


def test_nothing_to_append_creates_no_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append([])
    assert not spool.has_own_pending()
    assert spool.pending_segments() == []


def test_offset_skips_replayed_batches(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(3):
        spool.append([{"_id": f"doc-{i}"}])
    [segment] = spool.pending_segments()
    first = next(segment.batches())

    segment.save_offset(first.end_offset)

    assert [b.docs[0]["_id"] for b in segment.batches()] == ["doc-1", "doc-2"]
    assert segment.read_offset() == first.end_offset


def test_a_locked_segment_is_not_adopted_until_its_spool_closes(tmp_path: Path) -> None:
    owner, other = Spool(tmp_path), Spool(tmp_path)
    owner.append([{"_id": "a"}])

    assert other.pending_segments() == []

    owner.close()
    [adopted] = other.pending_segments()
    assert [b.docs for b in adopted.batches()] == [[{"_id": "a"}]]
    assert Spool(tmp_path).pending_segments() == []  # now `other` holds the lock

    other.release(adopted)
    [again] = Spool(tmp_path).pending_segments()
    again.close()


def test_finish_removes_the_segment_and_its_offset(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([{"_id": "a"}])
    [segment] = spool.pending_segments()
    segment.save_offset(1)
    assert segment.offset_path.exists()

    spool.finish(segment)

    assert list(tmp_path.iterdir()) == []
    assert not spool.has_own_pending()
    spool.append([{"_id": "b"}])  # a fresh own segment is opened on demand
    assert spool.has_own_pending()
    spool.close()
