"""The platform's ORM models, one module per table family; importing this package
registers them all. A vertical's own tables (crm/models.py) share `Base` and are
registered when the vertical is imported."""

from engine.models.base import Base
from engine.models.calendar import CalendarDay, CalendarYear
from engine.models.case_facts import CaseFact
from engine.models.definitions import ProcessDefinition, ProcessVersion
from engine.models.handovers import Handover
from engine.models.history import (
    AuditCheck,
    HistoryChain,
    HistoryCheckpoint,
    HistoryEvent,
    HistoryHead,
)
from engine.models.instances import Instance
from engine.models.notifications import EmailOutbox, Notification, NotificationRead
from engine.models.org import ROLES, Department, User, UserRole
from engine.models.ratings import RatingCredit
from engine.models.signin import SigninAttempt, UserSession
from engine.models.tasks import Task, TaskComment

__all__ = [
    "AuditCheck",
    "Base",
    "CalendarDay",
    "CalendarYear",
    "CaseFact",
    "EmailOutbox",
    "Notification",
    "NotificationRead",
    "Department",
    "Handover",
    "HistoryChain",
    "HistoryCheckpoint",
    "HistoryEvent",
    "HistoryHead",
    "Instance",
    "ProcessDefinition",
    "ProcessVersion",
    "RatingCredit",
    "ROLES",
    "SigninAttempt",
    "Task",
    "TaskComment",
    "User",
    "UserRole",
    "UserSession",
]
