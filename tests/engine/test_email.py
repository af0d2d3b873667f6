"""Notification e-mail through a real local SMTP server (aiosmtpd): written to
the outbox with the notification, sent by the round, and kept and retried with
backoff while the mail server is down."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import clock
from engine.config import get_settings
from engine.db import unit_of_work
from engine.identity import create_user
from engine.models import EmailOutbox, HistoryEvent
from engine.rounds import run_round
from tests.fixtures.shipped import Case, setup_shipped

SH = ZoneInfo("Asia/Shanghai")


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port(db_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    port = _free_port()
    monkeypatch.setenv("FLOWDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FLOWDESK_SMTP_PORT", str(port))
    monkeypatch.setenv("FLOWDESK_SMTP_FROM", "flowdesk@example.com")
    get_settings.cache_clear()
    return port


def tick(when: datetime) -> dict[str, int]:
    clock.set_global_time(when)
    return run_round(when).as_dict()


def _breached_ack(api) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work() as s:
        create_user(
            s,
            username="cs_mail",
            password="secret-pass",
            roles=["staff"],
            department="customer_service",
            email="cs_mail@example.com",
        )
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))
    Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": "张伟",
            "phone": "13800138000",
            "category": "other",
            "description": "噪音",
        },
    )


def test_mail_goes_out_once(smtp_port: int) -> None:
    api = setup_shipped()
    _breached_ack(api)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        result = tick(datetime(2026, 11, 23, 12, 0, tzinfo=SH))  # warning + breach of the ack
        assert result["notifications_sent"] == 2 and result["notifications_failed"] == 0
        assert tick(datetime(2026, 11, 23, 12, 0, tzinfo=SH))["notifications_sent"] == 0
    finally:
        controller.stop()
    assert [rcpt for rcpt, _ in inbox.messages] == [["cs_mail@example.com"]] * 2
    subjects = [str(make_header(decode_header(m["Subject"]))) for _, m in inbox.messages]
    assert any("即将超时" in s for s in subjects) and any("已超时" in s for s in subjects)
    with unit_of_work(write=False) as s:
        sent = s.execute(select(HistoryEvent).where(HistoryEvent.type == "notification_sent"))
        assert [e.data["recipient"] for e in sent.scalars()] == ["cs_mail", "cs_mail"]


def test_a_failing_server_loses_nothing(smtp_port: int) -> None:
    api = setup_shipped()
    _breached_ack(api)
    t0 = datetime(2026, 11, 23, 12, 0, tzinfo=SH)
    down = tick(t0)  # nothing listens on the port
    assert (down["notifications_sent"], down["notifications_failed"]) == (0, 2)
    with unit_of_work(write=False) as s:
        rows = list(s.execute(select(EmailOutbox)).scalars())
        assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
        assert all(r.next_attempt_at == t0 + timedelta(minutes=1) for r in rows)
        failed = list(
            s.execute(
                select(HistoryEvent).where(HistoryEvent.type == "notification_failed")
            ).scalars()
        )
        assert [e.data["will_retry"] for e in failed] == [True, True]
    assert tick(t0 + timedelta(seconds=30))["notifications_failed"] == 0  # backing off
    second = tick(t0 + timedelta(minutes=1))
    assert second["notifications_failed"] == 2  # still down: next wait is 2 minutes
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert tick(t0 + timedelta(minutes=2))["notifications_sent"] == 0
        assert tick(t0 + timedelta(minutes=3))["notifications_sent"] == 2
    finally:
        controller.stop()
    assert len(inbox.messages) == 2
    with unit_of_work(write=False) as s:
        rows = list(s.execute(select(EmailOutbox)).scalars())
        assert {(r.status, r.attempts) for r in rows} == {("sent", 3)}
