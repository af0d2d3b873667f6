"""`flowdesk seed-demo`: the demo organisation and sample cases in various stages."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine import clock, runtime
from engine.db import unit_of_work
from engine.definitions import deploy_folder
from engine.demo_accounts import record_demo_seeded
from engine.identity import SYSTEM, Actor, actor_for, create_user
from engine.models import Task, User
from engine.rounds import run_round

DEMO_PASSWORD = "flowdesk-demo"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str | None = None


DEMO_USERS = (
    DemoUser("sales_li", "李娜 (置业顾问)", ("staff",), "sales"),
    DemoUser("sales_zhou", "周杰 (置业顾问)", ("staff",), "sales"),
    DemoUser("sales_sup", "孙经理 (销售主管)", ("supervisor",), "sales"),
    DemoUser("cs_wang", "王芳 (客服)", ("staff",), "customer_service"),
    DemoUser("cs_chen", "陈静 (客服)", ("staff",), "customer_service"),
    DemoUser("cs_sup", "赵主管 (客服主管)", ("supervisor",), "customer_service"),
    DemoUser("prop_liu", "刘强 (物业)", ("staff",), "property"),
    DemoUser("prop_yang", "杨磊 (物业)", ("staff",), "property"),
    DemoUser("prop_sup", "黄经理 (物业主管)", ("supervisor",), "property"),
    DemoUser("eng_wu", "吴工 (工程)", ("staff",), "engineering"),
    DemoUser("eng_zheng", "郑工 (工程)", ("staff",), "engineering"),
    DemoUser("eng_sup", "马经理 (工程主管)", ("supervisor",), "engineering"),
    DemoUser("cc_he", "何敏 (成本合约)", ("staff",), "cost_contracts"),
    DemoUser("cc_lin", "林涛 (成本合约)", ("staff",), "cost_contracts"),
    DemoUser("cc_sup", "郭经理 (成本合约主管)", ("supervisor",), "cost_contracts"),
    DemoUser("gm", "高总 (总经理)", ("executive",)),
    DemoUser("designer", "流程设计员", ("designer",)),
    DemoUser("auditor", "审计员", ("auditor",)),
    DemoUser("admin", "系统管理员", ("admin",)),
)


def database_is_empty() -> bool:
    """Tell whether no user exists yet (a fresh installation)."""
    with unit_of_work(write=False) as session:
        return not session.execute(select(func.count()).select_from(User)).scalar_one()


def seed_demo(processes_dir: Path) -> list[DemoUser]:
    """Create the demo users, deploy the processes and start sample cases."""
    with unit_of_work() as session:
        deploy_folder(session, folder=processes_dir, actor=SYSTEM)
        actors = {
            u.username: actor_for(
                create_user(
                    session,
                    username=u.username,
                    password=DEMO_PASSWORD,
                    roles=list(u.roles),
                    department=u.department,
                    display_name=u.display_name,
                )
            )
            for u in DEMO_USERS
        }
        # The sign-in page offers these accounts on this database only (engine/demo_accounts).
        record_demo_seeded(
            session, usernames=[u.username for u in DEMO_USERS], password=DEMO_PASSWORD
        )
    _sample_complaints(actors)
    _sample_leads(actors)
    # The cases were started in the past (below): bring their SLA clocks up to now,
    # so the demo opens with tasks on track, at risk, breached and escalated.
    run_round(clock.now())
    return list(DEMO_USERS)


def _ago(days: float = 0, hours: float = 0) -> contextlib.AbstractContextManager[datetime]:
    """Run the block as if it were that long ago."""
    return clock.frozen_at(clock.now() - timedelta(days=days, hours=hours))


def _start(actor: Actor, key: str, variables: dict[str, Any]) -> str:
    """Start a sample case; it gets its case number as every case does (crm/case_numbers)."""
    with unit_of_work() as session:
        return runtime.start_instance(
            session, process_key=key, variables=variables, actor=actor
        ).instance.id


def _open(instance_id: str) -> list[Task]:
    with unit_of_work(write=False) as session:
        return list(
            session.execute(
                select(Task)
                .where(Task.instance_id == instance_id, Task.state == "open")
                .order_by(Task.created_at)
            ).scalars()
        )


def _do(
    actors: dict[str, Actor],
    instance_id: str,
    element_id: str,
    username: str,
    variables: dict[str, Any],
) -> None:
    task = next(t for t in _open(instance_id) if t.element_id == element_id)
    with unit_of_work() as session:
        runtime.complete_task(session, task_id=task.id, variables=variables, actor=actors[username])


def _sample_complaints(actors: dict[str, Actor]) -> None:
    cs = actors["cs_wang"]
    # 1. Urgent, registered three hours ago (round-the-clock SLA): nobody answered yet.
    with _ago(hours=3):
        _start(
            cs,
            "complaint_handling",
            {
                "customer_name": "张伟",
                "phone": "13800138001",
                "project": "滨江壹号",
                "unit": "3栋1502",
                "channel": "hotline",
                "category": "quality",
                "severity": "urgent",
                "description": "卫生间天花板漏水，已滴到地板。",
            },
        )
    # 2. Registered a week ago, surveyed; engineering and property are late with proposals.
    with _ago(days=7):
        second = _start(
            cs,
            "complaint_handling",
            {
                "customer_name": "李秀英",
                "phone": "13900139002",
                "project": "滨江壹号",
                "unit": "5栋802",
                "channel": "wechat",
                "category": "facilities",
                "severity": "high",
                "description": "地下车库照明损坏，夜间无灯。",
            },
        )
    with _ago(days=7, hours=-1):
        _do(
            actors,
            second,
            "acknowledge_complaint",
            "cs_wang",
            {"contacted": True, "notes": "已回电"},
        )
    with _ago(days=6):
        _do(
            actors,
            second,
            "site_survey",
            "prop_liu",
            {"findings": "线路老化，需工程部更换", "departments": ["property", "engineering"]},
        )
    # 3. A sales promise, closed with a satisfied customer two weeks ago.
    with _ago(days=20):
        third = _start(
            actors["cs_chen"],
            "complaint_handling",
            {
                "customer_name": "王磊",
                "phone": "13700137003",
                "project": "云山府",
                "unit": "2栋301",
                "channel": "walk_in",
                "category": "sales_promise",
                "severity": "normal",
                "description": "销售承诺赠送车位未兑现。",
            },
        )
        _do(actors, third, "acknowledge_complaint", "cs_chen", {"contacted": True})
    with _ago(days=19):
        _do(actors, third, "propose_solution", "sales_li", {"solution": "按合同补充协议赠送车位"})
        _do(actors, third, "approve_solution", "cs_sup", {"approved": True})
    with _ago(days=17):
        _do(actors, third, "execute_fix", "sales_li", {"work_done": "已签补充协议"})
    with _ago(days=16):
        _do(actors, third, "confirm_resolution", "cs_chen", {"resolved": True})
    with _ago(days=14):
        _do(actors, third, "return_visit", "cs_chen", {"satisfaction": 5, "comments": "非常满意"})
    # 4. A contract question since yesterday, the proposal waiting for approval.
    with _ago(days=1):
        fourth = _start(
            cs,
            "complaint_handling",
            {
                "customer_name": "赵敏",
                "phone": "13600136004",
                "project": "云山府",
                "unit": "7栋1101",
                "channel": "email",
                "category": "contract",
                "severity": "normal",
                "description": "房产证办理进度无人告知。",
            },
        )
        _do(actors, fourth, "acknowledge_complaint", "cs_wang", {"contacted": True})
    with _ago(hours=20):
        _do(
            actors,
            fourth,
            "propose_solution",
            "cc_he",
            {"solution": "本月底前办结并短信通知", "cost_estimate": 0},
        )


def _sample_leads(actors: dict[str, Actor]) -> None:
    sales = actors["sales_li"]
    # A visitor registered this morning, waiting for a consultant.
    with _ago(hours=2):
        _start(
            sales,
            "lead_follow_up",
            {"name": "钱伟", "phone": "13500135005", "project": "滨江壹号", "source": "walk_in"},
        )
    # A prospect whose follow-up was due two days ago.
    with _ago(days=8):
        second = _start(
            sales,
            "lead_follow_up",
            {"name": "孙丽", "phone": "13400134006", "project": "云山府", "source": "web"},
        )
        _do(actors, second, "assign_consultant", "sales_zhou", {"consultant": "sales_zhou"})
    with _ago(days=7):
        _do(
            actors,
            second,
            "follow_up",
            "sales_zhou",
            {"stage": "prospect", "notes": "关注三房户型"},
        )
    # Lost on price.
    with _ago(days=12):
        third = _start(
            sales,
            "lead_follow_up",
            {"name": "周敏", "phone": "13300133007", "project": "滨江壹号", "source": "phone"},
        )
        _do(actors, third, "assign_consultant", "sales_li", {"consultant": "sales_li"})
    with _ago(days=11):
        _do(
            actors,
            third,
            "follow_up",
            "sales_li",
            {"stage": "lost", "lost_reason": "price", "notes": "预算不足"},
        )
    # Referred by an owner, won, onboarded, reward pending.
    with _ago(days=30):
        fourth = _start(
            sales,
            "lead_follow_up",
            {
                "name": "吴刚",
                "phone": "13200132008",
                "project": "云山府",
                "source": "referral",
                "referrer_phone": "13700137003",
            },
        )
        _do(actors, fourth, "assign_consultant", "sales_li", {"consultant": "sales_li"})
    with _ago(days=25):
        _do(actors, fourth, "follow_up", "sales_li", {"stage": "near_close"})
    with _ago(days=20):
        _do(actors, fourth, "follow_up", "sales_li", {"stage": "won"})
    with _ago(days=18):
        _do(
            actors,
            fourth,
            "sign_contract",
            "sales_li",
            {"unit": "9栋601", "contract_no": "HT-2026-0456", "amount": 3280000},
        )
    with _ago(days=3):
        _do(actors, fourth, "owner_onboarding", "cs_chen", {"welcome_call_done": True})
