"""A case's page: its open tasks, its diagram with the steps done, open and breached
marked, its history in words, and its data with the forms' labels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import HTMLResponse, Response

from api.web.case_record import case_record
from api.web.kit import (
    Page,
    SignedInPage,
    case_data,
    case_number,
    page_router,
    recipient_group_text,
    render,
    value_text_of,
)
from api.web.task_rows import task_row, working_time_taken
from engine import calendar, queries, texts
from engine.case_path import case_path
from engine.definitions import version_content, version_variables
from engine.models import HistoryEvent, Instance, Task
from engine.privacy import PHONES_MASKED, case_masker
from forms.display import label_of

router = page_router()


def _readable_case(instance_id: str, page: SignedInPage) -> Instance:
    """The case of the path, when the user may see it (404, 403 otherwise)."""
    return queries.get_instance(page.session, instance_id=instance_id, actor=page.actor)


ReadableCase = Annotated[Instance, Depends(_readable_case)]


@router.get("/cases/{instance_id}", response_class=HTMLResponse)
def case_page(page: SignedInPage, instance: ReadableCase, started: str = "") -> Response:
    events = queries.instance_history(page.session, instance.id)
    tasks = queries.instance_tasks(page.session, instance.id)
    facts = queries.case_facts_of(page.session, {instance.id}).get(instance.id)
    names = {
        t.element_id: page.element_name(instance.version_id, t.element_id, t.name) for t in tasks
    }
    open_tasks = [t for t in tasks if t.state == "open"]
    path = case_path(page.session, instance)
    masker = case_masker(page.session, actor=page.actor, instance_id=instance.id)

    def masked_line(line: dict[str, Any], more: str = "") -> dict[str, Any]:
        return {**line, "text": masker.value(line["text"] + more)}

    diagram = {
        "xml": version_content(page.session, instance.version_id),
        # every element and sequence flow the case went through, not only user tasks
        "done": path.passed,
        "flows": path.flows,
        "open": sorted({t.element_id for t in open_tasks}),
        "breached": sorted({t.element_id for t in open_tasks if t.sla_status == "breached"}),
        # where the diagram opens: the open task, else where the case went last
        "focus": open_tasks[0].element_id if open_tasks else path.current,
    }
    # Phones as the case data below shows them.
    record = case_record(page, instance, mask_phones=masker is PHONES_MASKED)
    return render(
        page,
        "case.html",
        diagram=diagram,
        instance=instance,
        number=case_number(page, instance.business_key, instance.id),
        events=[
            masked_line(_history_line(page, e, tasks, names), _variables_moved(page, instance, e))
            for e in events
        ],
        customer_id=facts.customer_ref if facts else None,
        open_tasks=[task_row(page, t, instance, facts) for t in open_tasks],
        record=record,
        started=bool(started),
        variables=instance.variables or {},
        shown_variables=case_data(page, instance, recorded_by_steps=record.recorded_names()),
    )


def _variables_moved(page: Page, instance: Instance, event: HistoryEvent) -> str:
    """What a reassignment changed in the case (a task's `assignee_variable`: the lead's
    consultant), in words: "，置业顾问改为 周杰"."""
    if event.type != "task_assigned":
        return ""
    changes = (event.data or {}).get("changes") or []
    return "".join(
        page.t(
            "case_event_variable_follows",
            label=label_of(
                version_variables(page.session, instance.version_id).get(
                    change["name"], {"name": change["name"]}
                ),
                page.language,
            ),
            value=value_text_of(page, instance.version_id, change["name"], change.get("after")),
        )
        for change in changes
        if isinstance(change, dict) and change.get("name")
    )


def _history_line(
    page: Page, event: HistoryEvent, tasks: list[Task], names: dict[str, str]
) -> dict[str, Any]:
    """One event of the case in words: when, who, what."""
    data = event.data or {}
    name = names.get(event.element_id or "") or data.get("name") or event.element_id or ""
    key = f"case_event_{event.type}"
    text = event.type
    if event.type == "task_completed":
        task = next((t for t in tasks if t.id == event.task_id), None)
        took = working_time_taken(task) if task is not None else None
        took_text = texts.working_duration(took, page.language) if took is not None else ""
        if took_text:
            text = page.t("case_event_task_completed_took", name=name, took=took_text)
        else:
            text = page.t(key, name=name)
    elif texts.has_text(key):
        text = page.t(
            key,
            name=name,
            assignee=page.people.get(data.get("assignee") or "", data.get("assignee")),
            text=data.get("text", ""),
            level=data.get("level"),
            recipient_group=recipient_group_text(page, data.get("recipient_group")),
            reason=page.t(f"pause_reason_{data['reason']}") if data.get("reason") else "",
            from_version=data.get("from_version", ""),
            to_version=data.get("to_version", ""),
        )
    return {
        "at": texts.local_time(event.at, calendar.timezone(), page.language),
        "who": page.people.get(event.actor, event.actor),
        "text": text,
        "type": event.type,
    }
