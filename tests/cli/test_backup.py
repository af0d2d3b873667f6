"""`flowdesk backup` / `flowdesk restore` and `flowdesk audit verify --witness` as an
operator runs them: a backup taken while `flowdesk serve` is writing, restored into a
fresh database, verified, read back over HTTP; a refused restore; a rollback caught
by the witness file."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.backup import BackupError, find_pg_tool
from tests.conftest import TEST_SECRET_KEY
from tests.fixtures.browser import FLOWDESK
from tests.fixtures.factories import deploy_fixture, make_user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update(
        FLOWDESK_DATABASE_URL=url,
        FLOWDESK_SECRET_KEY=TEST_SECRET_KEY,
        FLOWDESK_PROCESSES_DIR=str(tmp_path / "no-processes"),
        FLOWDESK_ROUND_SECONDS="3600",
        FLOWDESK_VAR_DIR=str(tmp_path),
        FLOWDESK_WITNESS_FILE=str(tmp_path / "witness.jsonl"),
    )
    return env


def _flowdesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLOWDESK, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


class Server:
    """`flowdesk serve` in a subprocess, spoken to over HTTP with bearer tokens."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [FLOWDESK, "serve", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.tokens: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2).close()
                return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._log.close()

    def call(self, method: str, path: str, user: str, body: Any = None) -> Any:
        if user not in self.tokens:
            form = urllib.parse.urlencode({"username": user, "password": "secret-pass"}).encode()
            with urllib.request.urlopen(self.base + "/api/v1/auth/token", form, timeout=30) as r:
                self.tokens[user] = json.load(r)["access_token"]
        request = urllib.request.Request(
            self.base + "/api/v1" + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "Authorization": f"Bearer {self.tokens[user]}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as r:
            return json.load(r)


@pytest.fixture
def fresh_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as `db_url`, to restore into."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = make_url(db_url)
    name = f"{url.database}_restore_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _start_case(server: Server) -> str:
    instance = server.call("POST", "/processes/two_lane/instances", "cathy", {"variables": {}})
    return str(instance["id"])


def test_backup_while_serving_restore_verify_and_witness(
    db_url: str, fresh_url: str, tmp_path: Path
) -> None:
    deploy_fixture("two_lane.bpmn")
    make_user("cathy", "staff", department="customer_service")
    make_user("eric", "staff", department="engineering")
    live_env, fresh_env = _env(db_url, tmp_path), _env(fresh_url, tmp_path)
    witness = tmp_path / "witness.jsonl"
    backup = tmp_path / "backups" / "flowdesk.backup"

    live = Server(live_env, tmp_path / "serve.log")
    try:
        case = _start_case(live)
        [intake] = live.call("GET", f"/instances/{case}", "cathy")["open_tasks"]
        live.call("POST", f"/tasks/{intake['id']}/complete", "cathy", {"variables": {"n": 1}})
        before = live.call("GET", f"/instances/{case}", "cathy")

        # Cases keep being started while the backup runs.
        stop, started, errors = threading.Event(), [], []

        def write() -> None:
            while not stop.is_set():
                try:
                    started.append(_start_case(live))
                except Exception as exc:  # noqa: BLE001 - reported by the assert below
                    errors.append(exc)
                    return

        writers = [threading.Thread(target=write) for _ in range(2)]
        for t in writers:
            t.start()
        time.sleep(0.5)
        made = _flowdesk(live_env, "backup", str(backup))
        time.sleep(0.3)
        stop.set()
        for t in writers:
            t.join(timeout=60)
        assert made.returncode == 0, made.stderr
        assert not errors and len(started) > 2, errors
        sidecar = json.loads(Path(f"{backup}.witness.json").read_text())
        assert sidecar["seq"] > 0 and sidecar["kind"] == make_url(db_url).get_backend_name()

        # More events after the backup, and a round witnesses the new head.
        [review] = live.call("GET", f"/instances/{case}", "cathy")["open_tasks"]
        live.call(
            "POST", f"/tasks/{review['id']}/complete", "eric", {"variables": {"approved": True}}
        )
        assert _flowdesk(live_env, "tick").returncode == 0
    finally:
        live.stop()
    heads = [json.loads(line) for line in witness.read_text().splitlines()]
    assert heads[-1]["seq"] > sidecar["seq"]
    assert {"seq": sidecar["seq"], "hash": sidecar["hash"]} in [
        {"seq": h["seq"], "hash": h["hash"]} for h in heads
    ]

    # Restored into a fresh database: intact, and the case reads as at the backup.
    restored = _flowdesk(fresh_env, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    verified = _flowdesk(fresh_env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout
    with create_engine(fresh_url).connect() as conn:  # the seqs may leave gaps: count
        restored_events, newest = conn.execute(
            text("SELECT count(*), max(seq) FROM history_event")
        ).one()
    assert f"{restored_events} events verified" in verified.stdout
    assert newest == sidecar["seq"]
    copy = Server(fresh_env, tmp_path / "serve-restored.log")
    try:
        assert copy.call("GET", f"/instances/{case}", "cathy") == before
    finally:
        copy.stop()

    # A database that holds data is replaced only with --force.
    refused = _flowdesk(fresh_env, "restore", str(backup))
    assert refused.returncode == 1 and "--force" in refused.stderr
    forced = _flowdesk(fresh_env, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert "events are not in this backup" in forced.stderr  # the witness saw more

    # The witness tells the restored old copy from the live database.
    behind = _flowdesk(fresh_env, "audit", "verify", "--witness", str(witness))
    missing = heads[-1]["seq"] - sidecar["seq"]
    assert behind.returncode == 1, behind.stdout
    assert f"{missing} events are missing" in behind.stdout or (
        missing == 1 and "1 event is missing" in behind.stdout
    )
    assert f"the history ends at {sidecar['seq']}" in behind.stdout
    ok = _flowdesk(live_env, "audit", "verify", "--witness")  # FLOWDESK_WITNESS_FILE
    assert ok.returncode == 0, ok.stdout
    assert f"witness {witness}: the history holds all" in ok.stdout
    at_backup = _flowdesk(fresh_env, "audit", "verify", "--witness", f"{backup}.witness.json")
    assert at_backup.returncode == 0, at_backup.stdout


def test_restore_refuses_another_kind_and_a_non_backup(db_url: str, tmp_path: Path) -> None:
    env = _env(db_url, tmp_path)
    other = tmp_path / "other.backup"
    if db_url.startswith("sqlite"):
        other.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
        expected = "is a PostgreSQL backup (pg_dump) but the configured database is SQLite"
    else:
        sqlite_env = _env(f"sqlite:///{tmp_path / 'small.db'}", tmp_path)
        assert _flowdesk(sqlite_env, "db", "upgrade").returncode == 0
        assert _flowdesk(sqlite_env, "backup", str(other)).returncode == 0
        expected = "is a SQLite backup but the configured database is PostgreSQL"
    wrong = _flowdesk(env, "restore", "--force", str(other))
    assert wrong.returncode == 1 and expected in wrong.stderr
    foreign = tmp_path / "foreign.backup"
    if db_url.startswith("sqlite"):
        con = sqlite3.connect(foreign)
        con.execute("CREATE TABLE notes (x)")
        con.commit()
        con.close()
    else:
        foreign.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    kept = _flowdesk(env, "restore", "--force", str(foreign))
    assert kept.returncode == 1 and "is not a backup of a flowdesk database" in kept.stderr
    assert _flowdesk(env, "audit", "verify").returncode == 0  # the database is untouched
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    refused = _flowdesk(env, "restore", "--force", str(junk))
    assert refused.returncode == 1 and "is not a flowdesk backup" in refused.stderr


def test_witness_file_errors(db_url: str, tmp_path: Path) -> None:
    env = _env(db_url, tmp_path)
    absent = _flowdesk(env, "audit", "verify", "--witness", str(tmp_path / "none.jsonl"))
    assert absent.returncode == 1 and "cannot read the witness file" in absent.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 0, "hash": "x"}\nnot json\n{"seq": 0, "hash": "y"}\n')
    broken = _flowdesk(env, "audit", "verify", "--witness", str(bad))
    assert broken.returncode == 1 and f"{bad}:2: not a witnessed head" in broken.stderr


def test_pg_tools_of_another_version_are_not_used() -> None:
    with pytest.raises(BackupError, match="no pg_dump of PostgreSQL 99 .*FLOWDESK_PG_BIN"):
        find_pg_tool("pg_dump", 99)
