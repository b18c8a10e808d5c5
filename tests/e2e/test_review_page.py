"""The Review page over the real services: a queue of three items labelled by two annotators who disagree on one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import user_key_from_element_id

from app import ui
from app.components.formatting import DASH, share, stat
from app.views.review import state
from app.views.review.rubrics import fields_frame, rubric_from_table
from tests.e2e.conftest import PROJECT_ROOT, AppEnvironment, open_page, signed_in
from workbench.bootstrap import Container, build_container
from workbench.domain.users import Role
from workbench.labelling.rubrics import DEFAULT_RUBRIC, LabelValues, RubricError
from workbench.labelling.views import Actor, ItemDraft
from workbench.services import conversations
from workbench.services import users as user_service

pytestmark = pytest.mark.e2e

PASSWORD = "annotator-pass-1"
QUESTIONS = ["How long is the warranty?", "Which plans include SSO?", "Can I export my data?"]
# (correct, helpfulness) per item: the annotators agree on items 0 and 2 and disagree on item 1.
LABELS = {"ann1": [(True, 4), (True, 5), (False, 2)], "ann2": [(True, 4), (False, 2), (False, 2)]}
CREATE_QUEUE = "FormSubmitter:review-new-queue-Create queue"
SAVE_FINAL = "FormSubmitter:review-adjudicate-Save final label"


@dataclass
class Seeded:
    container: Container
    queue_id: str
    items: list[str]  # in queue order
    actors: dict[str, Actor]


def draft(n: int) -> ItemDraft:
    return ItemDraft(
        source_kind="eval", source_id=f"case-{n}", question=QUESTIONS[n], answer=f"Answer number {n}.",
        chunks=[{"chunk_id": f"c{n}a", "source": "handbook.md", "text": f"Passage A for {n}", "score": 0.8},
                {"chunk_id": f"c{n}b", "source": "faq.md", "text": f"Passage B for {n}", "score": 0.4}],
        metadata={"model": "qwen-0.5b", "knowledge_base": "support"},
    )  # fmt: skip


@pytest.fixture
def seeded(app_env: AppEnvironment) -> Iterator[Seeded]:
    people = {name: user_service.create_user(app_env.uow(), name, PASSWORD, Role.ANNOTATOR) for name in LABELS}
    admin = next(u for u in user_service.list_users(app_env.uow()) if u.username == "admin")
    actors = {u.username: Actor(u.id, u.username, u.role) for u in [*people.values(), admin]}
    container = build_container(register_atexit=False)
    try:
        queues = container.label_queues
        rubric = queues.save_rubric(actors["admin"], "answer quality", DEFAULT_RUBRIC)
        members = [p.id for p in people.values()]
        queue = queues.create_queue(actors["admin"], "Support answers", rubric.version_id, 2, members)
        queues.add_items(actors["admin"], queue.id, [draft(n) for n in range(3)])
        items = []
        for name, labels in LABELS.items():
            for correct, helpfulness in labels:
                item = container.annotation.next_item(actors[name], queue.id)
                assert item is not None
                relevance = {item.chunks[0]["chunk_id"]: True, item.chunks[1]["chunk_id"]: name == "ann1"}
                container.annotation.submit(
                    actors[name], item.id, LabelValues({"correct": correct, "helpfulness": helpfulness}, relevance)
                )
                items.append(item.id)
        yield Seeded(container, queue.id, items[:3], actors)
    finally:
        container.close()


def review(tab: str = "Queues") -> AppTest:
    at = open_page(signed_in(), "review")
    if tab != "Queues":
        at.session_state[state.TAB_KEY] = tab
        at.run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table with this column (read-only tables carry no key AppTest can see)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def texts(elements) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(element.value for element in elements)


def test_the_queues_table_shows_progress_and_each_annotator(seeded: Seeded) -> None:
    at = review()
    assert at.title[0].value == "Review"
    row = table(at, "per item").iloc[0]
    assert (row["name"], row["rubric"], row["per item"], row["items"]) == ("Support answers", "answer quality v1", 2, 3)
    assert (row["progress"], row["complete items"], row["adjudicated"], row["status"]) == (1.0, 3, 0, "open")
    assert row["members"] == "ann1, ann2"
    assert "6 of 6 labels (100%) · 3 of 3 items complete · 0 adjudicated" in at.get("progress")[0].proto.text
    annotators = table(at, "in progress")
    assert list(annotators["annotator"]) == ["ann1", "ann2"]
    assert list(annotators["submitted"]) == [3, 3]
    assert at.multiselect(key="review_members").value == [seeded.actors[n].id for n in ("ann1", "ann2")]


def test_a_queue_is_created_through_the_form_and_opened(seeded: Seeded) -> None:
    at = review()
    at.text_input(key="review_new_name").input("Second pass")
    at.number_input(key="review_new_n").set_value(1)
    at.multiselect(key="review_new_members").select(seeded.actors["ann2"].id)
    at.button(key=CREATE_QUEUE).click().run()
    assert not at.exception, at.exception
    assert "Created queue Second pass" in texts(at.success)
    created = next(q for q in seeded.container.label_queues.queues(seeded.actors["admin"]) if q.name == "Second pass")
    assert (created.annotators_per_item, created.members, created.rubric.version) == (1, ["ann2"], 1)
    assert at.selectbox(key=state.QUEUE_KEY).value == created.id
    assert at.text_input(key="review_new_name").value == ""  # the form is empty again
    assert table(at, "per item")["name"].tolist() == ["Second pass", "Support answers"]

    at.button(key=CREATE_QUEUE).click().run()  # no name
    assert "Give the queue a name" in texts(at.error)


def test_chat_answers_are_added_once(seeded: Seeded) -> None:
    uow = seeded.container.uow
    admin = seeded.actors["admin"]
    conversation = conversations.start_conversation(uow(), admin.id, "Warranty", model="smollm2-135m-instruct")
    conversations.append_message(uow(), conversation, "user", "How long is the R2 warranty?")
    answer = conversations.append_message(
        uow(), conversation, "assistant", "Two years.", model="smollm2-135m-instruct",
        citations=[{"chunk_id": "w1", "source": "warranty.md", "text": "The R2 has two years.", "score": 0.9}],
    )  # fmt: skip
    conversations.record_feedback(uow(), answer.id, admin.id, -1)
    at = review()
    at.selectbox(key="review_add_feedback").select("down").run()
    assert "**1** answer(s) match" in texts(at.caption)
    assert table(at, "rating")["question"].tolist() == ["How long is the R2 warranty?"]
    at.button(key="review_add_items").click().run()
    assert not at.exception, at.exception
    assert "Added 1 item(s), 0 already in the queue." in texts(at.success)
    assert table(at, "per item").iloc[0]["items"] == 4
    at.button(key="review_add_items").click().run()
    assert "Added 0 item(s), 1 already in the queue." in texts(at.success)
    assert seeded.container.label_queues.progress(admin, seeded.queue_id).items == 4

    at.selectbox(key="review_add_feedback").select("up").run()
    assert "No chat answer matches these filters" in texts(at.info)


def test_the_agreement_tab_shows_the_services_figures(seeded: Seeded) -> None:
    at = review("Agreement")
    report = seeded.container.review.agreement(seeded.actors["admin"], seeded.queue_id)
    shown = table(at, "Krippendorff's α").set_index("field")
    for field in report.fields:
        assert shown.loc[field.label, "Krippendorff's α"] == stat(field.agreement.alpha)
        assert shown.loc[field.label, "percent agreement"] == share(field.agreement.percent, 1)
    helpfulness = next(f for f in report.fields if f.key == "helpfulness").agreement
    assert (helpfulness.level, shown.loc["Helpfulness", "level"]) == ("ordinal", "ordinal")
    assert shown.loc["Is the answer correct?", "percent agreement"] == "66.7%"
    assert shown.loc["Main issue", "Krippendorff's α"] == DASH  # nobody chose an issue
    assert "Main issue**: alpha: no item has two or more labels" in texts(at.caption).replace("\\", "")
    assert at.get("plotly_chart")
    assert set(table(at, "compared")["annotator"]) == {"ann1", "ann2"}

    # The one item they disagree on is listed, a click away from adjudication.
    at.button(key=f"review_disagreement_{seeded.items[1]}").click().run()
    assert at.session_state[state.TAB_KEY] == "Adjudicate"
    assert at.selectbox(key=state.ITEM_KEY).value == seeded.items[1]
    labels = table(at, "majority").set_index("field")
    assert labels.loc["Is the answer correct?", ["ann1", "ann2", "agree"]].tolist() == ["yes", "no", "differ"]
    assert labels.loc["Helpfulness", ["ann1", "ann2"]].tolist() == ["5", "2"]


def test_accepting_the_majority_records_the_reviewer(seeded: Seeded) -> None:
    at = review("Adjudicate")
    assert at.segmented_control(key=state.FILTER_KEY).value == "undecided"
    assert at.selectbox(key=state.ITEM_KEY).value == seeded.items[0]  # the first undecided item
    at.button(key="review_adj_accept").click().run()
    assert not at.exception, at.exception
    decision = seeded.container.review.item(seeded.actors["admin"], seeded.items[0]).decision
    assert decision is not None
    assert (decision.reviewer, decision.method) == ("admin", "majority")
    assert decision.values == {"correct": True, "helpfulness": 4}
    assert decision.chunk_relevance == {"c0a": True, "c0b": False}  # one of two said relevant: not a majority
    assert "decided by admin" in texts(at.success)
    assert "**Decided** by **admin**" in texts(at.success) and "(majority accepted)" in texts(at.success)
    assert "decision" in table(at, "majority").columns

    at.button(key="review_adj_next").click().run()
    assert at.selectbox(key=state.ITEM_KEY).value == seeded.items[1]


def test_a_final_label_set_by_hand_keeps_its_note(seeded: Seeded) -> None:
    at = review("Adjudicate")
    at.selectbox(key=state.ITEM_KEY).select(seeded.items[1]).run()
    form = {w.key: w for w in at.radio}
    assert form["review_adj_field_helpfulness"].value == 2  # prefilled with the majority (the lower middle)
    form["review_adj_field_correct"].set_value(False)
    form["review_adj_field_helpfulness"].set_value(3)
    at.selectbox(key="review_adj_field_issue").select("incomplete")
    at.text_input(key="review_adj_note").input("The answer misses the enterprise plan.")
    at.button(key=SAVE_FINAL).click().run()
    assert not at.exception, at.exception
    decision = seeded.container.review.item(seeded.actors["admin"], seeded.items[1]).decision
    assert decision is not None
    assert (decision.method, decision.reviewer) == ("manual", "admin")
    assert decision.note == "The answer misses the enterprise plan."
    assert decision.values == {"correct": False, "helpfulness": 3, "issue": "incomplete"}
    assert "(set by hand)" in texts(at.success) and "enterprise plan" in texts(at.success)


def test_a_label_that_does_not_fit_is_named_per_field(seeded: Seeded) -> None:
    at = review("Adjudicate")
    at.text_area(key="review_adj_field_reference_answer").input("x" * 10_001)
    at.button(key=SAVE_FINAL).click().run()
    assert not at.exception, at.exception
    assert "**Better answer (optional)**: text up to 10,000 characters" in texts(at.error)
    assert seeded.container.review.item(seeded.actors["admin"], seeded.items[0]).decision is None


def test_golden_exports_are_numbered_versions_with_downloads(seeded: Seeded) -> None:
    admin = seeded.actors["admin"]
    at = review("Golden datasets")
    assert "No item of Support answers is decided yet" in texts(at.caption)
    assert "No golden datasets yet" in texts(at.info)
    for item in seeded.items[:2]:  # set by hand: the second item is a split decision, no majority to accept
        seeded.container.review.adjudicate(admin, item, seeded.container.review.item(admin, item).majority)
    at.run()
    assert at.text_input(key="review_golden_name").value == "Support answers"
    at.text_input(key="review_golden_description").input("first two decided")
    at.button(key="review_golden_export").click().run()
    assert not at.exception, at.exception
    assert "Saved golden dataset Support answers v1 with 2 item(s)." in texts(at.success)
    seeded.container.review.adjudicate(admin, seeded.items[2])
    at.run()
    assert at.button(key="review_golden_export").label == "Export as v2"
    at.button(key="review_golden_export").click().run()
    assert "Saved golden dataset Support answers v2 with 3 item(s)." in texts(at.success)
    versions = table(at, "created by")
    assert versions[["version", "items", "description"]].values.tolist() == [
        ["v2", 3, ""],
        ["v1", 2, "first two decided"],
    ]
    assert [(d.name, d.version) for d in seeded.container.review.golden_datasets(admin)] == [
        ("Support answers", 2),
        ("Support answers", 1),
    ]
    downloads = {user_key_from_element_id(b.proto.id): b.proto.label for b in at.get("download_button")}
    assert downloads == {"review_golden_jsonl": "JSONL", "review_golden_csv": "CSV"}
    preview = table(at, "reference answer")
    assert preview["question"].tolist() == QUESTIONS
    assert preview["contexts"].tolist() == [1, 1, 1]  # only the passages decided relevant


def test_the_rubric_table_becomes_a_checked_rubric(seeded: Seeded) -> None:
    frame = fields_frame(DEFAULT_RUBRIC)
    assert rubric_from_table(frame, True, DEFAULT_RUBRIC.instructions) == DEFAULT_RUBRIC
    broken = frame.copy()
    broken.loc[1, "maximum"] = None
    with pytest.raises(RubricError, match="helpfulness"):
        rubric_from_table(broken, True, "")

    at = review("Rubrics")
    assert "answer quality" in table(at, "passages")["name"].tolist()
    at.selectbox(key="review_rubric_choice").select("new rubric…").run()
    at.text_input(key="review_rubric_name").input("second rubric")
    at.button(key="review_rubric_save").click().run()
    assert not at.exception, at.exception
    assert "Saved rubric second rubric v1." in texts(at.success)
    assert at.selectbox(key="review_rubric_choice").value == "second rubric"
    at.button(key="review_rubric_save").click().run()
    assert "Unchanged: v1 already has these fields" in texts(at.info)


def test_an_annotator_cannot_open_the_review_page(seeded: Seeded) -> None:
    at = signed_in("ann1", PASSWORD)
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in the annotator's navigation
        at.switch_page(str(PROJECT_ROOT / "pages" / "review.py"))
    # Reached directly, the page itself refuses before reading anything.
    page = AppTest.from_file(str(PROJECT_ROOT / "pages" / "review.py"), default_timeout=60)
    page.session_state[ui.AUTH_KEY] = seeded.actors["ann1"].id
    page.run()
    assert [e.value for e in page.error] == ["You do not have access to this page."]
    assert not page.title
