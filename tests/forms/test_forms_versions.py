"""Forms are deployed with their process version (both databases): changing only a form
deploys a new version, a case keeps reading and validating its own version's form
(API, pages), the CLI, the folder deploy and the upload treat a process and its forms
as one unit, and the migration gives versions deployed before it their forms."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from cli.main import main as flowdesk
from engine.db import get_engine, unit_of_work
from engine.definitions import content_hash, deploy_files, deploy_folder
from engine.identity import SYSTEM
from engine.migrations import alembic_config, upgrade_database
from engine.models import ProcessDefinition, ProcessVersion
from forms.registry import FORMS_DIR
from tests.conftest import PG_URL, _backends, _create_pg_database, _drop_pg_database
from tests.fixtures.api_client import Api
from tests.fixtures.factories import FIXTURES
from tests.fixtures.shipped import PROCESSES, setup_shipped
from tests.fixtures.web_client import Browser

KEY = "complaint_handling"
BPMN = PROCESSES / f"{KEY}.bpmn"
PACKAGE_FORMS = FORMS_DIR / f"{KEY}.json"
COMPLAINT = {
    "customer_name": "张伟",
    "phone": "13800138000",
    "project": "滨江壹号",
    "category": "other",
    "description": "电梯异响",
}


def _changed_forms() -> dict[str, Any]:
    """The shipped forms with a new required field, a changed label and a renamed start label."""
    definition = json.loads(PACKAGE_FORMS.read_text(encoding="utf-8"))
    changed = copy.deepcopy(definition)
    ack = changed["forms"]["acknowledge_complaint"]["fields"]
    ack.append(
        {
            "name": "call_summary",
            "type": "string",
            "required": True,
            "label": {"zh-CN": "致电摘要", "en": "Call summary"},
        }
    )
    next(f for f in ack if f["name"] == "notes")["label"]["zh-CN"] = "联系备注"
    start = changed["forms"]["start_complaint"]["fields"]
    next(f for f in start if f["name"] == "customer_name")["label"]["zh-CN"] = "业主姓名"
    return changed


def _unit(folder: Path, forms: dict[str, Any]) -> Path:
    """Write the shipped BPMN and a forms file beside it; return the BPMN's path."""
    folder.mkdir(parents=True, exist_ok=True)
    bpmn = folder / BPMN.name
    bpmn.write_bytes(BPMN.read_bytes())
    (folder / f"{KEY}.json").write_text(json.dumps(forms, ensure_ascii=False), encoding="utf-8")
    return bpmn


def _deploy_cli(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, str, str]:
    code = flowdesk(["deploy", *map(str, paths)])
    out = capsys.readouterr()
    return code, out.out, out.err


def _field_names(form: dict[str, Any] | None) -> list[str]:
    assert form is not None
    return [f["name"] for f in form["fields"]]


def _ack_task(api: Api, instance_id: str) -> dict[str, Any]:
    (task,) = [
        t
        for t in api.get(f"/instances/{instance_id}", "gm").json()["open_tasks"]
        if t["element_id"] == "acknowledge_complaint"
    ]
    return task


