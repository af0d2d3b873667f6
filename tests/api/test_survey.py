"""The customer's survey (CONTRACT.md "Satisfaction, from staff and from the customer"):
customer service makes a one-time link, the customer answers it without signing in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crm.models import SurveyLink
from crm.surveys import MAX_GUESSES, token_hash
from engine import clock
from engine.db import unit_of_work
from tests.crm.complaints import complaint_data, visited_complaint
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import signed_in_browsers


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def _link(api: Api, instance_id: str, user: str = "cs1") -> dict:
    r = api.post(f"/instances/{instance_id}/survey", user)
    assert r.status_code == 201, r.text
    return r.json()


def _customer(api: Api) -> TestClient:
    """A browser with no session: the customer's phone."""
    api.client.cookies.clear()
    return api.client


def _notes(api: Api, user: str) -> list[dict]:
    r = api.get("/notifications", user)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_customer_answers_a_closed_complaint_once_without_signing_in(api: Api) -> None:
    case = visited_complaint(api, category="quality", project="滨江壹号", scores=[4])
    before = clock.now()
    link = _link(api, case.id)
    assert "/survey/" in link["url"]
    expires = clock.to_utc(datetime.fromisoformat(link["expires_at"]))
    assert abs(expires - (before + timedelta(days=14))) < timedelta(minutes=1)
    token = link["url"].rsplit("/survey/", 1)[1]
    with unit_of_work(write=False) as s:  # only the token's hash is kept
        stored = s.execute(select(SurveyLink)).scalar_one()
        assert stored.token_hash == token_hash(token) and token not in stored.token_hash

    phone = _customer(api)
    page = phone.get(link["url"])
    assert page.status_code == 200
    assert "满意度调查" in page.text and 'name="score"' in page.text and "非常满意" in page.text
    assert not page.history and "/login" not in str(page.url)  # no sign-in redirect

    # A bad score is refused and the link stays usable.
    for bad in ("0", "6", "abc", ""):
        refused = phone.post(link["url"], data={"score": bad, "comment": "x"})
        assert refused.status_code == 422, bad
        assert "请选择 1 到 5 分" in refused.text
    refused = phone.post(link["url"], data={"score": "5", "comment": "长" * 1001})
    assert refused.status_code == 422 and "意见最多 1000 个字" in refused.text
    assert phone.get(link["url"]).status_code == 200

    done = phone.post(link["url"], data={"score": "5", "comment": "师傅很专业"})
    assert done.status_code == 200 and "感谢您的评价" in done.text
    assert not done.history  # no redirect

    answered = [e for e in case.history() if e["type"] == "survey_answered"]
    assert len(answered) == 1
    assert answered[0]["actor"] == "customer"
    assert answered[0]["data"]["score"] == 5 and answered[0]["data"]["comment"] == "师傅很专业"

    # Used: 410, for a second answer and for the page, and nothing more is written.
    again = phone.post(link["url"], data={"score": "1", "comment": ""})
    assert again.status_code == 410 and "不能再次使用" in again.text
    assert phone.get(link["url"]).status_code == 410
    assert len([e for e in case.history() if e["type"] == "survey_answered"]) == 1
    assert _notes(api, "sup_customer_service") == []  # a 5 notifies no one


def test_unknown_expired_and_malformed_links(api: Api) -> None:
    case = visited_complaint(api, category="other", project="滨江壹号", scores=[3])
    phone = _customer(api)
    for unknown in ("/survey/nothing-here", "/survey/" + "a" * 43, "/survey/" + "x" * 5000):
        r = phone.get(unknown)
        assert r.status_code == 404 and "找不到这个调查链接" in r.text, unknown
        assert phone.post(unknown, data={"score": "3"}).status_code == 404

    start = clock.now()
    clock.set_global_time(start)
    link = _link(api, case.id)
    clock.set_global_time(start + timedelta(days=14, seconds=1))
    r = phone.get(link["url"])
    assert r.status_code == 410 and "已过期" in r.text
    assert phone.post(link["url"], data={"score": "4"}).status_code == 410
    clock.set_global_time(start + timedelta(days=13, hours=23))
    assert phone.get(link["url"]).status_code == 200  # still valid the day before

    # NUL characters and a huge comment are refused as 4xx, never a 500.
    nul = phone.post(link["url"], data={"score": "4", "comment": "a\x00b"})
    assert 400 <= nul.status_code < 500
    huge = phone.post(link["url"], data={"score": "4", "comment": "长" * 200_000})
    assert 400 <= huge.status_code < 500
    assert phone.get(link["url"]).status_code == 200  # nothing was recorded


