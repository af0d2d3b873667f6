"""No known key: the embedded server makes its own, a server install refuses to
start without one, and tokens or cookies signed with the old published default
key open nothing."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer

from engine.config import get_settings
from engine.secret_key import KEY_FILE_NAME, MissingSecretKey, secret_key
from tests.conftest import PG_URL

FLOWDESK = str(Path(sys.executable).with_name("flowdesk"))
OLD_DEFAULT_KEY = "flowdesk-dev-secret-change-me"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update(FLOWDESK_DATABASE_URL=database_url, FLOWDESK_ROUND_SECONDS="3600", **extra)
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FLOWDESK, *args], env=env, capture_output=True, text=True, timeout=120)


class _Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [FLOWDESK, "serve", "--port", str(self.port)],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url("/healthz"), timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"flowdesk serve did not come up: {log.read_text()}")
                time.sleep(0.3)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def status(self, path: str, headers: dict[str, str]) -> int:
        request = urllib.request.Request(self.url(path), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def token(self, username: str, password: str) -> str:
        request = urllib.request.Request(
            self.url("/api/v1/auth/token"),
            data=f"username={username}&password={password}".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(json.load(response)["access_token"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._out.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_embedded_server_makes_a_private_key_and_refuses_the_old_default(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = _env(f"sqlite:///{data / 'flowdesk.db'}", FLOWDESK_VAR_DIR=str(tmp_path / "var"))
    assert _run(env, "db", "upgrade").returncode == 0
    added = _run(env, "user", "add", "admin1", "--password", "pw-123456789", "--role", "admin")
    assert added.returncode == 0, added.stderr

    server = _Server(env, tmp_path / "serve.log")
    try:
        key_file = data / KEY_FILE_NAME  # beside the database: the data folder
        assert key_file.is_file()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        assert len(key) >= 32 and key != OLD_DEFAULT_KEY

        # A token and a page session forged with the old published key open nothing.
        forged = URLSafeTimedSerializer(OLD_DEFAULT_KEY, salt="flowdesk-api-token").dumps(
            {"uid": 1, "n": "00"}
        )
        assert server.status("/api/v1/processes", {"Authorization": f"Bearer {forged}"}) == 401
        cookie = URLSafeTimedSerializer(OLD_DEFAULT_KEY, salt="session").dumps(
            {"uid": 1, "csrf": "x"}
        )
        opener = urllib.request.build_opener(_NoRedirect)
        request = urllib.request.Request(
            server.url("/inbox"), headers={"Cookie": f"flowdesk_session={cookie}"}
        )
        with pytest.raises(urllib.error.HTTPError) as page:
            opener.open(request, timeout=10)
        assert page.value.code == 303 and "/login" in page.value.headers["Location"]

        # A token signed with the generated key works, and keeps working after a restart.
        token = server.token("admin1", "pw-123456789")
        assert server.status("/api/v1/processes", {"Authorization": f"Bearer {token}"}) == 200
    finally:
        server.stop()
    server = _Server(env, tmp_path / "serve2.log")
    try:
        assert key_file.read_text().strip() == key
        assert server.status("/api/v1/processes", {"Authorization": f"Bearer {token}"}) == 200
    finally:
        server.stop()


def test_two_installations_never_share_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOWDESK_SECRET_KEY", raising=False)
    keys = []
    for name in ("one", "two", "one"):
        monkeypatch.setenv("FLOWDESK_DATABASE_URL", f"sqlite:///{tmp_path / name / 'f.db'}")
        get_settings.cache_clear()
        keys.append(secret_key())
    get_settings.cache_clear()
    assert keys[0] != keys[1] and keys[0] == keys[2]


def test_a_server_database_without_a_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWDESK_SECRET_KEY", raising=False)
    monkeypatch.setenv("FLOWDESK_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        with pytest.raises(MissingSecretKey, match="FLOWDESK_SECRET_KEY"):
            secret_key()
    finally:
        get_settings.cache_clear()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL not tested: FLOWDESK_TEST_DATABASE_URL unset")
@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"], ["beat"]])
def test_serve_and_workers_refuse_to_start_on_postgresql_without_a_key(
    command: list[str], tmp_path: Path
) -> None:
    assert PG_URL is not None
    env = _env(PG_URL, FLOWDESK_BROKER_URL="redis://127.0.0.1:6379/14")
    if command[0] == "serve":
        env.pop("FLOWDESK_BROKER_URL")
    started = time.monotonic()
    result = _run(env, *command)
    assert result.returncode != 0
    assert "FLOWDESK_SECRET_KEY" in result.stderr
    assert "refuses to start" in result.stderr
    assert time.monotonic() - started < 60


def test_production_hashes_passwords_at_full_strength() -> None:
    """The suite's cheap hashing is a call the tests make, never the default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    out = subprocess.run(
        [sys.executable, "-c", "from engine.identity import _hasher; print(_hasher.hash('pw'))"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "$argon2id$v=19$m=65536,t=3,p=4$" in out.stdout
