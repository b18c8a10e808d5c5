"""Deployment files (docker-compose.yml, Dockerfile, .dockerignore, .env.example), checked by their structure.

No Docker engine runs on the development machines, so these files are read and checked, never run here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from workbench.config.settings import PLACEHOLDER_SECRETS, Settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"postgres", "mongo", "redis", "models", "migrate", "app", "api", "worker"}
REQUIRED_VARIABLE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}$")  # ${NAME:?message}: fails loudly when unset
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>.+)@")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def instructions(dockerfile: list[str], keyword: str) -> list[str]:
    return [line.split(None, 1)[1] for line in dockerfile if line.split(None, 1)[0].upper() == keyword]


def settings_variables() -> set[str]:
    """WORKBENCH_* names of every Settings field, nested models as WORKBENCH_<FIELD>__<SUBFIELD>."""
    names = set()
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {f"WORKBENCH_{name.upper()}__{sub.upper()}" for sub in annotation.model_fields}
        else:
            names.add(f"WORKBENCH_{name.upper()}")
    return names


# docker-compose.yml -----------------------------------------------------------------------------------------


def test_compose_has_its_eight_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == SERVICES
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["mongo"]["image"].startswith("mongo:7")
    assert services["app"]["build"] == {"context": ".", "target": "app"}
    assert services["redis"]["image"].startswith("redis:")
    assert services["migrate"]["image"] == services["app"]["image"]  # the same image runs the migration
    assert services["worker"]["build"] == {"context": ".", "target": "worker"}  # the workers: the worker target
    assert "workbench worker" in command_text(services["worker"])
    assert services["models"]["image"] == services["worker"]["image"]
    assert services["api"]["image"] == services["app"]["image"]
    assert "workbench api --host 0.0.0.0" in command_text(services["api"])
    assert "workbench model-server --host 0.0.0.0" in command_text(services["models"])


def test_the_app_and_the_workers_share_the_models_service(services: dict[str, dict[str, Any]]) -> None:
    models = services["models"]
    port = command_text(models).split("--port ", 1)[1].split()[0]
    for name in ("app", "worker"):
        env = environment(services[name])
        assert env["WORKBENCH_LLM__MODEL_SERVER_URL"] == f"http://models:{port}"
        assert env["WORKBENCH_LLM__MODEL_SERVER_KEY"] == environment(models)["WORKBENCH_LLM__MODEL_SERVER_KEY"]


@pytest.mark.parametrize(
    ("name", "probe"),
    [
        ("postgres", "pg_isready"),
        ("mongo", "ping"),
        ("redis", "ping"),
        ("app", "/_stcore/health"),
        ("worker", "queue status --worker"),
        ("models", "/health"),
        ("api", "/api/v1/health"),
    ],
)
def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]], name: str, probe: str) -> None:
    check = services[name]["healthcheck"]
    test = check["test"]
    assert not check.get("disable", False)
    assert (" ".join(test) if isinstance(test, list) else test).count(probe) == 1


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose.get("volumes") or {})
    for name in ("postgres", "mongo", "redis", "app"):
        mounts = [str(volume).split(":", 1)[0] for volume in services[name].get("volumes", [])]
        named = [mount for mount in mounts if not mount.startswith((".", "/", "~"))]
        assert named, f"{name} keeps its data in a named volume"
        assert set(named) <= declared
    assert any(str(v).endswith(":/var/lib/workbench") for v in services["app"]["volumes"])


def test_app_starts_after_the_migration_and_healthy_databases(services: dict[str, dict[str, Any]]) -> None:
    assert services["app"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "mongo": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "models": {"condition": "service_healthy"},
    }
    assert services["worker"]["depends_on"] == services["app"]["depends_on"] == services["api"]["depends_on"]


def test_migrate_upgrades_the_schema_then_creates_the_first_admin(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    command = command_text(migrate)
    assert "workbench db upgrade" in command
    assert command.index("workbench db upgrade") < command.index("workbench user bootstrap-admin")
    assert "&&" in command  # no admin on a schema that failed to migrate
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"  # quoted in YAML: a bare no would be the boolean False


def test_app_runs_the_production_profile_against_the_compose_databases(
    services: dict[str, dict[str, Any]],
) -> None:
    env = environment(services["app"])
    assert env["WORKBENCH_ENV"] == "production"
    assert env["WORKBENCH_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["WORKBENCH_DATABASE_URL"].endswith("@postgres:5432/workbench")
    assert env["WORKBENCH_MONGODB_URL"].startswith("mongodb://mongo:27017")
    assert REQUIRED_VARIABLE.match(env["WORKBENCH_ADMIN_PASSWORD"])
    assert env["WORKBENCH_QUEUE__BROKER_URL"] == "redis://redis:6379/0"
    assert environment(services["migrate"]) == env == environment(services["worker"]) == environment(services["api"])


def test_no_literal_secrets(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_VARIABLE.match(value), f"{name}: {key} must be ${{VAR:?message}}, not a literal"
            found = URL_PASSWORD.search(value)
            if found:
                assert REQUIRED_VARIABLE.match(found["password"]), f"{name}: the password in {key} is a literal"


def test_the_app_listens_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    ports = [str(port) for port in services["app"]["ports"]]
    assert ports == ["127.0.0.1:8501:8501"]
    assert [str(port) for port in services["api"]["ports"]] == ["127.0.0.1:8502:8502"]
    others = ("postgres", "mongo", "redis", "models", "migrate", "worker")
    assert all("ports" not in services[name] for name in others)


# Dockerfile and .dockerignore -----------------------------------------------------------------------------------


def stage(dockerfile: list[str], name: str) -> list[str]:
    """The instructions of one build stage (FROM ... AS name up to the next FROM)."""
    starts = [i for i, line in enumerate(dockerfile) if line.upper().startswith("FROM ")]
    for begin, end in zip(starts, [*starts[1:], len(dockerfile)], strict=True):
        if dockerfile[begin].split()[-1] == name:
            return dockerfile[begin:end]
    raise AssertionError(f"no stage {name}")


def test_dockerfile_installs_the_locked_environment(dockerfile: list[str]) -> None:
    assert instructions(dockerfile, "FROM") == ["python:3.11-slim AS base", "base AS worker", "base AS app"]
    assert dockerfile[-1] in stage(dockerfile, "app")  # the app is the default target
    runs = instructions(dockerfile, "RUN")
    assert any("pip install" in run and "uv==0.13.9" in run for run in runs)
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs
    assert all("--frozen" in run and "--no-dev" in run for run in syncs)
    assert any("COPY pyproject.toml uv.lock" in line for line in dockerfile)


def test_dockerfile_runs_as_a_non_root_user(dockerfile: list[str]) -> None:
    users = instructions(dockerfile, "USER")
    assert users, "the image must not run as root"
    assert users[-1] not in ("root", "0", "0:0")
    last_user = max(i for i, line in enumerate(dockerfile) if line.upper().startswith("USER "))
    last_cmd = max(i for i, line in enumerate(dockerfile) if line.upper().startswith("CMD "))
    assert last_user < last_cmd


def test_dockerfile_serves_streamlit_with_a_healthcheck(dockerfile: list[str]) -> None:
    app = stage(dockerfile, "app")
    assert instructions(app, "EXPOSE") == ["8501"]
    assert any("/var/lib/workbench" in volume for volume in instructions(dockerfile, "VOLUME"))
    (healthcheck,) = instructions(app, "HEALTHCHECK")
    assert "http://127.0.0.1:8501/_stcore/health" in healthcheck
    (cmd,) = instructions(app, "CMD")
    assert "streamlit" in cmd and "app/streamlit_app.py" in cmd
    assert "--browser.gatherUsageStats" in cmd and "false" in cmd
    assert (ROOT / "app" / "streamlit_app.py").exists()


def test_dockerfile_has_a_worker_target(dockerfile: list[str]) -> None:
    worker = stage(dockerfile, "worker")
    (healthcheck,) = instructions(worker, "HEALTHCHECK")
    assert 'queue status --worker "worker@$(hostname)"' in healthcheck
    (cmd,) = instructions(worker, "CMD")
    assert '"worker", "--name", "worker@%h"' in cmd  # the name its health check asks for
    assert not instructions(worker, "EXPOSE")


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", "data", "artifacts", ".git", ".env"} <= ignored


# .env.example ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    """Variables shown in .env.example (commented or not) and their example values."""
    shown = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        found = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if found:
            shown[found[1]] = found[2].strip()
    return shown


def test_env_example_lists_every_setting(env_example: dict[str, str]) -> None:
    missing = settings_variables() - set(env_example)
    assert not missing, f"add to .env.example: {sorted(missing)}"
    assert "POSTGRES_PASSWORD" in env_example  # read by docker-compose.yml


def test_env_example_carries_only_placeholder_secrets(env_example: dict[str, str]) -> None:
    for key, value in env_example.items():
        if SECRET_NAME.search(key):
            assert value.lower() in PLACEHOLDER_SECRETS, f"{key} in .env.example must be a placeholder"
        found = URL_PASSWORD.search(value)
        if found:
            assert found["password"].lower() in PLACEHOLDER_SECRETS, f"the password in {key} must be a placeholder"
