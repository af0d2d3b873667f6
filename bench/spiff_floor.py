"""The raw-SpiffWorkflow floor: what the engine alone costs per completion, in-process.

One completion = BEGIN → SELECT the stored state (FOR UPDATE on PostgreSQL) →
deserialize → complete the ready user task → run the engine on → serialize → UPDATE the
row → COMMIT, with SpiffWorkflow's own serializer (the whole workflow, spec included)
and the raw driver (sqlite3 with flowdesk's pragmas, psycopg). `spec_in_row=False`
stores only the running state around a spec parsed once (what flowdesk stores, through
its `engine.bpmn.serializer`): the engine's own floor. The same two-lane
process and workload as the API bench: start N, complete every first task, then every
second one.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.engine import make_url

BPMN = Path(__file__).resolve().parent / "bench_two_lane.bpmn"


def _spec() -> Any:
    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN))
    return parser.get_spec("bench_two_lane")


def _connect(backend: str, target: str) -> tuple[Any, str]:
    """Return (connection, parameter mark); the connection runs its own transactions."""
    if backend == "sqlite":
        conn = sqlite3.connect(target, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn, "?"
    import psycopg

    u = make_url(target)
    conn = psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname=u.database,
        autocommit=True,
    )
    return conn, "%s"


def measure(backend: str, target: str, instances: int, *, spec_in_row: bool = True) -> float:
    """Return completions per second of the raw engine on `target` (a SQLite file path
    or a PostgreSQL URL), after creating `instances` fresh instances (not timed)."""
    conn, mark = _connect(backend, target)
    lock = "" if backend == "sqlite" else " FOR UPDATE"
    conn.execute("DROP TABLE IF EXISTS spiff_floor")
    conn.execute("CREATE TABLE spiff_floor (id VARCHAR(36) PRIMARY KEY, state TEXT NOT NULL)")
    spec = _spec()
    if spec_in_row:
        serializer = BpmnWorkflowSerializer()
        dump, load = serializer.serialize_json, serializer.deserialize_json
    else:
        from engine.bpmn.serializer import dump_state, load_state

        dump = dump_state

        def load(state: str) -> BpmnWorkflow:
            return load_state(state, spec, {})

    ids = []
    conn.execute("BEGIN")
    for i in range(instances):
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        for task in workflow.get_tasks(state=TaskState.READY, manual=False):
            task.data.update({"n": i})
        workflow.do_engine_steps()
        ids.append(str(uuid.uuid4()))
        conn.execute(
            f"INSERT INTO spiff_floor (id, state) VALUES ({mark}, {mark})",
            (ids[-1], dump(workflow)),
        )
    conn.execute("COMMIT")

    def complete(instance_id: str, data: dict[str, str]) -> None:
        conn.execute("BEGIN")
        row = conn.execute(
            f"SELECT state FROM spiff_floor WHERE id = {mark}{lock}", (instance_id,)
        ).fetchone()
        workflow = load(row[0])
        task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        conn.execute(
            f"UPDATE spiff_floor SET state = {mark} WHERE id = {mark}",
            (dump(workflow), instance_id),
        )
        conn.execute("COMMIT")

    t0 = time.perf_counter()
    for instance_id in ids:
        complete(instance_id, {"a": "done"})
    for instance_id in ids:
        complete(instance_id, {"b": "done"})
    elapsed = time.perf_counter() - t0
    conn.execute("DROP TABLE spiff_floor")
    conn.close()
    return 2 * instances / elapsed
