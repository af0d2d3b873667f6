"""Every text a user reads, in zh-CN (the default) and English: the pages' words, the
case timeline, notifications, form validation messages and the domain errors' messages.

One entry per key, `(zh-CN, English)`; a vertical adds its own words with `add_texts`
at start-up (crm/texts.py). Domain errors carry a key and its parameters
(engine/errors.py): their English text is the message the JSON API answers with, and a
page shows the same error in the user's language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

Catalogue = dict[str, tuple[str, str]]

_PAGES: Catalogue = {
    "app": ("flowdesk 客户服务流程", "flowdesk customer processes"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "bad_credentials": ("用户名或密码不正确", "Wrong username or password"),
    "signin_throttled": (
        "登录失败次数过多，请 {minutes} 分钟后再试",
        "Too many failed sign-ins; try again in {minutes} minutes",
    ),
    "session_expired": ("请重新登录", "Please sign in again"),
    "csrf": ("表单已过期，请重试", "The form expired; please try again"),
    "inbox": ("待办", "Inbox"),
    "tab_mine": ("我的任务", "My tasks"),
    "tab_department": ("部门队列", "Department queue"),
    "tab_escalated": ("升级给我", "Escalated to me"),
    "tab_all": ("全部", "All"),
    "notifications": ("通知", "Notifications"),
    "language": ("语言", "Language"),
    "case": ("案件", "Case"),
    "actor_system": ("系统", "system"),
    "case_unnumbered": ("未编号（{short}）", "unnumbered ({short})"),
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
    "conflict": ("操作未完成", "Not done"),
    "invalid": ("提交的内容有误", "Invalid input"),
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
}

_AUDIT: Catalogue = {
    "audit": ("审计", "History"),
    "audit_search": ("审计日志", "History search"),
    "audit_case": ("案件审计时间线", "Case timeline"),
    "audit_customer": ("该客户的审计日志", "This customer's history"),
    "verify": ("完整性校验", "Verification"),
    "filter_process": ("流程", "Process"),
    "filter_case": ("案件ID", "Case id"),
    "filter_business_key": ("案件编号", "Case number"),
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
    "recipients_supervisors": ("{department}主管", "supervisors of {department}"),
    "recipients_executives": ("高管", "executives"),
    "summary_text": ("“{text}”", "“{text}”"),
    "summary_level": ("第 {level} 级", "level {level}"),
    "summary_reason": ("原因：{reason}", "reason: {reason}"),
    "summary_error": ("错误：{error}", "error: {error}"),
    "summary_assignee": ("处理人：{assignee}", "assignee: {assignee}"),
    "summary_exported": ("导出条件：{filters}", "exported: {filters}"),
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
    "bad_filter_instant": (
        "{name}：不是日期和时间（{value}）",
        "{name}: not a date and time ({value})",
    ),
    "bad_filter_number": ("{name}：不是数字（{value}）", "{name}: not a number ({value})"),
    "bad_filter_order": (
        "order：只能是 asc 或 desc，而不是 {value}",
        "order: asc or desc, not {value}",
    ),
    "bad_filter_format": (
        "format：只能是 csv 或 jsonl，而不是 {value}",
        "format: csv or jsonl, not {value}",
    ),
}

# The name of each history event type (`ev_<type>`), for the auditor's pages.
_EVENT_TYPES: Catalogue = {
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
    "ev_task_draft_saved": ("保存草稿", "Draft saved"),
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
    "ev_report_exported": ("导出报表", "Report exported"),
    "ev_sla_paused": ("暂停计时", "SLA clock paused"),
    "ev_sla_resumed": ("恢复计时", "SLA clock resumed"),
    "ev_task_reminded": ("催办", "Task chased"),
    "ev_signin_failed": ("登录失败", "Sign-in failed"),
    "ev_signin_throttled": ("登录已暂停", "Sign-in throttled"),
    "ev_user_password_changed": ("修改密码", "Password changed"),
    "ev_user_deactivated": ("停用用户", "User deactivated"),
    "ev_department_renamed": ("部门更名", "Department renamed"),
    "ev_demo_seeded": ("创建演示数据", "Demo data created"),
    # User administration and handovers (engine/user_admin.py, engine/handover.py).
    "ev_user_created": ("新建用户", "User created"),
    "ev_user_updated": ("修改用户", "User updated"),
    "ev_user_reactivated": ("重新启用用户", "User reactivated"),
    "ev_user_handed_over": ("移交工作", "Work handed over"),
    "ev_handover_returned": ("交回工作", "Handover returned"),
}

# One line of the case page's history per event type (`case_event_<type>`).
_CASE_EVENTS: Catalogue = {
    "case_event_instance_started": ("登记了案件", "registered the case"),
    "case_event_task_created": ("创建任务 {name}", "created the task {name}"),
    "case_event_task_claimed": ("认领了 {name}", "claimed {name}"),
    "case_event_task_unclaimed": ("退回了 {name}", "gave {name} back to the queue"),
    "case_event_task_assigned": ("把 {name} 转派给 {assignee}", "assigned {name} to {assignee}"),
    "case_event_variable_follows": ("，{label}改为 {value}", "; {label} now {value}"),
    "case_event_task_commented": ("备注 {name}：{text}", "commented on {name}: {text}"),
    "case_event_sla_warning": ("{name} 即将超时", "{name} is at risk"),
    "case_event_sla_breached": ("{name} 已超时", "{name} breached its due time"),
    "case_event_task_escalated": (
        "{name} 升级到第 {level} 级（{recipient_group}）",
        "{name} escalated to level {level} ({recipient_group})",
    ),
    "case_event_instance_completed": ("结案", "closed the case"),
    "case_event_instance_cancelled": ("取消了案件", "cancelled the case"),
    "case_event_timer_fired": ("定时器触发", "a timer fired"),
    "case_event_task_completed": ("完成了 {name}", "completed {name}"),
    "case_event_task_completed_took": (
        "完成了 {name}（分派后 {took}）",
        "completed {name} {took} after it was assigned",
    ),
}

# The case record on the task and case pages: the start and every step, in order.
_CASE_RECORD: Catalogue = {
    "record_title": ("案件记录", "Case record"),
    "record_empty": ("还没有已完成的步骤", "No step has been completed yet"),
    "record_started": ("登记", "Registered"),
    "record_round": ("第{n}轮", "round {n}"),
    "record_latest": ("最近一步", "latest"),
    "record_total": ("合计", "Total"),
    "record_done_by": ("提交人", "Done by"),
    "record_done_at": ("时间", "When"),
    "record_date_format": ("%Y年%m月%d日", "%d %b %Y"),
}

# Working time and instants as the pages show them.
_TIME: Catalogue = {
    "datetime_format": ("%Y-%m-%d %H:%M", "%d %b %Y %H:%M"),
    "duration_hours": ("{n}小时", "{n} h"),
    "duration_minutes": ("{n}分", "{n} min"),
    "time_remaining": ("剩余 {span}", "{span} left"),
    "time_overdue": ("已超时", "overdue"),
    "time_overdue_by": ("超时 {span}", "overdue by {span} working time"),
    "time_overdue_hours": ("超时 {n}小时", "overdue by {n} working hours"),
    "time_overdue_one_hour": ("超时 1小时", "overdue by 1 working hour"),
}

# Notifications (`notification_<kind>`); a field the data lacks renders empty.
_NOTIFICATIONS: Catalogue = {
    "notification_sla_warning": (
        "任务「{name}」即将超时（截止 {due}）",
        "Task '{name}' is at risk: due {due}",
    ),
    "notification_sla_breached": (
        "任务「{name}」已超时（截止 {due}）",
        "Task '{name}' is overdue since {due}",
    ),
    "notification_task_escalated": (
        "任务「{name}」已升级到第 {level} 级（{department}，截止 {due}）",
        "Task '{name}' escalated to level {level} ({department}, due {due})",
    ),
    "notification_history_broken": (
        "审计日志校验失败：第 {first_bad_seq} 条事件有问题（{problem}）",
        "History verification failed at event {first_bad_seq}: {problem}",
    ),
    "notification_calendar_computed": (
        "{year} 年的官方节假日安排尚未导入，正在使用推算的日历；请导入官方安排",
        "No official holiday schedule for {year}: a computed calendar is in use; "
        "load the official dates",
    ),
}

# What form validation says about a field (`form_<problem>`, forms/registry.py).
_FORM_PROBLEMS: Catalogue = {
    "form_not_object": ("必须是一个 JSON 对象", "must be a JSON object"),
    "form_unknown": ("未知字段，此表单没有该字段", "unknown field: this form has no such field"),
    "form_required": ("必填", "is required"),
    "form_required_if": ("当{field}为“{value}”时必填", "is required when {field} is '{value}'"),
    "form_string": ("必须是文本", "must be text"),
    "form_too_long": ("最多 {n} 个字符", "at most {n} characters"),
    "form_boolean": ("必须是 true 或 false", "must be true or false"),
    "form_integer": ("必须是整数", "must be a whole number"),
    "form_number": ("必须是数字", "must be a number"),
    "form_min": ("不能小于 {n}", "must be at least {n}"),
    "form_max": ("不能大于 {n}", "must be at most {n}"),
    "form_exclusive_min": ("必须大于 {n}", "must be greater than {n}"),
    "form_enum": ("必须是以下之一：{values}", "must be one of: {values}"),
    "form_list": ("必须是列表", "must be a list"),
    "form_date": ("必须是日期，格式 YYYY-MM-DD", "must be a date as YYYY-MM-DD"),
    "form_mobile": ("不是有效的中国大陆手机号", "is not a valid mainland China mobile number"),
    "form_user": ("不是{department}的{roles}", "is not a {roles} member of {department}"),
    "form_user_any_department": ("任一部门", "any department"),
    "form_user_role_staff": ("员工", "staff"),
    "form_user_role_supervisor": ("主管", "supervisor"),
    "form_user_role_any": ("在职用户", "active user"),
}

# Domain errors (`error_<what>`) and field problems (`problem_<what>`) the engine raises.
# The English text is exactly what the JSON API answers with.
_ERRORS: Catalogue = {
    "error_designers_only": (
        "只有流程设计人员可以部署流程",
        "only process designers may deploy processes",
    ),
    "error_auditors_cannot_start": ("审计人员不能发起流程", "auditors cannot start processes"),
    "error_cancel_supervisors_only": (
        "只有主管和管理员可以取消案件",
        "only supervisors and admins may cancel a case",
    ),
    "error_read_only": (
        "审计人员只有只读权限：此操作会修改数据",
        "auditors have read-only access: this request would change data",
    ),
    "error_audit_readers_only": (
        "只有审计人员和管理员可以查看审计日志",
        "only auditors and admins may read the audit trail",
    ),
    "error_scope_all": (
        "“全部”任务只对主管、高管、审计人员和管理员开放",
        "scope=all is for supervisors, executives, auditors and admins",
    ),
    "error_no_department": ("您不属于任何部门", "you belong to no department"),
    "error_task_other_department": (
        "该任务属于其他部门",
        "this task belongs to another department",
    ),
    "error_workers_only": ("只有员工和主管处理任务", "only staff and supervisors work on tasks"),
    "error_assign_supervisors_only": (
        "只有该任务所在部门的主管和高管可以转派",
        "only supervisors of the task's department and executives may assign it",
    ),
    "error_auditors_cannot_comment": ("审计人员不能添加备注", "auditors cannot comment"),
    "error_report_readers_only": (
        "SLA 报表仅供主管、高管、审计人员和管理员查看",
        "SLA reports are for supervisors, executives, auditors and admins",
    ),
    "error_customer_readers_only": (
        "客户档案只对员工、主管、高管、审计人员和管理员开放",
        "customer records are for staff, supervisors, executives, auditors and admins",
    ),
    "error_case_not_yours": (
        "该案件中没有您或您部门的工作",
        "this case has no work of yours or your department",
    ),
    "error_task_not_found": ("任务 {task_id} 不存在", "task '{task_id}' does not exist"),
    "error_instance_not_found": (
        "案件 {instance_id} 不存在",
        "instance '{instance_id}' does not exist",
    ),
    "error_case_not_found": ("没有案件 {instance_id}", "no case {instance_id}"),
    "error_customer_not_found": (
        "客户 {customer_id} 不存在",
        "customer {customer_id} does not exist",
    ),
    "error_process_not_deployed": (
        "流程 {process} 尚未部署",
        "process '{process}' is not deployed",
    ),
    "error_version_not_deployed": (
        "流程 {process} 的第 {version} 版尚未部署",
        "process '{process}' version {version} is not deployed",
    ),
    "error_no_start_page": ("流程 {process} 没有登记页面", "no start page for {process}"),
    "error_task_claimed_by": (
        "该任务已被他人认领（{assignee}）",
        "task is claimed by {assignee}",
    ),
    "error_task_no_longer_open": ("该任务已不在进行中", "task is no longer open"),
    "error_task_is_open": ("该任务仍在进行中", "task is open"),
    "error_task_is_completed": ("该任务已完成", "task is completed"),
    "error_task_is_cancelled": ("该任务已取消", "task is cancelled"),
    "error_case_is_completed": ("该案件已结案", "the case is completed"),
    "error_case_is_cancelled": ("该案件已取消", "the case is cancelled"),
    "error_case_is_running": ("该案件处理中", "the case is running"),
    "error_case_is_error": ("该案件出错", "the case is error"),
    "error_concurrent_update": (
        "案件刚被他人修改，请刷新后重试",
        "the case was changed by someone else; reload and retry",
    ),
    "problem_one_of": ("必须是以下之一：{values}", "one of {values}"),
    "problem_assignee_missing": ("请选择转派给谁", "give the username to assign the task to"),
    "problem_no_active_user": ("没有在职用户 {username}", "no active user '{username}'"),
    "problem_not_department_staff": (
        "{username} 不是该任务所在部门 {department} 的员工",
        "'{username}' is not staff of the task's department {department}",
    ),
    "problem_comment_empty": ("备注是空的", "the comment is empty"),
    "problem_comment_too_long": ("最多 10000 个字符", "at most 10000 characters"),
    # Staff scorecards (engine/scorecards.py, /reports/scorecards)
    "problem_no_user": ("没有用户 {username}", "no user '{username}'"),
    "problem_scorecards_until_before_since": ("结束时间必须晚于开始时间", "must be after since"),
    "error_scorecards_own_department": (
        "主管只能查看本部门的考核",
        "supervisors read the scorecards of their own department",
    ),
    "error_scorecards_own_only": ("员工只能查看自己的考核", "staff read only their own scorecard"),
    "error_scorecards_readers": (
        "考核只对员工、主管、高管和管理员开放",
        "scorecards are for staff, supervisors, executives and admins",
    ),
    "scorecards_title": ("员工考核", "Staff scorecards"),
    "scorecards_my_title": ("我的考核", "My scorecard"),
    "scorecards_since": ("开始日期", "From"),
    "scorecards_until": ("结束日期", "Until (included)"),
    "scorecards_all_departments": ("全部部门", "every department"),
    "problem_scorecards_date": ("请填写日期，例如 2026-11-30", "give a date such as 2026-11-30"),
    "scorecards_filter": ("查询", "Show"),
    "scorecards_person": ("员工", "Person"),
    "scorecards_department_total": ("部门合计", "Department total"),
    "scorecards_tasks_completed": ("完成任务", "Tasks completed"),
    "scorecards_on_time_pct": ("按时完成率", "On time"),
    "scorecards_breached": ("超时", "Breached"),
    "scorecards_escalated": ("升级（一级及以上）", "Escalated (level 1+)"),
    "scorecards_escalated_level_2": ("升级到二级", "Reached level 2"),
    "scorecards_escalated_level_3": ("升级到三级", "Reached level 3"),
    "scorecards_average": ("回访满意度（次数）", "Return-visit score (visits)"),
    "scorecards_customer_average": ("客户评价（份数）", "Customer survey (answers)"),
    "scorecards_none": ("—", "—"),
    "scorecards_mean": ("{mean}（{n}）", "{mean} ({n})"),
    "scorecards_empty": ("这段时间没有考核数据", "no figures for this period"),
    "scorecards_explain": (
        "按完成时间统计本人完成的任务；满意度为期间内给出的、本人参与处理过的案件的评分。",
        "Tasks counted by when the person completed them; satisfaction is the scores given "
        "in the period to the cases the person had worked on.",
    ),
    "nav_scorecards": ("考核", "Scorecards"),
}

# The case page's diagram (api/templates/_case_diagram.html) and the task page's
# comments and draft.
_DIAGRAM_AND_COMMENTS: Catalogue = {
    "diagram_legend": ("图例", "Legend"),
    "diagram_passed": (
        "已经过（任务、判断、自动步骤、事件）",
        "Passed (tasks, decisions, automatic steps, events)",
    ),
    "diagram_flow_taken": ("已走过的路线", "Path taken"),
    "diagram_open": ("正在处理", "Open"),
    "diagram_breached": ("已超时", "Breached"),
    "diagram_not_passed": ("尚未经过", "Not reached"),
    "diagram_zoom": ("缩放流程图", "Zoom the diagram"),
    "diagram_zoom_in": ("放大", "Zoom in"),
    "diagram_zoom_in_hint": (
        "放大流程图（也可按住 Ctrl 滚动鼠标滚轮）",
        "Zoom in (or Ctrl + wheel)",
    ),
    "diagram_zoom_out": ("缩小", "Zoom out"),
    "diagram_zoom_out_hint": (
        "缩小流程图（也可按住 Ctrl 滚动鼠标滚轮）",
        "Zoom out (or Ctrl + wheel)",
    ),
    "diagram_fit": ("显示全图", "Fit to window"),
    "diagram_fit_hint": ("缩放到整张流程图都能看到", "Show the whole diagram"),
    "diagram_current": ("回到当前步骤", "Current step"),
    "diagram_current_hint": (
        "以易读的大小显示案件当前所在的步骤",
        "Show where the case stands, at a readable size",
    ),
    "diagram_how_to_move": (
        "拖动或滚动鼠标滚轮可移动流程图，按住 Ctrl 滚动滚轮可缩放",
        "Drag or use the wheel to move the diagram, Ctrl + wheel to zoom",
    ),
    "case_event_task_draft_saved": ("保存了 {name} 的草稿", "saved a draft of {name}"),
    "save_draft": ("保存草稿", "Save draft"),
    "draft_saved": (
        "草稿已保存，填写的内容会一直保留到提交完成",
        "Draft saved: what you typed stays until you complete the task",
    ),
    "draft_of": ("草稿：{who} 保存于 {at}", "Draft saved by {who} at {at}"),
    "comment_added": (
        "备注已添加，表单中填写的内容已保留",
        "Comment added; what you typed in the form is kept",
    ),
    "comment_keeps_form": (
        "添加备注不会清除上面表单中已填写的内容",
        "Adding a comment keeps what you typed in the form above",
    ),
    "problem_draft_not_text": ("只能填写文字", "must be text"),
    "problem_draft_too_long": ("草稿最多 {n} 个字符", "a draft holds at most {n} characters"),
}


# Pausing the SLA clock while the case waits, and chasing a task (催办).
_PAUSES_AND_REMINDERS: Catalogue = {
    "pause_clock": ("暂停计时", "Pause the clock"),
    "resume_clock": ("恢复计时", "Resume the clock"),
    "pause_reason": ("暂停原因", "Reason"),
    "pause_note": ("说明（选填）", "Note (optional)"),
    "paused": ("已暂停", "Paused"),
    "paused_since": ("已暂停（{reason}，自 {since}）", "Paused ({reason}, since {since})"),
    "paused_time_left": ("{span}（已暂停）", "{span} (paused)"),
    "paused_hint": (
        "暂停期间不计时、不预警、不升级；恢复后截止时间顺延暂停的工作时间。",
        "While paused the task is not timed, warned or escalated; resuming moves its due "
        "time later by the working time it was paused.",
    ),
    "pause_reason_waiting_customer": ("等待客户", "Waiting for the customer"),
    "pause_reason_waiting_access": ("等待入户/进场", "Waiting for access to the unit"),
    "pause_reason_waiting_parts": ("等待材料/配件", "Waiting for parts"),
    "pause_reason_other": ("其他原因", "Other"),
    "paused_ok": ("已暂停计时：{name}", "Clock paused: {name}"),
    "resumed_ok": ("已恢复计时：{name}", "Clock resumed: {name}"),
    "remind": ("催办", "Chase"),
    "remind_text": ("催办内容", "Message"),
    "remind_hint": (
        "将通知处理人（未认领时通知该部门）",
        "The assignee is told (the department, while nobody holds the task)",
    ),
    "reminded_ok": ("已催办：{name}", "Chased: {name}"),
    "paused_hours": ("暂停时长（工作小时）", "Paused (working hours)"),
    "case_event_sla_paused": (
        "暂停了 {name} 的计时（{reason}）",
        "paused the clock of {name} ({reason})",
    ),
    "case_event_sla_resumed": ("恢复了 {name} 的计时", "resumed the clock of {name}"),
    "case_event_task_reminded": ("催办 {name}：{text}", "chased {name}: {text}"),
    "notification_task_reminded": (
        "{sender_name} 催办任务「{name}」（案件 {case}）：{text}",
        "{sender_name} is chasing task '{name}' (case {case}): {text}",
    ),
    "error_task_already_paused": ("该任务已暂停计时", "the task's clock is already paused"),
    "error_task_not_paused": ("该任务没有暂停计时", "the task's clock is not paused"),
    "error_remind_not_allowed": (
        "只有该任务所在部门的主管、监督部门的主管、高管和升级到的人可以催办",
        "only supervisors of the task's department or of its supervising department, "
        "executives and those it escalated to may chase a task",
    ),
    "problem_reminder_empty": ("请填写催办内容", "the reminder is empty"),
}

# User administration and handovers (engine/user_admin.py, engine/handover.py).
_USER_ADMIN: Catalogue = {
    "error_handover_not_allowed": (
        "只有管理员和该员工所在部门的主管可以移交其工作",
        "only admins and supervisors of the user's department may hand over their work",
    ),
    "error_user_not_found": ("没有用户 {username}", "no user '{username}'"),
    "error_user_exists": ("用户名 {username} 已存在", "user '{username}' already exists"),
    "error_user_holds_work": (
        "{username} 还有 {tasks} 个未完成的任务和 {cases} 个由其负责的进行中案件，请先移交",
        "'{username}' still holds {tasks} open tasks and {cases} running cases in their "
        "charge; hand them over first",
    ),
    "error_handover_not_found": ("没有移交记录 {handover_id}", "no handover {handover_id}"),
    "error_handover_returned": ("这次移交已经交回", "this handover was already handed back"),
    "error_handover_owner_inactive": (
        "{username} 已停用，工作不能交回",
        "'{username}' is deactivated; the work cannot go back",
    ),
    "problem_password_short": ("密码至少 {n} 个字符", "at least {n} characters"),
    "problem_username_format": (
        "用户名为 1-80 个字母、数字或 . _ -",
        "use 1-80 letters, digits, '.', '_' or '-'",
    ),
    "problem_roles_missing": ("至少选择一个角色", "give at least one role"),
    "problem_unknown_role": (
        "未知角色 {role}，可选：{values}",
        "unknown role '{role}'; one of {values}",
    ),
    "problem_unknown_department": (
        "未知部门 {department}，可选：{values}",
        "unknown department '{department}'; one of {values}",
    ),
    "problem_department_needed": (
        "员工和主管必须属于一个部门",
        "staff and supervisors belong to a department",
    ),
    "problem_email": ("不是有效的电子邮件地址", "not an e-mail address"),
    "problem_display_name": ("显示名称为 1-120 个字符", "use 1-120 characters"),
    "problem_cannot_deactivate_self": ("不能停用自己的账号", "you cannot deactivate yourself"),
    "problem_handover_to_missing": ("请指定接手人", "give the username(s) to hand over to"),
    "problem_handover_to_self": ("不能移交给本人", "cannot hand over to the same user"),
    "problem_handover_recipient": (
        "{username} 不是{department_zh}的在职员工",
        "'{username}' is not an active staff member of {department_en}",
    ),
}

# Input no field can hold, refused before any route runs (api/input_guard.py).
_INPUT_PROBLEMS: Catalogue = {
    "problem_nul_character": ("不能包含 NUL 字符", "must not contain NUL characters"),
    "problem_lone_surrogate": (
        "包含无效字符（单独的代理码位）",
        "holds an invalid character (a lone surrogate)",
    ),
    "problem_not_finite": ("必须是有限的数字", "must be a finite number (not NaN or Infinity)"),
    "problem_too_deep": ("嵌套不能超过 {n} 层", "must not be nested more than {n} levels deep"),
}


# The admins' calendars and departments page, its upload's problems, the demo accounts
# on the sign-in page (api/web/admin_calendars.py, api/web/signin.py).
_ADMIN_CALENDARS: Catalogue = {
    "nav_admin_calendars": ("日历与部门", "Calendars & departments"),
    "error_admins_only": ("只有系统管理员可以进行此操作", "only admins may do this"),
    "error_department_unknown": ("部门「{code}」不存在", "department '{code}' does not exist"),
    "problem_department_name_empty": ("请填写部门名称", "the name is empty"),
    "problem_department_name_too_long": (
        "部门名称最多 {n} 个字符",
        "a department name holds at most {n} characters",
    ),
    "problem_department_name_taken": (
        "另一个部门已使用这个名称",
        "another department already has this name",
    ),
    "problem_calendar_unknown": ("请从列表中选择工作日历", "one of {names}"),
    "admin_calendars_title": ("日历与部门", "Calendars and departments"),
    "admin_calendar_year": ("年份", "Year"),
    "admin_calendar_show": ("查看", "Show"),
    "admin_calendar_source": ("来源：", "Source: "),
    "admin_calendar_source_loaded": (
        "已导入官方安排（{who}，{at}）",
        "Official schedule loaded ({who}, {at})",
    ),
    "admin_calendar_source_built_in": (
        "官方安排（内置，chinese-calendar {version}）",
        "Official schedule (built in, chinese-calendar {version})",
    ),
    "admin_calendar_source_computed": (
        "尚无官方安排：按农历推算的法定节假日，不含调休上班日；官方安排发布后请在下方导入",
        "No official schedule yet: statutory holidays computed from the lunar calendar, "
        "without adjusted working weekends; upload the official dates below once published",
    ),
    "admin_calendar_nonworking_weekdays": ("放假的工作日", "Weekdays off"),
    "admin_calendar_working_weekends": ("调休上班的周末", "Weekend days worked (调休)"),
    "admin_calendar_date": ("日期", "Date"),
    "admin_calendar_weekday": ("星期", "Day"),
    "admin_calendar_name": ("名称", "Name"),
    "admin_calendar_none": ("无", "None"),
    "admin_calendar_upload": ("导入官方安排", "Upload the official schedule"),
    "admin_calendar_upload_hint": (
        "国务院办公厅发布的放假安排，JSON 文件（格式见 README）：年份、放假日期、调休上班日期。"
        "导入后替换该年已导入的安排。",
        "The State Council's schedule as a JSON file (format in the README): the year, the "
        "days off and the weekend days worked. It replaces what was loaded for that year.",
    ),
    "admin_calendar_file": ("文件", "File"),
    "admin_calendar_loaded_ok": (
        "已导入 {year} 年的官方安排",
        "Loaded the official {year} schedule",
    ),
    "admin_departments": ("部门", "Departments"),
    "admin_departments_hint": (
        "可修改部门的中英文显示名称。BPMN 泳道仍按部门代码或原始名称识别部门。",
        "The display names may be changed. BPMN lanes still name a department by its code "
        "or its original name.",
    ),
    "admin_department_name_zh": ("中文名称", "Chinese name"),
    "admin_department_name_en": ("英文名称", "English name"),
    "admin_department_calendar": ("工作日历", "Working calendar"),
    "admin_department_renamed_ok": ("已保存部门名称", "Department names saved"),
    "admin_department_calendar_ok": ("已保存部门日历", "Department calendar saved"),
    "save": ("保存", "Save"),
    "calendar_name_standard": (
        "标准工作日历（周一至周五，法定节假日休息）",
        "Standard (Mon–Fri, statutory holidays off)",
    ),
    "calendar_name_round_the_clock": (
        "全天候（每小时都计时）",
        "Round the clock (every hour counts)",
    ),
    "calendar_name_sales_office": (
        "售楼处（每天上班，法定节假日休息）",
        "Sales office (every day, statutory holidays off)",
    ),
    "weekday_0": ("星期一", "Monday"),
    "weekday_1": ("星期二", "Tuesday"),
    "weekday_2": ("星期三", "Wednesday"),
    "weekday_3": ("星期四", "Thursday"),
    "weekday_4": ("星期五", "Friday"),
    "weekday_5": ("星期六", "Saturday"),
    "weekday_6": ("星期日", "Sunday"),
    "holiday_new_year_s_day": ("元旦", "New Year's Day"),
    "holiday_spring_festival": ("春节", "Spring Festival"),
    "holiday_chinese_new_year_spring_festival": ("春节", "Spring Festival"),
    "holiday_chinese_new_year_s_eve": ("除夕", "Chinese New Year's Eve"),
    "holiday_tomb_sweeping_day": ("清明节", "Tomb-sweeping Day"),
    "holiday_labour_day": ("劳动节", "Labour Day"),
    "holiday_labor_day": ("劳动节", "Labour Day"),
    "holiday_dragon_boat_festival": ("端午节", "Dragon Boat Festival"),
    "holiday_mid_autumn_festival": ("中秋节", "Mid-autumn Festival"),
    "holiday_national_day": ("国庆节", "National Day"),
    "holiday_anti_fascist_70th_day": ("抗战胜利 70 周年纪念日", "Anti-Fascist 70th Day"),
    "holiday_observed": ("{name}（补假）", "{name} (observed)"),
    "calendar_file_missing": ("请选择要导入的文件", "choose a file to upload"),
    "calendar_file_too_large": (
        "文件过大（最多 {kb} KB）",
        "the file is too large (at most {kb} KB)",
    ),
    "calendar_file_not_utf8": ("文件不是 UTF-8 编码的文本", "the file is not UTF-8 text"),
    "calendar_file_not_json": (
        "文件不是有效的 JSON（第 {line} 行第 {column} 列）",
        "the file is not valid JSON (line {line}, column {column})",
    ),
    "calendar_file_not_object": (
        "文件必须是一个 JSON 对象，包含 year、holidays、workdays",
        "the file must hold one JSON object with year, holidays, workdays",
    ),
    "calendar_file_unknown_keys": ("文件含有未知的键：{keys}", "unknown keys: {keys}"),
    "calendar_file_bad_year": (
        "year 必须是 2000 到 2100 之间的年份",
        "'year' must be a year between 2000 and 2100",
    ),
    "calendar_file_bad_dates": (
        "{field} 必须是日期列表，或日期到名称的对象",
        "'{field}' must be a list of dates or an object date -> name",
    ),
    "calendar_file_not_a_date": (
        "{field}：「{value}」不是日期（应为 YYYY-MM-DD）",
        "'{field}': '{value}' is not a date (YYYY-MM-DD)",
    ),
    "calendar_file_other_year": (
        "{field}：{day} 不在 {year} 年",
        "'{field}': {day} is not in {year}",
    ),
    "calendar_file_both": (
        "这些日期既是假日又是上班日：{days}",
        "dates both holiday and working day: {days}",
    ),
    "calendar_file_workday_not_weekend": (
        "调休上班日必须是星期六或星期日：{days}",
        "adjusted working days must fall on a Saturday or Sunday: {days}",
    ),
    "calendar_file_no_holidays": ("文件没有 {year} 年的放假日期", "no holidays given for {year}"),
    "demo_accounts": ("演示账号", "Demo accounts"),
    "demo_accounts_password": (
        "这是演示数据库，以下账号的密码都是：",
        "This is a demo database; every account below has the password:",
    ),
    "demo_account_name": ("姓名", "Name"),
    "demo_account_role": ("角色", "Role"),
    "role_name_staff": ("员工", "Staff"),
    "role_name_supervisor": ("主管", "Supervisor"),
    "role_name_executive": ("高管", "Executive"),
    "role_name_designer": ("流程设计", "Process designer"),
    "role_name_auditor": ("审计", "Auditor"),
    "role_name_admin": ("系统管理员", "Administrator"),
}


# The process designer's pages (api/web/designer.py) and its modeler's script.
_DESIGNER: Catalogue = {
    "designer": ("流程设计", "Process design"),
    "designer_processes": ("流程与版本", "Processes and versions"),
    "designer_intro": (
        "每个已部署流程的各个版本：部署时间与部署人、各版本的案件、待办任务和超时情况。",
        "Every deployed process by version: when and by whom it was deployed, its cases, "
        "open tasks and breaches.",
    ),
    "designer_open_modeler": ("打开流程设计器", "Open in the modeler"),
    "designer_running_total": ("运行中案件共 {n} 件", "{n} running cases in all"),
    "designer_version": ("版本", "Version"),
    "designer_version_n": ("第 {n} 版", "Version {n}"),
    "designer_newest": ("最新", "newest"),
    "designer_deployed_at": ("部署时间", "Deployed"),
    "designer_deployed_by": ("部署人", "Deployed by"),
    "designer_running": ("运行中", "Running"),
    "designer_completed": ("已完成", "Completed"),
    "designer_cancelled": ("已取消", "Cancelled"),
    "designer_failed": ("出错", "Failed"),
    "designer_open_tasks": ("待办任务", "Open tasks"),
    "designer_breached_open": ("超时未办", "Breached, open"),
    "designer_breached": ("累计超时", "Breached in all"),
    "designer_no_processes": ("尚未部署任何流程", "No process is deployed yet"),
    "designer_modeler": ("流程设计器", "Modeler"),
    "designer_editing": (
        "正在编辑第 {n} 版（最新版本）。修改会自动检查，部署后成为新版本。",
        "Editing version {n} (the newest). Changes are checked as you go; deploying makes "
        "them a new version.",
    ),
    "designer_problem_list": ("检查结果", "Check results"),
    "designer_deploy": ("部署为新版本", "Deploy as a new version"),
    "designer_discard": ("放弃草稿", "Discard the draft"),
    "designer_back": ("返回流程列表", "Back to the processes"),
    "designer_not_built": (
        "设计器的前端文件尚未生成：请运行 make install（npm run build）后刷新。",
        "The modeler's browser files are not built: run make install (npm run build) and reload.",
    ),
    "designer_no_diagram": ("没有收到流程图", "no diagram was sent"),
    "designer_deployed": ("已部署为第 {version} 版", "Deployed as version {version}"),
    "designer_unchanged": (
        "流程图与第 {version} 版相同，未生成新版本",
        "The diagram is the same as version {version}: no new version",
    ),
    "designer_checking": ("正在检查…", "Checking…"),
    "designer_valid": ("检查通过，可以部署", "No problems: ready to deploy"),
    "designer_problems": (
        "发现 {n} 个问题，修正后才能部署",
        "{n} problems to fix before deploying",
    ),
    "designer_problem_whole_file": ("整个文件", "the whole file"),
    "designer_check_failed": ("检查未完成，请稍后重试", "The check did not finish; try again"),
    "designer_deploying": ("正在部署…", "Deploying…"),
    "designer_deploy_refused": ("未部署：请先修正问题", "Not deployed: fix the problems first"),
    "designer_draft_restored": (
        "已恢复上次未部署的草稿",
        "Restored the draft you had not deployed",
    ),
    "designer_draft_saved": ("草稿已保存在本浏览器", "Draft kept in this browser"),
    "designer_draft_discarded": ("草稿已放弃", "Draft discarded"),
    "designer_group_flowdesk": ("flowdesk 属性", "flowdesk properties"),
    "designer_lane_department": ("泳道所属部门", "Lane's department"),
    "designer_lane_department_none": ("（未指定部门）", "(no department)"),
    "designer_name_en": ("英文名称", "English name"),
    "designer_sla_hours": ("时效（工作小时）", "SLA (working hours)"),
    "designer_sla_hours_for": ("时效：{severity}（工作小时）", "SLA: {severity} (working hours)"),
    "designer_sla_calendar": ("工作日历", "Working calendar"),
    "designer_sla_calendar_for": ("工作日历：{severity}", "Working calendar: {severity}"),
    "designer_calendar_default": ("部门默认日历", "The department's calendar"),
    "designer_escalation": ("升级规则", "Escalation ladder"),
    "designer_escalation_default": ("（未设置）", "(none)"),
    "designer_form": ("表单", "Form"),
    "designer_form_none": ("此步骤没有表单", "This step has no form"),
    "designer_due_from_variable": ("截止时间取自变量", "Due time from variable"),
    "designer_department_property": ("由变量指定部门", "Department from variable"),
    "designer_ladder_default": ("默认：部门主管 → 高管", "Default: supervisors → executives"),
    "designer_severity_urgent": ("紧急", "Urgent"),
    "designer_severity_high": ("高", "High"),
    "designer_severity_normal": ("一般", "Normal"),
    # the deploy checks a designer meets most (engine/bpmn/bpmn_checks.py); English as
    # the API and the command line have always said them
    "bpmn_sla_unknown": (
        "未知的时效属性 {name}",
        "unknown SLA property '{name}'; known: {known}",
    ),
    "bpmn_sla_not_positive": (
        "时效属性 {name} 的值 {value} 无效：请填写大于 0 的工作小时（天）数",
        "the SLA property '{name}' is {value}; give a number of working hours (days) "
        "greater than 0",
    ),
    "bpmn_sla_calendar_unknown": (
        "时效属性 {name} 的工作日历 {value} 不存在：请从列表中选择",
        "the SLA property '{name}' names the calendar {value}; known calendars: {known}",
    ),
    "bpmn_sla_ladder_unknown": (
        "升级规则 {value} 不存在：请从列表中选择",
        "the escalation ladder {value} does not exist; known: {known}",
    ),
    "bpmn_sla_not_a_variable": (
        "时效属性 {name} 必须是一个变量名",
        "the SLA property '{name}' must name a variable",
    ),
    "bpmn_sla_no_target": (
        "设置了时效属性却没有时效：请填写“时效（工作小时）”，或紧急、高、一般三档时效",
        "an SLA needs 'sla_hours' or all of {every}",
    ),
    "bpmn_sla_days_without_variable": (
        "default_next_working_days 需要同时设置“截止时间取自变量”",
        "'default_next_working_days' needs 'due_from_variable'",
    ),
    "bpmn_lane_unnamed": (
        "泳道没有名称：请以负责其任务的部门命名（销售部、客服部、物业部、工程部或成本合约部）",
        "the lane has no name; name it after the department that owns its tasks: {hint}",
    ),
    "bpmn_lane_no_department": (
        "泳道名称“{name}”不是部门：请改为销售部、客服部、物业部、工程部或成本合约部",
        "the lane '{name}' does not name a department; use {hint}",
    ),
    "bpmn_node_no_department": (
        "此步骤没有所属部门：请把它放进以部门命名的泳道，或设置“由变量指定部门”",
        "the {label} has no department: put it in a lane named after a department "
        "or give it a spiff property 'department'",
    ),
    "bpmn_node_lane_no_department": (
        "此步骤所在的泳道“{lane}”不是部门：请把它放进部门的泳道，或设置“由变量指定部门”",
        "the {label} is in the lane '{lane}', which does not name a department; put it in "
        "a department's lane or give it a spiff property 'department'",
    ),
}

# The decision tables' editor (/designer/decisions/{id}, api/web/designer_decisions.py)
# and the DMN deploy checks a table's editor meets most (engine/bpmn/dmn_checks.py);
# the English as the API and the command line have always said them.
_DECISIONS: Catalogue = {
    "decisions_title": ("决策表", "Decision tables"),
    "decisions_intro": (
        "流程中的业务规则任务按决策表判断，例如投诉按类别分派给责任部门。",
        "The business rule tasks of the processes decide by these tables, e.g. which "
        "department a complaint goes to by its category.",
    ),
    "decisions_none": ("尚未部署任何决策表", "No decision table is deployed yet"),
    "decisions_open_editor": ("打开决策表编辑器", "Open in the table editor"),
    "decisions_used_by": ("使用它的流程", "Used by"),
    "decisions_used_by_none": ("（没有流程使用）", "(no process uses it)"),
    "decisions_editor": ("决策表编辑器", "Decision table editor"),
    "decisions_editing": (
        "正在编辑第 {n} 版（最新版本）。修改会自动检查，部署后新受理的案件按新规则判断；"
        "已在办理中的案件仍按原规则。",
        "Editing version {n} (the newest). Changes are checked as you go; once deployed, "
        "new cases are decided by the new rules, cases already running keep the old ones.",
    ),
    "decisions_deployed": ("已部署为第 {version} 版", "Deployed as version {version}"),
    "decisions_deployed_callers": (
        "已部署为第 {version} 版；{callers}随之更新，新受理的案件按新规则判断",
        "Deployed as version {version}; {callers} updated with it: new cases follow the new rules",
    ),
    "decisions_caller_version": ("“{name}”第 {version} 版", "'{name}' version {version}"),
    "decisions_unchanged": (
        "决策表与第 {version} 版相同，未生成新版本",
        "The table is the same as version {version}: no new version",
    ),
    "error_decision_not_deployed": (
        "决策表 {decision} 尚未部署",
        "decision '{decision}' is not deployed",
    ),
    "decisions_no_table": ("没有收到决策表", "no decision table was sent"),
    "decisions_wrong_decision": (
        "文件中的决策编号应为 {decision}",
        "the file must define the decision '{decision}'",
    ),
    "dmn_rule_input_empty": (
        "第 {number} 条规则，“{column}”列的条件为空：任意值请填 -",
        "{where}, input '{column}': the entry has no text (use - for any)",
    ),
    "dmn_rule_input_invalid": (
        "第 {number} 条规则，“{column}”列的条件写法有误：文字须加英文双引号，"
        '如 "quality"；任意值填 -',
        "{where}, input '{column}': {detail}",
    ),
    "dmn_rule_output_invalid": (
        "第 {number} 条规则，“{heading}”列的结果写法有误：文字须加英文双引号，"
        '如 "engineering"；是/否填 True 或 False',
        "{where}, output '{column}': the value is not valid: {detail}",
    ),
}


# The user administration pages (/admin/users) and the handover flow.
_USER_ADMIN_PAGES: Catalogue = {
    "users_admin": ("用户管理", "Users"),
    "users_display_name": ("姓名", "Name"),
    "users_username": ("用户名", "Username"),
    "users_email": ("电子邮箱", "E-mail"),
    "users_roles": ("角色", "Roles"),
    "users_department": ("部门", "Department"),
    "users_no_department": ("无部门", "No department"),
    "users_state": ("状态", "Status"),
    "users_active": ("在职", "Active"),
    "users_inactive": ("停用", "Inactive"),
    "users_last_sign_in": ("最近登录", "Last sign-in"),
    "users_never_signed_in": ("从未登录", "Never"),
    "users_open_tasks": ("进行中任务", "Open tasks"),
    "users_leads": ("跟进中线索", "Leads held"),
    "users_none": ("没有符合条件的用户", "No users match"),
    "users_add": ("新增用户", "Add user"),
    "users_add_button": ("新增用户", "Add user"),
    "users_password": ("初始密码", "Password"),
    "users_password_rule": ("至少 10 个字符", "At least 10 characters"),
    "users_added": ("已新增用户：{name}", "User added: {name}"),
    "users_edit": ("编辑", "Edit"),
    "users_saved": ("已保存", "Saved"),
    "users_save": ("保存", "Save"),
    "users_back": ("返回用户列表", "Back to the users"),
    "users_to_user": ("返回 {name} 的账号", "Back to {name}'s account"),
    "users_profile": ("基本信息", "Profile"),
    "users_reset_password": ("重设密码", "Reset password"),
    "users_new_password": ("新密码", "New password"),
    "users_password_reset": (
        "密码已重设，该用户需重新登录",
        "Password reset; the user signs in again",
    ),
    "users_deactivate": ("停用该用户", "Deactivate"),
    "users_deactivate_hint": (
        "停用后该用户立即退出登录，不能再登录，也不再出现在处理人选项中；办理记录保留。",
        "Deactivated users are signed out at once, cannot sign in and are no longer offered "
        "as assignees; their history stays.",
    ),
    "users_deactivated": ("已停用：{name}", "Deactivated: {name}"),
    "users_reactivate": ("重新启用", "Reactivate"),
    "users_reactivated": ("已重新启用：{name}", "Reactivated: {name}"),
    "users_holds_work": (
        "{name} 还有 {tasks} 个进行中的任务、{leads} 条跟进中的线索，需先移交才能停用。",
        "{name} still holds {tasks} open tasks and {leads} running leads; hand them over "
        "before deactivating.",
    ),
    "users_hand_over_first": ("先移交工作", "Hand over first"),
    "users_self": ("这是您自己的账号", "This is your own account"),
    # The role names (role_name_*) are the sign-in page's, in _ADMIN_CALENDARS.
    "handover": ("移交工作", "Hand over work"),
    "handover_of": ("移交 {name} 的工作", "Hand over the work of {name}"),
    "handover_holds": (
        "{name} 有 {tasks} 个进行中的任务、{leads} 条跟进中的线索。",
        "{name} holds {tasks} open tasks and {leads} running leads.",
    ),
    "handover_nothing": ("{name} 没有需要移交的工作。", "{name} holds no work to hand over."),
    "handover_tasks": ("进行中的任务", "Open tasks"),
    "handover_leads": ("跟进中的线索", "Running leads"),
    "handover_to_one": ("全部移交给一位同事", "All to one colleague"),
    "handover_to_several": ("轮流分给几位同事", "Round-robin over several colleagues"),
    "handover_colleague": ("接手同事", "Colleague"),
    "handover_colleagues": ("接手同事（可多选，轮流分配）", "Colleagues (round-robin)"),
    "handover_no_colleague": (
        "本部门没有其他在职同事可以接手。",
        "No other active colleague in the department to take over.",
    ),
    "handover_review": ("预览移交", "Preview the handover"),
    "handover_plan": ("移交计划", "What will move"),
    "handover_plan_line": (
        "{name}：{tasks} 个任务、{leads} 条线索",
        "{name}: {tasks} tasks, {leads} leads",
    ),
    "handover_confirm": ("确认移交", "Confirm the handover"),
    "handover_change": ("重新选择", "Choose again"),
    "handover_done": ("移交完成", "Handover done"),
    "handover_moved": (
        "已把 {tasks} 个任务、{leads} 条线索移交出去。",
        "Moved {tasks} tasks and {leads} leads.",
    ),
    "handover_now_free": (
        "{name} 已不再持有任何工作，现在可以停用。",
        "{name} now holds no work and can be deactivated.",
    ),
    "handover_covered": ("已移交、可交回的工作", "Work handed over that can come back"),
    "handover_cover_hint": (
        "休假代管：移交后可在结果页把仍未完成的工作交回本人。",
        "Holiday cover: what is still open can be handed back from the result page.",
    ),
    "handover_cover_line": (
        "{at} 移交给 {to}：{tasks} 个任务、{leads} 条线索",
        "{at} to {to}: {tasks} tasks, {leads} leads",
    ),
    "handover_hand_back": ("交回本人", "Hand back"),
    "handover_team": ("休假代管", "Holiday cover"),
    "handover_team_hint": (
        "同事休假时，可把其进行中的任务和线索移交给本部门其他同事，回来后再交回。",
        "While a colleague is away, hand their open tasks and leads to others of the "
        "department, and back on return.",
    ),
    "handover_hand_back_hint": (
        "休假代管结束时，可把同事仍未办完的这些工作交回本人。",
        "When the absence ends, what colleagues have not finished can go back.",
    ),
    "handover_handed_back": (
        "已交回 {tasks} 个任务、{leads} 条线索。",
        "Handed back {tasks} tasks and {leads} leads.",
    ),
}


# The designer's heat map and version compare (engine/version_stats.py,
# api/web/designer_insight.py, api/static/src/designer/heatmap.js and compare.js).
_DESIGNER_INSIGHT: Catalogue = {
    "error_stats_readers_only": (
        "版本统计仅供流程设计人员、主管、高管、审计人员和管理员查看",
        "version figures are for designers, supervisors, executives, auditors and admins",
    ),
    "designer_mode_model": ("建模", "Model"),
    "designer_mode_heatmap": ("热力图", "Heat map"),
    "designer_compare_link": ("版本比较", "Compare versions"),
    "designer_heat_version": ("查看版本", "Version shown"),
    "designer_heat_colour": ("着色依据", "Colour by"),
    "designer_heat_by_share": ("超时占比", "Share breached"),
    "designer_heat_by_volume": ("办理量", "Volume"),
    "designer_heat_loading": ("正在读取统计…", "Reading the figures…"),
    "designer_heat_failed": (
        "统计读取失败，请稍后重试",
        "The figures could not be read; try again",
    ),
    "designer_heat_instances": (
        "第 {version} 版的案件：运行中 {running} 件，已完成 {completed} 件，已取消 {cancelled} 件",
        "Cases on version {version}: {running} running, {completed} completed, "
        "{cancelled} cancelled",
    ),
    "designer_heat_passed": ("已办 {n}", "{n} done"),
    "designer_heat_open": ("在办 {n}", "{n} open"),
    "designer_heat_median": ("中位用时 {time}", "median {time}"),
    "designer_heat_no_median": ("中位用时 —", "median —"),
    "designer_heat_breached": ("超时 {n}（{share}）", "{n} breached ({share})"),
    "designer_heat_legend": ("图例", "Legend"),
    "designer_heat_none": ("尚无任务", "No tasks yet"),
    "designer_heat_share_0": ("无超时", "None breached"),
    "designer_heat_share_low": ("超时不到 20%", "Under 20% breached"),
    "designer_heat_share_mid": ("超时 20%–50%", "20%–50% breached"),
    "designer_heat_share_high": ("超时 50% 以上", "Over 50% breached"),
    "designer_heat_volume_low": ("办理量少", "Few tasks"),
    "designer_heat_volume_mid": ("办理量中等", "Some tasks"),
    "designer_heat_volume_high": ("办理量多", "Most tasks"),
    "designer_heat_badges": (
        "标记：已办 · 在办 · 中位用时（工作时间） · 超时",
        "Badges: done · open · median working time · breached",
    ),
    "designer_heat_table_element": ("步骤", "Step"),
    "designer_compare_title": ("版本比较", "Compare versions"),
    "designer_compare_intro": (
        "上图是旧版本，下图是新版本，两图一起拖动和缩放；变更的元素在图上着色，并在下方列出。",
        "The older version above, the newer below, dragged and zoomed together; changed "
        "elements are coloured on the diagrams and listed below.",
    ),
    "designer_compare_old": ("旧版本", "Older version"),
    "designer_compare_new": ("新版本", "Newer version"),
    "designer_compare_go": ("比较", "Compare"),
    "designer_compare_back": ("返回流程设计器", "Back to the modeler"),
    "designer_compare_same": ("请选择两个不同的版本", "Choose two different versions"),
    "designer_compare_none": ("两个版本的流程没有差别", "The two versions do not differ"),
    "designer_compare_count": ("共 {n} 处变更", "{n} changes"),
    "designer_compare_working": ("正在比较…", "Comparing…"),
    "designer_compare_failed": ("比较失败：{error}", "The comparison failed: {error}"),
    "designer_compare_element": ("元素", "Element"),
    "designer_compare_kind": ("变更", "Change"),
    "designer_compare_properties": ("变更的属性", "Changed properties"),
    "designer_change_added": ("新增", "Added"),
    "designer_change_removed": ("删除", "Removed"),
    "designer_change_changed": ("修改", "Changed"),
    "designer_change_moved": ("移动", "Moved"),
    "designer_change_values": ("{name}：{old} → {new}", "{name}: {old} → {new}"),
    "designer_change_empty": ("（空）", "(empty)"),
    "designer_prop_name": ("名称", "Name"),
    "designer_prop_script": ("脚本", "Script"),
    "designer_prop_condition": ("条件", "Condition"),
    "designer_prop_decision": ("决策表", "Decision table"),
    "designer_prop_other": ("其他属性 {name}", "Property {name}"),
    "designer_prop_flow": ("连线", "Connections"),
    "designer_type_userTask": ("用户任务", "User task"),
    "designer_type_sequenceFlow": ("连线", "Sequence flow"),
    "designer_type_lane": ("泳道", "Lane"),
    "designer_type_other": ("元素", "Element"),
}


# Moving running cases to another version (engine/migration.py, api/web/designer_migration.py).
_MIGRATION: Catalogue = {
    "ev_instance_migrated": ("迁移流程版本", "Case migrated"),
    "case_event_instance_migrated": (
        "把案件从第 {from_version} 版迁移到第 {to_version} 版",
        "moved the case from version {from_version} to version {to_version}",
    ),
    "problem_migration_version_missing": ("请选择版本", "give a version number"),
    "problem_migration_version_number": ("版本号须为整数", "must be a version number"),
    "problem_migration_version_unknown": (
        "{process} 没有第 {version} 版",
        "version {version} of {process} is not deployed",
    ),
    "problem_migration_same_version": (
        "案件已在第 {version} 版：请选择另一个版本",
        "the cases are on version {version} already; choose another version",
    ),
    "problem_migration_dry_run": ("须为是或否", "must be true or false"),
    "problem_migration_instance_ids": (
        "须为案件编号的列表（最多 {limit} 个）",
        "must be a list of at most {limit} instance ids",
    ),
    "problem_migration_no_case": (
        "没有这个案件（{instance_id}）",
        "no case {instance_id} of this process",
    ),
    "problem_migration_other_version": (
        "案件在第 {version} 版，不在所选版本",
        "the case is on version {version}, not on the version to migrate from",
    ),
    "problem_migration_case_completed": ("案件已结案", "the case is completed"),
    "problem_migration_case_cancelled": ("案件已取消", "the case is cancelled"),
    "problem_migration_case_error": ("案件出错，需先处理", "the case is in error"),
    "problem_migration_element_removed": (
        "待办任务“{element_name}”在第 {version} 版中已删除",
        "the open task {element_id} ({element_name}) is not in version {version}",
    ),
    "problem_migration_subprocess_removed": (
        "正在进行的子流程在第 {version} 版中已删除",
        "the running subprocess {element_id} is not in version {version}",
    ),
    "problem_migration_task_lost": (
        "待办任务“{name}”在新版本中不再是待办任务，无法保留",
        "the open task {element_id} ({name}) would not stay open in the new version",
    ),
    "problem_migration_not_comparable": (
        "无法比较两个版本：{error}",
        "the versions cannot be compared: {error}",
    ),
    "problem_migration_engine": (
        "流程引擎无法迁移此案件：{error}",
        "the engine cannot move the case: {error}",
    ),
    "problem_migration_failed": (
        "在新版本中继续运行失败：{error}",
        "the case fails on the new version: {error}",
    ),
    "migration_title": ("迁移运行中的案件", "Move running cases"),
    "migration_intro": (
        "把运行中的案件迁移到另一个版本：待办任务保留编号、处理人、截止时间和时效状态，"
        "之后按新版本继续。请先试运行，查看每个案件能否迁移。",
        "Move running cases to another version: open tasks keep their ids, assignees, due "
        "times and SLA state, and the case goes on by the new version. Try a dry run first "
        "to see which cases can move.",
    ),
    "migration_from": ("从版本", "From version"),
    "migration_to": ("迁移到", "To version"),
    "migration_running_n": ("{label}（运行中 {n} 件）", "{label} ({n} running)"),
    "migration_dry_run": ("试运行（不写入）", "Dry run (writes nothing)"),
    "migration_run": ("迁移", "Migrate"),
    "migration_case": ("案件编号", "Case"),
    "migration_customer": ("客户", "Customer"),
    "migration_tasks": ("当前任务", "Open tasks"),
    "migration_outcome": ("能否迁移", "Outcome"),
    "migration_can_move": ("可以迁移", "Can move"),
    "migration_moved": ("已迁移", "Moved"),
    "migration_cannot_move": ("不能迁移", "Cannot move"),
    "migration_summary_dry_run": (
        "试运行：第 {from_version} 版到第 {to_version} 版，{total} 件中 {ok} 件可以迁移；"
        "未写入任何数据。",
        "Dry run from version {from_version} to {to_version}: {ok} of {total} cases can "
        "move; nothing was written.",
    ),
    "migration_summary": (
        "已把 {ok} 件案件从第 {from_version} 版迁移到第 {to_version} 版；{left} 件未迁移。",
        "Moved {ok} cases from version {from_version} to {to_version}; {left} stayed.",
    ),
    "migration_no_cases": (
        "第 {from_version} 版没有运行中的案件。",
        "Version {from_version} has no running cases.",
    ),
    "designer_migrate_link": ("迁移运行中的案件", "Move running cases"),
}


# The report pages (api/web/reports.py) and their SLA section.
_REPORTS: Catalogue = {
    "reports_title": ("报表", "Reports"),
    "reports_nav": ("报表", "Reports"),
    "reports_filters": ("筛选", "Filters"),
    "reports_since": ("开始日期", "From"),
    "reports_until": ("结束日期", "To"),
    "reports_project": ("项目", "Project"),
    "reports_department": ("部门", "Department"),
    "reports_process": ("流程", "Process"),
    "reports_all": ("全部", "All"),
    "reports_apply": ("筛选", "Apply"),
    "reports_clear": ("清除筛选", "Clear"),
    "reports_sections": ("报表目录", "Sections"),
    "reports_not_built": (
        "图表脚本尚未构建（npm run build），下面只显示表格",
        "The charts' script is not built (npm run build): the tables only",
    ),
    "reports_export_xlsx": ("导出 Excel", "Excel"),
    "reports_export_csv": ("导出 CSV", "CSV"),
    "reports_no_rows": ("该筛选条件下没有数据", "Nothing for these filters"),
    "reports_bad_date": ("日期格式应为 年-月-日", "a date reads year-month-day"),
    "reports_unknown_section": ("没有这个报表", "no such report section"),
    "report_page_until_before_since": ("结束日期不能早于开始日期", "must not be before from"),
    "error_reports_page_readers": (
        "报表仅供主管、高管和管理员查看",
        "The reports are for supervisors, executives and admins",
    ),
    "reports_sla": ("各部门 SLA 达成", "SLA by department"),
    "reports_sla_table": ("各部门 SLA", "SLA per department"),
    "reports_sla_note": (
        "统计期间内创建的任务；工时按工作日历计算，暂停时间不计入",
        "Tasks created in the period; working hours by the calendar, pauses left out",
    ),
    "reports_sla_note_no_project": (
        "统计期间内创建的任务（任务不分项目：项目筛选不适用于本节）；工时按工作日历计算，暂停时间不计入",
        "Tasks created in the period (tasks have no project: the project filter does not"
        " apply here); working hours by the calendar, pauses left out",
    ),
    "reports_tasks_done": ("已完成任务", "Tasks done"),
    "reports_on_time_pct": ("按时完成率 %", "On time %"),
    "reports_breached": ("超时", "Breached"),
    "reports_escalated": ("已升级", "Escalated"),
    "reports_open": ("未完成", "Open"),
    "reports_median_hours": ("处理工时中位数（小时）", "Median working hours"),
    "reports_paused_hours": ("暂停工时（小时）", "Paused hours"),
    "reports_exported": ("导出了「{section}」（{format}）", "exported {section} ({format})"),
    "reports_exported_filters": ("，筛选条件：{filters}", ", filters: {filters}"),
    "reports_bottlenecks": ("瓶颈环节（超时最多、最慢的步骤）", "Bottleneck steps"),
    "reports_step": ("步骤", "Step"),
    "reports_tasks": ("任务数", "Tasks"),
    "reports_escalation_levels": ("各部门升级层级（任务数）", "Escalations by level (tasks)"),
    "reports_level": ("最高升级至第{n}级", "Reached level {n}"),
}


# Every problem the BPMN deploy checks find (engine/bpmn/bpmn_checks.py), as the
# designer pages show it; the English is what the API and the command line have always said.
_BPMN_PROBLEMS: Catalogue = {
    "bpmn_p_no_process": ("文件中没有定义流程", "the file defines no process"),
    "bpmn_p_not_executable": (
        '流程未标记为可执行（isExecutable="true"）；只能部署可执行的流程',
        'the process is not marked executable (isExecutable="true"); '
        "flowdesk deploys executable processes only",
    ),
    "bpmn_p_duplicate_id": (
        "标识“{id}”被文件中的多个元素使用",
        "the id '{id}' is used by more than one element of the file",
    ),
    "bpmn_p_message_no_id": ("有一个消息没有标识", "a message has no id"),
    "bpmn_p_data_store": ("不支持数据存储", "data stores are not supported by flowdesk"),
    "bpmn_p_unsupported_kinds": ("不支持此类元素", "{label}s are not supported by flowdesk"),
    "bpmn_p_correlation_no_expression": (
        "关联属性没有为任何消息设置取值表达式",
        "the correlation property has no retrieval expression for any message",
    ),
    "bpmn_p_correlation_no_message": (
        "关联属性的某个取值表达式没有指定消息",
        "a retrieval expression of the correlation property names no message",
    ),
    "bpmn_p_message_flow_unknown": (
        "消息流引用的消息“{ref}”在文件中未定义",
        "the message flow refers to message '{ref}', which the file does not define",
    ),
    "bpmn_p_process_no_id": ("流程没有标识", "the process has no id"),
    "bpmn_p_node_no_id": ("此元素没有标识", "{a_label} has no id"),
    "bpmn_p_unsupported_element": (
        "不支持此类元素",
        "{label} elements are not supported by flowdesk",
    ),
    "bpmn_p_flow_no_source": ("顺序流没有起点", "the sequence flow has no source"),
    "bpmn_p_flow_no_target": ("顺序流没有终点", "the sequence flow has no target"),
    "bpmn_p_flow_bad_source": (
        "顺序流的起点“{ref}”不是同一流程或子流程中的任务、事件或网关",
        "the sequence flow {end} '{ref}', which is not a task, event or gateway "
        "of the same process or subprocess",
    ),
    "bpmn_p_flow_bad_target": (
        "顺序流的终点“{ref}”不是同一流程或子流程中的任务、事件或网关",
        "the sequence flow {end} '{ref}', which is not a task, event or gateway "
        "of the same process or subprocess",
    ),
    "bpmn_p_condition_outside_gateway": (
        "顺序流设置了条件，但只有离开排他网关或包容网关的顺序流才会判断条件；请经由网关分支",
        "the sequence flow has a condition, but flowdesk evaluates conditions only on "
        "flows leaving an exclusive or inclusive gateway; route it through a gateway",
    ),
    "bpmn_p_no_start": ("流程没有开始事件", "the process has no start event"),
    "bpmn_p_subprocess_starts": (
        "子流程必须恰好有一个开始事件（现有 {count} 个）",
        "the {what} needs exactly one start event (it has {count})",
    ),
    "bpmn_p_subprocess_no_end": ("子流程需要一个结束事件", "the {what} needs an end event"),
    "bpmn_p_unreachable": (
        "此元素无法到达：没有从开始事件通向它的顺序流",
        "the {label} cannot be reached: no path of sequence flows leads to it from a start event",
    ),
    "bpmn_p_compensation": ("不支持补偿", "compensation is not supported by flowdesk"),
    "bpmn_p_split_without_gateway": (
        "此元素有 {count} 条流出的顺序流；分支需要网关（请在其后添加并行网关或排他网关）",
        "the {label} has {count} outgoing sequence flows; flowdesk needs a "
        "gateway to split the flow (add a parallel or exclusive gateway after it)",
    ),
    "bpmn_p_end_outgoing": (
        "结束事件不能有流出的顺序流",
        "an end event cannot have outgoing sequence flows",
    ),
    "bpmn_p_incoming": (
        "此事件不能有流入的顺序流",
        "{a_label} cannot have incoming sequence flows",
    ),
    "bpmn_p_assignee_variable": (
        "属性 assignee_variable 的值 {value} 无效：请填写记录任务处理人的案件变量名"
        "（字母、数字和 _，不能以 _ 或数字开头）",
        "the spiff property 'assignee_variable' is {value}; give the name of the "
        "case variable that follows the task's assignee (letters, digits and _, "
        "not starting with _ or a digit)",
    ),
    "bpmn_p_user_task_property": (
        "属性 {name} 只对用户任务有意义",
        "the spiff property '{name}' only means something on a user task",
    ),
    "bpmn_p_property_incomplete": (
        "扩展属性需要同时有名称和值",
        "a spiff property needs both a name and a value",
    ),
    "bpmn_p_prescript_refused": ("前置脚本被拒绝：{detail}", "the {what} is refused: {detail}"),
    "bpmn_p_postscript_refused": ("后置脚本被拒绝：{detail}", "the {what} is refused: {detail}"),
    "bpmn_p_not_data_object": (
        "数据关联使用的“{ref}”不是数据对象；数据只能经由数据对象传递",
        "the data association uses '{ref}', which is not a data object; "
        "flowdesk passes data only through data objects",
    ),
    "bpmn_p_data_object_unknown": (
        "数据对象引用“{ref}”指向的数据对象未在本流程、子流程或其外层中定义",
        "the data object reference '{ref}' points to a data object that is not "
        "defined in this process or subprocess, or the one around it",
    ),
    "bpmn_p_loop_no_limit": (
        "循环需要循环条件或最大循环次数",
        "the loop needs a loop condition or a loop maximum",
    ),
    "bpmn_p_loop_maximum": (
        "最大循环次数“{value}”不是整数",
        "the loop maximum '{value}' is not a whole number",
    ),
    "bpmn_p_mi_no_count": (
        "多实例活动需要实例数量或输入集合（loopDataInputRef）{hint_zh}",
        "the multi-instance activity needs a loop cardinality or an input "
        "collection (loopDataInputRef){hint}",
    ),
    "bpmn_p_mi_both": (
        "多实例活动同时设置了实例数量和输入集合；请只保留一个",
        "the multi-instance activity has both a loop cardinality and an input collection; keep one",
    ),
    "bpmn_p_mi_cardinality_empty": (
        "多实例活动的实例数量为空",
        "the loop cardinality of the multi-instance activity is empty",
    ),
    "bpmn_p_mi_input_collection": (
        "多实例活动的输入集合必须是变量名，而不是“{value}”",
        "the {what} collection of the multi-instance activity must name a variable, not '{value}'",
    ),
    "bpmn_p_mi_output_collection": (
        "多实例活动的输出集合必须是变量名，而不是“{value}”",
        "the {what} collection of the multi-instance activity must name a variable, not '{value}'",
    ),
    "bpmn_p_loop_condition_invalid": (
        "循环条件不是有效的表达式：{detail}",
        "{what} is not a valid expression: {detail}",
    ),
    "bpmn_p_loop_cardinality_invalid": (
        "实例数量不是有效的表达式：{detail}",
        "{what} is not a valid expression: {detail}",
    ),
    "bpmn_p_completion_condition_invalid": (
        "完成条件不是有效的表达式：{detail}",
        "{what} is not a valid expression: {detail}",
    ),
    "bpmn_p_event_condition_invalid": (
        "事件条件不是有效的表达式：{detail}",
        "{what} is not a valid expression: {detail}",
    ),
    "bpmn_p_script_format": (
        "脚本语言为“{format}”；只能运行 Python 脚本",
        "the script is written in '{format}'; flowdesk runs Python scripts only",
    ),
    "bpmn_p_no_script": ("脚本任务没有脚本", "the script task has no script"),
    "bpmn_p_many_scripts": ("脚本任务有多个脚本", "the script task has more than one script"),
    "bpmn_p_script_refused": ("脚本被拒绝：{detail}", "the script is refused: {detail}"),
    "bpmn_p_no_decision": (
        "业务规则任务没有指定决策表：请设置 spiff:calledDecisionId{hint_zh}",
        "the business rule task names no decision: set spiff:calledDecisionId{hint}",
    ),
    "bpmn_p_unknown_decision": (
        "业务规则任务调用的决策表“{decision}”既不在本次部署的文件中，也不在已部署的决策表中",
        "the business rule task calls the decision '{decision}', which is neither in "
        "the files being deployed nor among the deployed decisions",
    ),
    "bpmn_p_call_nothing": (
        "调用活动没有指定要调用的流程（calledElement）",
        "the call activity names no process to call (calledElement)",
    ),
    "bpmn_p_call_not_executable": (
        "调用活动调用的流程“{called}”未标记为可执行",
        "the call activity calls the process '{called}', which is not marked executable",
    ),
    "bpmn_p_call_unknown": (
        "调用活动调用的流程“{called}”既不在本次部署的文件中，也不在已部署的流程中",
        "the call activity calls the process '{called}', which is neither in the files "
        "being deployed nor among the deployed processes",
    ),
    "bpmn_p_default_flow": (
        "默认顺序流“{default}”不是离开此网关的顺序流之一",
        "the default flow '{default}' is not one of the flows leaving the {label}",
    ),
    "bpmn_p_condition_invalid": (
        "条件不是有效的表达式：{detail}",
        "the condition is not a valid expression: {detail}",
    ),
    "bpmn_p_unconditioned": (
        "此网关有未设置条件且不是默认顺序流的流出顺序流（{flows}）；请为每条设置条件，或将其中一条设为默认",
        "the {label} has flows without a condition that are not its default flow "
        "({flows}); give each a condition or mark one as the default",
    ),
    "bpmn_p_event_gateway_target": (
        "事件网关之后只能是捕获事件（消息、信号或定时器）；“{target}”不是",
        "an event-based gateway must lead only to catch events (message, signal or "
        "timer); '{target}' is not one",
    ),
    "bpmn_p_event_definition": (
        "此事件使用了不支持的事件定义",
        "the {label} uses an event definition flowdesk does not support",
    ),
    "bpmn_p_compensate_events": ("不支持补偿事件", "{kind} events are not supported by flowdesk"),
    "bpmn_p_link_events": ("不支持链接事件", "{kind} events are not supported by flowdesk"),
    "bpmn_p_event_misplaced": (
        "此类事件定义不能用在这种事件上",
        "{a_kind} event cannot be used as {a_label}",
    ),
    "bpmn_p_boundary_no_trigger": (
        "边界事件没有触发条件：请设为定时器、消息、信号、错误、升级或条件事件",
        "the boundary event has no trigger: make it a timer, message, signal, "
        "error, escalation or conditional event",
    ),
    "bpmn_p_boundary_attached": (
        "边界事件附着在“{attached}”上，它不是同一流程或子流程中的活动",
        "the boundary event is attached to '{attached}', which is not an activity "
        "of the same process or subprocess",
    ),
    "bpmn_p_cancel_outside_transaction": (
        "取消事件只能附着在事务子流程上",
        "cancel events can only be attached to a transaction",
    ),
    "bpmn_p_message_event_no_message": (
        "消息事件没有指定消息；请为它选择或新建一个消息",
        "the message event names no message; choose or create a message for it",
    ),
    "bpmn_p_message_event_unknown": (
        "消息事件引用的消息“{ref}”在文件中未定义",
        "the message event refers to message '{ref}', which the file does not define",
    ),
    "bpmn_p_signal_unknown": (
        "信号事件引用的信号“{ref}”在文件中未定义",
        "the {what} event refers to {what} '{ref}', which the file does not define",
    ),
    "bpmn_p_error_unknown": (
        "错误事件引用的错误“{ref}”在文件中未定义",
        "the {what} event refers to {what} '{ref}', which the file does not define",
    ),
    "bpmn_p_escalation_unknown": (
        "升级事件引用的升级“{ref}”在文件中未定义",
        "the {what} event refers to {what} '{ref}', which the file does not define",
    ),
    "bpmn_p_conditional_no_condition": (
        "条件事件没有条件",
        "the conditional event has no condition",
    ),
    "bpmn_p_timer_no_time": (
        "定时器没有时间：请设置日期、时长或周期",
        "the timer has no time: set a date, a duration or a cycle",
    ),
    "bpmn_p_timer_many": (
        "定时器同时设置了日期、时长、周期中的多项；请只保留一项",
        "the timer sets more than one of date, duration and cycle; keep one",
    ),
    "bpmn_p_timer_empty": (
        "定时器的{word_zh}为空；请填写表达式，例如 {example}",
        "the timer's {word} is empty; give an expression such as {example}",
    ),
    "bpmn_p_timer_unquoted": (
        "定时器的{word_zh} {text} 会被当作 Python 表达式读取，这样没有意义；"
        '请给{word_zh}加上引号："{text}"',
        "the timer {word} {text} is read as a Python expression, where it means nothing; "
        'quote the {word}: "{text}"',
    ),
    "bpmn_p_timer_invalid": (
        "定时器的{word_zh}不是有效的表达式：{detail}；例如 {example}",
        "the timer {word} is not a valid expression: {detail}; for example {example}",
    ),
    "bpmn_p_timer_not_text": (
        "定时器的{word_zh}必须是文本，例如 {example}，而不是 {value}",
        "the timer {word} must be text such as {example}, not {value}",
    ),
    "bpmn_p_timer_not_iso": (
        '定时器的{word_zh}"{value}"不是 ISO 8601 格式，例如 {example}',
        'the timer {word} "{value}" is not an ISO 8601 {standard} such as {example}',
    ),
    "bpmn_p_department_empty": (
        "属性“所属部门”（department）为空",
        "the spiff property 'department' is empty",
    ),
    "bpmn_p_department_unquoted": (
        '属性“所属部门”（department）是表达式，{text} 会被当作变量读取；请给部门加上引号："{text}"',
        "the spiff property 'department' is an expression, so {text} is read as a "
        'variable; quote the department: "{text}"',
    ),
    "bpmn_p_department_invalid": (
        "属性“所属部门”（department）不是有效的表达式：{detail}",
        "the spiff property 'department' is not a valid expression: {detail}",
    ),
    "bpmn_p_department_unknown": (
        "属性“所属部门”（department）的值 {value} 不是部门；"
        "请使用销售部、客服部、物业部、工程部或成本合约部",
        "the spiff property 'department' gives {value}, which is not a department; use {hint}",
    ),
    "bpmn_p_unsupported_serviceTask": (
        "不支持服务任务：平台没有服务连接器；请改用用户任务或脚本任务",
        "service tasks are not supported by flowdesk: it has no service connectors; "
        "use a user task or a script task",
    ),
    "bpmn_p_unsupported_sendTask": (
        "不支持发送任务：平台没有对外连接器",
        "send tasks are not supported by flowdesk: it has no outbound connectors",
    ),
    "bpmn_p_unsupported_receiveTask": (
        "不支持接收任务；请改用中间消息捕获事件",
        "receive tasks are not supported by flowdesk; use an intermediate message catch event",
    ),
    "bpmn_p_unsupported_complexGateway": (
        "不支持复杂网关；请改用排他网关、包容网关或并行网关",
        "complex gateways are not supported by flowdesk; "
        "use an exclusive, inclusive or parallel gateway",
    ),
    "bpmn_p_unsupported_adHocSubProcess": (
        "不支持自由子流程",
        "ad-hoc subprocesses are not supported by flowdesk",
    ),
    "bpmn_p_diagram_position": (
        "元素在图中的位置不是数字",
        "the diagram position of the element is not a number",
    ),
    # reading the files and SpiffWorkflow's parser (engine/bpmn/validation.py)
    "bpmn_p_not_bpmn": (
        "文件不是 BPMN 2.0 或 DMN 文件：根元素是 {root}，应为 bpmn:definitions 或 DMN 的定义元素",
        "the file is not a BPMN 2.0 or DMN file: its root element is {root}, "
        "expected bpmn:definitions or a DMN definitions element",
    ),
    "bpmn_p_id_in_other_file": (
        "标识“{id}”也是 {file} 中的流程、子流程或决策表",
        "the id '{id}' is also a process, subprocess or decision of {file}",
    ),
    "bpmn_p_too_deep": (
        "流程中连续的步骤太多，解析器无法处理（最多几百个）；请拆分为调用活动",
        "cannot parse: the process has too many steps in a row for the parser "
        "(a few hundred at most); split it into call activities",
    ),
    "bpmn_p_cannot_parse": ("无法解析：{detail}", "cannot parse: {detail}"),
    "bpmn_p_cannot_check": ("无法检查此文件：{detail}", "cannot check the file: {detail}"),
    # the DMN checks (engine/bpmn/dmn_checks.py)
    "dmn_p_namespace": (
        "请把 DMN 命名空间写成默认命名空间（xmlns=...）或使用前缀 dmn",
        "write the DMN namespace as the default namespace (xmlns=...) or with the prefix dmn",
    ),
    "dmn_p_nested_decision": (
        "决策必须直接位于 DMN 定义之下",
        "the decision must sit directly inside the DMN definitions",
    ),
    "dmn_p_no_decision": ("DMN 文件中没有定义决策", "the DMN file defines no decision"),
    "dmn_p_many_decisions": (
        "每个 DMN 文件只能有一个决策；此文件有 {count} 个（{names}）：请分别放在各自的文件中",
        "flowdesk reads one decision per DMN file; this one has {count} ({names}): "
        "put each in a file of its own",
    ),
    "dmn_p_decision_no_id": ("决策没有标识", "the decision has no id"),
    "dmn_p_no_table": (
        "决策中没有决策表；只能运行决策表",
        "the decision has no decision table; flowdesk runs decision tables only",
    ),
    "dmn_p_hit_policy": (
        "不支持命中策略 {policy}；请使用 UNIQUE、FIRST、ANY 或 COLLECT",
        "the hit policy {policy} is not supported; use UNIQUE, FIRST, ANY or COLLECT",
    ),
    "dmn_p_aggregation": (
        "不支持汇总方式 {aggregation}",
        "the aggregation {aggregation} is not supported",
    ),
    "dmn_p_table_no_id": ("决策表没有标识", "the decision table has no id"),
    "dmn_p_columns_after_rules": (
        "决策表的列必须位于规则之前",
        "the columns of a decision table must come before its rules",
    ),
    "dmn_p_unknown_child": (
        "决策表中有无法读取的 {local} 元素",
        "the decision table holds a {local} element, which flowdesk cannot read",
    ),
    "dmn_p_column_no_id": ("决策表的某一列没有标识", "a column of the decision table has no id"),
    "dmn_p_input_no_expression": ("输入列没有表达式", "the input column has no expression"),
    "dmn_p_input_expression_invalid": (
        "输入列的表达式无效：{detail}",
        "the input expression is not valid: {detail}",
    ),
    "dmn_p_output_no_name": (
        "输出列没有名称：请填写它设置的变量名",
        "the output column has no name: name the variable it sets",
    ),
    "dmn_p_rule_no_id": ("第 {number} 条规则没有标识", "{where} has no id"),
    "dmn_p_rule_too_many_entries": (
        "第 {number} 条规则的条目多于决策表的列数",
        "{where} has more entries than the table has columns",
    ),
    "dmn_p_input_entry_no_id": (
        "第 {number} 条规则有一个没有标识的输入条目",
        "{where} has an input entry without an id",
    ),
    "dmn_p_output_entry_no_id": (
        "第 {number} 条规则有一个没有标识的输出条目",
        "{where} has an output entry without an id",
    ),
}


# Counts that stop at a bound (engine.queries.Count): the inbox says "more than".
_BOUNDED_COUNTS: Catalogue = {
    "count_more": ("{n}+", "{n}+"),
    "count_more_title": ("超过 {n} 条，只数到 {n} 条", "more than {n}; counting stops at {n}"),
}


def _merged(*sections: Catalogue) -> Catalogue:
    merged: Catalogue = {}
    for section in sections:
        twice = merged.keys() & section.keys()
        if twice:  # one text per key: a key in two sections is a mistake
            raise ValueError(f"text keys defined twice: {sorted(twice)}")
        merged.update(section)
    return merged


TEXTS: Catalogue = _merged(
    _PAGES,
    _AUDIT,
    _EVENT_TYPES,
    _CASE_EVENTS,
    _CASE_RECORD,
    _TIME,
    _NOTIFICATIONS,
    _FORM_PROBLEMS,
    _ERRORS,
    _PAUSES_AND_REMINDERS,
    _DIAGRAM_AND_COMMENTS,
    _INPUT_PROBLEMS,
    _ADMIN_CALENDARS,
    _DESIGNER,
    _USER_ADMIN,
    _USER_ADMIN_PAGES,
    _DESIGNER_INSIGHT,
    _DECISIONS,
    _MIGRATION,
    _REPORTS,
    _BPMN_PROBLEMS,
    _BOUNDED_COUNTS,
)


def add_texts(entries: Catalogue) -> None:
    """Add a vertical's words to the catalogue (at start-up; adding the same again is fine)."""
    clash = [key for key, pair in entries.items() if TEXTS.get(key, pair) != pair]
    if clash:
        raise ValueError(f"text keys that already have another text: {sorted(clash)}")
    TEXTS.update(entries)


