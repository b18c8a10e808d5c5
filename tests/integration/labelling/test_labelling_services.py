"""Labelling on SQLite and PostgreSQL: no duplicate items, N annotators per item, blind labels, roles enforced by
the services themselves, skip/flag, revisions until adjudication, majority and manual decisions, golden sets."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest

from tests.factories import conversation_row, feedback_row, message_row, random_user
from workbench.domain.users import Role
from workbench.labelling.annotation import AnnotationService, LabelProblems
from workbench.labelling.queues import QueueService
from workbench.labelling.review import ReviewService, to_csv, to_jsonl
from workbench.labelling.rubrics import DEFAULT_RUBRIC, LabelValues, Rubric
from workbench.labelling.sources import ChatSource, chat_items
from workbench.labelling.views import Actor, ItemDraft, LabellingError, LabellingForbidden
from workbench.storage.sql.uow import SqlUnitOfWork

pytestmark = pytest.mark.integration
MakeUow = Callable[[], SqlUnitOfWork]


def actor(make_uow: MakeUow, username: str, role: Role) -> Actor:
    user = random_user(username=username, role=role)
    with make_uow() as uow:
        uow.users.add(user)
        uow.commit()
    return Actor(user.id, username, role)


def drafts(n: int, kind: str = "eval") -> list[ItemDraft]:
    return [
        ItemDraft(kind, f"src-{i}", f"Question {i}?", f"Answer {i}.",
                  chunks=[{"chunk_id": f"c{i}a", "text": f"passage {i}a"}, {"chunk_id": f"c{i}b", "text": "other"}])
        for i in range(n)
    ]  # fmt: skip


def label(correct: bool = True, helpfulness: int = 4, **extra: object) -> LabelValues:
    return LabelValues({"correct": correct, "helpfulness": helpfulness, **extra})


class World:
    def __init__(self, make_uow: MakeUow, places: int = 2, items: int = 3) -> None:
        self.queues, self.annotation, self.review = (
            QueueService(make_uow), AnnotationService(make_uow), ReviewService(make_uow),
        )  # fmt: skip
        self.analyst = actor(make_uow, "ana", Role.ANALYST)
        self.annotators = [actor(make_uow, name, Role.ANNOTATOR) for name in ("a1", "a2", "a3")]
        self.outsider = actor(make_uow, "out", Role.ANNOTATOR)
        rubric = self.queues.save_rubric(self.analyst, "quality", DEFAULT_RUBRIC)
        self.queue = self.queues.create_queue(
            self.analyst, "answers", rubric.version_id, places, [a.id for a in self.annotators]
        )
        assert self.queues.add_items(self.analyst, self.queue.id, drafts(items)) == (items, 0)


@pytest.fixture
def world(make_uow: MakeUow) -> World:
    return World(make_uow)


def test_an_item_is_in_a_queue_once(world: World) -> None:
    assert world.queues.add_items(world.analyst, world.queue.id, drafts(5)) == (2, 3)
    assert world.queues.progress(world.analyst, world.queue.id).items == 5


def test_each_item_gets_exactly_n_annotators_and_nobody_twice(world: World) -> None:
    given: Counter[str] = Counter()
    for annotator in world.annotators * 3:
        item = world.annotation.next_item(annotator, world.queue.id)
        if item is None:
            continue
        assert item.mine is None
        world.annotation.submit(annotator, item.id, label())
        given[item.id] += 1
    assert sorted(given.values()) == [2, 2, 2]
    for annotator in world.annotators:
        assert world.annotation.next_item(annotator, world.queue.id) is None  # nothing left for anyone
        mine = world.annotation.my_items(annotator, world.queue.id)
        assert len({item.id for item in mine}) == len(mine)
    progress = world.queues.progress(world.analyst, world.queue.id)
    assert (progress.labels, progress.complete_items, progress.places, progress.share) == (6, 3, 6, 1.0)
    assert [p.available for p in progress.annotators] == [0, 0, 0]
    assert sum(p.submitted for p in progress.annotators) == 6


def test_concurrent_annotators_never_exceed_n(make_uow: MakeUow) -> None:
    world = World(make_uow, places=2, items=6)
    errors: list[BaseException] = []

    def work(annotator: Actor) -> None:
        try:
            while (item := world.annotation.next_item(annotator, world.queue.id)) is not None:
                world.annotation.submit(annotator, item.id, label())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a,)) for a in world.annotators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    progress = world.queues.progress(world.analyst, world.queue.id)
    assert (progress.labels, progress.complete_items) == (12, 6)


def test_labels_are_blind_until_one_submits(world: World) -> None:
    first, second = world.annotators[:2]
    item = world.annotation.next_item(first, world.queue.id)
    assert item is not None
    world.annotation.submit(first, item.id, label(correct=False, helpfulness=2))
    mine = [p for p in world.queues.progress(first, world.queue.id).annotators]
    assert [(p.submitted, p.available) for p in mine] == [(1, 2)]  # the other two items still have places
    same = world.annotation.next_item(second, world.queue.id)
    assert same is not None and same.id == item.id
    assert same.others is None  # second has not submitted: nothing of first's label
    after = world.annotation.submit(second, item.id, label())
    assert [o.annotator for o in after.others or []] == ["a1"]
    assert (after.others or [])[0].values == {"correct": False, "helpfulness": 2}
    assert [o.annotator for o in world.annotation.item(first, item.id).others or []] == ["a2"]


def test_roles_are_enforced_by_the_services(world: World) -> None:
    annotator = world.annotators[0]
    item = world.annotation.next_item(annotator, world.queue.id)
    assert item is not None
    with pytest.raises(LabellingForbidden):
        world.review.item(annotator, item.id)
    with pytest.raises(LabellingForbidden):
        world.review.adjudicate(annotator, item.id)
    with pytest.raises(LabellingForbidden):
        world.review.export_golden(annotator, world.queue.id, "gold")
    with pytest.raises(LabellingForbidden):
        world.queues.add_items(annotator, world.queue.id, drafts(1))
    with pytest.raises(LabellingForbidden):  # not a member: another annotators' queue
        world.annotation.next_item(world.outsider, world.queue.id)
    with pytest.raises(LabellingForbidden):
        world.queues.progress(world.outsider, world.queue.id)
    assert world.queues.queues(world.outsider) == []
    with pytest.raises(LabellingForbidden):  # an item given to someone else
        world.annotation.item(world.annotators[1], item.id)
    with pytest.raises(LabellingForbidden):
        world.annotation.submit(world.annotators[1], item.id, label())
    own = world.queues.progress(annotator, world.queue.id)
    assert [p.username for p in own.annotators] == ["a1"]  # an annotator sees only their own progress


def test_skip_passes_the_item_on_and_flag_counts(make_uow: MakeUow) -> None:
    world = World(make_uow, places=1, items=2)
    a1, a2, _ = world.annotators
    item = world.annotation.next_item(a1, world.queue.id)
    assert item is not None
    world.annotation.skip(a1, item.id, "not my language")
    with pytest.raises(LabellingError, match="skipped"):
        world.annotation.submit(a1, item.id, label())
    assert world.annotation.my_items(a1, world.queue.id)[0].reason == "not my language"
    taken = world.annotation.next_item(a2, world.queue.id)
    assert taken is not None and taken.id == item.id  # the skipped place went to someone else
    world.annotation.flag(a2, item.id, "the answer is cut off")
    with pytest.raises(LabellingError, match="why"):
        world.annotation.flag(a2, item.id, " ")
    other = world.annotation.next_item(a1, world.queue.id)
    assert other is not None and other.id != item.id
    review = world.review.item(world.analyst, item.id)
    assert review.flags == [("a2", "the answer is cut off")]


def test_revise_until_adjudicated_then_frozen(world: World) -> None:
    a1, a2, _ = world.annotators
    item = world.annotation.next_item(a1, world.queue.id)
    assert item is not None
    with pytest.raises(LabelProblems) as problems:
        world.annotation.submit(a1, item.id, LabelValues({"helpfulness": 9}))
    assert problems.value.problems == {"correct": "required", "helpfulness": "between 1 and 5"}
    world.annotation.submit(a1, item.id, label(helpfulness=2))
    revised = world.annotation.submit(a1, item.id, label(helpfulness=3, issue="incomplete"))
    assert revised.mine is not None and revised.mine.values["helpfulness"] == 3
    assert world.annotation.next_item(a2, world.queue.id) is not None
    world.annotation.submit(
        a2,
        item.id,
        label(helpfulness=5, issue="incomplete"),
    )
    assert world.review.item(world.analyst, item.id).ties == ("helpfulness",)  # 3 against 5: no majority
    with pytest.raises(LabellingError, match="split on Helpfulness"):
        world.review.adjudicate(world.analyst, item.id)
    world.annotation.submit(a2, item.id, label(helpfulness=3, issue="incomplete"))  # a2 revises: now they agree
    decision = world.review.adjudicate(world.analyst, item.id)
    assert (decision.method, decision.reviewer) == ("majority", "ana")
    assert decision.values == {"correct": True, "helpfulness": 3, "issue": "incomplete"}
    with pytest.raises(LabellingError, match="adjudicated"):
        world.annotation.submit(a1, item.id, label(helpfulness=1))
    manual = world.review.adjudicate(world.analyst, item.id, label(False, 1), note="both missed the error")
    assert (manual.method, manual.values["correct"], manual.note) == ("manual", False, "both missed the error")


def test_golden_dataset_versions_from_decisions(world: World) -> None:
    a1, a2, _ = world.annotators
    for annotator in (a1, a2):
        item = world.annotation.next_item(annotator, world.queue.id)
        assert item is not None
        world.annotation.submit(annotator, item.id, LabelValues(
            {"correct": True, "helpfulness": 4, "reference_answer": "The better answer."},
            {f"c{item.source_id[-1]}a": True, f"c{item.source_id[-1]}b": False},
        ))  # fmt: skip
    with pytest.raises(LabellingError, match="No item"):
        world.review.export_golden(world.analyst, world.queue.id, "gold")
    world.review.adjudicate(world.analyst, item.id)
    first = world.review.export_golden(world.analyst, world.queue.id, "gold", "first pass")
    assert (first.version, first.item_count) == (1, 1)
    [row] = first.rows
    assert row["question"] == "Question 0?"
    assert row["reference_answer"] == "The better answer."
    assert row["reference_contexts"] == ["passage 0a"]  # only the passage marked relevant
    assert row["labels"] == {"correct": True, "helpfulness": 4}
    assert world.review.export_golden(world.analyst, world.queue.id, "gold").version == 2
    assert [d.version for d in world.review.golden_datasets(world.analyst)] == [2, 1]
    assert '"reference_answer": "The better answer."' in to_jsonl(first)
    assert to_csv(first).splitlines()[0].startswith("question,reference_answer,reference_contexts")


def test_rubric_versions_keep_labels_as_given(world: World) -> None:
    again = world.queues.save_rubric(world.analyst, "quality", DEFAULT_RUBRIC)
    assert again.version == 1  # nothing changed, no new version
    changed = Rubric.from_dict({**DEFAULT_RUBRIC.to_dict(), "fields": DEFAULT_RUBRIC.to_dict()["fields"][:2]})
    assert world.queues.save_rubric(world.analyst, "quality", changed).version == 2
    assert world.queues.queue(world.analyst, world.queue.id).rubric.version == 1  # the queue keeps its version


def test_chat_answers_become_items_filtered_by_feedback(make_uow: MakeUow) -> None:
    user = random_user(username="asker", role=Role.VIEWER)
    conversation = conversation_row(user.id, knowledge_base="sample")
    messages = [
        message_row(conversation.id, 0, role="user", content="First question?"),
        message_row(conversation.id, 1, role="assistant", content="First answer.", model="m1",
                    citations=[{"n": 1, "chunk_id": "k1", "source": "doc.md", "text": "evidence", "score": 0.9}]),
        message_row(conversation.id, 2, role="user", content="Second question?"),
        message_row(conversation.id, 3, role="assistant", content="Second answer.", model="m2"),
    ]  # fmt: skip
    with make_uow() as uow:
        uow.users.add(user)
        uow.commit()
    with make_uow() as uow:
        uow.conversations.add(conversation)
        uow.commit()
    with make_uow() as uow:
        for message in messages:
            uow.messages.add(message)
        uow.commit()
    with make_uow() as uow:
        uow.feedback.add(feedback_row(messages[1].id, user.id, -1))
        uow.commit()
    [down] = chat_items(make_uow(), ChatSource(feedback="down"))
    assert (down.question, down.answer, down.chunks[0]["chunk_id"]) == ("First question?", "First answer.", "k1")
    assert down.metadata["rating"] == -1.0 and down.metadata["knowledge_base"] == "sample"
    [later] = chat_items(make_uow(), ChatSource(model="m2"))
    assert later.question == "Second question?"
    assert [turn["content"] for turn in later.history] == ["First question?", "First answer."]
    assert len(chat_items(make_uow(), ChatSource(feedback="unrated"))) == 1
    assert chat_items(make_uow(), ChatSource(knowledge_base="other")) == []


def test_queue_agreement_and_disagreement_from_stored_labels(make_uow: MakeUow) -> None:
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    world = World(make_uow, places=2, items=4)
    a1, a2, _ = world.annotators
    given = {  # item source id -> (a1's label, a2's label)
        "src-0": ((True, 5), (True, 5)),
        "src-1": ((True, 4), (False, 1)),
        "src-2": ((False, 2), (False, 3)),
        "src-3": ((True, 3), (True, 3)),
    }
    for annotator, column in ((a1, 0), (a2, 1)):
        while (item := world.annotation.next_item(annotator, world.queue.id)) is not None:
            correct, helpful = given[item.source_id][column]
            world.annotation.submit(annotator, item.id, label(correct, helpful))
    report = world.review.agreement(world.analyst, world.queue.id)
    assert report.items == 4 and sorted(report.annotators) == ["a1", "a2"]  # columns in annotator-id order
    by_key = {f.key: f.agreement for f in report.fields}
    first = [given[f"src-{i}"][0] for i in range(4)]
    second = [given[f"src-{i}"][1] for i in range(4)]
    columns = (first, second) if report.annotators == ["a1", "a2"] else (second, first)
    correct = [[float(c[0]) for c in col] for col in columns]
    helpful = [[float(c[1]) for c in col] for col in columns]
    assert by_key["correct"].percent == pytest.approx(0.75)
    assert by_key["correct"].cohen == pytest.approx(cohen_kappa_score(correct[0], correct[1]), abs=1e-9)
    assert by_key["helpfulness"].alpha == pytest.approx(
        krippendorff.alpha(reliability_data=helpful, level_of_measurement="ordinal"), abs=1e-9
    )
    assert by_key["issue"].n_labels == 0  # optional and never given: nothing to compare, no error
    worst = world.review.disagreements(world.analyst, world.queue.id)
    assert worst[0].question == "Question 1?"  # yes vs no and 4 vs 1
    assert worst[-1].score == 0.0


def test_flagging_alone_does_not_reveal_the_others(world: World) -> None:
    a1, a2, _ = world.annotators
    item = world.annotation.next_item(a1, world.queue.id)
    assert item is not None
    world.annotation.submit(a1, item.id, label())
    assert world.annotation.next_item(a2, world.queue.id) is not None
    world.annotation.flag(a2, item.id, "odd question")
    assert world.annotation.item(a2, item.id).others is None  # still blind: no label of their own yet
    assert world.annotation.submit(a2, item.id, label()).others is not None


def test_a_decided_item_is_not_handed_out_and_frees_a_waiting_annotator(world: World) -> None:
    a1, a2, a3 = world.annotators
    first = world.annotation.next_item(a1, world.queue.id)
    assert first is not None
    world.annotation.submit(a1, first.id, label())
    waiting = world.annotation.next_item(a2, world.queue.id)
    assert waiting is not None and waiting.id == first.id
    world.review.adjudicate(world.analyst, first.id)  # decided on one label while a2 looked at it
    moved_on = world.annotation.next_item(a2, world.queue.id)
    assert moved_on is not None and moved_on.id != first.id
    given_to_a3 = world.annotation.next_item(a3, world.queue.id)
    assert given_to_a3 is None or given_to_a3.id != first.id


def test_places_held_by_an_absent_annotator_go_back(make_uow: MakeUow) -> None:
    from datetime import timedelta

    world = World(make_uow, places=1, items=2)
    a1, a2, a3 = world.annotators
    held = world.annotation.next_item(a1, world.queue.id)  # a1 opens an item and walks away
    assert held is not None
    other = world.annotation.next_item(a2, world.queue.id)
    assert other is not None and other.id != held.id
    assert world.annotation.next_item(a3, world.queue.id) is None  # both places are held
    assert world.queues.release_held(world.analyst, world.queue.id, older_than=timedelta(hours=1)) == 0
    assert world.queues.release_held(world.analyst, world.queue.id, older_than=timedelta(0)) == 2
    again = world.annotation.next_item(a3, world.queue.id)
    assert again is not None  # a place came back
    world.annotation.submit(a3, again.id, label())
    world.queues.set_members(world.analyst, world.queue.id, [a1.id, a2.id])  # a3 leaves: nothing open, labels kept
    assert world.review.item(world.analyst, again.id).labels[0].annotator == "a3"
    with pytest.raises(LabellingForbidden):
        world.queues.release_held(a1, world.queue.id)


def test_removing_a_member_gives_back_their_open_item(make_uow: MakeUow) -> None:
    world = World(make_uow, places=1, items=1)
    a1, a2, _ = world.annotators
    assert world.annotation.next_item(a1, world.queue.id) is not None
    assert world.annotation.next_item(a2, world.queue.id) is None
    world.queues.set_members(world.analyst, world.queue.id, [a2.id])
    assert world.annotation.next_item(a2, world.queue.id) is not None
