from __future__ import annotations

import pytest

from workbench.domain.access import PAGE_ROLES, can_open
from workbench.domain.users import Role

EXPECTED = {
    # page: roles that may open it
    "chat": {"admin", "analyst", "viewer"},
    "documents": {"admin", "analyst"},
    "prompts": {"admin", "analyst"},
    "playground": {"admin", "analyst"},
    "run_log": {"admin", "analyst", "viewer"},
    "labelling": {"admin", "analyst", "annotator"},
    "review": {"admin", "analyst"},
    "evaluation": {"admin", "analyst"},
    "eval_datasets": {"admin", "analyst"},
    "admin": {"admin"},
    "account": {"admin", "analyst", "annotator", "viewer"},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_access_table(role: Role, page: str) -> None:
    assert can_open(role, page) is (role.value in EXPECTED[page])
    assert can_open(role.value, page) is can_open(role, page)


def test_every_page_in_the_table_is_covered() -> None:
    assert set(PAGE_ROLES) == set(EXPECTED)


def test_only_admins_open_the_admin_page() -> None:
    assert [role for role in Role if can_open(role, "admin")] == [Role.ADMIN]


def test_unknown_page_is_closed_to_everyone() -> None:
    assert not any(can_open(role, "no-such-page") for role in Role)


def test_unknown_role_is_an_error() -> None:
    with pytest.raises(ValueError, match="root"):
        can_open("root", "account")
