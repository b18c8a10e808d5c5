"""The Labelling page over the real services: a queue of three items, two annotators per item, DEFAULT_RUBRIC."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.conftest import AppEnvironment, open_page, signed_in
from workbench.bootstrap import Container, build_container
from workbench.domain.users import Role
from workbench.labelling.rubrics import DEFAULT_RUBRIC, Rubric, RubricField
from workbench.labelling.views import Actor, ItemDraft
from workbench.services import users as user_service

pytestmark = pytest.mark.e2e

QUESTIONS = ["How do I reset my password?", "Which plans include SSO?", "Can I export my data?"]


@dataclass
class Seeded:
    container: Container
    queue_id: str
    actors: dict[str, Actor]


def draft(n: int) -> ItemDraft:
    return ItemDraft(
        source_kind="eval", source_id=f"case-{n}", question=QUESTIONS[n], answer=f"Answer number {n}.",
        history=[{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi, how can I help?"}]
        if n == 0 else [],
        chunks=[{"chunk_id": f"c{n}a", "source": "handbook.md", "text": f"Passage A for {n}", "score": 0.8},
                {"chunk_id": f"c{n}b", "source": "faq.md", "text": f"Passage B for {n}", "score": 0.4}],
        metadata={"model": "qwen-0.5b", "knowledge_base": "support", "rating": -1},
    )  # fmt: skip


@pytest.fixture
def seeded(app_env: AppEnvironment) -> Iterator[Seeded]:
    uow = app_env.uow
    people = {
        name: user_service.create_user(uow(), name, "annotator-pass-1", Role.ANNOTATOR) for name in ("ann1", "ann2")
    }
    admin = next(u for u in user_service.list_users(uow()) if u.username == "admin")
    container = build_container(register_atexit=False)
    try:
        actors = {name: Actor(u.id, u.username, u.role) for name, u in {**people, "admin": admin}.items()}
        service = container.label_queues
        rubric = service.save_rubric(actors["admin"], "answer quality", DEFAULT_RUBRIC)
        queue = service.create_queue(
            actors["admin"], "Support answers", rubric.version_id, 2, member_ids=[u.id for u in people.values()]
        )
        service.add_items(actors["admin"], queue.id, [draft(n) for n in range(3)])
        yield Seeded(container, queue.id, actors)
    finally:
        container.close()


def annotator(name: str = "ann1") -> AppTest:
    return open_page(signed_in(name, "annotator-pass-1"), "labelling")


def shown_question(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.replace("\\", "") in QUESTIONS).replace("\\", "")


def item_id(at: AppTest) -> str:
    key = next(b.key for b in at.button if b.key and b.key.startswith("lab_submit_"))
    return key.removeprefix("lab_submit_")


def label(at: AppTest, *, correct: bool = True, helpfulness: int | None = 4) -> AppTest:
    """Fill the required fields and mark both passages, the way an annotator clicks through the form."""
    iid = item_id(at)
    at.button(key=f"lab_{iid}_opt_correct_{0 if correct else 1}").click().run()
    if helpfulness is not None:
        at.button(key=f"lab_{iid}_opt_helpfulness_{helpfulness - 1}").click().run()
    for control in [c for c in at.segmented_control if c.key and c.key.startswith(f"lab_{iid}_c_")]:
        control.set_value(True).run()
    return at


def submit(at: AppTest) -> AppTest:
    at.button(key=f"lab_submit_{item_id(at)}").click().run()
    assert not at.exception, at.exception
    return at


def test_an_annotator_labels_the_first_item_and_the_next_one_appears(seeded: Seeded) -> None:
    at = annotator()
    assert at.title[0].value == "Labelling"
    assert shown_question(at) == QUESTIONS[0]
    assert not at.warning
    assert any("Earlier turns" in e.label for e in at.expander)
    assert "0 labelled" in next(m.value for m in at.markdown if m.value.startswith("**You:**"))
    first = item_id(at)
    submit(label(at, correct=False, helpfulness=2))
    assert shown_question(at) == QUESTIONS[1]
    assert at.success[0].value == "Label saved."
    stored = seeded.container.annotation.item(seeded.actors["ann1"], first).mine
    assert stored is not None
    assert stored.values == {"correct": False, "helpfulness": 2}
    assert stored.chunk_relevance == {"c0a": True, "c0b": True}
    assert "1 labelled" in next(m.value for m in at.markdown if m.value.startswith("**You:**"))
    assert "My labels (1)" in [s.value for s in at.subheader]


def test_a_missing_required_field_is_named_under_the_field(seeded: Seeded) -> None:
    at = label(annotator(), helpfulness=None)
    submit(at)
    assert shown_question(at) == QUESTIONS[0]  # still the same item
    assert any(m.value == ":red[:material/error: required]" for m in at.markdown)
    assert at.error[0].value.startswith("Some fields need a value")
    at.button(key=f"lab_{item_id(at)}_opt_helpfulness_4").click().run()
    submit(at)
    assert shown_question(at) == QUESTIONS[1]
    assert not any(m.value.startswith(":red[") for m in at.markdown)


def test_skip_and_flag_with_a_reason(seeded: Seeded) -> None:
    at = annotator()
    first = item_id(at)
    at.text_input(key=f"lab_reason_{first}").input("not my area")  # a form: the reason goes with the click
    at.button(key=f"lab_skip_{first}").click().run()
    assert "Skipped" in at.success[0].value
    assert shown_question(at) == QUESTIONS[1]
    second = item_id(at)
    at.button(key=f"lab_flag_{second}").click().run()  # no reason: refused
    assert "Say why" in at.error[0].value
    assert item_id(at) == second
    at.text_input(key=f"lab_reason_{second}").input("the answer leaks an e-mail address")
    at.button(key=f"lab_flag_{second}").click().run()
    assert "Flagged" in at.success[0].value
    flags = seeded.container.review.item(seeded.actors["admin"], second).flags
    assert flags == [("ann1", "the answer leaks an e-mail address")]
    progress = seeded.container.label_queues.progress(seeded.actors["ann1"], seeded.queue_id).annotators[0]
    assert (progress.skipped, progress.flagged, progress.submitted) == (1, 1, 0)
    mine = seeded.container.annotation.my_items(seeded.actors["ann1"], seeded.queue_id)
    assert [item.status for item in mine] == ["flagged", "skipped"]


def test_a_rerun_or_a_new_session_shows_the_same_item_in_progress(seeded: Seeded) -> None:
    at = annotator()
    first = item_id(at)
    at.run()
    assert item_id(at) == first
    again = annotator()  # a reload: a new session
    assert item_id(again) == first
    assert shown_question(again) == QUESTIONS[0]


def test_others_labels_are_hidden_until_mine_is_in(seeded: Seeded) -> None:
    first = annotator("ann1")
    submit(label(first, correct=True, helpfulness=5))  # ann1 labels item 0
    at = annotator("ann2")
    assert shown_question(at) == QUESTIONS[0]
    assert not any("How others labelled it" in e.label for e in at.expander)
    assert not any("annotator" in frame.value.columns for frame in at.dataframe)
    submit(label(at, correct=False, helpfulness=3))
    others = next(e for e in at.expander if "How others labelled it" in e.label)
    assert others.label == "How others labelled it (1)"
    table = next(frame.value for frame in at.dataframe if "annotator" in frame.value.columns)
    assert list(table["annotator"]) == ["you", "ann1"]
    assert list(table["Is the answer correct?"]) == ["No", "Yes"]
    assert list(table["Helpfulness"]) == ["3", "5"]


def test_an_annotator_revises_a_label(seeded: Seeded) -> None:
    at = annotator()
    first = item_id(at)
    submit(label(at, correct=True, helpfulness=4))
    at.selectbox(key="lab_mine_pick").select(first).run()
    at.button(key="lab_mine_open").click().run()
    assert item_id(at) == first
    assert shown_question(at) == QUESTIONS[0]
    assert at.button(key=f"lab_submit_{first}").label == "Save changes"
    assert at.button(key=f"lab_{first}_opt_helpfulness_3").proto.type == "primary"  # prefilled with my label
    at.button(key=f"lab_{first}_opt_helpfulness_1").click().run()
    at.text_area(key=f"lab_{first}_f_reference_answer").input("Use Settings → Security → Reset.").run()
    submit(at)
    assert "updated" in at.success[0].value
    assert shown_question(at) == QUESTIONS[1]  # back to the queue
    stored = seeded.container.annotation.item(seeded.actors["ann1"], first).mine
    assert stored is not None
    assert stored.values == {"correct": True, "helpfulness": 2, "reference_answer": "Use Settings → Security → Reset."}


def test_an_adjudicated_label_is_read_only_and_a_skipped_item_cannot_be_labelled_later(seeded: Seeded) -> None:
    at = annotator()
    first = item_id(at)
    submit(label(at, correct=True, helpfulness=4))
    second = item_id(at)
    at.button(key=f"lab_skip_{second}").click().run()
    seeded.container.review.adjudicate(seeded.actors["admin"], first)
    at.run()
    for opened, note in ((first, "adjudicated"), (second, "You skipped this item")):
        at.selectbox(key="lab_mine_pick").select(opened).run()
        assert at.button(key="lab_mine_open").label == "View"
        at.button(key="lab_mine_open").click().run()
        assert note in at.info[0].value
        assert all(b.disabled for b in at.button if b.key and b.key.startswith(f"lab_{opened}_opt_"))
        assert not any(b.key == f"lab_submit_{opened}" for b in at.button)
        at.button(key="lab_revise_back").click().run()


def test_a_viewer_cannot_open_the_page(app_env: AppEnvironment) -> None:
    app_env.add_user("vic", Role.VIEWER)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page(signed_in("vic"), "labelling")


def test_an_annotator_in_no_queue_sees_what_to_do(app_env: AppEnvironment) -> None:
    app_env.add_user("newbie", Role.ANNOTATOR)
    at = open_page(signed_in("newbie"), "labelling")
    assert at.info[0].value.startswith("You are not in any labelling queue yet; an analyst adds you on the Review")


def test_numeric_fields_and_long_option_lists_use_inputs(app_env: AppEnvironment) -> None:
    person = user_service.create_user(app_env.uow(), "ann3", "annotator-pass-1", Role.ANNOTATOR)
    admin = next(u for u in user_service.list_users(app_env.uow()) if u.username == "admin")
    rubric = Rubric(
        fields=(
            RubricField("minutes", "Minutes saved", "numeric", minimum=0, maximum=120),
            RubricField("topic", "Topic", "categorical", options=tuple(f"topic-{n}" for n in range(8))),
        )
    )
    container = build_container(register_atexit=False)
    try:
        reviewer = Actor(admin.id, admin.username, admin.role)
        version = container.label_queues.save_rubric(reviewer, "time saved", rubric).version_id
        queue = container.label_queues.create_queue(reviewer, "Time", version, 1, member_ids=[person.id])
        container.label_queues.add_items(reviewer, queue.id, [draft(0)])
        at = annotator("ann3")
        iid = item_id(at)
        assert not at.segmented_control  # no chunk relevance in this rubric
        at.number_input(key=f"lab_{iid}_f_minutes").set_value(15).run()
        at.selectbox(key=f"lab_{iid}_f_topic").select("topic-6").run()
        submit(at)
        assert not at.warning
        assert "Nothing left for you in this queue" in at.info[0].value
        stored = container.annotation.item(Actor(person.id, person.username, person.role), iid).mine
        assert stored is not None
        assert stored.values == {"minutes": 15, "topic": "topic-6"}
    finally:
        container.close()
