"""The two-lane process driven through the HTTP API: queues, roles, claims, loops, history."""

from __future__ import annotations

import pytest

from tests.fixtures.api_client import Api
from tests.fixtures.factories import FIXTURES, make_user

TWO_LANE = (FIXTURES / "processes" / "two_lane.bpmn").read_bytes()


@pytest.fixture
def api(db_url: str) -> Api:
    make_user("dora", "designer")
    make_user("cathy", "staff", department="customer_service")
    make_user("carl", "staff", department="customer_service")
    make_user("eric", "staff", department="engineering")
    make_user("sam", "staff", department="sales")
    make_user("susan", "supervisor", department="engineering")
    make_user("ada", "auditor")
    make_user("ed", "executive")
    api = Api()
    r = api.deploy("dora", "two_lane.bpmn", TWO_LANE)
    assert r.status_code == 201, r.text
    return api


def test_token_and_bearer_rules(api: Api) -> None:
    bad = api.client.post("/api/v1/auth/token", data={"username": "cathy", "password": "nope"})
    assert bad.status_code == 401
    assert api.client.get("/api/v1/processes").status_code == 401
    garbage = api.client.get("/api/v1/processes", headers={"Authorization": "Bearer xyz"})
    assert garbage.status_code == 401
    assert api.client.get("/healthz").status_code == 200


def test_deploy_rules_and_versions(api: Api) -> None:
    assert api.deploy("cathy", "two_lane.bpmn", TWO_LANE).status_code == 403
    same = api.deploy("dora", "two_lane.bpmn", TWO_LANE)
    assert same.status_code == 200 and same.json()["version"] == 1
    changed = TWO_LANE.replace(b"Two-lane review", b"Two-lane review v2")
    r = api.deploy("dora", "two_lane.bpmn", changed)
    assert r.status_code == 201 and r.json()["version"] == 2
    listed = api.get("/processes", "cathy").json()
    assert [(p["key"], p["version"], p["name"]) for p in listed] == [
        ("two_lane", 2, "Two-lane review v2")
    ]
    versions = api.get("/processes/two_lane/versions", "ada").json()
    assert [v["version"] for v in versions] == [1, 2]
    xml = api.get("/processes/two_lane/versions/1/bpmn", "ada")
    assert xml.status_code == 200 and b"Two-lane review<" not in changed
    assert xml.text.encode() == TWO_LANE.decode().encode()
    assert api.get("/processes/nope/versions", "ada").status_code == 404


def test_queues_claims_loop_and_history(api: Api) -> None:
    r = api.start("cathy", "two_lane", {"amount": 3}, business_key="C-1")
    assert r.status_code == 201, r.text
    instance = r.json()
    assert instance["status"] == "running" and instance["version"] == 1
    [intake] = instance["open_tasks"]
    assert (intake["element_id"], intake["department"], intake["assignee"]) == (
        "intake",
        "customer_service",
        None,
    )

    assert [t["id"] for t in api.tasks("carl", scope="department")] == [intake["id"]]
    assert api.tasks("eric", scope="department") == []
    assert api.get(f"/tasks/{intake['id']}", "eric").status_code == 403
    assert api.post(f"/tasks/{intake['id']}/claim", "eric").status_code == 403
    assert api.post(f"/tasks/{intake['id']}/claim", "ada").status_code == 403

    assert api.post(f"/tasks/{intake['id']}/claim", "cathy").status_code == 200
    assert api.post(f"/tasks/{intake['id']}/claim", "carl").status_code == 409
    assert api.complete("carl", intake["id"]).status_code == 409
    assert api.post(f"/tasks/{intake['id']}/unclaim", "carl").status_code == 409
    assert [t["id"] for t in api.tasks("cathy", scope="mine")] == [intake["id"]]

    done = api.complete("cathy", intake["id"], {"note": "called back"})
    assert done.status_code == 200, done.text
    assert done.json()["task"]["state"] == "completed"
    assert done.json()["task"]["completed_by"] == "cathy"
    [review] = done.json()["instance"]["open_tasks"]
    assert review["department"] == "engineering"
    assert api.complete("cathy", intake["id"]).status_code == 409

    # Not approved: the loop goes back to intake in customer service.
    looped = api.complete("eric", review["id"], {"approved": False})
    assert looped.status_code == 200, looped.text
    [intake2] = looped.json()["instance"]["open_tasks"]
    assert intake2["element_id"] == "intake" and intake2["id"] != intake["id"]
    assert api.complete("carl", intake2["id"]).status_code == 200
    [review2] = api.tasks("eric", scope="department")
    final = api.complete("eric", review2["id"], {"approved": True})
    assert final.json()["instance"]["status"] == "completed"
    assert final.json()["instance"]["variables"]["approved"] is True
    assert final.json()["instance"]["variables"]["note"] == "called back"

    history = api.get(f"/instances/{instance['id']}/history", "ada").json()["events"]
    assert [(e["type"], e["actor"], e["element_id"]) for e in history] == [
        ("instance_started", "cathy", "start"),
        ("task_created", "cathy", "intake"),
        ("task_claimed", "cathy", "intake"),
        ("task_completed", "cathy", "intake"),
        ("task_created", "cathy", "review"),
        ("task_completed", "eric", "review"),
        ("task_created", "eric", "intake"),
        ("task_completed", "carl", "intake"),
        ("task_created", "carl", "review"),
        ("task_completed", "eric", "review"),
        ("instance_completed", "eric", None),
    ]
    assert history[3]["data"]["variables"] == {"note": "called back"}
    seqs = [e["seq"] for e in history]
    assert seqs == sorted(seqs)


