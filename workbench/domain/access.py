"""Which role may open which page. The router builds navigation from this table."""

from __future__ import annotations

from typing import Any

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


# What each service a page is handed may be asked, and by whom. A page gets its services through `guarded`, so a
# view that calls a method its user's role may not use is refused there, whatever the view shows or hides; a method
# missing from this table is refused to everyone (a new method is opened here on purpose, never by accident).
# Labelling checks roles inside its own services too, because what an annotator may see depends on the item.
_CHATTERS = PAGE_ROLES["chat"]
_ANALYSTS = frozenset({Role.ADMIN, Role.ANALYST})
_LABELLERS = PAGE_ROLES["labelling"]
_READERS = frozenset({Role.ADMIN, Role.ANALYST, Role.VIEWER})  # the run log's readers; a viewer changes nothing
_ADMINS = PAGE_ROLES["admin"]


def _methods(roles: frozenset[Role], *names: str) -> dict[str, frozenset[Role]]:
    return dict.fromkeys(names, roles)


# fmt: off
SERVICE_ROLES: dict[str, dict[str, frozenset[Role]]] = {
    # A viewer chats with the knowledge bases and rates the answers: those conversations are the viewer's own.
    "chat": _methods(_CHATTERS, "ask", "rate", "conversations", "transcript", "warm_up", "load_libraries"),
    "rag": _methods(_CHATTERS, "list_knowledge_bases", "get_knowledge_base", "documents", "retrieve")
    | _methods(_ANALYSTS, "create_knowledge_base", "ensure_knowledge_base", "ingest", "delete_document",
               "delete_knowledge_base", "sample_chunks"),
    "prompts": _methods(_ANALYSTS, "summaries", "versions", "get", "diff", "labelled", "resolve", "directory", "save",
                        "set_label", "remove_label", "last_sync"),
    "playground": _methods(_ANALYSTS, "runs", "run", "snapshot", "cells", "inputs", "variants", "progress",
                           "create_run", "request_stop", "export_csv", "max_concurrency"),
    "playground_jobs": _methods(_ANALYSTS, "start", "stop", "error", "is_running"),
    "playground_tries": _methods(_ANALYSTS, "start", "stop", "error", "is_running", "kind"),
    "eval_datasets": _methods(_ANALYSTS, "datasets", "versions", "version", "items", "import_table", "import_file",
                              "import_items", "import_golden", "append_items", "ensure_sample"),
    "eval_runs": _methods(_ANALYSTS, "runs", "run", "progress", "create_run", "request_stop", "set_tags"),
    "eval_jobs": _methods(_ANALYSTS, "start", "stop", "error", "is_running"),
    "eval_reports": _methods(_ANALYSTS, "runs", "summary", "compare", "item", "trend", "export_csv", "resolve_id"),
    "question_generator": _methods(_ANALYSTS, "generate", "draft"),
    "label_queues": _methods(_LABELLERS, "queues", "queue", "progress", "rubrics")
    | _methods(_ANALYSTS, "save_rubric", "create_queue", "add_items", "set_members", "set_status", "release_held",
               "chat_drafts", "playground_drafts"),
    "annotation": _methods(_LABELLERS, "next_item", "item", "my_items", "submit", "skip", "flag"),
    "review": _methods(_ANALYSTS, "items", "item", "agreement", "disagreements", "adjudicate", "golden",
                       "golden_datasets", "export_golden"),
    "trace_reader": _methods(_READERS, "recent", "sessions", "tree", "feedback", "eval_item"),
    "runlog_store": _methods(_READERS, "page", "overview", "facets", "summary", "timeseries", "get", "count_raw"),
    "runlog_writer": _methods(_READERS, "stats", "spool_pending", "written", "spooled", "replayed", "rejected",
                              "waiting_in_spool", "last_error"),
    "system_status": _methods(_ADMINS, *(
        "limits", "limits_counted", "queue", "runlog_backend", "runlog_logs", "runlog_reachable", "spool_pending",
        "sql_backend", "sql_error", "sql_head", "sql_revision", "sql_up_to_date", "writer",
    )),
    "users": _methods(_READERS, "usernames")
    | _methods(_ANALYSTS, "members_to_choose")
    | _methods(_ADMINS, "list_users", "create_user", "set_role", "set_active", "reset_password")
    | _methods(EVERYONE, "change_own_password", "create_key", "list_keys", "revoke_key"),
}
# fmt: on


class Forbidden(PermissionError):
    """A role asked a service for something the table above does not give it."""


def may_call(role: Role | str, service: str, method: str) -> bool:
    return Role(role) in SERVICE_ROLES.get(service, {}).get(method, frozenset())


def _names(roles: frozenset[Role]) -> str:
    ordered = [role.value for role in Role if role in roles]
    return " or ".join(ordered) if ordered else "no role"


class Guarded:
    """A service as one role may use it: every attribute is checked against SERVICE_ROLES before it is handed out."""

    __slots__ = ("_role", "_service", "_target")

    def __init__(self, target: object, service: str, role: Role | str) -> None:
        self._target, self._service, self._role = target, service, Role(role)

    def __getattr__(self, name: str) -> Any:
        if not may_call(self._role, self._service, name):
            needs = _names(SERVICE_ROLES.get(self._service, {}).get(name, frozenset()))
            raise Forbidden(f"Your role ({self._role.value}) cannot use {self._service}.{name}: it needs {needs}.")
        return getattr(self._target, name)

    def __repr__(self) -> str:
        return f"Guarded({self._service!r}, role={self._role.value!r})"
