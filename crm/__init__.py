"""The real-estate vertical: customers, leads, complaints, units, the funnel, the demo.

It runs on the platform (`engine/`), which never imports it, and plugs into the
platform's seams (`engine/hooks.py`): its step hooks number new complaints and leads
(`crm/case_numbers.py`) and keep the customer records and the case facts of
`complaint_handling` and `lead_follow_up` instances, and its start check refuses a
second running lead of one phone on one project. Each
adapter (the API app, the Celery worker, the command line) calls `install()` once
at start-up.
"""

from __future__ import annotations

from crm import models  # noqa: F401 - the vertical's tables join the shared metadata
from crm.case_numbers import number_new_case
from crm.leads import refuse_second_lead
from crm.records import record_step
from crm.scorecards import complaint_ratings
from crm.texts import TEXTS
from engine.hooks import register_start_check, register_step_hook
from engine.scorecards import register_rating_source
from engine.texts import add_texts


def install() -> None:
    """Plug the vertical into the platform; calling it again changes nothing."""
    register_step_hook(number_new_case)
    register_step_hook(record_step)
    register_start_check(refuse_second_lead)
    register_rating_source(complaint_ratings)  # the staff scorecards' satisfaction
    add_texts(TEXTS)
