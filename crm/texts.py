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
}
