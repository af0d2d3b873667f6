"""ORM models, one module per table family; importing this package registers them all."""

from engine.models.base import Base
from engine.models.calendar import CalendarDay, CalendarYear
from engine.models.customers import Complaint, Customer, Lead, LeadStage, UnitOwnership
from engine.models.definitions import ProcessDefinition, ProcessVersion
from engine.models.history import AuditCheck, HistoryEvent, HistoryHead
from engine.models.instances import Instance
from engine.models.notifications import EmailOutbox, Notification, NotificationRead
from engine.models.org import ROLES, Department, User, UserRole
from engine.models.tasks import Task, TaskComment

__all__ = [
    "AuditCheck",
    "Base",
    "CalendarDay",
    "CalendarYear",
    "EmailOutbox",
    "Notification",
    "NotificationRead",
    "Complaint",
    "Customer",
    "Lead",
    "LeadStage",
    "UnitOwnership",
    "Department",
    "HistoryEvent",
    "HistoryHead",
    "Instance",
    "ProcessDefinition",
    "ProcessVersion",
    "ROLES",
    "Task",
    "TaskComment",
    "User",
    "UserRole",
]
