"""The SLA a user task declares in the BPMN, read and checked when it is deployed.

A user task declares its SLA with spiff extension properties (literal values):

| property | meaning |
| --- | --- |
| `sla_hours` | target in working hours |
| `sla_hours_urgent` / `_high` / `_normal` | per-severity targets (the case's `severity`) |
| `sla_severity_variable` | the variable holding the severity (default `severity`) |
| `sla_calendar`, `sla_calendar_<severity>` | calendar to use (default: the department's) |
| `escalation` | the ladder: `complaint`, `lead` or `default` |
| `due_from_variable` | a date/instant variable that sets the due time once it exists |
| `default_next_working_days` | when that variable exists but is empty: N working days |
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from engine import calendar as cal_mod
from engine.sla.ladder import LADDERS

SEVERITIES = ("urgent", "high", "normal")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SlaSpec:
    """A task's SLA as its BPMN properties declare it."""

    hours: float | None
    hours_by_severity: dict[str, float]
    severity_variable: str
    ladder: str
    calendar: str | None
    calendar_by_severity: dict[str, str]
    due_from_variable: str | None
    default_next_working_days: float | None


SLA_PROPERTIES = (
    {"sla_hours", "sla_severity_variable", "sla_calendar", "escalation"}
    | {"due_from_variable", "default_next_working_days"}
    | {f"sla_hours_{s}" for s in SEVERITIES}
    | {f"sla_calendar_{s}" for s in SEVERITIES}
)


def _positive(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and 0 < number <= 10_000 else None


def sla_problems(properties: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Return what is wrong with a task's SLA properties (deploy-time check), each as a
    catalogue key of engine/texts.py and its parameters."""
    problems: list[tuple[str, dict[str, Any]]] = []
    for name in sorted(properties):
        if name.startswith("sla_") and name not in SLA_PROPERTIES:
            problems.append(
                ("bpmn_sla_unknown", {"name": name, "known": ", ".join(sorted(SLA_PROPERTIES))})
            )
    for name in ["sla_hours", "default_next_working_days"] + [f"sla_hours_{s}" for s in SEVERITIES]:
        if name in properties and _positive(properties[name]) is None:
            problems.append(
                ("bpmn_sla_not_positive", {"name": name, "value": repr(properties[name])})
            )
    for name in ["sla_calendar"] + [f"sla_calendar_{s}" for s in SEVERITIES]:
        if name in properties and properties[name] not in cal_mod.CALENDAR_NAMES:
            known = ", ".join(cal_mod.CALENDAR_NAMES)
            problems.append(
                (
                    "bpmn_sla_calendar_unknown",
                    {"name": name, "value": repr(properties[name]), "known": known},
                )
            )
    if "escalation" in properties and properties["escalation"] not in LADDERS:
        problems.append(
            (
                "bpmn_sla_ladder_unknown",
                {"value": repr(properties["escalation"]), "known": ", ".join(LADDERS)},
            )
        )
    for name in ("sla_severity_variable", "due_from_variable"):
        if name in properties and not _IDENTIFIER.match(properties[name]):
            problems.append(("bpmn_sla_not_a_variable", {"name": name}))
    declared = set(properties) & SLA_PROPERTIES
    has_target = "sla_hours" in properties or all(
        f"sla_hours_{s}" in properties for s in SEVERITIES
    )
    if declared and not has_target:
        every = ", ".join(f"'sla_hours_{s}'" for s in SEVERITIES)
        problems.append(("bpmn_sla_no_target", {"every": every}))
    if "default_next_working_days" in properties and "due_from_variable" not in properties:
        problems.append(("bpmn_sla_days_without_variable", {}))
    return problems


def parse_sla(properties: dict[str, Any]) -> SlaSpec | None:
    """Return the task's SLA declaration, or None when it declares none."""
    if not set(properties) & SLA_PROPERTIES:
        return None
    days = properties.get("default_next_working_days")
    return SlaSpec(
        hours=_positive(properties["sla_hours"]) if "sla_hours" in properties else None,
        hours_by_severity={
            s: h
            for s in SEVERITIES
            if (h := _positive(properties.get(f"sla_hours_{s}", ""))) is not None
        },
        severity_variable=properties.get("sla_severity_variable") or "severity",
        ladder=properties.get("escalation") or "default",
        calendar=properties.get("sla_calendar") or None,
        calendar_by_severity={
            s: properties[f"sla_calendar_{s}"]
            for s in SEVERITIES
            if properties.get(f"sla_calendar_{s}")
        },
        due_from_variable=properties.get("due_from_variable") or None,
        default_next_working_days=_positive(days) if days else None,
    )
