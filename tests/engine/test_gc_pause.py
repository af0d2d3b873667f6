"""The cyclic collector held off while background batches build their rows."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from engine.gc_pause import collector_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:  # as it was before, whatever the test left
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_in_the_block_and_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_last_of_several_threads_turns_it_back_on() -> None:
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    with collector_paused():
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread's batch is still running
    leave.set()
    thread.join()
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_an_error_in_the_block_turns_it_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("batch failed")
    assert gc.isenabled()


@pytest.fixture
def nothing_frozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's objects go back under the collector


def test_a_served_app_freezes_its_startup_heap(
    db_url: str, nothing_frozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `flowdesk serve` starts keeps the started process's objects out of every
    later full collection (its pause was the inbox's p95 at a million tasks)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    monkeypatch.setenv("FLOWDESK_GC_FREEZE", "1")
    with TestClient(create_app()) as client:
        assert gc.get_freeze_count() > 10_000  # the modules, routes and schemas
        assert client.get("/login").status_code == 200  # and the app still serves


def test_an_app_started_otherwise_freezes_nothing(
    db_url: str, nothing_frozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    monkeypatch.delenv("FLOWDESK_GC_FREEZE", raising=False)
    with TestClient(create_app()):
        assert gc.get_freeze_count() == 0


def test_serve_starts_its_processes_frozen(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import cli.server
    from cli.main import build_parser

    seen: dict[str, str | None] = {}

    def run_server(**_: object) -> None:
        seen["freeze"] = os.environ.get("FLOWDESK_GC_FREEZE")

    monkeypatch.delenv("FLOWDESK_GC_FREEZE", raising=False)
    monkeypatch.setenv("FLOWDESK_EMBEDDED_BACKGROUND", "0")
    monkeypatch.setattr(cli.server, "run_server", run_server)
    args = build_parser().parse_args(["serve", "--port", "0"])
    assert args.func(args) == 0
    assert seen == {"freeze": "1"}
