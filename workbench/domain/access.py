"""Which role may open which page. The router builds navigation from this table."""

from __future__ import annotations

from workbench.domain.users import Role

EVERYONE = frozenset(Role)

PAGE_ROLES: dict[str, frozenset[Role]] = {
    "chat": frozenset({Role.ADMIN, Role.ANALYST, Role.VIEWER}),
    "documents": frozenset({Role.ADMIN, Role.ANALYST}),
    "prompts": frozenset({Role.ADMIN, Role.ANALYST}),
    "playground": frozenset({Role.ADMIN, Role.ANALYST}),
    "run_log": frozenset({Role.ADMIN, Role.ANALYST, Role.VIEWER}),
    "labelling": frozenset({Role.ADMIN, Role.ANALYST, Role.ANNOTATOR}),
    "review": frozenset({Role.ADMIN, Role.ANALYST}),
    "evaluation": frozenset({Role.ADMIN, Role.ANALYST}),
    "eval_datasets": frozenset({Role.ADMIN, Role.ANALYST}),
    "admin": frozenset({Role.ADMIN}),
    "account": EVERYONE,
}


# What other programs do through the API that no page does: sending traces writes run data, as a playground run does.
ACTION_ROLES: dict[str, frozenset[Role]] = {
    "send_traces": frozenset({Role.ADMIN, Role.ANALYST}),
}


def can_do(role: Role | str, action: str) -> bool:
    return Role(role) in ACTION_ROLES.get(action, frozenset())


def can_open(role: Role | str, page: str) -> bool:
    return Role(role) in PAGE_ROLES.get(page, frozenset())
