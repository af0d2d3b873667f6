"""Complaints driven to their return visits with known scores (the satisfaction tests)."""

from __future__ import annotations

from typing import Any

from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case

RESPONSIBLE = {
    "quality": ("engineering", "eng1"),
    "facilities": ("property", "prop1"),
    "property_service": ("property", "prop1"),
    "sales_promise": ("sales", "sales1"),
    "contract": ("cost_contracts", "cc1"),
    "other": ("customer_service", "cs1"),
}
SURVEYED = ("quality", "facilities", "property_service")


def complaint_data(category: str, project: str | None, **extra: Any) -> dict[str, Any]:
    data = {
        "customer_name": "张伟",
        "phone": "13800138000",
        "channel": "hotline",
        "category": category,
        "description": "卫生间漏水",
        **extra,
    }
    if project:
        data["project"] = project
    return data


def _fix_round(case: Case, category: str) -> None:
    _, worker = RESPONSIBLE[category]
    case.do("propose_solution", worker, {"solution": "维修"})
    case.do("approve_solution", "cs1", {"approved": True})
    case.do("execute_fix", worker, {"work_done": "已修复"})
    case.do("confirm_resolution", "cs2", {"resolved": True})


def visited_complaint(api: Api, *, category: str, project: str | None, scores: list[int]) -> Case:
    """Start a complaint and take it through one return visit per score (a score of 1–2
    reopens it and the next round is fixed and visited again)."""
    case = Case(api, "cs1", "complaint_handling", complaint_data(category, project))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    if category in SURVEYED:
        case.do("site_survey", RESPONSIBLE[category][1], {"findings": "现场确认"})
    for score in scores:
        _fix_round(case, category)
        case.do("return_visit", "cs2", {"satisfaction": score})
    return case
