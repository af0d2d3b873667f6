"""Starting a case and completing a task answer from the endpoint's own thread
(api/answers.py): one thread hand-off for the caller's token and one for the endpoint,
none more for FastAPI to validate and serialize the model; the JSON and the documented
shapes are the schemas' own."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from anyio._backends import _asyncio as anyio_asyncio

from api.schemas.instances import InstanceRead, TaskCompletion
from tests.fixtures.api_client import Api
from tests.fixtures.factories import deploy_fixture, make_user


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """What each request ran on a worker thread, by function name."""
    seen: Counter[str] = Counter()
    backend = anyio_asyncio.AsyncIOBackend
    real = backend.run_sync_in_worker_thread.__func__  # type: ignore[attr-defined]

    async def spy(cls: Any, func: Any, args: Any, *rest: Any, **kw: Any) -> Any:
        inner = getattr(func, "func", func)  # FastAPI hands over functools.partials
        seen[getattr(inner, "__name__", repr(inner))] += 1
        return await real(cls, func, args, *rest, **kw)

    monkeypatch.setattr(backend, "run_sync_in_worker_thread", classmethod(spy))
    yield seen


def test_start_and_complete_hand_off_to_a_thread_twice_each(
    db_url: str, hand_offs: Counter[str]
) -> None:
    make_user("cathy", "staff", department="customer_service")
    deploy_fixture("two_lane.bpmn")
    api = Api()
    assert api.get("/tasks", "cathy").status_code == 200  # the token issued first
    hand_offs.clear()
    started = api.start("cathy", "two_lane")
    assert started.status_code == 201, started.text
    assert hand_offs == Counter({"current_actor": 1, "_run_sync_endpoint": 1})
    hand_offs.clear()
    [intake] = started.json()["open_tasks"]
    done = api.complete("cathy", intake["id"], {"note": "已回电"})
    assert done.status_code == 200, done.text
    assert hand_offs == Counter({"current_actor": 1, "_run_sync_endpoint": 1})
    assert done.headers["content-type"] == "application/json"


def test_the_answers_are_the_schemas_json(db_url: str) -> None:
    make_user("cathy", "staff", department="customer_service")
    deploy_fixture("two_lane.bpmn")
    api = Api()
    started = api.start("cathy", "two_lane")
    shape = InstanceRead.model_validate(started.json())
    assert json.loads(shape.model_dump_json(by_alias=True)) == started.json()
    [intake] = started.json()["open_tasks"]
    done = api.complete("cathy", intake["id"], {"note": "已回电"}).json()
    completion = TaskCompletion.model_validate(done)
    assert json.loads(completion.model_dump_json(by_alias=True)) == done
    assert done["task"]["id"] == done["id"] == intake["id"]
    assert done["instance"]["variables"]["note"] == "已回电"
    assert done["completed_at"].endswith("+00:00")  # the Instant's own text, not "Z"


def test_the_openapi_document_still_names_their_shapes(db_url: str) -> None:
    doc = Api().client.get("/api/v1/openapi.json").json()
    start = doc["paths"]["/api/v1/processes/{key}/instances"]["post"]["responses"]
    complete = doc["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]["responses"]
    assert start["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InstanceRead"
    }
    assert complete["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TaskCompletion"
    }
