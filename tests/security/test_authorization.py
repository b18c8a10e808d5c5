"""Roles on every page and every service a page calls: admin, analyst, annotator, viewer, a disabled user and nobody
each get exactly what the README's role table says.

Three levels: the tables themselves (the README's page table is the router's, and every service method is open only
to roles of a page that is handed that service); the services a page is handed, over real SQLite and PostgreSQL (a
refused call changes nothing; labelling refuses on its own too); and the app itself in AppTest, page by page, role by
role, including a session whose user is disabled while it is open. The same pages by URL in a real browser are in
tests/security/test_stored_xss.py's server and tests/e2e/test_browser*.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from app.ui import PageServices
from tests.e2e.conftest import ADMIN_PASSWORD, ENTRY, PROJECT_ROOT, AppEnvironment, open_page, signed_in
from tests.factories import random_user
from tests.integration.labelling.test_labelling_services import World, drafts, label
from workbench.domain.access import EVERYONE, PAGE_ROLES, SERVICE_ROLES, Forbidden, Guarded, may_call
from workbench.domain.users import Role, UserView
from workbench.evaluation.datasets import EvalDatasetService
from workbench.labelling.views import Actor, LabellingForbidden
from workbench.prompting.registry import PromptRegistry
from workbench.services import users as user_service
from workbench.services.directory import UserDirectory
from workbench.storage.sql.uow import SqlUnitOfWork

README = PROJECT_ROOT / "README.md"
PAGES = PROJECT_ROOT / "pages"
TITLES = {
    "chat": "Chat", "documents": "Documents", "prompts": "Prompts", "playground": "Playground", "run_log": "Run log",
    "labelling": "Labelling", "review": "Review", "evaluation": "Evaluation", "eval_datasets": "Eval datasets",
    "admin": "Admin", "account": "Account",
}  # fmt: skip
DENIED = "You do not have access to this page."
# What changes records. A viewer may chat and rate the answers (the README gives viewers the Chat page) and look after
# its own account; nothing else a viewer calls may write.
WRITES = re.compile(
    r"^(ask|rate|save|set_|remove_|create|ensure_|ingest|delete|import|append|add_|start|stop|request_stop|submit|"
    r"skip|flag|adjudicate|export_golden|generate|draft|release|reset|change|revoke|warm_up|load_)"
)
VIEWER_MAY_WRITE = {
    ("chat", "ask"), ("chat", "rate"), ("chat", "warm_up"), ("chat", "load_libraries"),
    ("users", "change_own_password"), ("users", "create_key"), ("users", "revoke_key"),
}  # fmt: skip
MakeUow = Callable[[], SqlUnitOfWork]


# --- The tables ------------------------------------------------------------------------------------------------------


def readme_page_roles() -> dict[str, frozenset[Role]]:
    """The `| page | who | what |` table of the README, as page key → roles."""
    keys = {title: key for key, title in TITLES.items()}
    table: dict[str, frozenset[Role]] = {}
    for line in README.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in keys:
            who = cells[1]
            table[keys[cells[0]]] = (
                EVERYONE if who == "everyone" else frozenset(Role(r.strip()) for r in who.split(","))
            )
    return table


def services_of_pages() -> dict[str, set[str]]:
    """service → the pages handed it, read from pages/*.py (`c.<service>` after `c = ui.services(...)`)."""
    handed: dict[str, set[str]] = {}
    for page in PAGES.glob("*.py"):
        text = page.read_text()
        for name in re.findall(r"\bc\.(\w+)|services\(\w+\)\.(\w+)", text):
            handed.setdefault(next(n for n in name if n), set()).add(page.stem)
    return handed


def test_the_readme_role_table_is_the_one_the_router_uses() -> None:
    assert readme_page_roles() == PAGE_ROLES


def test_every_page_takes_its_services_through_the_role_guard() -> None:
    for page in PAGES.glob("*.py"):
        if page.stem == "login":  # nobody is signed in yet: it only checks a password
            continue
        text = page.read_text()
        assert "ui.container()" not in text, f"{page.name} takes services around the guard"
        assert "ui.services(" in text and "ui.require_page(" in text, page.name


def test_a_service_method_is_open_only_to_roles_of_a_page_handed_that_service() -> None:
    handed = services_of_pages()
    for service, methods in SERVICE_ROLES.items():
        assert service in handed, f"no page is handed {service}: drop it from SERVICE_ROLES"
        page_roles = frozenset().union(*(PAGE_ROLES[page] for page in handed[service]))
        for method, roles in methods.items():
            assert roles <= page_roles, f"{service}.{method} is open to {roles - page_roles} beyond its pages"


def test_a_viewer_changes_nothing_but_its_own_chats_and_account() -> None:
    for service, methods in SERVICE_ROLES.items():
        for method in methods:
            if WRITES.match(method) and (service, method) not in VIEWER_MAY_WRITE:
                assert not may_call(Role.VIEWER, service, method), f"a viewer may {service}.{method}"


def test_an_annotator_labels_and_does_nothing_else() -> None:
    annotator = {(s, m) for s, methods in SERVICE_ROLES.items() for m in methods if may_call(Role.ANNOTATOR, s, m)}
    for service, method in annotator:
        assert service in {"annotation", "label_queues", "users"}, f"an annotator may {service}.{method}"
    for forbidden in ("adjudicate", "export_golden", "agreement", "items", "golden"):
        assert not may_call(Role.ANNOTATOR, "review", forbidden)
    for forbidden in ("create_queue", "add_items", "set_members", "save_rubric", "chat_drafts"):
        assert not may_call(Role.ANNOTATOR, "label_queues", forbidden)


ALL_CALLS = [(s, m, r) for s, methods in SERVICE_ROLES.items() for m in methods for r in Role]


@pytest.mark.parametrize(("service", "method", "role"), ALL_CALLS, ids=str)
def test_the_guard_hands_out_exactly_what_the_table_gives(service: str, method: str, role: Role) -> None:
    target = SimpleNamespace(**{method: "the real thing"})
    guarded = Guarded(target, service, role)
    if role in SERVICE_ROLES[service][method]:
        assert getattr(guarded, method) == "the real thing"
    else:
        with pytest.raises(Forbidden, match=rf"\({role.value}\) cannot use {service}\.{method}"):
            getattr(guarded, method)


def test_a_method_missing_from_the_table_is_refused_to_everyone() -> None:
    for role in Role:
        with pytest.raises(Forbidden, match="needs no role"):
            Guarded(SimpleNamespace(execute=print), "playground", role).execute  # noqa: B018 - the access is the test


# --- The services a page is handed, over real SQLite and PostgreSQL ------------------------------------------------


def _person(make_uow: MakeUow, username: str, role: Role) -> UserView:
    row = random_user(username=username, role=role)
    with make_uow() as uow:
        uow.users.add(row)
        uow.commit()
    view = user_service.get_user(make_uow(), row.id)
    assert view is not None
    return view


def _counts(make_uow: MakeUow) -> tuple[int, ...]:
    """Rows of what a viewer might try to change."""
    from sqlalchemy import func, select

    from workbench.storage.sql.models import (
        AdjudicationRow,
        EvalDatasetRow,
        LabelQueueRow,
        LabelRow,
        PromptVersionRow,
        UserRow,
    )

    with make_uow() as uow:
        session = uow.session
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (UserRow, PromptVersionRow, EvalDatasetRow, LabelQueueRow, LabelRow, AdjudicationRow)
        )


def handed_to(world: World, make_uow: MakeUow, user: UserView) -> PageServices:
    """The services exactly as ui.PageServices hands them to one user's pages, over this test's stores."""
    stores = SimpleNamespace(
        label_queues=world.queues, annotation=world.annotation, review=world.review, uow=make_uow,
        prompts=PromptRegistry(make_uow), eval_datasets=EvalDatasetService(make_uow),
    )  # fmt: skip
    return PageServices(stores, user)  # type: ignore[arg-type] - the stores a Container would hold


@pytest.fixture
def world(make_uow: MakeUow) -> World:
    return World(make_uow)


def test_a_viewer_is_refused_every_change_and_nothing_changes(world: World, make_uow: MakeUow) -> None:
    viewer = _person(make_uow, "vic", Role.VIEWER)
    handed = handed_to(world, make_uow, viewer)
    before = _counts(make_uow)
    item = world.annotation.next_item(world.annotators[0], world.queue.id)
    assert item is not None
    as_viewer = Actor(viewer.id, viewer.username, viewer.role)
    attempts: list[Callable[[], object]] = [
        lambda: handed.users.create_user("mallory", ADMIN_PASSWORD, Role.ADMIN),
        lambda: handed.users.set_role(viewer.username, Role.ADMIN),
        lambda: handed.users.set_active("ana", False),
        lambda: handed.users.reset_password("ana", ADMIN_PASSWORD),
        lambda: handed.prompts.save("plain-chat", "{{ question }}", actor=viewer.username),
        lambda: handed.prompts.set_label("plain-chat", "production", 1, actor=viewer.username),
        lambda: handed.eval_datasets.import_items("x", [{"question": "q"}], source="t", actor=viewer.username),
        lambda: handed.label_queues.create_queue(as_viewer, "mine", world.queue.rubric_version_id, 1, [viewer.id]),
        lambda: handed.label_queues.add_items(as_viewer, world.queue.id, drafts(1)),
        lambda: handed.annotation.submit(as_viewer, item.id, label()),
        lambda: handed.review.adjudicate(as_viewer, item.id, label()),
        lambda: handed.review.export_golden(as_viewer, world.queue.id, "stolen"),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden, match=r"\(viewer\)"):
            attempt()
    assert handed.users.usernames()[viewer.id] == "vic"  # what a viewer may read, it reads
    assert _counts(make_uow) == before


def test_an_annotator_cannot_adjudicate_export_or_peek_even_around_the_guard(world: World, make_uow: MakeUow) -> None:
    first, second = world.annotators[:2]
    annotator = user_service.get_user(make_uow(), first.id)
    assert annotator is not None
    handed = handed_to(world, make_uow, annotator)
    item = world.annotation.next_item(first, world.queue.id)
    assert item is not None
    world.annotation.submit(first, item.id, label(correct=False))
    for refused in (
        lambda: handed.review.adjudicate(first, item.id, label()),
        lambda: handed.review.export_golden(first, world.queue.id, "golden"),
        lambda: handed.review.items(first, world.queue.id),
        lambda: handed.label_queues.chat_drafts(first, None),
        lambda: handed.users.list_users(),  # noqa: PLW0108 - the attribute access is what is refused
    ):
        with pytest.raises(Forbidden, match=r"\(annotator\)"):
            refused()
    # Labelling checks the role itself, so a page that skipped the guard would still be refused.
    with pytest.raises(LabellingForbidden):
        world.review.adjudicate(first, item.id, label())
    with pytest.raises(LabellingForbidden):
        world.review.export_golden(first, world.queue.id, "golden")
    with pytest.raises(LabellingForbidden):
        world.queues.chat_drafts(first, None)  # type: ignore[arg-type] - refused before the filters are read
    # The second annotator is handed the same item blind: no one else's label until they submit their own.
    given = handed.annotation.next_item(second, world.queue.id)
    assert given is not None and given.id == item.id
    assert given.others is None
    world.annotation.submit(second, item.id, label())
    after = world.annotation.item(second, item.id)
    assert after.others is not None and len(after.others) == 1


def test_own_account_actions_are_bound_to_the_signed_in_user(make_uow: MakeUow) -> None:
    alice, bob = _person(make_uow, "alice", Role.ANALYST), _person(make_uow, "bob", Role.VIEWER)
    user_service.reset_password(make_uow(), "bob", "bob-password-1")
    bobs = Guarded(UserDirectory(make_uow, bob.id), "users", bob.role)
    key = bobs.create_key("ci")
    assert [k.id for k in bobs.list_keys()] == [key.key.id]
    alices = Guarded(UserDirectory(make_uow, alice.id), "users", alice.role)
    assert alices.list_keys() == []
    with pytest.raises(ValueError, match="no such key of yours"):
        alices.revoke_key(key.key.id)
    bobs.change_own_password("bob-password-1", "bob-password-2")
    assert user_service.authenticate(make_uow(), "bob", "bob-password-2") is not None


# --- The app, page by page ---------------------------------------------------------------------------------------


PEOPLE = {Role.ADMIN: "admin", Role.ANALYST: "ana", Role.ANNOTATOR: "ann", Role.VIEWER: "vic"}


@pytest.fixture
def people(app_env: AppEnvironment) -> Iterator[AppEnvironment]:
    for role, name in PEOPLE.items():
        if role != Role.ADMIN:
            app_env.add_user(name, role)
    yield app_env


def _titles(at: Any) -> list[str]:
    return [t.value for t in at.title]


def _errors(at: Any) -> list[str]:
    return [e.value for e in at.error]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_opens_exactly_its_pages(people: AppEnvironment, role: Role) -> None:
    at = signed_in(PEOPLE[role])
    for page, title in TITLES.items():
        if role not in PAGE_ROLES[page]:
            # The router does not register a page the role may not open, so there is nothing to switch to.
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(str(PAGES / f"{page}.py"))
            continue
        at.switch_page(str(PAGES / f"{page}.py")).run()
        assert not at.exception, (page, at.exception)
        assert title in _titles(at), (role, page, _titles(at), _errors(at))
        assert DENIED not in _errors(at)


@pytest.mark.parametrize("page", list(TITLES), ids=str)
def test_a_page_file_refuses_a_role_not_its_own_even_when_run_directly(people: AppEnvironment, page: str) -> None:
    """What a hand-typed URL or a stale link reaches: the page's own check, not only the router's navigation."""
    from streamlit.testing.v1 import AppTest

    with people.uow() as uow:
        ids = {row.username: row.id for row in uow.users.list()}
    for role, name in PEOPLE.items():
        at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60)
        at.session_state["auth_user_id"] = ids[name]
        at.run()
        assert not at.exception, (page, role, at.exception)
        refused = DENIED in _errors(at)
        assert refused == (role not in PAGE_ROLES[page]), (page, role, _errors(at))
    nobody = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60)
    nobody.run()
    assert DENIED in _errors(nobody) and TITLES[page] not in _titles(nobody)


def test_nobody_signed_in_sees_only_the_sign_in_form(people: AppEnvironment) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.text_input(key="login_username") is not None
    assert not set(_titles(at)) & set(TITLES.values())


def test_a_disabled_user_is_signed_out_at_the_next_action(people: AppEnvironment) -> None:
    at = open_page(signed_in("ana"), "prompts")
    assert "Prompts" in _titles(at)
    user_service.set_active(people.uow(), "ana", False)
    at.run()  # any widget change or rerun is the next action
    assert not at.exception
    assert "Prompts" not in _titles(at)
    assert at.text_input(key="login_username") is not None  # back at the sign-in form
    # And the sign-in form refuses the disabled user.
    at.text_input(key="login_username").input("ana")
    at.text_input(key="login_password").input(ADMIN_PASSWORD)
    at.button[0].click().run()
    assert not set(_titles(at)) & set(TITLES.values())


def test_a_role_change_takes_effect_at_the_next_action(people: AppEnvironment) -> None:
    at = open_page(signed_in("ana"), "review")
    assert "Review" in _titles(at)
    user_service.set_role(people.uow(), "ana", Role.VIEWER)
    at.run()
    assert "Review" not in _titles(at)
