"""Sign-in protection (CONTRACT.md "Sign-in protection and backups", "Security rules
that must hold"): the throttle per username and address on the API and the page,
and sessions and tokens that sign-out, a new password or a deactivation end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from cli.main import main as flowdesk
from engine import clock
from engine.db import unit_of_work
from engine.identity import SYSTEM, deactivate_user, set_password
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.web_client import Browser

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TOKEN = "/api/v1/auth/token"


@pytest.fixture
def people(db_url: str) -> Iterator[None]:
    make_user("cs1", "staff", department="customer_service")
    make_user("cs2", "staff", department="customer_service")
    make_user("audit", "auditor")
    clock.set_global_time(T0)
    yield
    clock.set_global_time(None)


def _client(address: str) -> TestClient:
    client = TestClient(create_app(), client=(address, 50000), follow_redirects=False)
    client.__enter__()
    return client


def _token(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(TOKEN, data={"username": username, "password": password})


def _events(type_: str) -> list[dict]:
    api = Api()
    r = api.get("/audit/events", "audit", params={"type": type_})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _move_clock(delta: timedelta) -> None:
    clock.set_global_time(clock.now() + delta)


def test_five_failures_throttle_the_api_for_that_address_only(people: None) -> None:
    here, there = _client("10.0.0.1"), _client("10.0.0.2")
    try:
        for _ in range(5):
            assert _token(here, "cs1", "wrong-pw").status_code == 401
        refused = _token(here, "cs1", "secret-pass")  # the right password, too late
        assert refused.status_code == 429
        assert 890 <= int(refused.headers["Retry-After"]) <= 900
        assert "Too many failed sign-ins" in refused.json()["detail"]
        same_place = _client("10.0.0.1")  # another API process (app) agrees: the rows are shared
        assert _token(same_place, "cs1", "secret-pass").status_code == 429
        same_place.__exit__(None, None, None)
        assert _token(there, "cs1", "secret-pass").status_code == 200  # another address
        assert _token(here, "cs2", "secret-pass").status_code == 200  # another username

        _move_clock(timedelta(minutes=14))
        later = _token(here, "cs1", "secret-pass")
        assert later.status_code == 429 and 1 <= int(later.headers["Retry-After"]) <= 60
        _move_clock(timedelta(minutes=1, seconds=1))
        assert _token(here, "cs1", "secret-pass").status_code == 200
    finally:
        here.__exit__(None, None, None)
        there.__exit__(None, None, None)

    failed = _events("signin_failed")
    assert len(failed) == 5
    assert {(e["actor"], e["data"]["address"], e["data"]["channel"]) for e in failed} == {
        ("cs1", "10.0.0.1", "api")
    }
    [throttled] = _events("signin_throttled")
    assert throttled["actor"] == "cs1" and throttled["data"]["address"] == "10.0.0.1"


def test_a_success_resets_only_its_own_address(people: None) -> None:
    here, there = _client("10.0.0.1"), _client("10.0.0.2")
    try:
        for _ in range(4):
            assert _token(here, "cs1", "wrong-pw").status_code == 401
            assert _token(there, "cs1", "wrong-pw").status_code == 401
        assert _token(there, "cs1", "secret-pass").status_code == 200
        assert _token(here, "cs1", "wrong-pw").status_code == 401  # the fifth from here
        assert _token(here, "cs1", "secret-pass").status_code == 429
        for _ in range(4):  # the success from there started its count again
            assert _token(there, "cs1", "wrong-pw").status_code == 401
        assert _token(there, "cs1", "secret-pass").status_code == 200
    finally:
        here.__exit__(None, None, None)
        there.__exit__(None, None, None)


def test_old_failures_fall_out_of_the_window(people: None) -> None:
    here = _client("10.0.0.1")
    try:
        for _ in range(4):
            assert _token(here, "cs1", "wrong-pw").status_code == 401
        _move_clock(timedelta(minutes=15, seconds=1))
        assert _token(here, "cs1", "wrong-pw").status_code == 401  # one within the window
        assert _token(here, "cs1", "secret-pass").status_code == 200
    finally:
        here.__exit__(None, None, None)


def _page_sign_in(b: Browser, username: str, password: str):  # type: ignore[no-untyped-def]
    return b.post("/login", {"username": username, "password": password, "next": "/inbox"})


def test_the_page_throttles_with_a_chinese_message_and_stays_usable(people: None) -> None:
    b = Browser()
    try:
        b.get("/login")
        for _ in range(5):
            r = _page_sign_in(b, "cs1", "wrong-pw")
            assert r.status_code == 401 and "用户名或密码不正确" in r.text
        refused = _page_sign_in(b, "cs1", "secret-pass")
        assert refused.status_code == 429
        assert 890 <= int(refused.headers["Retry-After"]) <= 900
        assert "登录失败次数过多，请 15 分钟后再试" in refused.text
        assert 'name="csrf_token"' in refused.text and 'name="password"' in refused.text
        assert "flowdesk_session" not in b.client.cookies
        # The API counts the same attempts: the username is throttled there too.
        assert _token(b.client, "cs1", "secret-pass").status_code == 429

        _move_clock(timedelta(minutes=15))
        b.get("/login")
        assert _page_sign_in(b, "cs1", "secret-pass").status_code == 303
        assert b.get("/inbox").status_code == 200
    finally:
        b.close()
    assert {e["data"]["channel"] for e in _events("signin_failed")} == {"page"}
    assert len(_events("signin_throttled")) == 1


def test_a_cookie_reused_after_sign_out_opens_nothing(people: None) -> None:
    b = Browser()
    try:
        b.sign_in("cs1")
        cookie = b.client.cookies.get("flowdesk_session")
        assert b.post("/logout").status_code == 303
        b.client.cookies.set("flowdesk_session", cookie)
        again = b.get("/inbox")
        assert again.status_code == 303 and again.headers["location"].startswith("/login")
        b.client.cookies.clear()
        b.sign_in("cs1")  # a new sign-in is a new session
        assert b.get("/inbox").status_code == 200
    finally:
        b.close()


def _signed_in(username: str) -> tuple[Api, Browser]:
    api, b = Api(), Browser()
    api.login(username)
    assert api.get("/tasks", username).status_code == 200  # the token's actor is now cached
    b.sign_in(username)
    return api, b


def _signed_out(api: Api, b: Browser, username: str) -> None:
    r = api.get("/tasks", username)
    assert r.status_code == 401, r.text
    page = b.get("/inbox")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_deactivation_ends_tokens_and_sessions_at_once(people: None) -> None:
    api, b = _signed_in("cs1")
    other_api, other = _signed_in("cs2")
    try:
        with unit_of_work() as session:
            deactivate_user(session, username="cs1", actor=SYSTEM)
        _signed_out(api, b, "cs1")
        assert _token(api.client, "cs1", "secret-pass").status_code == 401
        assert other_api.get("/tasks", "cs2").status_code == 200  # others keep theirs
        assert other.get("/inbox").status_code == 200
    finally:
        b.close()
        other.close()
    [event] = _events("user_deactivated")
    assert event["data"] == {"username": "cs1", "sessions_ended": 1}


def test_a_new_password_ends_old_tokens_and_sessions(people: None) -> None:
    api, b = _signed_in("cs1")
    try:
        with unit_of_work() as session:
            set_password(session, username="cs1", password="new-secret", actor=SYSTEM)
        _signed_out(api, b, "cs1")
        assert _token(api.client, "cs1", "secret-pass").status_code == 401
        api.login("cs1", "new-secret")
        assert api.get("/tasks", "cs1").status_code == 200
        b.sign_in("cs1", "new-secret")
        assert b.get("/inbox").status_code == 200
    finally:
        b.close()
    assert [e["data"]["username"] for e in _events("user_password_changed")] == ["cs1"]


def test_the_user_commands_end_sessions(people: None, capsys: pytest.CaptureFixture) -> None:
    api, b = _signed_in("cs1")
    try:
        assert flowdesk(["user", "password", "cs1", "--password", "another-pw"]) == 0
        _signed_out(api, b, "cs1")
        assert flowdesk(["user", "password", "cs1", "--password", "short"]) == 1
        assert flowdesk(["user", "password", "nobody", "--password", "long-enough"]) == 1
        api.login("cs1", "another-pw")
        assert flowdesk(["user", "deactivate", "cs1"]) == 0
        assert api.get("/tasks", "cs1").status_code == 401
    finally:
        b.close()
    assert "deactivated cs1" in capsys.readouterr().out


def test_unusable_names_and_passwords_are_refused_not_500(people: None) -> None:
    """The edge may refuse NUL first (422); if it lets one through, a plain 401."""
    here = _client("10.0.0.1")
    try:
        assert _token(here, "cs1\x00", "secret-pass").status_code in (401, 422)
        assert _token(here, "cs1", "secret-pass\x00").status_code in (401, 422)
        here.get("/login")
        csrf = here.cookies.get("flowdesk_login_csrf")
        r = here.post("/login", data={"username": "a\x00b", "password": "x", "csrf_token": csrf})
        assert r.status_code in (401, 422)
    finally:
        here.__exit__(None, None, None)
    assert len(_events("signin_failed")) <= 1  # no user is named "cs1\0" or "a\0b"


def test_the_engine_takes_an_unusable_name_as_a_plain_failure(people: None) -> None:
    from engine import signin

    assert signin.sign_in(
        username="cs1\x00", password="secret-pass", address="10.0.0.1", channel="api"
    ) == signin.SigninResult(None)
    wrong = signin.sign_in(username="cs1", password="\ud800", address="10.0.0.1", channel="api")
    assert wrong == signin.SigninResult(None)
    assert len(_events("signin_failed")) == 1
