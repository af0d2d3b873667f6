"""The words of the pages in zh-CN (default) and English, and how times read in each."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

LANGUAGES = ("zh-CN", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("flowdesk 客户服务流程", "flowdesk customer processes"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "bad_credentials": ("用户名或密码不正确", "Wrong username or password"),
    "session_expired": ("请重新登录", "Please sign in again"),
    "csrf": ("表单已过期，请重试", "The form expired; please try again"),
    "inbox": ("待办", "Inbox"),
    "tab_mine": ("我的任务", "My tasks"),
    "tab_department": ("部门队列", "Department queue"),
    "tab_escalated": ("升级给我", "Escalated to me"),
    "tab_all": ("全部", "All"),
    "register_complaint": ("登记投诉", "Register a complaint"),
    "register_visitor": ("登记来访", "Register a visitor"),
    "notifications": ("通知", "Notifications"),
    "language": ("语言", "Language"),
    "case": ("案件", "Case"),
    "customer": ("客户", "Customer"),
    "phone": ("电话", "Phone"),
    "project_unit": ("项目/房号", "Project / unit"),
    "task": ("任务", "Task"),
    "department": ("部门", "Department"),
    "assignee": ("处理人", "Assignee"),
    "time_left": ("剩余时间", "Time left"),
    "sla": ("时效", "SLA"),
    "level": ("升级", "Level"),
    "claim": ("认领", "Claim"),
    "unclaim": ("退回队列", "Unclaim"),
    "complete": ("提交完成", "Complete"),
    "comment": ("备注", "Comment"),
    "add_comment": ("添加备注", "Add comment"),
    "reassign": ("转派", "Reassign"),
    "search": ("搜索", "Search"),
    "search_hint": ("客户姓名、手机号或案件编号", "Customer name, phone or case number"),
    "filter": ("筛选", "Filter"),
    "any": ("全部", "Any"),
    "process": ("流程", "Process"),
    "project": ("项目", "Project"),
    "on_track": ("正常", "On track"),
    "at_risk": ("即将超时", "At risk"),
    "breached": ("已超时", "Breached"),
    "no_tasks": ("没有任务", "No tasks"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "unassigned": ("未认领", "Unclaimed"),
    "due": ("截止", "Due"),
    "completed_ok": ("已完成：{name}", "Completed: {name}"),
    "claimed_ok": ("已认领：{name}", "Claimed: {name}"),
    "fix_errors": ("请修改标出的字段", "Please correct the fields marked below"),
    "open_tasks": ("进行中的任务", "Open tasks"),
    "history": ("处理记录", "History"),
    "variables": ("案件信息", "Case data"),
    "diagram": ("流程图", "Diagram"),
    "started": ("已登记：{case}", "Registered: {case}"),
    "mark_all_read": ("全部标为已读", "Mark all read"),
    "no_notifications": ("没有通知", "No notifications"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "not_found": ("找不到该页面", "Page not found"),
    "forbidden": ("无权访问", "Not allowed"),
    "back_to_inbox": ("返回待办", "Back to the inbox"),
    "status": ("状态", "Status"),
    "state_open": ("进行中", "Open"),
    "state_completed": ("已完成", "Completed"),
    "state_cancelled": ("已取消", "Cancelled"),
    "status_running": ("处理中", "Running"),
    "status_completed": ("已结案", "Closed"),
    "status_cancelled": ("已取消", "Cancelled"),
    "status_error": ("出错", "Error"),
    "comments": ("备注", "Comments"),
    "owner": ("业主", "Owner"),
    "held_by_other": ("该任务已被他人认领", "Someone else holds this task"),
    "not_open": ("该任务已不在进行中", "This task is no longer open"),
    "concurrent": (
        "案件刚被他人修改，请重试",
        "The case was just changed by someone else; try again",
    ),
    "leads": ("来访/商机", "Leads"),
    "complaints": ("投诉", "Complaints"),
    "units": ("房产", "Units"),
    "stage": ("阶段", "Stage"),
    "consultant": ("置业顾问", "Consultant"),
    "lost_reason": ("流失原因", "Lost reason"),
    "category": ("类别", "Category"),
    "severity": ("紧急程度", "Severity"),
    "satisfaction": ("满意度", "Satisfaction"),
    "stage_visitor": ("来访", "Visitor"),
    "stage_prospect": ("意向", "Prospect"),
    "stage_near_close": ("即将成交", "Near close"),
    "stage_won": ("已成交", "Won"),
    "stage_lost": ("已流失", "Lost"),
    "find_customer": ("按电话查找已有客户", "Find an existing customer by phone"),
    "find": ("查找", "Find"),
    "existing_customer": (
        "已有客户：{name}，将关联到此客户",
        "Existing customer: {name}; the case will be linked",
    ),
    "new_customer": ("新客户，提交后建档", "New customer; a record is created on submit"),
}


def t(key: str, language: str, **params: Any) -> str:
    """Return the text of `key` in `language` (English when zh-CN is not asked for)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[0] if language == "zh-CN" else pair[1]
    return text.format(**params) if params else text


def working_duration(span: timedelta, language: str) -> str:
    """'1小时20分' / '1 h 20 min' (working time)."""
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if language == "zh-CN":
        return (f"{hours}小时" if hours else "") + (f"{minutes}分" if minutes or not hours else "")
    parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if minutes or not hours else [])
    return " ".join(parts)


def time_left(remaining: timedelta, overdue: timedelta, language: str) -> str:
    """'剩余 1小时20分' / '1 h 20 min left', or '超时 3小时' / 'overdue by 3 working hours'."""
    if overdue > timedelta(0) or remaining <= timedelta(0):
        if overdue < timedelta(minutes=1):  # past due, outside working hours
            return "已超时" if language == "zh-CN" else "overdue"
        if language == "zh-CN":
            return f"超时 {working_duration(overdue, language)}"
        hours = overdue.total_seconds() / 3600
        if hours >= 1 and hours == int(hours):
            unit = "hour" if hours == 1 else "hours"
            return f"overdue by {int(hours)} working {unit}"
        return f"overdue by {working_duration(overdue, language)} working time"
    if language == "zh-CN":
        return f"剩余 {working_duration(remaining, language)}"
    return f"{working_duration(remaining, language)} left"


def local_time(value: datetime | None, tz: Any, language: str) -> str:
    if value is None:
        return ""
    local = value.astimezone(tz)
    return (
        local.strftime("%Y-%m-%d %H:%M")
        if language == "zh-CN"
        else local.strftime("%d %b %Y %H:%M")
    )
