"""The embedded MongoDB-wire server: start, reuse by a second process-like instance, stop by its owner."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from workbench.storage.runlog.embedded import EmbeddedMongoServer, EmbeddedServerError, ping

pytestmark = pytest.mark.integration


def test_second_instance_reuses_the_server_and_only_the_owner_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    owner = EmbeddedMongoServer(data_dir=data_dir)
    try:
        url = owner.ensure_running()
        assert owner.owned
        assert owner.port != 0
        assert ping(url)
        assert (data_dir / "mongo").is_dir()
        assert owner.process is not None
        state = json.loads(owner.state_path.read_text())
        assert state == {"pid": owner.process.pid, "host": "127.0.0.1", "port": owner.port}

        guest = EmbeddedMongoServer(data_dir=data_dir)
        assert guest.ensure_running() == url
        assert not guest.owned
        assert guest.port == owner.port

        guest.stop()  # not its server: nothing happens
        assert ping(url)
        assert owner.state_path.exists()
    finally:
        owner.stop()

    assert not ping(url)
    assert not owner.state_path.exists()
    assert not owner.owned
    assert owner.process is None
    owner.stop()  # stopping twice is harmless


def test_a_stale_state_file_is_ignored(tmp_path: Path) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    stale = {"pid": finished.pid, "host": "127.0.0.1", "port": 1}
    (data_dir / "mongo-server.json").write_text(json.dumps(stale))

    server = EmbeddedMongoServer(data_dir=data_dir)
    try:
        url = server.ensure_running()
        assert server.owned
        assert ping(url)
        assert json.loads(server.state_path.read_text())["pid"] != finished.pid
    finally:
        server.stop()


def test_a_server_that_exits_at_once_is_reported(tmp_path: Path) -> None:
    server = EmbeddedMongoServer(data_dir=tmp_path, command="false", start_timeout_s=5)
    with pytest.raises(EmbeddedServerError, match="exited with code 1"):
        server.start()
    assert not server.state_path.exists()


def test_a_missing_command_is_reported(tmp_path: Path) -> None:
    server = EmbeddedMongoServer(data_dir=tmp_path, command="no-such-mongo-server-binary")
    with pytest.raises(EmbeddedServerError, match="WORKBENCH_MONGODB_URL"):
        server.start()