def test_assign_comment_cancel_rules(api: Api) -> None:
    instance = api.start("cathy", "two_lane").json()
    [intake] = instance["open_tasks"]
    api.complete("cathy", intake["id"])
    [review] = api.tasks("eric", scope="department")
    assert (
        api.post(f"/tasks/{review['id']}/assign", "eric", json={"username": "eric"}).status_code
        == 403
    )
    assert (
        api.post(f"/tasks/{review['id']}/assign", "susan", json={"username": "sam"}).status_code
        == 422
    )
    r = api.post(f"/tasks/{review['id']}/assign", "susan", json={"username": "eric"})
    assert r.status_code == 200 and r.json()["assignee"] == "eric"
    assert (
        api.post(
            f"/tasks/{review['id']}/comments", "eric", json={"text": "on site at 3"}
        ).status_code
        == 201
    )
    assert api.post(f"/tasks/{review['id']}/comments", "ada", json={"text": "x"}).status_code == 403
    assert (
        api.post(f"/tasks/{review['id']}/comments", "eric", json={"text": " "}).status_code == 422
    )
    comments = api.get(f"/tasks/{review['id']}/comments", "susan").json()["items"]
    assert [c["text"] for c in comments] == ["on site at 3"]
    assert (
        api.post(f"/instances/{instance['id']}/cancel", "eric", json={"reason": "dup"}).status_code
        == 403
    )
    r = api.post(f"/instances/{instance['id']}/cancel", "susan", json={"reason": "duplicate"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert api.get(f"/tasks/{review['id']}", "eric").json()["state"] == "cancelled"
    types = [
        e["type"] for e in api.get(f"/instances/{instance['id']}/history", "ada").json()["events"]
    ]
    assert types[-4:] == ["task_assigned", "task_commented", "task_cancelled", "instance_cancelled"]


def test_scopes_and_reads_by_role(api: Api) -> None:
    instance = api.start("cathy", "two_lane").json()
    assert api.get("/tasks", "cathy", params={"scope": "all"}).status_code == 403
    assert len(api.tasks("ed", scope="all")) == 1
    assert len(api.tasks("ada", scope="all")) == 1
    assert api.get(f"/instances/{instance['id']}", "sam").status_code == 403
    assert api.get(f"/instances/{instance['id']}", "carl").status_code == 200
    assert api.start("ada", "two_lane").status_code == 403
    assert api.start("cathy", "missing").status_code == 404
    assert (
        api.post("/processes/two_lane/instances", "cathy", json={"variables": [1]}).status_code
        == 422
    )
    assert api.get("/tasks/nope", "cathy").status_code == 404
    assert api.get("/audit/verify", "cathy").status_code == 403
    assert api.get("/audit/verify", "ada").json() == {"ok": True, "events": 3}
    events = api.get("/audit/events", "ada", params={"type": "definition_deployed"}).json()
    assert [e["element_id"] for e in events["items"]] == ["two_lane"]
