"""Moving a process's running cases to another version, from the designer's pages
(designers and admins; everyone else 403):

- `GET /designer/{key}/migrate`: the versions with their running cases; choose the
  version to move from and the one to move to.
- `POST /designer/{key}/migrate` (with the session's CSRF token): `action=dry_run`
  shows, per case (case number, customer, open tasks), whether it can move and why
  not, writing nothing; `action=migrate` moves those that can and shows the outcome.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import HTMLResponse, Response

from api.web.designer import DesignerForm, DesignerPage, _title
from api.web.kit import (
    Page,
    PostedForm,
    Refusal,
    case_number,
    form_shown_again_by,
    page_router,
    render,
)
from engine import calendar, definitions, queries, texts
from engine.migration import MigrationReport, migrate_instances, running_counts

router = page_router()


def _show_again(page: Page, refusal: Refusal) -> Response:
    key = page.request.path_params.get("process_key", "")
    return _render(page, key, refusal.values, report=None, refusal=refusal)


MigrationForm = Annotated[PostedForm, Depends(form_shown_again_by(_show_again))]


@router.get("/designer/{process_key}/migrate", response_class=HTMLResponse)
def migration_page(process_key: str, page: DesignerPage) -> Response:
    return _render(page, process_key, dict(page.request.query_params), report=None)


@router.post("/designer/{process_key}/migrate", response_class=HTMLResponse)
def migrate_cases(
    process_key: str,
    page: DesignerForm,
    form: MigrationForm,
) -> Response:
    report = migrate_instances(
        page.session,
        process_key=process_key,
        from_version=_number(form.get("from_version")),
        to_version=_number(form.get("to_version")),
        dry_run=form.get("action") != "migrate",
        actor=page.actor,
    )
    return _render(page, process_key, form.fields, report=report)


def _number(value: Any) -> Any:
    """Return a posted version number as a number (as posted when it is not one)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value or None


def _render(
    page: Page,
    process_key: str,
    chosen: dict[str, Any],
    *,
    report: MigrationReport | None,
    refusal: Refusal | None = None,
) -> Response:
    versions = definitions.list_versions(page.session, process_key)
    newest = versions[-1]
    running = running_counts(page.session, process_key)
    tz = calendar.timezone()
    choices = [
        {
            "version": v.version,
            "label": page.t("designer_version_n", n=v.version),
            "running": running.get(v.version, 0),
            "deployed_at": texts.local_time(v.deployed_at, tz, page.language),
        }
        for v in reversed(versions)
    ]
    with_cases = [c["version"] for c in choices if c["running"] and c["version"] != newest.version]
    default_from = with_cases[-1] if with_cases else (versions[0].version)
    return render(
        page,
        "designer_migration.html",
        status_code=refusal.status_code if refusal is not None else 200,
        key=process_key,
        title=_title(page, process_key, newest.name),
        choices=choices,
        from_version=str(chosen.get("from_version") or default_from),
        to_version=str(chosen.get("to_version") or newest.version),
        report=report,
        rows=_rows(page, report) if report is not None else [],
        refusal=refusal,
    )


def _rows(page: Page, report: MigrationReport) -> list[dict[str, Any]]:
    """One line per case of the report: case number, customer, open tasks, outcome."""
    ids = [item.instance_id for item in report.items]
    instances = queries.instances_by_id(page.session, set(ids))
    facts = queries.case_facts_of(page.session, ids)
    rows = []
    for item in report.items:
        instance = instances.get(item.instance_id)
        fact = facts.get(item.instance_id)
        tasks = queries.open_tasks_of(page.session, item.instance_id) if instance else []
        if item.ok:
            outcome = page.t("migration_can_move" if report.dry_run else "migration_moved")
        else:
            outcome = item.problem_in(page.language) or ""
        rows.append(
            {
                "instance_id": item.instance_id,
                "case": case_number(
                    page, instance.business_key if instance else None, item.instance_id
                ),
                "customer": (fact.customer_name if fact else None) or "—",
                "tasks": "、".join(
                    page.element_name(instance.version_id, t.element_id, t.name) for t in tasks
                )
                if instance
                else "—",
                "ok": item.ok,
                "outcome": outcome,
            }
        )
    return rows
