"""The labelling repository's contract (rubrics, queues, items, assignments, labels, decisions, golden datasets and
the chat answers items come from), on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import (
    adjudication_row,
    conversation_row,
    feedback_row,
    golden_dataset_row,
    golden_item_row,
    label_assignment_row,
    label_item_row,
    label_member_row,
    label_queue_row,
    label_row,
    message_row,
    random_user,
    rubric_row,
    rubric_version_row,
)
from tests.integration.contracts.backends import Backend, at
from workbench.storage.sql.models import LabelItemRow, LabelQueueRow, RubricVersionRow, UserRow


@dataclass
class Queue:
    rubric: RubricVersionRow
    queue: LabelQueueRow
    items: list[LabelItemRow]  # oldest first
    ana: UserRow
    bob: UserRow
    cy: UserRow


@pytest.fixture
def queue(backend: Backend) -> Queue:
    """A queue of three items, two annotators per item, and three users."""
    rubric = rubric_row("helpful")
    version = rubric_version_row(rubric.id, 1)
    queue = label_queue_row(version.id, "support", created_at=at(0))
    items = [label_item_row(queue.id, f"m{i}", created_at=at(i)) for i in range(3)]
    ana, bob, cy = random_user(username="ana"), random_user(username="bob"), random_user(username="cy")
    backend.seed(rubric, version, queue, *items, ana, bob, cy)
    return Queue(version, queue, items, ana, bob, cy)


def test_rubrics_and_their_versions(backend: Backend) -> None:
    tone, facts = rubric_row("tone"), rubric_row("facts")
    versions = [rubric_version_row(tone.id, n, definition={"v": n}) for n in (1, 3, 2)]
    with backend.make_uow() as uow:
        uow.labelling.add(tone)
        uow.labelling.add(facts)
        uow.labelling.flush()  # parents first: these models have no relationships to order the inserts by
        for version in versions:
            uow.labelling.add(version)
        uow.commit()
    with backend.make_uow() as uow:
        assert [row.name for row in uow.labelling.rubrics()] == ["facts", "tone"]
        found = uow.labelling.rubric_by_name("tone")
        assert found is not None
        assert found.id == tone.id
        assert uow.labelling.rubric_by_name("missing") is None
        assert uow.labelling.rubric(facts.id) is not None
        assert uow.labelling.rubric("missing") is None
        assert [row.version for row in uow.labelling.rubric_versions(tone.id)] == [3, 2, 1]
        assert uow.labelling.rubric_versions(facts.id) == []
        second = uow.labelling.rubric_version(versions[2].id)
        assert second is not None
        assert second.definition == {"v": 2}


def test_queues_newest_first_members_in_order_and_removed(backend: Backend, queue: Queue) -> None:
    older = label_queue_row(queue.rubric.id, "older", created_at=at(-5), annotators_per_item=1)
    backend.seed(
        older,
        label_member_row(queue.queue.id, queue.bob.id, added_at=at(2)),
        label_member_row(queue.queue.id, queue.ana.id, added_at=at(1)),
        label_member_row(older.id, queue.ana.id, added_at=at(3)),
    )
    with backend.make_uow() as uow:
        assert [row.name for row in uow.labelling.queues()] == ["support", "older"]
        assert [row.name for row in uow.labelling.queues(member_id=queue.ana.id)] == ["support", "older"]
        assert [row.name for row in uow.labelling.queues(member_id=queue.bob.id)] == ["support"]
        assert uow.labelling.queues(member_id=queue.cy.id) == []
        found = uow.labelling.queue_by_name("older")
        assert found is not None
        assert (found.id, found.annotators_per_item, found.status) == (older.id, 1, "open")
        assert uow.labelling.queue(queue.queue.id) is not None
        assert uow.labelling.queue_by_name("missing") is None
        assert [m.user_id for m in uow.labelling.members(queue.queue.id)] == [queue.ana.id, queue.bob.id]
        member = uow.labelling.member(queue.queue.id, queue.bob.id)
        assert member is not None
        assert uow.labelling.member(older.id, queue.bob.id) is None
        uow.labelling.delete(member)
        uow.commit()
    with backend.make_uow() as uow:
        assert [m.user_id for m in uow.labelling.members(queue.queue.id)] == [queue.ana.id]


def test_a_member_joins_a_queue_once(backend: Backend, queue: Queue) -> None:
    backend.seed(label_member_row(queue.queue.id, queue.ana.id))
    with backend.conflict(), backend.make_uow() as uow:
        uow.labelling.add(label_member_row(queue.queue.id, queue.ana.id))
        uow.labelling.flush()


def test_items_in_order_and_their_sources(backend: Backend, queue: Queue) -> None:
    backend.seed(label_item_row(queue.queue.id, "run-1", source_kind="playground", created_at=at(9)))
    with backend.make_uow() as uow:
        assert [row.source_id for row in uow.labelling.items(queue.queue.id)] == ["m0", "m1", "m2", "run-1"]
        assert uow.labelling.items("missing") == []
        assert uow.labelling.source_ids(queue.queue.id, "chat") == {"m0", "m1", "m2"}
        assert uow.labelling.source_ids(queue.queue.id, "eval") == set()
        item = uow.labelling.item(queue.items[1].id)
        assert item is not None
        assert item.payload == {"question": "m1"}
        assert uow.labelling.item("missing") is None


def test_an_item_is_in_a_queue_once_per_source(backend: Backend, queue: Queue) -> None:
    with backend.conflict(), backend.make_uow() as uow:
        uow.labelling.add(label_item_row(queue.queue.id, "m0"))
        uow.labelling.flush()
    with backend.make_uow() as uow:
        uow.labelling.add(label_item_row(queue.queue.id, "m0", source_kind="playground"))  # another kind is fine
        uow.labelling.flush()
        uow.commit()
    with backend.make_uow() as uow:
        assert len(uow.labelling.items(queue.queue.id)) == 4


def test_open_item_is_the_oldest_with_a_free_place_not_yet_mine_and_undecided(backend: Backend, queue: Queue) -> None:
    first, second, third = queue.items
    places = queue.queue.annotators_per_item
    with backend.make_uow() as uow:
        found = uow.labelling.open_item_for(queue.queue.id, queue.ana.id, places)
        assert found is not None
        assert found.id == first.id
    backend.seed(
        label_assignment_row(first, queue.ana.id, assigned_at=at(10)),
        label_assignment_row(first, queue.bob.id, status="submitted", assigned_at=at(11)),
        label_assignment_row(second, queue.bob.id, status="skipped", assigned_at=at(12)),
        adjudication_row(second.id),
    )
    with backend.make_uow() as uow:
        found = uow.labelling.open_item_for(queue.queue.id, queue.cy.id, places)
        assert found is not None
        assert found.id == third.id  # the first has both places taken, the second is decided
        found = uow.labelling.open_item_for(queue.queue.id, queue.cy.id, 3)
        assert found is not None
        assert found.id == first.id  # with three places the first has one free
        found = uow.labelling.open_item_for(queue.queue.id, queue.ana.id, 3)
        assert found is not None
        assert found.id == third.id  # ana has the first already
        assert uow.labelling.taken_places(first.id) == 2
        assert uow.labelling.taken_places(second.id) == 0  # skipped does not count
        assert uow.labelling.open_item_for("missing", queue.ana.id, places) is None


def test_assignments_filtered_in_order_and_counted(backend: Backend, queue: Queue) -> None:
    first, second, _ = queue.items
    rows = [
        label_assignment_row(second, queue.ana.id, status="submitted", assigned_at=at(12)),
        label_assignment_row(first, queue.ana.id, status="flagged", reason="off topic", assigned_at=at(10)),
        label_assignment_row(first, queue.bob.id, assigned_at=at(11)),
    ]
    backend.seed(*rows)
    with backend.make_uow() as uow:
        listed = uow.labelling.assignments(queue.queue.id)
        assert [(a.item_id, a.annotator_id) for a in listed] == [
            (first.id, queue.ana.id), (first.id, queue.bob.id), (second.id, queue.ana.id),
        ]  # fmt: skip
        assert [a.item_id for a in uow.labelling.assignments(queue.queue.id, queue.ana.id)] == [first.id, second.id]
        assert [a.id for a in uow.labelling.assignments(queue.queue.id, status="assigned")] == [rows[2].id]
        assert uow.labelling.assignments(queue.queue.id, queue.cy.id) == []
        assert uow.labelling.assignment_counts(queue.queue.id) == {
            (queue.ana.id, "submitted"): 1, (queue.ana.id, "flagged"): 1, (queue.bob.id, "assigned"): 1,
        }  # fmt: skip
        found = uow.labelling.assignment_for(first.id, queue.ana.id)
        assert found is not None
        assert (found.status, found.reason) == ("flagged", "off topic")
        assert uow.labelling.assignment_for(second.id, queue.bob.id) is None


def test_an_annotator_is_assigned_an_item_once(backend: Backend, queue: Queue) -> None:
    backend.seed(label_assignment_row(queue.items[0], queue.ana.id))
    with backend.conflict(), backend.make_uow() as uow:
        uow.labelling.add(label_assignment_row(queue.items[0], queue.ana.id))
        uow.labelling.flush()


def test_labels_and_decisions_of_items_and_queues(backend: Backend, queue: Queue) -> None:
    first, second, third = queue.items
    a1, b1 = label_assignment_row(first, queue.ana.id), label_assignment_row(first, queue.bob.id)
    a2 = label_assignment_row(second, queue.ana.id)
    labels = [
        label_row(b1, queue.rubric.id, values={"ok": False}, created_at=at(21)),
        label_row(a1, queue.rubric.id, created_at=at(20)),
        label_row(a2, queue.rubric.id, created_at=at(22)),
    ]
    decisions = [adjudication_row(third.id, method="majority"), adjudication_row(first.id, note="agreed")]
    backend.seed(a1, b1, a2, *labels, *decisions)
    with backend.make_uow() as uow:
        mine = uow.labelling.label_for(a1.id)
        assert mine is not None
        assert (mine.values, mine.chunk_relevance) == ({"ok": True}, {})
        assert uow.labelling.label_for("missing") is None
        assert [row.annotator_id for row in uow.labelling.labels_of_item(first.id)] == [queue.ana.id, queue.bob.id]
        of_queue = uow.labelling.labels_of_queue(queue.queue.id)
        assert sorted(row.id for row in of_queue) == sorted(row.id for row in labels)
        assert [row.item_id for row in of_queue] == sorted(row.item_id for row in of_queue)
        decided = uow.labelling.adjudication(first.id)
        assert decided is not None
        assert (decided.note, decided.method) == ("agreed", "manual")
        assert uow.labelling.adjudication(second.id) is None
        assert [row.item_id for row in uow.labelling.adjudications(queue.queue.id)] == [first.id, third.id]
        uow.labelling.delete(decided)
        uow.labelling.delete(mine)
        uow.commit()
    with backend.make_uow() as uow:
        assert [row.item_id for row in uow.labelling.adjudications(queue.queue.id)] == [third.id]
        assert [row.annotator_id for row in uow.labelling.labels_of_item(first.id)] == [queue.bob.id]


def test_a_label_per_assignment_and_a_decision_per_item(backend: Backend, queue: Queue) -> None:
    assignment = label_assignment_row(queue.items[0], queue.ana.id)
    backend.seed(assignment, label_row(assignment, queue.rubric.id), adjudication_row(queue.items[0].id))
    with backend.conflict(), backend.make_uow() as uow:
        uow.labelling.add(label_row(assignment, queue.rubric.id))
        uow.labelling.flush()
    with backend.conflict(), backend.make_uow() as uow:
        uow.labelling.add(adjudication_row(queue.items[0].id))
        uow.labelling.flush()


def test_golden_datasets_by_name_newest_version_first(backend: Backend) -> None:
    gold = [golden_dataset_row("gold", n, item_count=n) for n in (1, 3, 2)]
    backend.seed(*gold, golden_dataset_row("alpha", 1))
    with backend.make_uow() as uow:
        assert [(row.name, row.version) for row in uow.labelling.golden_datasets()] == [
            ("alpha", 1), ("gold", 3), ("gold", 2), ("gold", 1),
        ]  # fmt: skip
        latest, second = uow.labelling.golden_dataset("gold"), uow.labelling.golden_dataset("gold", 2)
        assert latest is not None
        assert second is not None
        assert (latest.version, second.id) == (3, gold[2].id)
        assert uow.labelling.golden_dataset("gold", 9) is None
        assert uow.labelling.golden_dataset("missing") is None
        for position in (1, 0, 2):
            uow.labelling.add(golden_item_row(gold[0].id, position, reference_contexts=[f"c{position}"]))
        uow.labelling.flush()
        uow.commit()
    with backend.make_uow() as uow:
        items = uow.labelling.golden_items(gold[0].id)
        assert [(row.position, row.reference_contexts) for row in items] == [(0, ["c0"]), (1, ["c1"]), (2, ["c2"])]
        assert uow.labelling.golden_items(gold[1].id) == []


def test_golden_versions_are_unique_per_name(backend: Backend) -> None:
    backend.seed(golden_dataset_row("gold", 1))
    with backend.conflict(), backend.make_uow() as uow:
        uow.labelling.add(golden_dataset_row("gold", 1))
        uow.labelling.flush()


def test_chat_answers_newest_first_with_their_mean_rating_and_filters(backend: Backend) -> None:
    ana, bob = random_user(), random_user()
    hr = conversation_row(ana.id, knowledge_base="hr")
    plain = conversation_row(bob.id)
    messages = {
        "question": message_row(hr.id, 0, role="user", created_at=at(0)),
        "down": message_row(hr.id, 1, role="assistant", model="echo", created_at=at(1)),
        "mixed": message_row(hr.id, 3, role="assistant", model="big", created_at=at(3)),
        "up": message_row(plain.id, 1, role="assistant", model="echo", created_at=at(5)),
        "unrated": message_row(plain.id, 3, role="assistant", model="echo", created_at=at(7)),
    }
    backend.seed(
        ana, bob, hr, plain, *messages.values(),
        feedback_row(messages["down"].id, ana.id, -1), feedback_row(messages["down"].id, bob.id, -1),
        feedback_row(messages["mixed"].id, ana.id, 1), feedback_row(messages["mixed"].id, bob.id, -1),
        feedback_row(messages["up"].id, bob.id, 1),
    )  # fmt: skip
    names = {row.id: name for name, row in messages.items()}

    def answers(**filters: Any) -> list[tuple[str, float | None]]:
        with backend.make_uow() as uow:
            found = uow.labelling.chat_answers(**filters)
            return [(names[message.id], rating) for message, _, rating in found]

    assert answers() == [("unrated", None), ("up", 1.0), ("mixed", 0.0), ("down", -1.0)]
    assert answers(feedback="rated") == [("up", 1.0), ("mixed", 0.0), ("down", -1.0)]
    assert answers(feedback="unrated") == [("unrated", None)]
    assert answers(feedback="down") == [("down", -1.0)]
    assert answers(feedback="up") == [("up", 1.0)]
    assert answers(knowledge_base="hr") == [("mixed", 0.0), ("down", -1.0)]
    assert answers(model="echo", limit=2) == [("unrated", None), ("up", 1.0)]
    assert answers(since=at(3), until=at(7)) == [("up", 1.0), ("mixed", 0.0)]
    with backend.make_uow() as uow:
        [(message, conversation, _)] = uow.labelling.chat_answers(feedback="down")
        assert (message.conversation_id, conversation.id, conversation.knowledge_base) == (hr.id, hr.id, "hr")
        by_conversation = uow.labelling.conversation_messages([plain.id, hr.id, "missing"])
        assert {key: [m.seq for m in found] for key, found in by_conversation.items()} == {
            plain.id: [1, 3], hr.id: [0, 1, 3], "missing": [],
        }  # fmt: skip
