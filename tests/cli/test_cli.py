"""The `flowdesk` command as an operator runs it: a fresh SQLite database, users,
validate/deploy exit codes, and `serve` answering over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.factories import FIXTURES

FLOWDESK = str(Path(sys.executable).with_name("flowdesk"))


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update(
        FLOWDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        FLOWDESK_PROCESSES_DIR=str(tmp_path / "processes"),
        **extra,
    )
    return env


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLOWDESK, *args], env=_env(tmp_path), capture_output=True, text=True, timeout=120
    )


def test_upgrade_users_validate_deploy(tmp_path: Path) -> None:
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    ok = _run(
        tmp_path,
        "user",
        "add",
        "wang",
        "--password",
        "pw12345678",
        "--role",
        "staff",
        "--department",
        "engineering",
        "--display-name",
        "王工",
    )
    assert ok.returncode == 0, ok.stderr
    dup = _run(
        tmp_path,
        "user",
        "add",
        "wang",
        "--password",
        "pw12345678",
        "--role",
        "staff",
        "--department",
        "engineering",
    )
    assert dup.returncode == 1 and "already exists" in dup.stderr
    bad = _run(
        tmp_path,
        "user",
        "add",
        "li",
        "--password",
        "pw12345678",
        "--role",
        "staff",
        "--department",
        "marketing",
    )
    assert bad.returncode == 1 and "department" in bad.stderr

    good = str(FIXTURES / "processes" / "two_lane.bpmn")
    assert _run(tmp_path, "validate", good).returncode == 0
    broken = tmp_path / "broken.bpmn"
    broken.write_text(
        (FIXTURES / "processes" / "two_lane.bpmn")
        .read_text()
        .replace('name="engineering"', 'name="Marketing"')
    )
    result = _run(tmp_path, "validate", str(broken))
    assert result.returncode == 1
    assert f"{broken}: lane_eng (Marketing):" in result.stderr
    assert _run(tmp_path, "deploy", str(broken)).returncode == 1
    first = _run(tmp_path, "deploy", good)
    assert first.returncode == 0 and "two_lane: version 1 deployed" in first.stdout
    again = _run(tmp_path, "deploy", good)
    assert again.returncode == 0 and "two_lane: version 1 unchanged" in again.stdout
    assert _run(tmp_path, "audit", "verify").returncode == 0
    tick = _run(tmp_path, "tick", "--at", "2026-05-01T10:00:00+08:00")
    assert tick.returncode == 0
    assert json.loads(tick.stdout)["timers_fired"] == 0
    assert _run(tmp_path, "tick", "--at", "yesterday").returncode == 2


def test_seed_demo_once(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env["FLOWDESK_PROCESSES_DIR"] = str(Path(__file__).resolve().parents[2] / "processes")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FLOWDESK, *args], env=env, capture_output=True, text=True, timeout=300
        )

    assert run("db", "upgrade").returncode == 0
    first = run("seed-demo", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "password is: flowdesk-demo" in first.stdout and "cs_sup" in first.stdout
    second = run("seed-demo", "--if-empty")
    assert "not added" in second.stdout
    assert run("audit", "verify").returncode == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_migrates_deploys_the_folder_and_answers(tmp_path: Path) -> None:
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "two_lane.bpmn").write_bytes((FIXTURES / "processes" / "two_lane.bpmn").read_bytes())
    port = _free_port()
    server = subprocess.Popen(
        [FLOWDESK, "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert json.load(r) == {"status": "ok"}
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"flowdesk serve did not come up: {server.stdout.read()}")
                time.sleep(0.3)
        assert (
            _run(
                tmp_path, "user", "add", "dora", "--password", "pw12345678", "--role", "designer"
            ).returncode
            == 0
        )
        data = b"username=dora&password=pw12345678"
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            data=data,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        token = json.load(urllib.request.urlopen(req, timeout=10))["access_token"]
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/processes",
            headers={"Authorization": f"Bearer {token}"},
        )
        processes = json.load(urllib.request.urlopen(req, timeout=10))
        assert [(p["key"], p["version"]) for p in processes] == [("two_lane", 1)]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            assert b"flowdesk_http_requests_total" in r.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
