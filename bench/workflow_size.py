"""Serialized workflow state per instance for the two shipped processes after a full run.

    python -m bench.workflow_size

Runs one complaint (survey by two departments, one rejection, one reopen) and one
won, referred lead to the end on a throwaway SQLite database and prints the
stored state size (the spec is stored once per version, not per instance).
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="flowdesk-size-"))
    os.environ["FLOWDESK_DATABASE_URL"] = f"sqlite:///{workdir / 'size.db'}"
    from sqlalchemy import select

    from engine import runtime
    from engine.db import unit_of_work
    from engine.definitions import deploy_folder
    from engine.identity import SYSTEM, actor_for, create_user
    from engine.migrations import upgrade_database
    from engine.models import Instance, ProcessVersion, Task

    upgrade_database()
    with unit_of_work() as s:
        deploy_folder(s, folder=ROOT / "processes", actor=SYSTEM)
        actors = {
            d: actor_for(
                create_user(
                    s, username=f"u_{d}", password="bench-pass", roles=["staff"], department=d
                )
            )
            for d in ("customer_service", "engineering", "property", "sales")
        }

    def step(instance_id: str, element_id: str, data: dict[str, Any]) -> None:
        with unit_of_work(write=False) as s:
            task = (
                s.execute(
                    select(Task).where(
                        Task.instance_id == instance_id,
                        Task.state == "open",
                        Task.element_id == element_id,
                    )
                )
                .scalars()
                .first()
            )
        assert task is not None, element_id
        with unit_of_work() as s:
            runtime.complete_task(s, task_id=task.id, variables=data, actor=actors[task.department])

    with unit_of_work() as s:
        complaint = runtime.start_instance(
            s,
            process_key="complaint_handling",
            variables={
                "customer_name": "张伟",
                "phone": "13800138000",
                "category": "quality",
                "severity": "high",
                "description": "漏水",
            },
            actor=actors["customer_service"],
        ).instance.id
    step(complaint, "acknowledge_complaint", {"contacted": True})
    step(complaint, "site_survey", {"findings": "管道", "departments": ["engineering", "property"]})
    for round_ in range(3):
        step(complaint, "propose_solution", {"solution": f"方案{round_}a"})
        step(complaint, "propose_solution", {"solution": f"方案{round_}b"})
        if round_ == 0:
            step(complaint, "approve_solution", {"approved": False})
            continue
        step(complaint, "approve_solution", {"approved": True})
        step(complaint, "execute_fix", {"work_done": "修复"})
        step(complaint, "confirm_resolution", {"resolved": True})
        step(complaint, "return_visit", {"satisfaction": 2 if round_ == 1 else 5})
    with unit_of_work() as s:
        lead = runtime.start_instance(
            s,
            process_key="lead_follow_up",
            variables={
                "name": "李娜",
                "phone": "13900139000",
                "project": "云山府",
                "source": "referral",
                "referrer_phone": "13700137000",
            },
            actor=actors["sales"],
        ).instance.id
    step(lead, "assign_consultant", {"consultant": "u_sales"})
    for stage in ("prospect", "prospect", "near_close", "won"):
        step(lead, "follow_up", {"stage": stage})
    step(lead, "sign_contract", {"contract_no": "HT-1", "amount": 3000000})
    step(lead, "owner_onboarding", {"welcome_call_done": True})
    step(lead, "referral_reward", {"reward_given": True})
    with unit_of_work(write=False) as s:
        for instance_id in (complaint, lead):
            instance = s.get(Instance, instance_id)
            version = s.get(ProcessVersion, instance.version_id)
            tasks = s.execute(select(Task).where(Task.instance_id == instance_id)).scalars().all()
            state = instance.workflow_state.encode()
            print(
                f"{instance.process_key}: status {instance.status}, {len(tasks)} user tasks, "
                f"state {len(state):,} bytes ({len(gzip.compress(state)):,} gzipped); "
                f"spec stored once per version: {len(version.specs_json or ''):,} bytes"
            )


if __name__ == "__main__":
    main()