def test_a_low_answer_notifies_the_customer_service_supervisors(api: Api) -> None:
    make_user("sup_cs2", "supervisor", department="customer_service")
    case = visited_complaint(api, category="quality", project="滨江壹号", scores=[4])
    link = _link(api, case.id, user="sup_customer_service")
    r = _customer(api).post(link["url"], data={"score": "2", "comment": "还是漏"})
    assert r.status_code == 200
    for supervisor in ("sup_customer_service", "sup_cs2"):
        [note] = _notes(api, supervisor)
        assert note["kind"] == "survey_low_score" and note["instance_id"] == case.id
        assert "2 分" in note["text"]
    assert _notes(api, "sup_engineering") == []
    assert _notes(api, "cs1") == []


def test_the_case_page_makes_the_link_with_its_qr_code_and_shows_the_answer(api: Api) -> None:
    case = visited_complaint(api, category="quality", project="滨江壹号", scores=[4])
    running = Case(api, "cs1", "complaint_handling", complaint_data("other", "滨江壹号"))
    with signed_in_browsers() as open_browser:
        cs = open_browser("cs1")
        # not yet visited: no button
        assert "生成调查链接（二维码）" not in cs.get(f"/cases/{running.id}").text
        assert "生成调查链接（二维码）" in cs.get(f"/cases/{case.id}").text
        made = cs.post(f"/cases/{case.id}/survey")
        assert made.status_code == 200, made.text
        url = re.search(r'class="survey-url" href="([^"]+)"', made.text).group(1)
        assert "/survey/" in url and "<svg" in made.text and "style=" not in made.text
        engineer = open_browser("eng1")  # another department: no button, no link
        assert "生成调查链接（二维码）" not in engineer.get(f"/cases/{case.id}").text
        assert engineer.post(f"/cases/{case.id}/survey").status_code == 403

        assert _customer(api).post(url, data={"score": "1", "comment": "不满意"}).status_code == 200
        page = cs.get(f"/cases/{case.id}")
        words = re.sub(r"<[^>]+>", "", page.text)
        assert "客户 提交了满意度调查" in words
        assert "客户已评价：1 分（非常不满意）" in words and "不满意" in words


def test_who_may_make_a_link_and_for_which_case(api: Api) -> None:
    closed = visited_complaint(api, category="quality", project="滨江壹号", scores=[5])
    for user in ("eng1", "sup_engineering", "gm", "audit", "dora", "sales1"):
        assert api.post(f"/instances/{closed.id}/survey", user).status_code == 403, user
    assert api.post(f"/instances/{closed.id}/survey", None).status_code == 401
    assert api.post("/instances/no-such-case/survey", "cs1").status_code == 404
    lead = Case(
        api,
        "sales1",
        "lead_follow_up",
        {"name": "李娜", "phone": "13900139000", "project": "滨江壹号", "source": "walk_in"},
    )
    r = api.post(f"/instances/{lead.id}/survey", "cs1")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "instance_id"
    # A complaint at its return visit takes a link too (the engineer shows it on site).
    running = Case(api, "cs1", "complaint_handling", complaint_data("other", "滨江壹号"))
    assert api.post(f"/instances/{running.id}/survey", "cs2").status_code == 201
    with unit_of_work(write=False) as s:
        assert len(s.execute(select(SurveyLink)).scalars().all()) == 1
    made = [e for e in running.history() if e["type"] == "survey_link_created"]
    assert len(made) == 1 and made[0]["actor"] == "cs2"


def test_guessing_links_is_throttled_per_address(api: Api) -> None:
    case = visited_complaint(api, category="other", project="滨江壹号", scores=[5])
    link = _link(api, case.id)
    phone = _customer(api)
    start = clock.now()
    clock.set_global_time(start)
    for n in range(MAX_GUESSES):
        assert phone.get(f"/survey/guess-{n}").status_code == 404
    for refused in (phone.get(link["url"]), phone.post(link["url"], data={"score": "5"})):
        assert refused.status_code == 429 and "分钟后再试" in refused.text
        assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    clock.set_global_time(start + timedelta(minutes=15, seconds=1))
    assert phone.post(link["url"], data={"score": "5"}).status_code == 200


def test_the_auditor_reads_the_survey_events_in_words(api: Api) -> None:
    case = visited_complaint(api, category="other", project="滨江壹号", scores=[5])
    link = _link(api, case.id)
    _customer(api).post(link["url"], data={"score": "4", "comment": "好"})
    with signed_in_browsers() as open_browser:
        page = open_browser("audit").get(f"/audit/cases/{case.id}")
    assert page.status_code == 200, page.text
    words = re.sub(r"<[^>]+>", " ", page.text)
    assert "客户满意度调查" in words and "生成满意度调查链接" in words
    assert "survey_answered" not in words and "ev_survey" not in words