def test_a_case_keeps_its_versions_form_after_only_a_form_changed(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = setup_shipped()
    old = api.start("cs1", KEY, COMPLAINT)
    assert old.status_code == 201, old.text
    assert old.json()["version"] == 1
    old_task = _ack_task(api, old.json()["id"])

    bpmn = _unit(tmp_path / "unit", _changed_forms())
    assert _deploy_cli(capsys, bpmn) == (0, f"{KEY}: version 2 deployed\n", "")
    assert _deploy_cli(capsys, bpmn) == (0, f"{KEY}: version 2 unchanged\n", "")
    versions = api.get(f"/processes/{KEY}/versions", "dora").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["content_hash"] != versions[1]["content_hash"]
    with unit_of_work(write=False) as s:
        rows = s.scalars(select(ProcessVersion).order_by(ProcessVersion.id)).all()
        by_version = {
            v.version: v for v in rows if s.get(ProcessDefinition, v.definition_id).key == KEY
        }
        assert by_version[1].content == by_version[2].content  # only the forms changed
        assert json.loads(by_version[1].forms_json) == json.loads(PACKAGE_FORMS.read_text())
        assert json.loads(by_version[2].forms_json) == _changed_forms()

    # The version-1 task shows and validates version 1's form.
    read = api.get(f"/tasks/{old_task['id']}", "cs1").json()
    assert _field_names(read["form"]) == ["contacted", "notes"]
    done = api.complete("cs1", old_task["id"], {"contacted": True, "notes": "已回电"})
    assert done.status_code == 200, done.text
    new_case = api.start("cs1", KEY, COMPLAINT).json()
    assert new_case["version"] == 2

    # A new case runs on version 2 and its form.
    new_task = _ack_task(api, new_case["id"])
    form = api.get(f"/tasks/{new_task['id']}", "cs1").json()["form"]
    assert _field_names(form) == ["contacted", "notes", "call_summary"]
    missing = api.complete("cs1", new_task["id"], {"contacted": True})
    assert missing.status_code == 422
    assert [p["field"] for p in missing.json()["detail"]] == ["call_summary"]
    ok = api.complete("cs1", new_task["id"], {"contacted": True, "call_summary": "已致电"})
    assert ok.status_code == 200, ok.text
    start_form = api.get(f"/processes/{KEY}/form", "cs1").json()
    assert start_form["version"] == 2
    assert start_form["form"]["fields"][0]["label"]["zh-CN"] == "业主姓名"


def test_pages_show_and_validate_the_cases_own_version(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = setup_shipped()
    old = api.start("cs1", KEY, COMPLAINT).json()
    assert _deploy_cli(capsys, _unit(tmp_path / "unit", _changed_forms()))[0] == 0
    new = api.start("cs1", KEY, COMPLAINT).json()
    browser = Browser()
    try:
        browser.sign_in("cs1")
        old_page = browser.get(f"/tasks/{_ack_task(api, old['id'])['id']}").text
        new_page = browser.get(f"/tasks/{_ack_task(api, new['id'])['id']}").text
        assert "致电摘要" not in old_page and "联系备注" not in old_page
        assert "致电摘要" in new_page and "联系备注" in new_page
        old_case = browser.get(f"/cases/{old['id']}").text
        new_case = browser.get(f"/cases/{new['id']}").text
        assert "客户姓名" in old_case and "业主姓名" not in old_case
        assert "业主姓名" in new_case
        # The page completion of the version-1 task does not demand the new field.
        done = browser.post(
            f"/tasks/{_ack_task(api, old['id'])['id']}/complete", {"contacted": "true"}
        )
        assert done.status_code == 303, done.text
        refused = browser.post(
            f"/tasks/{_ack_task(api, new['id'])['id']}/complete", {"contacted": "true"}
        )
        assert refused.status_code == 422 and "致电摘要" in refused.text
    finally:
        browser.close()


def test_the_folder_and_the_upload_deploy_a_process_with_its_forms(
    db_url: str, tmp_path: Path
) -> None:
    api = setup_shipped()
    changed = _changed_forms()
    folder = tmp_path / "processes"
    _unit(folder, changed)
    (folder / "complaint_routing.dmn").write_bytes(
        (PROCESSES / "complaint_routing.dmn").read_bytes()
    )
    with unit_of_work() as s:
        first = {
            r.key: (r.version, r.created) for r in deploy_folder(s, folder=folder, actor=SYSTEM)
        }
    assert first == {KEY: (2, True), "complaint_routing": (1, False)}
    with unit_of_work() as s:
        again = [r.created for r in deploy_folder(s, folder=folder, actor=SYSTEM)]
    assert again == [False, False]

    # The upload without a forms field takes the forms/ folder's: back to version 1's pair.
    upload = api.deploy("dora", BPMN.name, BPMN.read_bytes())
    assert upload.status_code == 201 and upload.json()["version"] == 3, upload.text
    forms = json.dumps(changed).encode()
    with_forms = api.post(
        "/processes",
        "dora",
        files={"file": (BPMN.name, BPMN.read_bytes()), "forms": ("ch.json", forms)},
    )
    assert with_forms.status_code == 201 and with_forms.json()["version"] == 4
    same = api.post(
        "/processes",
        "dora",
        files={"file": (BPMN.name, BPMN.read_bytes()), "forms": ("ch.json", forms)},
    )
    assert same.status_code == 200 and same.json()["processes"][0]["created"] is False
    other = json.dumps({**changed, "process": "lead_follow_up"}).encode()
    refused = api.post(
        "/processes",
        "dora",
        files={"file": (BPMN.name, BPMN.read_bytes()), "forms": ("lead.json", other)},
    )
    assert refused.status_code == 422
    assert "lead_follow_up" in refused.json()["detail"][0]["message"]
    assert [v["version"] for v in api.get(f"/processes/{KEY}/versions", "dora").json()] == [
        1,
        2,
        3,
        4,
    ]


def test_a_bad_forms_file_beside_the_process_deploys_nothing(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _changed_forms()
    bad["forms"]["acknowledge_complaint"]["fields"][0]["type"] = "colour"
    bpmn = _unit(tmp_path / "unit", bad)
    dmn = PROCESSES / "complaint_routing.dmn"
    code, out, err = _deploy_cli(capsys, dmn, bpmn)
    assert (code, out) == (1, "")
    assert f"{tmp_path / 'unit' / (KEY + '.json')}: -: form acknowledge_complaint:" in err
    assert "unknown type 'colour'" in err
    (tmp_path / "unit" / f"{KEY}.json").write_text("{not json", encoding="utf-8")
    assert _deploy_cli(capsys, dmn, bpmn)[0] == 1
    with unit_of_work(write=False) as s:
        assert s.scalars(select(ProcessVersion)).all() == []
    # A process without any forms file deploys as before: its hash is the file's own.
    plain = FIXTURES / "processes" / "two_lane.bpmn"
    with unit_of_work() as s:
        deploy_files(s, files=[(plain.name, plain.read_bytes())], actor=SYSTEM)
        version = s.scalars(select(ProcessVersion)).one()
        assert version.forms_json is None
        assert version.content_hash == hashlib.sha256(plain.read_bytes()).hexdigest()


@pytest.fixture(params=_backends())
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated only to revision 0004."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.db'}"
    else:
        assert PG_URL is not None
        url = _create_pg_database(PG_URL)
    command.upgrade(alembic_config(url), "0004")
    yield url
    get_engine(url).dispose()
    if request.param == "postgresql":
        _drop_pg_database(url)


def test_the_migration_gives_earlier_versions_the_current_forms(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = BPMN.read_text(encoding="utf-8")
    plain = (FIXTURES / "processes" / "two_lane.bpmn").read_text(encoding="utf-8")
    with get_engine(fresh_url).begin() as conn:
        for key, content in [(KEY, shipped), ("two_lane", plain)]:
            conn.execute(
                text(
                    "INSERT INTO process_definition (key, kind, created_at) "
                    "VALUES (:key, 'bpmn', CURRENT_TIMESTAMP)"
                ),
                {"key": key},
            )
            conn.execute(
                text(
                    "INSERT INTO process_version (definition_id, version, name, filename, "
                    "content, content_hash, deployed_at) SELECT id, 1, :name, :file, :content, "
                    ":hash, CURRENT_TIMESTAMP FROM process_definition WHERE key = :key"
                ),
                {
                    "key": key,
                    "name": key,
                    "file": f"{key}.bpmn",
                    "content": content,
                    "hash": hashlib.sha256(content.encode()).hexdigest(),
                },
            )
    upgrade_database(fresh_url)
    with get_engine(fresh_url).connect() as conn:
        rows = {
            row.key: row
            for row in conn.execute(
                text(
                    "SELECT d.key, v.forms_json, v.content_hash FROM process_version v "
                    "JOIN process_definition d ON d.id = v.definition_id"
                )
            )
        }
    package = PACKAGE_FORMS.read_bytes()
    assert rows[KEY].forms_json == package.decode("utf-8")
    assert rows[KEY].content_hash == content_hash(shipped.encode(), package)
    assert rows["two_lane"].forms_json is None
    assert rows["two_lane"].content_hash == hashlib.sha256(plain.encode()).hexdigest()

    # The folder as it is now deploys as unchanged on the upgraded database.
    monkeypatch.setenv("FLOWDESK_DATABASE_URL", fresh_url)
    from engine.config import get_settings

    get_settings.cache_clear()
    try:
        with unit_of_work() as s:
            results = {r.key: r.created for r in deploy_folder(s, folder=PROCESSES, actor=SYSTEM)}
    finally:
        get_settings.cache_clear()
    assert results[KEY] is False and results["lead_follow_up"] is True
