"""The task page's comments and drafts over HTTP (both databases): a comment or a draft
keeps what was typed in the form (kept as the task's draft, shown after the redirect,
on a reload and on the next visit), comments show the person's name and the local
time, and the draft follows the rules of who may work the task."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from engine.db import unit_of_work
from engine.identity import create_user
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser
from tests.processes.test_complaint_handling import complaint

SH = ZoneInfo("Asia/Shanghai")
FINDINGS = "主卧顶板渗水，需更换防水层"


@pytest.fixture
def survey(db_url: str):  # type: ignore[no-untyped-def]
    """A complaint at its site survey, and engineer 王工 (wang) signed in on its page."""
    api = setup_shipped()
    with unit_of_work() as session:
        create_user(
            session,
            username="wang",
            password="secret-pass",
            roles=["staff"],
            department="engineering",
            display_name="王工",
        )
    clock.set_global_time(datetime(2026, 11, 23, 10, 5, tzinfo=SH))
    case = Case(api, "cs1", "complaint_handling", complaint("quality"))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    task = case.task("site_survey")
    browsers: list[Browser] = []

    def browser(user: str) -> Browser:
        b = Browser()
        browsers.append(b)
        b.sign_in(user)
        b.get(f"/tasks/{task['id']}")
        return b

    yield api, case, task["id"], browser
    for b in browsers:
        b.close()


def _typed(page: str) -> tuple[str, list[str]]:
    """The findings box and the ticked departments as the page shows them."""
    found = re.search(r'<textarea id="f_findings"[^>]*>(.*?)</textarea>', page, re.S)
    ticked = re.findall(r'name="departments" value="(\w+)" checked', page)
    return (found.group(1) if found else ""), ticked


def _drafts(api: Api, case: Case) -> list[dict]:
    return [e for e in case.history() if e["type"] == "task_draft_saved"]


def test_a_comment_keeps_what_was_typed_in_the_form(survey) -> None:  # type: ignore[no-untyped-def]
    api, case, task_id, browser = survey
    wang = browser("wang")
    posted = wang.post(
        f"/tasks/{task_id}/comments",
        {
            "with_form": "1",
            "findings": FINDINGS,
            "departments": ["engineering", "property"],
            "comment_text": "已约业主明早九点上门",
        },
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/tasks/{task_id}?said=comment#comments"
    page = wang.get(posted.headers["location"]).text
    assert _typed(page) == (FINDINGS, ["property", "engineering"])  # the form's order
    assert 'class="field invalid"' not in page and 'role="alert"' not in page
    assert "表单中填写的内容已保留" in page
    # The comment: the person's name and the local time, not the username.
    assert re.search(
        r"<time>2026-11-23 10:05</time> <strong>王工</strong> 已约业主明早九点上门", page
    )
    # A reload, and another engineer's visit, find the same.
    assert _typed(wang.get(f"/tasks/{task_id}").text) == (FINDINGS, ["property", "engineering"])
    other = browser("eng1").get(f"/tasks/{task_id}").text
    assert _typed(other) == (FINDINGS, ["property", "engineering"])
    assert "草稿：王工 保存于 2026-11-23 10:05" in other
    # The case page lists the comment with the name and the time too.
    case_page = wang.get(f"/cases/{case.id}").text
    assert re.search(
        r"2026-11-23 10:05</time> <strong>王工</strong> 备注 现场勘查：已约业主", case_page
    )
    assert "保存了 现场勘查 的草稿" in case_page

    # An empty comment is refused; what was typed is still shown, no field is marked.
    refused = wang.post(
        f"/tasks/{task_id}/comments",
        {"with_form": "1", "findings": FINDINGS + "（补充）", "comment_text": " "},
    )
    assert refused.status_code == 422
    assert _typed(refused.text) == (FINDINGS + "（补充）", [])
    assert "备注是空的" in refused.text and 'class="field invalid"' not in refused.text

    # Completing uses the values; a comment typed with them is added, not lost.
    done = wang.post(
        f"/tasks/{task_id}/complete",
        {
            "with_form": "1",
            "findings": FINDINGS,
            "departments": ["engineering", "property"],
            "comment_text": "防水层材料已订",
        },
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/inbox?done=")
    assert sorted(t["department"] for t in case.open()) == ["engineering", "property"]
    comments = api.get(f"/tasks/{task_id}/comments", "eng1").json()["items"]
    assert [(c["author"], c["author_name"], c["text"]) for c in comments] == [
        ("wang", "王工", "已约业主明早九点上门"),
        ("wang", "王工", "防水层材料已订"),
    ]


def test_a_draft_is_kept_until_the_task_is_completed(survey) -> None:  # type: ignore[no-untyped-def]
    api, case, task_id, browser = survey
    eng = browser("eng1")
    fields = {
        "with_form": "1",
        "findings": FINDINGS,
        "departments": "property",
        "comment_text": "还没发的备注",
    }
    saved = eng.post(f"/tasks/{task_id}/draft", fields)
    assert saved.status_code == 303 and saved.headers["location"] == f"/tasks/{task_id}?said=draft"
    page = eng.get(saved.headers["location"]).text
    assert "草稿已保存" in page and _typed(page) == (FINDINGS, ["property"])
    assert ">还没发的备注</textarea>" in page
    [draft] = _drafts(api, case)
    assert draft["actor"] == "eng1" and draft["element_id"] == "site_survey"
    assert draft["data"]["values"] == {"findings": FINDINGS, "departments": ["property"]}
    # The same draft again writes nothing; nothing of a draft reaches the case data.
    assert eng.post(f"/tasks/{task_id}/draft", fields).status_code == 303
    assert len(_drafts(api, case)) == 1
    assert "findings" not in case.refresh()["variables"]

    # Who may not complete the task may not save its draft.
    assert browser("prop1").post(f"/tasks/{task_id}/draft", fields).status_code == 403
    auditor = Browser()
    try:
        auditor.sign_in("audit")
        auditor.get(f"/tasks/{task_id}")
        assert auditor.post(f"/tasks/{task_id}/draft", fields).status_code == 403
    finally:
        auditor.close()
    assert eng.post(f"/tasks/{task_id}/draft", {"findings": "a\x00b"}).status_code == 422

    # Completed: the page shows no form and no draft, and a draft is refused.
    case.do("site_survey", "eng1", {"findings": FINDINGS})
    page = eng.get(f"/tasks/{task_id}").text
    assert "草稿" not in page and 'id="task-form"' not in page
    assert eng.post(f"/tasks/{task_id}/draft", fields).status_code == 409


def test_a_comment_without_the_form_keeps_no_draft(survey) -> None:  # type: ignore[no-untyped-def]
    api, case, task_id, browser = survey
    sup = browser("sup_customer_service")  # reads complaints, works no engineering task
    page = sup.get(f"/tasks/{task_id}").text
    assert 'id="task-form"' not in page and 'name="text"' in page
    assert sup.post(f"/tasks/{task_id}/comments", {"text": "请今天内联系业主"}).status_code == 303
    assert _drafts(api, case) == []
    assert "请今天内联系业主" in sup.get(f"/tasks/{task_id}").text
