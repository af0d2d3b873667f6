"""The real-estate vertical's words (start and customer pages, the inbox's process
filter), in zh-CN and English; `crm.install()` adds them to the one catalogue."""

from __future__ import annotations

from engine.texts import Catalogue

TEXTS: Catalogue = {
    "register_complaint": ("登记投诉", "Register a complaint"),
    "register_visitor": ("登记来访", "Register a visitor"),
    "process_complaint_handling": ("投诉处理", "Complaint handling"),
    "process_lead_follow_up": ("客户跟进", "Lead follow-up"),
    "process_complaint_routing": ("投诉分派规则", "Complaint routing"),
    # The escalation ladders of the shipped processes, as the designer's panel offers them.
    "designer_ladder_complaint": (
        "投诉：部门主管 → 客服主管 → 高管",
        "Complaint: supervisors → customer service → executives",
    ),
    "designer_ladder_lead": ("线索：部门主管 → 高管", "Lead: supervisors → executives"),
    "owner": ("业主", "Owner"),
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
    "stage_owner": ("业主", "Owner"),
    "responsible_department": ("责任部门", "Responsible department"),
    "complaint_status_open": ("处理中", "Open"),
    "complaint_status_closed": ("已结案", "Closed"),
    "complaint_status_cancelled": ("已取消", "Cancelled"),
    "find_customer": ("按电话查找已有客户", "Find an existing customer by phone"),
    "find": ("查找", "Find"),
    "existing_customer": (
        "已有客户：{name}，将关联到此客户",
        "Existing customer: {name}; the case will be linked",
    ),
    "new_customer": ("新客户，提交后建档", "New customer; a record is created on submit"),
    "error_lead_running": (
        "该客户在{project}已有跟进中的线索（{case}），置业顾问：{consultant}。"
        "同一客户同一项目只能由一位置业顾问跟进，请勿重复登记。",
        "This customer already has a running lead on {project} ({case}), consultant "
        "{consultant}: one consultant per customer and project, do not register it again.",
    ),
    "error_lead_running_unassigned": (
        "该客户在{project}已有跟进中的线索（{case}），尚未分配置业顾问。请勿重复登记。",
        "This customer already has a running lead on {project} ({case}), not yet given "
        "a consultant: do not register it again.",
    ),
    "running_leads_of_customer": (
        "该客户已有跟进中的线索：",
        "This customer already has running leads:",
    ),
    "running_lead_line": (
        "{project}（{case}）· 置业顾问：{consultant}",
        "{project} ({case}) · consultant: {consultant}",
    ),
    "no_consultant_yet": ("尚未分配", "not yet assigned"),
    "same_project_refused": (
        "同一项目不能再次登记，请联系该置业顾问。",
        "The same project cannot be registered again; contact the consultant.",
    ),
    # The customer's satisfaction survey (crm/surveys.py, crm/web/survey.py) and the
    # satisfaction report (crm/satisfaction.py).
    "actor_customer": ("客户", "customer"),
    "survey_customer_service_only": (
        "只有客服部的员工和主管可以生成满意度调查链接",
        "Only customer service staff and supervisors make survey links",
    ),
    "survey_complaints_only": (
        "只有投诉案件可以生成满意度调查链接",
        "Survey links are made for complaints only",
    ),
    "survey_case_cancelled": (
        "该投诉已取消，不能生成满意度调查链接",
        "The complaint was cancelled; no survey link can be made",
    ),
    "survey_link_unknown": (
        "找不到这个调查链接，请核对链接地址或联系客服。",
        "This survey link does not exist; check the address or contact customer service.",
    ),
    "survey_link_used": (
        "这个调查链接已经提交过评价，不能再次使用。感谢您的反馈！",
        "This survey was answered already and cannot be used again. Thank you!",
    ),
    "survey_link_expired": (
        "这个调查链接已过期。如需评价，请联系客服获取新的链接。",
        "This survey link has expired; contact customer service for a new one.",
    ),
    "survey_too_many_guesses": (
        "尝试的链接过多，请 {minutes} 分钟后再试。",
        "Too many links tried; try again in {minutes} minutes.",
    ),
    "survey_score_invalid": ("请选择 1 到 5 分", "choose a score from 1 to 5"),
    "survey_comment_invalid": ("意见只能是一段文字", "the comment must be one text"),
    "survey_comment_too_long": ("意见最多 {n} 个字", "at most {n} characters"),
    "error_satisfaction_readers_only": (
        "满意度报表仅供主管、高管和管理员查看",
        "The satisfaction report is for supervisors, executives and admins",
    ),
    "report_until_before_since": ("结束时间必须晚于开始时间", "must be after since"),
    "notification_survey_low_score": (
        "投诉 {case} 的客户在满意度调查中只打了 {score} 分，请跟进",
        "The customer of complaint {case} scored only {score} in the survey; please follow up",
    ),
    "case_event_survey_link_created": (
        "生成了客户满意度调查链接",
        "made a satisfaction survey link for the customer",
    ),
    "ev_survey_link_created": ("生成满意度调查链接", "Survey link made"),
    "ev_survey_answered": ("客户满意度调查", "Customer survey answered"),
    "case_event_survey_answered": ("提交了满意度调查", "answered the satisfaction survey"),
    "survey_title": ("满意度调查", "Satisfaction survey"),
    "survey_intro": (
        "感谢您对我们工作的支持！请为本次投诉的处理打分。",
        "Thank you! Please rate how we handled your complaint.",
    ),
    "survey_case": ("投诉编号：{case}", "Complaint: {case}"),
    "survey_score": ("您的满意度", "Your satisfaction"),
    "survey_score_5": ("非常满意", "Very satisfied"),
    "survey_score_4": ("满意", "Satisfied"),
    "survey_score_3": ("一般", "Neutral"),
    "survey_score_2": ("不满意", "Dissatisfied"),
    "survey_score_1": ("非常不满意", "Very dissatisfied"),
    "survey_comment": ("意见或建议（选填）", "Comments or suggestions (optional)"),
    "survey_submit": ("提交评价", "Submit"),
    "survey_fix": ("请修改后再提交：", "Please correct and submit again:"),
    "survey_thanks_title": ("感谢您的评价", "Thank you for your answer"),
    "survey_thanks": (
        "您的评价已收到，我们会持续改进服务。",
        "We received your answer and will keep improving our service.",
    ),
    "survey_gone_title": ("链接已失效", "Link no longer valid"),
    "survey_unknown_title": ("链接无效", "Unknown link"),
    "survey_section": ("客户满意度调查", "Customer satisfaction survey"),
    "survey_make_link": ("生成调查链接（二维码）", "Make a survey link (QR code)"),
    "survey_make_hint": (
        "生成一次性链接和二维码，发给客户或请客户现场扫码评价。",
        "Makes a one-time link and QR code to send the customer or show on site.",
    ),
    "survey_link_made": (
        "调查链接已生成：请发给客户，或请客户扫描二维码",
        "Survey link made: send it to the customer, or let them scan the QR code",
    ),
    "survey_link_once": (
        "此链接只显示这一次，客户可使用一次，{expires} 前有效。",
        "This link is shown only now; the customer may use it once, until {expires}.",
    ),
    "survey_qr": ("调查链接二维码", "QR code of the survey link"),
    "survey_back_to_case": ("返回案件", "Back to the case"),
    "survey_links_none": ("尚未生成调查链接", "No survey link yet"),
    "survey_link_row": ("{at} {who} 生成", "made {at} by {who}"),
    "survey_link_pending": ("待客户评价，{expires} 前有效", "awaiting the answer, until {expires}"),
    "survey_link_expired_row": ("已过期（{expires}）", "expired ({expires})"),
    "survey_link_answered": (
        "客户已评价：{score} 分（{label}）",
        "answered: {score} ({label})",
    ),
    # The vertical's sections of the report pages (crm/web/reports_sections.py).
    "reports_not_given": ("未填写", "not given"),
    "reports_no_consultant": ("未分配顾问", "no consultant yet"),
    "reports_funnel": ("销售漏斗", "Lead funnel"),
    "reports_funnel_note": (
        "统计期间内登记的 {total} 条来访（不含已取消）",
        "{total} leads registered in the period (cancelled left out)",
    ),
    "reports_funnel_stages": ("各阶段到达与转化", "Stages reached and conversion"),
    "reports_reached": ("到达人数", "Reached"),
    "reports_now_at": ("当前停留", "Now at"),
    "reports_conversion_pct": ("自上一阶段转化率 %", "Conversion from previous %"),
    "reports_per_consultant": ("各置业顾问", "Per consultant"),
    "reports_leads": ("来访数", "Leads"),
    "reports_win_pct": ("成交率 %", "Won %"),
    "reports_lost_reasons": ("流失原因", "Lost reasons"),
    "reports_share_pct": ("占比 %", "Share %"),
    "reports_call_list": ("流失客户回访名单", "Lost leads: call list"),
    "reports_lost_leads": ("全部流失客户", "All lost leads"),
    "reports_lost_leads_of": ("流失原因：{reason}", "Lost for: {reason}"),
    "reports_customer": ("客户", "Customer"),
    "reports_phone": ("电话", "Phone"),
    "reports_lost_on": ("流失日期", "Lost on"),
    "reports_complaints_title": ("投诉统计", "Complaints"),
    "reports_complaints_note": (
        "统计期间内登记的 {total} 件投诉，其中 {reopened} 件被重新打开（重开率 {pct}%）",
        "{total} complaints registered in the period, {reopened} reopened ({pct}%)",
    ),
    "reports_by_category": ("按类别", "By category"),
    "reports_by_project": ("按项目", "By project"),
    "reports_by_channel": ("按渠道", "By channel"),
    "reports_by_department": ("按责任部门", "By responsible department"),
    "reports_channel": ("渠道", "Channel"),
    "reports_complaints": ("投诉数", "Complaints"),
    "reports_closed": ("已结案", "Closed"),
    "reports_reopened": ("重新打开", "Reopened"),
    "reports_reopen_pct": ("重开率 %", "Reopen rate %"),
    "reports_satisfaction": ("满意度", "Satisfaction"),
    "reports_satisfaction_note": (
        "员工回访记录的评分与客户自己填写的评价并列（1–5 分）",
        "Scores recorded at the return visits beside the customers' own answers (1–5)",
    ),
    "reports_returned": ("回访次数", "Return visits"),
    "reports_staff_average": ("回访平均分", "Visit average"),
    "reports_low": ("低分（1–2）", "Low (1–2)"),
    "reports_customer_answered": ("客户评价数", "Customer answers"),
    "reports_customer_average": ("客户平均分", "Customer average"),
}
