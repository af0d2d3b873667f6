"""Typed factories for test data, going through the engine's own services."""

from __future__ import annotations

from pathlib import Path

from engine.db import unit_of_work
from engine.definitions import DeployedVersion, deploy_files
from engine.identity import SYSTEM, Actor, actor_for, create_user

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make_user(
    username: str, *roles: str, department: str | None = None, password: str = "secret-pw"
) -> Actor:
    """Create a user and return the actor they act as."""
    with unit_of_work() as session:
        return actor_for(
            create_user(
                session,
                username=username,
                password=password,
                roles=list(roles) or ["staff"],
                department=department,
                display_name=username,
            )
        )


def deploy_fixture(*names: str) -> list[DeployedVersion]:
    """Deploy BPMN/DMN files from tests/fixtures/processes."""
    files = [(n, (FIXTURES / "processes" / n).read_bytes()) for n in names]
    with unit_of_work() as session:
        return deploy_files(session, files=files, actor=SYSTEM)
