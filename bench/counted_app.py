"""The API app with a statement counter inside: what `bench.api_throughput` counts with.

    python -m bench.counted_app --port 8123      # one process, no background work

Every engine of the process gets a `before_cursor_execute` listener (class-level), plus
the connection's begin/commit/rollback events where the driver sends them itself
(PostgreSQL; SQLite's BEGIN is a cursor execute flowdesk issues). The counts are read
and reset at GET/DELETE /__bench/statements — a route of this bench app only.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, event

from bench.sql_count import Tally, autocommit

_tally = Tally()
_lock = threading.Lock()
_installed = False


def _record(kind_or_statement: str, *, kind: bool = False) -> None:
    with _lock:
        if kind:
            _tally.add_kind(kind_or_statement)
        else:
            _tally.add(kind_or_statement)


def install() -> None:
    """Count every statement of every engine of this process."""
    global _installed
    if _installed:
        return
    _installed = True

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        _record(statement)

    def on_begin(conn: Any) -> None:
        if conn.dialect.name != "sqlite" and not autocommit(conn):
            _record("BEGIN", kind=True)

    def on_commit(conn: Any) -> None:
        if not autocommit(conn):
            _record("COMMIT", kind=True)

    def on_rollback(conn: Any) -> None:
        if not autocommit(conn):
            _record("ROLLBACK", kind=True)

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Engine, "begin", on_begin)
    event.listen(Engine, "commit", on_commit)
    event.listen(Engine, "rollback", on_rollback)


def take(reset: bool) -> dict[str, object]:
    global _tally
    with _lock:
        out = _tally.as_dict()
        if reset:
            _tally = Tally()
    return out


def create_app() -> FastAPI:
    from fastapi.routing import APIRoute

    from api.app import create_app as flowdesk_app

    install()
    app = flowdesk_app()

    def read() -> dict[str, object]:
        return take(reset=False)

    def reset() -> dict[str, object]:
        return take(reset=True)

    # First in the table, before any catch-all page route.
    app.router.routes.insert(0, APIRoute("/__bench/statements", reset, methods=["DELETE"]))
    app.router.routes.insert(0, APIRoute("/__bench/statements", read, methods=["GET"]))
    return app


def main() -> None:
    import uvicorn

    from cli.server import _TcpConfig

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = _TcpConfig(
        "bench.counted_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
