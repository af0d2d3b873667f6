"""Helpers for tests that drive the two shipped processes through the HTTP API,
round-tripping the stored workflow through the serializer after every step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.bpmn.serializer import dump_state, load_state
from engine.db import unit_of_work
from engine.definitions import SPEC_CACHE, deploy_folder
from engine.identity import SYSTEM
from engine.models import Instance
from tests.api_client import Api
from tests.factories import make_user

PROCESSES = Path(__file__).resolve().parents[1] / "processes"

STAFF = {
    "cs1": "customer_service",
    "cs2": "customer_service",
    "eng1": "engineering",
    "prop1": "property",
    "sales1": "sales",
    "sales2": "sales",
    "cc1": "cost_contracts",
}
SUPERVISORS = {f"sup_{d}": d for d in set(STAFF.values())}


def setup_shipped() -> Api:
    """Deploy processes/ and create staff, supervisors, an executive and an auditor."""
    with unit_of_work() as session:
        deploy_folder(session, folder=PROCESSES, actor=SYSTEM)
    for name, department in STAFF.items():
        make_user(name, "staff", department=department)
    for name, department in SUPERVISORS.items():
        make_user(name, "supervisor", department=department)
    make_user("gm", "executive")
    make_user("audit", "auditor")
    make_user("dora", "designer")
    return Api()


def assert_round_trip(instance_id: str) -> None:
    """Restore the stored state and serialize it again: nothing may change."""
    with unit_of_work(write=False) as s:
        instance = s.get(Instance, instance_id)
        spec, subs = SPEC_CACHE.get(s, instance.version_id)
        again = dump_state(load_state(instance.workflow_state, spec, subs))
        assert json.loads(again) == json.loads(instance.workflow_state)


class Case:
    """One instance driven through the API."""

    def __init__(self, api: Api, user: str, key: str, variables: dict[str, Any]) -> None:
        self.api = api
        r = api.start(user, key, variables)
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        self.state = r.json()
        assert_round_trip(self.id)

    def open(self) -> list[dict[str, Any]]:
        return self.refresh()["open_tasks"]

    def refresh(self) -> dict[str, Any]:
        r = self.api.get(f"/instances/{self.id}", "gm")
        assert r.status_code == 200, r.text
        self.state = r.json()
        return self.state

    def task(self, element_id: str, department: str | None = None) -> dict[str, Any]:
        tasks = [
            t
            for t in self.open()
            if t["element_id"] == element_id
            and (department is None or t["department"] == department)
        ]
        assert len(tasks) == 1, (element_id, department, self.state["open_tasks"])
        return tasks[0]

    def do(
        self, element_id: str, user: str, variables: dict[str, Any], department: str | None = None
    ) -> dict[str, Any]:
        task = self.task(element_id, department)
        r = self.api.complete(user, task["id"], variables)
        assert r.status_code == 200, r.text
        assert_round_trip(self.id)
        self.state = r.json()["instance"]
        return self.state

    def history(self) -> list[dict[str, Any]]:
        return self.api.get(f"/instances/{self.id}/history", "audit").json()["events"]
