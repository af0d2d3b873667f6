"""Hostile BPMN through the API: escapes in conditions and scripts never run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.api_client import Api
from tests.fixtures.factories import FIXTURES, make_user

GUARD = (FIXTURES / "processes" / "script_guard.bpmn").read_text()


@pytest.fixture
def api(db_url: str) -> Api:
    make_user("dora", "designer")
    make_user("eng", "staff", department="engineering")
    return Api()


def _with_condition(condition: str) -> bytes:
    return GUARD.replace("total &gt; 100", condition).encode()


def _with_script(script: str) -> bytes:
    return GUARD.replace("total = amount * 2", script).encode()


@pytest.mark.parametrize(
    "condition",
    [
        "__import__('os').system('touch {marker}')",
        "().__class__.__base__.__subclasses__()",
        "[c for c in ().__class__.__mro__[1].__subclasses__() if c.__name__ == 'Popen']",
    ],
)
def test_escaping_condition_is_refused_at_deploy(api: Api, tmp_path: Path, condition: str) -> None:
    marker = tmp_path / "pwned"
    r = api.deploy("dora", "guard.bpmn", _with_condition(condition.format(marker=marker)))
    assert r.status_code == 422, r.text
    problems = r.json()["detail"]
    assert any(p["element_id"] == "f4" and "_" in p["message"] for p in problems), problems
    assert api.get("/processes", "dora").json() == []
    assert not marker.exists()


def test_escaping_script_is_refused_at_deploy(api: Api) -> None:
    script = "total = [c for c in ().__class__.__base__.__subclasses__()]"
    r = api.deploy("dora", "guard.bpmn", _with_script(script))
    assert r.status_code == 422
    assert any(p["element_id"] == "compute" for p in r.json()["detail"])


def test_condition_calling_os_system_fails_cleanly_at_run_time(api: Api, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    r = api.deploy("dora", "guard.bpmn", _with_condition(f"os.system('touch {marker}') == 0"))
    assert r.status_code == 201, r.text
    [task] = api.start("eng", "script_guard").json()["open_tasks"]
    result = api.complete("eng", task["id"], {"amount": 1})
    assert result.status_code == 422
    [problem] = result.json()["detail"]
    assert "os" in problem["message"] and "not defined" in problem["message"]
    assert not marker.exists()
    assert api.get(f"/tasks/{task['id']}", "eng").json()["state"] == "open"


def test_script_defining_a_class_fails_cleanly(api: Api) -> None:
    script = "total = amount * 2\nclass Box:\n    pass\nodd = Box()"
    r = api.deploy("dora", "guard.bpmn", _with_script(script))
    assert r.status_code == 201, r.text
    [task] = api.start("eng", "script_guard").json()["open_tasks"]
    result = api.complete("eng", task["id"], {"amount": 1})
    assert result.status_code == 422, result.text
    assert result.json()["detail"][0]["element_id"] == "compute"
    assert api.get(f"/tasks/{task['id']}", "eng").json()["state"] == "open"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" name="&x;" isExecutable="true"/>
</bpmn:definitions>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY e "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" name="&e;" isExecutable="true"/>
</bpmn:definitions>"""


@pytest.mark.parametrize("content", [XXE, BOMB, b"<not xml", b"\x00\x01binary", b""])
def test_hostile_or_broken_xml_gets_a_clean_422(api: Api, content: bytes) -> None:
    r = api.deploy("dora", "hostile.bpmn", content)
    assert r.status_code == 422, r.text
    [problem] = r.json()["detail"]
    assert problem["message"] and "root:" not in problem["message"]
    assert api.get("/processes", "dora").json() == []


def test_oversized_upload_is_refused(api: Api) -> None:
    r = api.deploy("dora", "big.bpmn", b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>")
    assert r.status_code == 422
    assert "larger than" in r.json()["detail"][0]["message"]
