"""Three simultaneous completions of one task: exactly one wins, the rest get 409."""

from __future__ import annotations

import threading

from tests.fixtures.api_client import Api
from tests.fixtures.factories import FIXTURES, make_user


def test_three_way_completion_race(db_url: str) -> None:
    make_user("dora", "designer")
    for name in ("c1", "c2", "c3"):
        make_user(name, "staff", department="customer_service")
    api = Api()
    assert (
        api.deploy(
            "dora", "two_lane.bpmn", (FIXTURES / "processes" / "two_lane.bpmn").read_bytes()
        ).status_code
        == 201
    )
    for name in ("c1", "c2", "c3"):
        api.login(name)
    for round_no in range(3):
        instance = api.start("c1", "two_lane").json()
        [task] = instance["open_tasks"]
        barrier = threading.Barrier(3)
        codes: dict[str, int] = {}

        def complete(
            user: str, task_id: str, barrier: threading.Barrier, codes: dict[str, int]
        ) -> None:
            barrier.wait()
            codes[user] = api.complete(user, task_id, {"by": user}).status_code

        threads = [
            threading.Thread(target=complete, args=(u, task["id"], barrier, codes))
            for u in ("c1", "c2", "c3")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes.values()) == [200, 409, 409], (round_no, codes)
        winner = next(u for u, c in codes.items() if c == 200)
        state = api.get(f"/instances/{instance['id']}", "c1").json()
        [review] = state["open_tasks"]
        assert review["element_id"] == "review"
        assert state["variables"]["by"] == winner
        history = api.get(f"/instances/{instance['id']}/history", "c1").json()["events"]
        completed = [e for e in history if e["type"] == "task_completed"]
        assert [e["actor"] for e in completed] == [winner]
        assert [e["type"] for e in history].count("task_created") == 2
    assert api.get("/audit/verify", "dora").status_code == 403
