"""Starts and stops the embedded MongoDB-wire server (secantusdb) as a separate process.

secantusdb is GPL-2.0, so it is never imported: the app only launches its command and talks to it over
the wire protocol. One server serves one data directory; a state file lets a second process (the CLI
next to the running app) reuse it instead of starting another on the same files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)


class EmbeddedServerError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def ping(url: str, timeout_ms: int = 500) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(
        url, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def resolve_command(command: str) -> str:
    """The server launcher, looked up next to this interpreter first (the project's .venv)."""
    beside = Path(sys.executable).parent / command
    if beside.exists():
        return str(beside)
    found = shutil.which(command)
    if found is None:
        raise EmbeddedServerError(
            f"'{command}' was not found. Install the project (make install) or set WORKBENCH_MONGODB_URL "
            "to a running MongoDB."
        )
    return found


@dataclass
class EmbeddedMongoServer:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    command: str = "secantusd-py"
    start_timeout_s: float = 30.0
    sync_on_commit: bool = False

    def __post_init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._owned = False

    @property
    def storage_path(self) -> Path:
        return self.data_dir / "mongo"

    @property
    def state_path(self) -> Path:
        return self.data_dir / "mongo-server.json"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "mongo-server.log"

    @property
    def url(self) -> str:
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def owned(self) -> bool:
        """True when this object started the server (and so must stop it)."""
        return self._owned

    def ensure_running(self) -> str:
        """Reuse the server already serving this data directory, or start one; returns its URL."""
        state = self._read_state()
        if state and _pid_alive(int(state["pid"])):
            url = f"mongodb://{state['host']}:{state['port']}/"
            if ping(url):
                self.host, self.port = str(state["host"]), int(state["port"])
                return url
        return self.start()

    def start(self) -> str:
        self.storage_path.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.port == 0:
            self.port = free_port(self.host)
        args = [
            resolve_command(self.command),
            "--host", self.host,
            "--port", str(self.port),
            "--storage-path", str(self.storage_path),
            "--log-level", "WARNING",
        ]  # fmt: skip
        if self.sync_on_commit:
            args.append("--sync-on-commit")
        with self.log_path.open("ab") as log_file:
            # A new session: Ctrl-C in the terminal reaches the app, which then stops this server cleanly.
            self.process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        self._owned = True
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedServerError(
                    f"the embedded MongoDB server exited with code {self.process.returncode}; see {self.log_path}"
                )
            if ping(self.url, timeout_ms=300):
                self._write_state()
                log.info("embedded MongoDB server on %s (data in %s)", self.url, self.storage_path)
                return self.url
            time.sleep(0.1)
        self.stop()
        raise EmbeddedServerError(f"the embedded MongoDB server did not answer within {self.start_timeout_s}s")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server if this object started it; a server started by another process is left alone."""
        if self.process is None or not self._owned:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        state = self._read_state()
        if state and state.get("pid") == self.process.pid:
            self.state_path.unlink(missing_ok=True)
        self.process = None
        self._owned = False

    def _write_state(self) -> None:
        assert self.process is not None
        state = {"pid": self.process.pid, "host": self.host, "port": self.port}
        self.state_path.write_text(json.dumps(state))

    def _read_state(self) -> dict[str, str | int] | None:
        try:
            data = json.loads(self.state_path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) and "pid" in data else None
