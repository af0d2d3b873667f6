"""Moving running cases of a process to another of its versions (designers, admins)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor
from api.schemas.errors import error_responses
from api.schemas.migrations import MigrationRequest, MigrationResult
from engine.db import unit_of_work
from engine.migration import migrate_instances

router = APIRouter(tags=["processes"], responses=error_responses(401))


@router.post("/processes/{key}/migrations", responses=error_responses(403, 404, 422))
def migrate_process_instances(
    key: str, body: MigrationRequest, actor: CurrentActor
) -> MigrationResult:
    """Move running cases from one version to another; a case whose open task the target
    no longer has stays, with the reason; a dry run writes nothing."""
    with unit_of_work(write=not body.dry_run) as session:
        report = migrate_instances(
            session,
            process_key=key,
            from_version=body.from_version,
            to_version=body.to_version,
            instance_ids=body.instance_ids,
            dry_run=body.dry_run,
            actor=actor,
        )
        return MigrationResult.from_report(report)