def has_text(key: str) -> bool:
    """Tell whether the catalogue has a text for `key`."""
    return key in TEXTS


def template(key: str, language: str) -> str:
    """Return the unfilled text of `key` in `language` (English unless zh-CN is asked for)."""
    pair = TEXTS[key]
    return pair[0] if language == "zh-CN" else pair[1]


def text(key: str, language: str, **params: Any) -> str:
    """Return the text of `key` in `language` filled with `params`; unknown keys show as-is."""
    if key not in TEXTS:
        return key
    filled = template(key, language)
    return filled.format(**params) if params else filled


def english(key: str, **params: Any) -> str:
    """Return the English text of a key that must exist (the JSON API's error messages)."""
    return template(key, "en").format(**params)


def event_type_names() -> tuple[str, ...]:
    """Return the history event types the catalogue names, in catalogue order."""
    return tuple(key.removeprefix("ev_") for key in _EVENT_TYPES)


def working_duration(span: timedelta, language: str) -> str:
    """'1小时20分' / '1 h 20 min' (working time)."""
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = [text("duration_hours", language, n=hours)] if hours else []
    if minutes or not hours:
        parts.append(text("duration_minutes", language, n=minutes))
    return ("" if language == "zh-CN" else " ").join(parts)


def time_left(remaining: timedelta, overdue: timedelta, language: str) -> str:
    """'剩余 1小时20分' / '1 h 20 min left', or '超时 3小时' / 'overdue by 3 working hours'."""
    if overdue > timedelta(0) or remaining <= timedelta(0):
        if overdue < timedelta(minutes=1):  # past due, outside working hours
            return text("time_overdue", language)
        hours = overdue.total_seconds() / 3600
        if hours == 1:
            return text("time_overdue_one_hour", language)
        if hours > 1 and hours == int(hours):
            return text("time_overdue_hours", language, n=int(hours))
        return text("time_overdue_by", language, span=working_duration(overdue, language))
    return text("time_remaining", language, span=working_duration(remaining, language))


def local_time(value: datetime | None, tz: Any, language: str) -> str:
    """Return an instant as the user reads it, in the time zone `tz`; '' for None."""
    if value is None:
        return ""
    return value.astimezone(tz).strftime(text("datetime_format", language))
