"""The five departments of CONTRACT.md and how a BPMN lane names one.

What users read (a department's name in their language) comes from the `department`
table, which admins may rename (engine/department_admin.py). The constant below is
what deployment and the runtime check lane names against: a lane names its
department by the code or CONTRACT.md's name in either language, never by a display
name chosen later. A deployed version runs for months, and its lanes must keep
naming the same department whatever that department is called today.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Department as DepartmentRow


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str


DEPARTMENTS: tuple[Department, ...] = (
    Department("sales", "销售部", "Sales"),
    Department("customer_service", "客服部", "Customer Service"),
    Department("property", "物业部", "Property Management"),
    Department("engineering", "工程部", "Engineering"),
    Department("cost_contracts", "成本合约部", "Cost & Contracts"),
)

SUPERVISING_DEPARTMENT = "customer_service"

_BY_LANE_NAME: dict[str, str] = {}
for _d in DEPARTMENTS:
    for _name in (_d.code, _d.name_zh, _d.name_en):
        _BY_LANE_NAME[_name.strip().casefold()] = _d.code


def department_for_lane(lane_name: str | None) -> str | None:
    """Return the department code a lane name stands for, or None when it names none."""
    if not lane_name:
        return None
    return _BY_LANE_NAME.get(" ".join(lane_name.split()).casefold())


def department_codes() -> list[str]:
    """Return every department code."""
    return [d.code for d in DEPARTMENTS]


def department_names(session: Session, language: str) -> dict[str, str]:
    """Return each department's name in `language` by code, from the department table,
    in CONTRACT.md's order (departments added later after them, by code)."""
    order = {code: n for n, code in enumerate(department_codes())}
    rows = sorted(
        session.execute(
            select(DepartmentRow.code, DepartmentRow.name_zh, DepartmentRow.name_en)
        ).all(),
        key=lambda row: (order.get(row[0], len(order)), row[0]),
    )
    return {code: zh if language == "zh-CN" else en for code, zh, en in rows}
