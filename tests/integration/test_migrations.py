"""Alembic migrations on an empty SQLite file and an empty PostgreSQL database: up, down, up, and no drift."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from workbench.config.settings import PROJECT_ROOT
from workbench.storage.sql import migrate
from workbench.storage.sql.engine import build_engine, build_session_factory
from workbench.storage.sql.identity import database_id_of
from workbench.storage.sql.models import Base

pytestmark = pytest.mark.integration

EXPECTED_COLUMNS = {
    "users": {
        "id": False, "username": False, "display_name": False, "password_hash": False, "role": False,
        "is_active": False, "created_at": False, "last_login_at": True,
    },
    "conversations": {
        "id": False, "user_id": False, "title": False, "knowledge_base": True, "model": True, "prompt_name": True,
        "created_at": False, "updated_at": False,
    },
    "messages": {
        "id": False, "conversation_id": False, "seq": False, "role": False, "content": False, "model": True,
        "prompt_name": True, "prompt_version": True, "run_id": True, "citations": False, "input_tokens": True,
        "output_tokens": True, "latency_ms": True, "created_at": False,
    },
    "feedback": {
        "id": False, "message_id": False, "user_id": False, "rating": False, "comment": True, "created_at": False,
        "updated_at": False,
    },
    "knowledge_bases": {
        "id": False, "name": False, "description": False, "embedding_model": False, "chunk_size": False,
        "chunk_overlap": False, "created_at": False, "updated_at": False,
    },
    "kb_documents": {
        "id": False, "kb_id": False, "source": False, "content_sha256": False, "size_bytes": False,
        "mime_type": False, "chunk_count": False, "status": False, "error": True, "ingested_at": False,
    },
    "prompt_versions": {
        "id": False, "name": False, "version": False, "content": False, "content_sha256": False, "source": False,
        "author_id": True, "author": False, "message": False, "created_at": False,
    },
    "prompt_labels": {
        "id": False, "name": False, "label": False, "version_id": False, "moved_by": False, "moved_at": False,
    },
    "playground_runs": {
        "id": False, "user_id": True, "title": False, "kind": False, "status": False, "dataset_name": True,
        "dataset_sha256": True, "mapping": False, "concurrency": False, "row_count": False, "error": True,
        "dispatch_id": True, "dispatched_at": True, "created_at": False, "updated_at": False, "finished_at": True,
    },
    "playground_variants": {
        "id": False, "run_id": False, "position": False, "prompt_name": False, "prompt_version": True,
        "template_text": False, "model_id": False, "parameters": False, "system_prompt": True,
    },
    "playground_inputs": {"id": False, "run_id": False, "row_index": False, "values": False},
    "playground_cells": {
        "id": False, "run_id": False, "row_index": False, "position": False, "status": False, "output": False,
        "error": True, "latency_ms": True, "ttft_ms": True, "input_tokens": True, "output_tokens": True,
        "tokens_estimated": False, "cost_usd": True, "created_at": False,
    },
    "rubrics": {"id": False, "name": False, "description": False, "created_by": False, "created_at": False},
    "rubric_versions": {
        "id": False, "rubric_id": False, "version": False, "definition": False, "created_by": False,
        "created_at": False,
    },
    "label_queues": {
        "id": False, "name": False, "description": False, "rubric_version_id": False, "annotators_per_item": False,
        "status": False, "created_by": False, "created_at": False,
    },
    "label_queue_members": {"id": False, "queue_id": False, "user_id": False, "added_at": False},
    "label_items": {
        "id": False, "queue_id": False, "source_kind": False, "source_id": False, "payload": False,
        "created_at": False,
    },
    "label_assignments": {
        "id": False, "item_id": False, "queue_id": False, "annotator_id": False, "status": False, "reason": True,
        "assigned_at": False, "finished_at": True,
    },
    "labels": {
        "id": False, "assignment_id": False, "item_id": False, "annotator_id": False, "rubric_version_id": False,
        "values": False, "chunk_relevance": False, "created_at": False, "updated_at": False,
    },
    "adjudications": {
        "id": False, "item_id": False, "reviewer_id": True, "reviewer": False, "method": False, "values": False,
        "chunk_relevance": False, "note": False, "decided_at": False,
    },
    "database_identity": {"singleton": False, "id": False, "created_at": False},
    "api_keys": {
        "id": False, "user_id": False, "name": False, "prefix": False, "secret_sha256": False, "created_at": False,
        "expires_at": True, "revoked_at": True, "last_used_at": True,
    },
    "golden_datasets": {
        "id": False, "name": False, "version": False, "queue_id": True, "description": False, "item_count": False,
        "created_by": False, "created_at": False,
    },
    "golden_items": {
        "id": False, "dataset_id": False, "position": False, "question": False, "reference_answer": False,
        "reference_contexts": False, "labels": False, "source": False,
    },
    "eval_datasets": {"id": False, "name": False, "description": False, "created_by": False, "created_at": False},
    "eval_dataset_versions": {
        "id": False, "dataset_id": False, "version": False, "source": False, "source_detail": False,
        "item_count": False, "note": False, "created_by": False, "created_at": False,
    },
    "eval_items": {
        "id": False, "version_id": False, "position": False, "item_key": False, "question": False,
        "reference_answer": True, "reference_contexts": False, "tags": False, "extra": False,
    },
    "eval_runs": {
        "id": False, "version_id": False, "name": False, "config": False, "config_hash": False, "repeat": False,
        "tags": False, "environment": False, "status": False, "item_count": False, "done_count": False,
        "failed_count": False, "error": True, "dispatch_id": True,
        "dispatched_at": True, "created_by": False, "created_at": False, "started_at": True, "finished_at": True,
    },
    "eval_results": {
        "id": False, "run_id": False, "item_id": False, "item_key": False, "status": False, "answer": False,
        "contexts": False, "error": True, "latency_ms": True, "output_tokens": True, "created_at": False,
    },
    "eval_scores": {
        "id": False, "run_id": False, "item_id": False, "item_key": False, "metric": False, "value": True,
        "status": False, "cause": True, "detail": True,
    },
    "eval_summaries": {
        "id": False, "run_id": False, "metric": False, "n_ok": False, "n_failed": False, "n_skipped": False,
        "mean": True, "ci_low": True, "ci_high": True, "failures": False, "computed_at": False,
    },
}  # fmt: skip  # column -> nullable

EXPECTED_INDEXES = {
    "users": {"ix_users_role": ["role"], "ix_users_created_at": ["created_at"]},
    "conversations": {
        "ix_conversations_created_at": ["created_at"],
        "ix_conversations_user_updated": ["user_id", "updated_at"],
    },
    "messages": {
        "ix_messages_conversation_id": ["conversation_id"],
        "ix_messages_run_id": ["run_id"],
        "ix_messages_created_at": ["created_at"],
    },
    "feedback": {
        "ix_feedback_message_id": ["message_id"],
        "ix_feedback_created_at": ["created_at"],
        "ix_feedback_user_created": ["user_id", "created_at"],
    },
    "knowledge_bases": {},
    "kb_documents": {},  # lookups by kb go through the (kb_id, source) unique index
    "prompt_versions": {},  # lookups by name go through the (name, version) unique index
    "prompt_labels": {"ix_prompt_labels_version_id": ["version_id"]},
    "playground_runs": {"ix_playground_runs_user_created": ["user_id", "created_at"]},
    "playground_variants": {},  # the unique indexes below lead with run_id
    "playground_inputs": {},
    "playground_cells": {},
    "rubrics": {},
    "rubric_versions": {},
    "label_queues": {"ix_label_queues_rubric_version_id": ["rubric_version_id"]},
    "label_queue_members": {"ix_label_queue_members_user_id": ["user_id"]},
    "label_items": {"ix_label_items_queue_created": ["queue_id", "created_at"]},
    "label_assignments": {"ix_label_assignments_queue_annotator": ["queue_id", "annotator_id", "status"]},
    "labels": {"ix_labels_item_id": ["item_id"]},
    "adjudications": {},
    "golden_datasets": {},
    "api_keys": {"ix_api_keys_user_id": ["user_id"]},
    "database_identity": {},
    "golden_items": {},
    "eval_datasets": {},
    "eval_dataset_versions": {},
    "eval_items": {},
    "eval_runs": {
        "ix_eval_runs_config_hash": ["config_hash"], "ix_eval_runs_version_created": ["version_id", "created_at"],
    },
    "eval_results": {"ix_eval_results_item_id": ["item_id"]},
    "eval_scores": {"ix_eval_scores_item_id": ["item_id"]},
    "eval_summaries": {},
}  # fmt: skip

EXPECTED_UNIQUE = {
    "users": {"uq_users_username": ["username"]},
    "conversations": {},
    "messages": {"uq_messages_conversation_seq": ["conversation_id", "seq"]},
    "feedback": {"uq_feedback_message_user": ["message_id", "user_id"]},
    "knowledge_bases": {"uq_knowledge_bases_name": ["name"]},
    "kb_documents": {"uq_kb_documents_kb_source": ["kb_id", "source"]},
    "prompt_versions": {
        "uq_prompt_versions_name_version": ["name", "version"],
        "uq_prompt_versions_name_content": ["name", "content_sha256"],
    },
    "prompt_labels": {"uq_prompt_labels_name_label": ["name", "label"]},
    "playground_runs": {},
    "playground_variants": {"uq_playground_variants_run_position": ["run_id", "position"]},
    "playground_inputs": {"uq_playground_inputs_run_row": ["run_id", "row_index"]},
    "playground_cells": {"uq_playground_cells_run_row_position": ["run_id", "row_index", "position"]},
    "rubrics": {"uq_rubrics_name": ["name"]},
    "rubric_versions": {"uq_rubric_versions_rubric_version": ["rubric_id", "version"]},
    "label_queues": {"uq_label_queues_name": ["name"]},
    "label_queue_members": {"uq_label_queue_members_queue_user": ["queue_id", "user_id"]},
    "label_items": {"uq_label_items_queue_source": ["queue_id", "source_kind", "source_id"]},
    "label_assignments": {"uq_label_assignments_item_annotator": ["item_id", "annotator_id"]},
    "labels": {"uq_labels_assignment_id": ["assignment_id"]},
    "adjudications": {"uq_adjudications_item_id": ["item_id"]},
    "api_keys": {"uq_api_keys_secret_sha256": ["secret_sha256"]},
    "database_identity": {},
    "golden_datasets": {"uq_golden_datasets_name_version": ["name", "version"]},
    "golden_items": {"uq_golden_items_dataset_position": ["dataset_id", "position"]},
    "eval_datasets": {"uq_eval_datasets_name": ["name"]},
    "eval_dataset_versions": {"uq_eval_dataset_versions_dataset_version": ["dataset_id", "version"]},
    "eval_items": {"uq_eval_items_version_position": ["version_id", "position"]},
    "eval_runs": {},
    "eval_results": {"uq_eval_results_run_item": ["run_id", "item_id"]},
    "eval_scores": {"uq_eval_scores_run_metric_item": ["run_id", "metric", "item_id"]},
    "eval_summaries": {"uq_eval_summaries_run_metric": ["run_id", "metric"]},
}

EXPECTED_FOREIGN_KEYS = {
    "users": set(),
    "conversations": {("user_id", "users")},
    "messages": {("conversation_id", "conversations")},
    "feedback": {("message_id", "messages"), ("user_id", "users")},
    "knowledge_bases": set(),
    "kb_documents": {("kb_id", "knowledge_bases")},
    "prompt_versions": {("author_id", "users")},
    "prompt_labels": {("version_id", "prompt_versions")},
    "playground_runs": {("user_id", "users")},
    "playground_variants": {("run_id", "playground_runs")},
    "playground_inputs": {("run_id", "playground_runs")},
    "playground_cells": {("run_id", "playground_runs")},
    "rubrics": set(),
    "rubric_versions": {("rubric_id", "rubrics")},
    "label_queues": {("rubric_version_id", "rubric_versions")},
    "label_queue_members": {("queue_id", "label_queues"), ("user_id", "users")},
    "label_items": {("queue_id", "label_queues")},
    "label_assignments": {("item_id", "label_items"), ("queue_id", "label_queues"), ("annotator_id", "users")},
    "labels": {
        ("assignment_id", "label_assignments"),
        ("item_id", "label_items"),
        ("annotator_id", "users"),
        ("rubric_version_id", "rubric_versions"),
    },
    "adjudications": {("item_id", "label_items"), ("reviewer_id", "users")},
    "api_keys": {("user_id", "users")},
    "database_identity": set(),
    "golden_datasets": {("queue_id", "label_queues")},
    "golden_items": {("dataset_id", "golden_datasets")},
    "eval_datasets": set(),
    "eval_dataset_versions": {("dataset_id", "eval_datasets")},
    "eval_items": {("version_id", "eval_dataset_versions")},
    "eval_runs": {("version_id", "eval_dataset_versions")},
    "eval_results": {("run_id", "eval_runs"), ("item_id", "eval_items")},
    "eval_scores": {("run_id", "eval_runs"), ("item_id", "eval_items")},
    "eval_summaries": {("run_id", "eval_runs")},
}
# Records that outlive their author keep existing; everything else goes with its parent.
SET_NULL = {
    ("prompt_versions", "author_id"), ("playground_runs", "user_id"), ("adjudications", "reviewer_id"),
    ("golden_datasets", "queue_id"),
}  # fmt: skip


def _check_schema(url: str) -> None:
    engine = build_engine(url)
    try:
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) == {*EXPECTED_COLUMNS, "alembic_version"}
        for table, columns in EXPECTED_COLUMNS.items():
            reflected = {col["name"]: col["nullable"] for col in inspector.get_columns(table)}
            assert reflected == columns, table
            key = ["singleton"] if table == "database_identity" else ["id"]  # its one row: see models/identity.py
            assert inspector.get_pk_constraint(table)["constrained_columns"] == key

            indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes(table) if not ix.get("unique")}
            assert indexes == EXPECTED_INDEXES[table], table

            uniques = {uc["name"]: uc["column_names"] for uc in inspector.get_unique_constraints(table)}
            assert uniques == EXPECTED_UNIQUE[table], table

            foreign_keys = inspector.get_foreign_keys(table)
            assert {(fk["constrained_columns"][0], fk["referred_table"]) for fk in foreign_keys} == (
                EXPECTED_FOREIGN_KEYS[table]
            )
            for fk in foreign_keys:
                expected = "SET NULL" if (table, fk["constrained_columns"][0]) in SET_NULL else "CASCADE"
                assert fk["options"].get("ondelete") == expected, (table, fk["constrained_columns"])

        checks = inspector.get_check_constraints("feedback")
        assert any("rating" in check["sqltext"] for check in checks)
        checks = inspector.get_check_constraints("kb_documents")
        assert any("status" in check["sqltext"] for check in checks)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = build_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    assert _tables(db_url) == set()
    assert migrate.current_revision(db_url) is None
    assert not migrate.is_up_to_date(db_url)

    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == migrate.head_revision() == "0009"
    assert migrate.is_up_to_date(db_url)
    _check_schema(db_url)

    migrate.downgrade(db_url, "0007")
    assert "api_keys" not in _tables(db_url)
    migrate.downgrade(db_url, "0006")
    assert "database_identity" not in _tables(db_url)

    migrate.downgrade(db_url, "0004")
    assert "eval_runs" not in _tables(db_url)

    migrate.downgrade(db_url, "0003")
    assert "labels" not in _tables(db_url)
    migrate.downgrade(db_url, "0002")
    assert "prompt_versions" not in _tables(db_url)
    migrate.downgrade(db_url, "0001")
    assert _tables(db_url) == {"users", "conversations", "messages", "feedback", "alembic_version"}
    migrate.downgrade(db_url, "base")
    assert _tables(db_url) == {"alembic_version"}
    assert migrate.current_revision(db_url) is None

    migrate.upgrade(db_url)
    _check_schema(db_url)
    migrate.upgrade(db_url)  # a second upgrade is a no-op
    assert migrate.is_up_to_date(db_url)


def test_the_database_knows_its_own_id(db_url: str) -> None:
    migrate.upgrade(db_url)
    engine = build_engine(db_url)
    try:
        made = database_id_of(build_session_factory(engine))
        assert len(made) == 32 and database_id_of(build_session_factory(engine)) == made
    finally:
        engine.dispose()


def test_a_schema_made_without_the_migrations_gets_an_id(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    try:
        Base.metadata.create_all(engine)
        made = database_id_of(build_session_factory(engine))
        assert database_id_of(build_session_factory(engine)) == made
    finally:
        engine.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    """Autogenerate finds nothing to do: the migrations build exactly what the models declare."""
    migrate.upgrade(db_url)
    engine = build_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_plain_alembic_uses_the_settings_url(isolated_environment: Path) -> None:
    """`alembic upgrade head` with no URL given migrates the embedded SQLite file of the settings."""
    command.upgrade(Config(str(PROJECT_ROOT / "alembic.ini")), "head")

    url = f"sqlite:///{isolated_environment.resolve() / 'workbench.db'}"
    assert (isolated_environment / "workbench.db").exists()
    assert migrate.current_revision(url) == "0009"


@pytest.mark.parametrize(
    ("url", "dialect_word"),
    [("sqlite:///offline.db", "DATETIME"), ("postgresql://u@h/db", "TIMESTAMP WITH TIME ZONE")],
)
def test_offline_sql_script(url: str, dialect_word: str) -> None:
    config = migrate.alembic_config(url)
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    script = config.output_buffer.getvalue()
    copies = script.count("CREATE TABLE _alembic_tmp_")  # SQLite's batch mode rebuilds a table to change a check
    assert script.count("CREATE TABLE") - copies == 32  # thirty-one tables and alembic_version
    assert dialect_word in script
