from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from workbench.config.settings import PROJECT_ROOT, get_settings


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "default.yaml").write_text(
        "mongodb_database: from-default\n"
        "admin_username: default-admin\n"
        "runlog:\n  batch_size: 111\n  flush_interval_s: 0.5\n"
        "embedded_mongo:\n  port: 27999\n"
    )
    (folder / "development.yaml").write_text(
        "mongodb_database: from-development\nsql_echo: true\nrunlog:\n  batch_size: 222\n"
    )
    (folder / "production.yaml").write_text("runlog:\n  retry_interval_s: 9.0\n")
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(folder))
    return folder


def test_defaults_without_any_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "nowhere"))
    settings = get_settings()
    assert settings.env == "default"
    assert settings.runlog.batch_size == 500
    assert settings.mongodb_database == "workbench"
    assert settings.uses_embedded_sql
    assert settings.uses_embedded_mongo


def test_isolated_environment_points_data_into_tmp(isolated_environment: Path) -> None:
    settings = get_settings()
    assert settings.resolved_data_dir == isolated_environment.resolve()
    assert settings.sql_url == f"sqlite:///{isolated_environment.resolve() / 'workbench.db'}"
    assert settings.spool_dir == isolated_environment.resolve() / "runlog-spool"


def test_default_yaml_is_read(config_dir: Path) -> None:
    settings = get_settings()
    assert settings.mongodb_database == "from-default"
    assert settings.runlog.batch_size == 111
    assert settings.runlog.flush_interval_s == 0.5
    assert settings.embedded_mongo.port == 27999
    assert settings.sql_echo is False


def test_profile_yaml_is_layered_over_default_yaml(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_ENV", "development")
    settings = get_settings()
    assert settings.env == "development"
    assert settings.mongodb_database == "from-development"
    assert settings.sql_echo is True
    # Deep merge: the profile changes one nested key and keeps the others from default.yaml.
    assert settings.runlog.batch_size == 222
    assert settings.runlog.flush_interval_s == 0.5
    assert settings.admin_username == "default-admin"


def test_a_missing_profile_file_is_fine(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_ENV", "staging")
    monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", "a-real-Secret-42")
    settings = get_settings()
    assert settings.env == "staging"
    assert settings.mongodb_database == "from-default"


def test_environment_wins_over_yaml(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_ENV", "development")
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", "from-env")
    monkeypatch.setenv("WORKBENCH_RUNLOG__BATCH_SIZE", "333")
    settings = get_settings()
    assert settings.mongodb_database == "from-env"
    assert settings.runlog.batch_size == 333
    assert settings.runlog.flush_interval_s == 0.5  # the YAML value of a sibling key survives


def test_keyword_overrides_win_over_environment(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_MONGODB_DATABASE", "from-env")
    assert get_settings(mongodb_database="from-kwargs").mongodb_database == "from-kwargs"


def test_dotenv_in_the_working_directory_sits_between_env_and_yaml(
    config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("WORKBENCH_MONGODB_DATABASE=from-dotenv\nWORKBENCH_ADMIN_USERNAME=dot\n")
    monkeypatch.setenv("WORKBENCH_ADMIN_USERNAME", "from-env")
    settings = get_settings()
    assert settings.mongodb_database == "from-dotenv"
    assert settings.admin_username == "from-env"


def test_nested_environment_variable_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_RUNLOG__BATCH_SIZE", "0")
    with pytest.raises(ValidationError, match="batch_size"):
        get_settings()


def test_urls_are_secret_and_switch_off_the_embedded_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://wb:s3cret-pw@db.internal/workbench"
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", url)
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", "mongodb://mongo.internal:27017/")
    settings = get_settings()
    assert settings.sql_url == url
    assert not settings.uses_embedded_sql
    assert not settings.uses_embedded_mongo
    assert "s3cret-pw" not in repr(settings)
    assert "s3cret-pw" not in str(settings.model_dump())


# The production guard -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["production", "staging"])
def test_production_refuses_an_unset_admin_password(profile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_ENV", profile)
    with pytest.raises(ValidationError, match="WORKBENCH_ADMIN_PASSWORD must be set"):
        get_settings()


@pytest.mark.parametrize("value", ["changeme", "ChangeMe", " password ", "admin", "secret", "example", ""])
def test_production_refuses_placeholder_admin_passwords(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_ENV", "production")
    monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", value)
    with pytest.raises(ValidationError, match="placeholder"):
        get_settings()


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("WORKBENCH_DATABASE_URL", "postgresql+psycopg://workbench:changeme@db:5432/workbench"),
        ("WORKBENCH_DATABASE_URL", "postgresql://u:Password@db/x"),
        ("WORKBENCH_MONGODB_URL", "mongodb://root:changeme@mongo:27017/"),
        ("WORKBENCH_MONGODB_URL", "mongodb://root:secret@mongo:27017/"),
    ],
)
def test_production_refuses_placeholder_passwords_inside_urls(
    name: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_ENV", "production")
    monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", "a-real-Secret-42")
    monkeypatch.setenv(name, url)
    with pytest.raises(ValidationError, match=name):
        get_settings()


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(PROJECT_ROOT / "config"))
    monkeypatch.setenv("WORKBENCH_ENV", "production")
    monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", "a-real-Secret-42")
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", "postgresql://wb:Xk29-fq81-Lm@db/workbench")
    monkeypatch.setenv("WORKBENCH_MONGODB_URL", "mongodb://wb:Pq72-zz10-Rt@mongo:27017/")
    settings = get_settings()
    assert settings.env == "production"
    assert settings.admin_password is not None
    assert settings.admin_password.get_secret_value() == "a-real-Secret-42"
    # The shipped production.yaml is layered in.
    assert settings.runlog.retry_interval_s == 5.0
    assert settings.embedded_mongo.sync_on_commit is True


@pytest.mark.parametrize("profile", ["default", "development"])
def test_development_accepts_no_or_placeholder_secrets(profile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_ENV", profile)
    assert get_settings().admin_password is None
    monkeypatch.setenv("WORKBENCH_ADMIN_PASSWORD", "changeme")
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", "postgresql://u:changeme@localhost/x")
    settings = get_settings()
    assert settings.admin_password is not None
    assert settings.admin_password.get_secret_value() == "changeme"
