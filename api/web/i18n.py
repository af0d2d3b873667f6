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
    "audit": ("审计", "History"),
    "audit_search": ("审计日志", "History search"),
    "audit_case": ("案件审计时间线", "Case timeline"),
    "audit_customer": ("该客户的审计日志", "This customer's history"),
    "verify": ("完整性校验", "Verification"),
    "filter_process": ("流程", "Process"),
    "filter_case": ("案件编号", "Case id"),
    "filter_business_key": ("业务编号", "Business key"),
    "filter_customer": ("客户", "Customer"),
    "filter_customer_hint": ("姓名或手机号", "Name or phone"),
    "filter_actor": ("操作人", "Actor"),
    "filter_department": ("部门", "Department"),
    "filter_type": ("事件类型", "Event type"),
    "filter_element": ("流程节点", "Element"),
    "filter_since": ("起始时间", "From"),
    "filter_until": ("截止时间", "Until"),
    "order": ("排序", "Order"),
    "n_changes": ("{n} 项数据变更", "{n} data changes"),
    "order_desc": ("最新在前", "Newest first"),
    "order_asc": ("最早在前", "Oldest first"),
    "next_page": ("下一页", "Next page"),
    "export_csv": ("导出 CSV（Excel）", "Export CSV (Excel)"),
    "export_jsonl": ("导出 JSON Lines", "Export JSON Lines"),
    "no_events": ("没有符合条件的事件", "No events match"),
    "seq": ("序号", "Seq"),
    "time": ("时间", "Time"),
    "event": ("事件", "Event"),
    "details": ("详情", "Details"),
    "working_time": ("用时（工作时间）", "Working time"),
    "data_changes": ("数据变更（前 → 后）", "Data changes (before → after)"),
    "recipients": ("通知对象", "Recipients"),
    "definition_in_force": ("生效的流程定义", "Definition in force"),
    "version": ("版本", "Version"),
    "content_hash": ("内容哈希", "Content hash"),
    "deployed": ("部署", "Deployed"),
    "replay_ok": (
        "按历史记录重放的数据与案件当前数据一致",
        "The data replayed from the history equals the case's data",
    ),
    "replay_differs": (
        "按历史记录重放的数据与案件当前数据不一致",
        "The data replayed from the history differs from the case's data",
    ),
    "chain_ok": (
        "审计日志完整：已校验 {events} 条事件",
        "History intact: {events} events verified",
    ),
    "chain_broken": ("审计日志被篡改：第 {seq} 条事件", "History broken at event {seq}"),
    "first_bad_event": ("第一个异常事件", "First bad event"),
    "scheduled_check": ("定时增量校验", "Scheduled incremental check"),
    "checked_at": ("校验时间", "Checked at"),
    "verified_through": ("已校验至第 {seq} 条", "Verified through event {seq}"),
    "never_checked": ("尚未运行", "Not run yet"),
    "bad_filter": ("筛选条件有误：{problem}", "Bad filter: {problem}"),
    "ev_instance_started": ("登记案件", "Case started"),
    "ev_instance_completed": ("结案", "Case completed"),
    "ev_instance_cancelled": ("取消案件", "Case cancelled"),
    "ev_instance_error": ("案件出错", "Case error"),
    "ev_task_created": ("创建任务", "Task created"),
    "ev_task_claimed": ("认领任务", "Task claimed"),
    "ev_task_unclaimed": ("退回任务", "Task unclaimed"),
    "ev_task_assigned": ("转派任务", "Task assigned"),
    "ev_task_completed": ("完成任务", "Task completed"),
    "ev_task_cancelled": ("任务取消", "Task cancelled"),
    "ev_task_commented": ("备注", "Comment"),
    "ev_timer_fired": ("定时器触发", "Timer fired"),
    "ev_sla_warning": ("超时预警", "SLA warning"),
    "ev_sla_breached": ("已超时", "SLA breached"),
    "ev_task_escalated": ("升级", "Escalated"),
    "ev_variables_changed": ("数据变更", "Data changed"),
    "ev_notification_sent": ("邮件已发送", "E-mail sent"),
    "ev_notification_failed": ("邮件发送失败", "E-mail failed"),
    "ev_definition_deployed": ("部署流程定义", "Definition deployed"),
    "ev_calendar_loaded": ("导入节假日安排", "Calendar loaded"),
    "ev_department_calendar_changed": ("部门日历变更", "Department calendar changed"),
    "ev_history_exported": ("导出审计日志", "History exported"),
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
