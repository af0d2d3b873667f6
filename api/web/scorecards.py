"""The staff scorecards page (`/reports/scorecards`): per department a table of its
people's cards over a period, with the department's total; staff see only their own."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi.responses import HTMLResponse, Response

from api.web.kit import Page, SignedInPage, page_router, render
from engine import calendar, clock, scorecards
from engine.bounds import EARLIEST_YEAR, LATEST_YEAR
from engine.errors import FieldProblem, InvalidData

router = page_router()


def _day(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise InvalidData([FieldProblem(name, key="problem_scorecards_date")])
    return day


def _period(page: Page) -> tuple[date, date]:
    """The dates asked for (both included); by default this month up to today."""
    query = page.request.query_params
    today = clock.now().astimezone(calendar.timezone()).date()
    since = query.get("since", "").strip()
    until = query.get("until", "").strip()
    first = _day(since, "since") if since else today.replace(day=1)
    last = _day(until, "until") if until else max(today, first)
    if last < first:
        raise InvalidData([FieldProblem("until", key="problem_scorecards_until_before_since")])
    return first, last


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=calendar.timezone())


def _shown(page: Page, card: dict[str, Any]) -> dict[str, Any]:
    """A card's figures as the table prints them ('—' for a figure with nothing behind it)."""
    none = page.t("scorecards_none")

    def mean(value: float | None, count: int) -> str:
        return none if value is None else page.t("scorecards_mean", mean=f"{value:.2f}", n=count)

    return {
        **card,
        "name": card["display_name"] or card["key"] or "",
        "on_time_text": none if card["on_time_pct"] is None else f"{card['on_time_pct']:.1f}%",
        "average_text": mean(card["average"], card["rated"]),
        "customer_text": mean(card["customer_average"], card["customer_answered"]),
    }


@router.get("/reports/scorecards", response_class=HTMLResponse)
def scorecard_page(page: SignedInPage) -> Response:
    first, last = _period(page)
    department = page.request.query_params.get("department", "").strip() or None

    def read(group_by: str) -> dict[str, Any]:
        return scorecards.scorecards(
            page.session,
            actor=page.actor,
            group_by=group_by,
            since=_start_of(first),
            until=_start_of(last + timedelta(days=1)),
            department=department,
        )

    people = read("person")
    own_only = people["username"] == page.actor.username and people["department"] is None
    totals = (
        {} if own_only else {row["key"]: _shown(page, row) for row in read("department")["items"]}
    )
    order = {code: n for n, code in enumerate(page.departments)}  # CONTRACT.md's order
    tables: dict[str | None, list[dict[str, Any]]] = {}
    for row in people["items"]:
        tables.setdefault(row["department"], []).append(_shown(page, row))
    return render(
        page,
        "scorecards.html",
        own_only=own_only,
        since=first.isoformat(),
        until=last.isoformat(),
        department=department or "",
        departments=page.departments if page.actor.has(*scorecards.ALL_READERS) else {},
        tables=[
            {
                "name": page.department_name(code) if code else "",
                "rows": rows,
                "total": totals.get(code),
            }
            for code, rows in sorted(
                tables.items(), key=lambda item: order.get(item[0] or "", len(order))
            )
        ],
    )
