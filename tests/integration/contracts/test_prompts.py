"""The prompt repository's contract (versions and labels), on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from tests.factories import prompt_label_row, prompt_version_row
from tests.integration.contracts.backends import Backend, at


def test_versions_newest_first_and_lookups(backend: Backend) -> None:
    v1 = prompt_version_row("answer", 1, source="file", created_at=at(0))
    v2 = prompt_version_row("answer", 2, source="ui", created_at=at(1))
    v3 = prompt_version_row("answer", 3, source="file", created_at=at(2), content="third")
    other = prompt_version_row("summary", 1, created_at=at(3))
    with backend.make_uow() as uow:
        for row in (v2, other, v1, v3):
            uow.prompts.add_version(row)
        uow.commit()
    with backend.make_uow() as uow:
        assert [row.version for row in uow.prompts.versions("answer")] == [3, 2, 1]
        assert uow.prompts.versions("missing") == []
        found = uow.prompts.version("answer", 3)
        assert found is not None
        assert (found.id, found.content) == (v3.id, "third")
        assert uow.prompts.version("answer", 9) is None
        by_id = uow.prompts.version_by_id(v2.id)
        assert by_id is not None
        assert by_id.version == 2
        by_content = uow.prompts.version_by_content("answer", v1.content_sha256)
        assert by_content is not None
        assert by_content.id == v1.id
        assert uow.prompts.version_by_content("summary", v1.content_sha256) is None
        latest, latest_ui = uow.prompts.latest("answer"), uow.prompts.latest("answer", source="ui")
        assert latest is not None
        assert latest_ui is not None
        assert (latest.version, latest_ui.version) == (3, 2)
        assert uow.prompts.latest("answer", source="cli") is None
        assert uow.prompts.latest("missing") is None


def test_names_summarise_every_prompt_by_name(backend: Backend) -> None:
    backend.seed(
        prompt_version_row("summary", 1, created_at=at(5)),
        prompt_version_row("answer", 1, created_at=at(0)),
        prompt_version_row("answer", 2, created_at=at(7)),
    )
    with backend.make_uow() as uow:
        assert uow.prompts.names() == [("answer", 2, 2, at(7)), ("summary", 1, 1, at(5))]


def test_labels_point_at_versions_and_can_be_deleted(backend: Backend) -> None:
    a1, a2, s1 = prompt_version_row("answer", 1), prompt_version_row("answer", 2), prompt_version_row("summary", 1)
    backend.seed(a1, a2, s1)
    with backend.make_uow() as uow:
        uow.prompts.add_label(prompt_label_row(a1, "staging"))
        uow.prompts.add_label(prompt_label_row(s1, "production"))
        uow.prompts.add_label(prompt_label_row(a2, "production", moved_by="ana"))
        uow.commit()
    with backend.make_uow() as uow:
        listed = [(row.name, row.label, version) for row, version in uow.prompts.labels()]
        assert listed == [("answer", "production", 2), ("answer", "staging", 1), ("summary", "production", 1)]
        assert [(row.label, version) for row, version in uow.prompts.labels("summary")] == [("production", 1)]
        found = uow.prompts.label("answer", "production")
        assert found is not None
        assert (found.version_id, found.moved_by) == (a2.id, "ana")
        assert uow.prompts.label("summary", "staging") is None
        uow.prompts.delete_label(found)
        uow.commit()
    with backend.make_uow() as uow:
        assert [row.label for row, _ in uow.prompts.labels("answer")] == ["staging"]


def test_version_numbers_contents_and_labels_are_unique_per_prompt(backend: Backend) -> None:
    v1 = prompt_version_row("answer", 1)
    backend.seed(v1, prompt_label_row(v1, "production"))
    with backend.conflict(), backend.make_uow() as uow:
        uow.prompts.add_version(prompt_version_row("answer", 1, content_sha256="f" * 64))
        uow.commit()
    with backend.conflict(), backend.make_uow() as uow:
        uow.prompts.add_version(prompt_version_row("answer", 2, content_sha256=v1.content_sha256))
        uow.commit()
    with backend.conflict(), backend.make_uow() as uow:
        uow.prompts.add_label(prompt_label_row(v1, "production"))
        uow.commit()
    with backend.make_uow() as uow:
        uow.prompts.add_version(prompt_version_row("other", 1, content_sha256=v1.content_sha256))  # another name
        uow.commit()
    with backend.make_uow() as uow:
        assert [name for name, *_ in uow.prompts.names()] == ["answer", "other"]
        assert len(uow.prompts.labels()) == 1
