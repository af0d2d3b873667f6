"""Runaway BPMN code: a step running over 2 s or building over 1 MB fails with a 422,
writes nothing, and the server keeps answering meanwhile."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock, runtime
from engine.bpmn.script_engine import RestrictedEnvironment
from engine.bpmn.script_limits import ScriptLimitExceeded
from engine.db import unit_of_work
from engine.models import Instance, Task
from engine.rounds import run_round
from tests.engine.test_secret_key import _Server
from tests.fixtures.api_client import Api
from tests.fixtures.factories import FIXTURES, deploy_fixture, make_user

GUARD = (FIXTURES / "processes" / "script_guard.bpmn").read_text()
ENV = RestrictedEnvironment()
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _with_condition(condition: str) -> bytes:
    return GUARD.replace("total &gt; 100", condition).encode()


def _with_script(script: str) -> bytes:
    return GUARD.replace("total = amount * 2", script).encode()


@pytest.fixture
def api(db_url: str) -> Api:
    make_user("dora", "designer")
    make_user("eng", "staff", department="engineering")
    return Api()


def _complete_fails(api: Api, bpmn: bytes, element_id: str, words: str) -> float:
    """Deploy, start, complete the first task; check the 422 and that nothing was written."""
    r = api.deploy("dora", "guard.bpmn", bpmn)
    assert r.status_code == 201, r.text
    started = api.start("eng", "script_guard").json()
    [task] = started["open_tasks"]
    history_before = api.get(f"/instances/{started['id']}/history", "dora").json()

    begun = time.monotonic()
    result = api.complete("eng", task["id"], {"amount": 1})
    took = time.monotonic() - begun

    assert result.status_code == 422, result.text
    [problem] = result.json()["detail"]
    assert problem["element_id"] == element_id
    assert set(problem) >= {"element_id", "element_name", "message"}
    assert words in problem["message"], problem
    assert api.get(f"/tasks/{task['id']}", "eng").json()["state"] == "open"
    assert api.get(f"/instances/{started['id']}/history", "dora").json() == history_before
    return took


def test_a_condition_summing_a_huge_range_fails_its_gateway_at_once(api: Api) -> None:
    took = _complete_fails(
        api, _with_condition("sum(range(10**11)) &gt; 0"), "gw", "range() is limited"
    )
    assert took < 3


def test_a_script_building_a_100_mb_text_fails_before_building_it(api: Api) -> None:
    took = _complete_fails(api, _with_script("x = 'a' * 10**8"), "compute", "larger than 1 MB")
    assert took < 3


def test_an_endless_loop_fails_after_two_seconds(api: Api) -> None:
    took = _complete_fails(
        api, _with_script("while True:\n    pass"), "compute", "longer than 2 seconds"
    )
    assert 1.9 < took < 4


def test_a_list_built_in_a_loop_beyond_1_mb_fails(api: Api) -> None:
    script = "x = []\nfor i in range(20000):\n    x.append('a' * 100)"
    took = _complete_fails(api, _with_script(script), "compute", "'x' is larger than 1 MB")
    assert took < 3


def test_an_endless_loop_that_catches_the_timeout_still_fails(api: Api) -> None:
    script = "try:\n    while True:\n        pass\nexcept Exception:\n    pass\ntotal = 1"
    _complete_fails(api, _with_script(script), "compute", "longer than 2 seconds")


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("x = 10 ** 10 ** 10", "number would be too large"),
        ("x = 1 << 10**9", "number would be too large"),
        ("x = 'ab'\nfor i in range(40):\n    x = x + x", "larger than 1 MB"),
        ("x = 'ab'\nfor i in range(40):\n    x += x", "larger than 1 MB"),
        ("x = [1]\nfor i in range(40):\n    x.extend(x)", "larger than 1 MB"),
        ("x = ','.join(['a' * 1000] * 10000)", "larger than 1 MB"),
        ("x = str.join(',', ['a' * 10**5] * 100)", "larger than 1 MB"),
        ("x = 'a'.ljust(10**9)", "larger than 1 MB"),
        ("x = ('a' * 10**5).replace('a', 'b' * 1000)", "larger than 1 MB"),
        ("x = f'{1:>999999999}'", "larger than 1 MB"),
        ("x = '%999999999d' % 1", "larger than 1 MB"),
        ("x = '%(a)999999999s' % {'a': 1}", "larger than 1 MB"),
        ("x = 'x'.encode() * 10**9", "larger than 1 MB"),
        ("x = [0] * 10**9", "larger than 1 MB"),
        ("x = pow(3, 2**200000, 10**1000)", "number would be too large"),
        ("x = sum([[1] * 1000] * 1000, [])", "larger than 1 MB"),
        ("a = [1]\nfor i in range(40):\n    a = [a, a]", "'a' is larger than 1 MB"),
        ("a = [1]\nfor i in range(40):\n    a = [a, a]\nx = str(a)", "larger than 1 MB"),
        ("a = [1]\nfor i in range(40):\n    a = [a, a]\nx = repr(a)", "larger than 1 MB"),
        ("a = [1]\nfor i in range(40):\n    a = [a, a]\nprint(a)", "larger than 1 MB"),
        ("a = [1]\nfor i in range(40):\n    a = [a, a]\nx = f'{a}'", "larger than 1 MB"),
        ("while True:\n    print('a' * 1000)", "larger than 1 MB"),
        ("x = []\nwhile True:\n    x.append('a' * 1000)", "built more than"),
        ("x = []\nwhile True:\n    x.append(list(range(10**6)))", "too much memory"),
    ],
)
def test_growing_operations_are_refused_before_they_build(source: str, words: str) -> None:
    begun = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match=words):
        ENV.execute(source, {})
    assert time.monotonic() - begun < 1.5


@pytest.mark.parametrize(
    "source",
    [
        "def f(n):\n    return 0 if n == 0 else f(n - 1) + f(n - 1)\nx = f(60)",
        "f = lambda g, n: 0 if n == 0 else g(g, n - 1) + g(g, n - 1)\nx = f(f, 60)",
        "x = [i for i in range(10**6) for j in range(10**6)]",
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except Exception:\n        pass",
    ],
)
def test_python_level_work_stops_at_the_deadline(source: str) -> None:
    begun = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="longer than 2 seconds"):
        ENV.execute(source, {})
    assert time.monotonic() - begun < 2.5


def test_ordinary_code_keeps_its_meaning() -> None:
    context: dict[str, Any] = {"items": ["a", "b"], "amount": 60}
    ENV.execute(
        "x = ', '.join(items)\ny = str.join('-', items)\nz = 'ab'.rjust(5)\n"
        "w = f'{3.14159:.2f} {items!r}'\nv = 'n 12345678: %s-%03d' % ('a', 3)\n"
        "l = [1]\nl.extend([2])\n"
        "l *= 2\nq = sum([[1], [2]], [])\np = 2 ** 10 + (1 << 4)\nt = 'a' * 900_000\n"
        "r = sorted(map(lambda n: -n, range(5)))\n"
        "u = str(5) + str(b'ab', 'utf-8') + str.upper('a') + repr([1])\n"
        "k = isinstance(u, str) and isinstance(3, (str, int))",
        context,
    )
    assert context["x"] == "a, b" and context["y"] == "a-b" and context["z"] == "   ab"
    assert context["w"] == "3.14 ['a', 'b']" and context["v"] == "n 12345678: a-003"
    assert context["l"] == [1, 2, 1, 2] and context["q"] == [1, 2] and context["p"] == 1040
    assert len(context["t"]) == 900_000 and context["r"] == [-4, -3, -2, -1, 0]
    assert context["u"] == "5abA[1]" and type(context["u"]) is str and context["k"] is True
    assert ENV.evaluate("amount * 2 > 100 and len(items) + 1 == 3", context) is True


def _post(url: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.load(response)
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.load(exc)


def test_the_server_answers_while_a_runaway_script_runs(
    api: Api, db_url: str, tmp_path: Path
) -> None:
    r = api.deploy("dora", "guard.bpmn", _with_script("while True:\n    pass"))
    assert r.status_code == 201, r.text
    [task] = api.start("eng", "script_guard").json()["open_tasks"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update(
        FLOWDESK_DATABASE_URL=db_url,
        FLOWDESK_ROUND_SECONDS="3600",
        FLOWDESK_VAR_DIR=str(tmp_path / "var"),
    )
    if os.environ.get("FLOWDESK_SECRET_KEY"):
        env["FLOWDESK_SECRET_KEY"] = os.environ["FLOWDESK_SECRET_KEY"]
    server = _Server(env, tmp_path / "serve.log")
    try:
        token = server.token("eng", "secret-pass")
        outcome: dict[str, Any] = {}

        def complete() -> None:
            begun = time.monotonic()
            url = server.url(f"/api/v1/tasks/{task['id']}/complete")
            outcome["status"], outcome["body"] = _post(url, token, {"variables": {"amount": 1}})
            outcome["took"] = time.monotonic() - begun

        runaway = threading.Thread(target=complete)
        runaway.start()
        time.sleep(0.3)
        probes = []
        while runaway.is_alive() and len(probes) < 20:
            begun = time.monotonic()
            with urllib.request.urlopen(server.url("/healthz"), timeout=5) as response:
                assert response.status == 200
            probes.append(time.monotonic() - begun)
            time.sleep(0.1)
        runaway.join(timeout=30)
        assert outcome["status"] == 422, outcome
        assert outcome["body"]["detail"][0]["element_id"] == "compute"
        assert 1.9 < outcome["took"] < 5
        assert len(probes) >= 5 and max(probes) < 1, probes
    finally:
        server.stop()


def test_a_runaway_script_after_a_timer_fails_only_its_instance(db_url: str) -> None:
    prop = make_user("pete", "staff", department="property")
    deploy_fixture("timer_script.bpmn")
    with clock.frozen_at(T0):
        ids = []
        for runaway in (True, False):
            with unit_of_work() as session:
                started = runtime.start_instance(
                    session, process_key="timer_script", variables={"runaway": runaway}, actor=prop
                )
                ids.append(started.instance.id)
    begun = time.monotonic()
    result = run_round(T0 + timedelta(hours=2))
    assert time.monotonic() - begun < 5
    assert (result.timers_fired, result.errors) == (1, 1)
    with unit_of_work(write=False) as session:
        stuck, fine = (session.get(Instance, i) for i in ids)
        assert stuck.status == "error" and "longer than 2 seconds" in stuck.error
        assert "compute" in stuck.error
        assert "done" not in stuck.variables
        assert fine.status == "running" and fine.variables["done"] is True
        [task] = session.scalars(select(Task).where(Task.instance_id == fine.id))
        assert task.element_id == "check" and task.state == "open"
