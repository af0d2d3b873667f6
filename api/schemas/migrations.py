"""Moving running cases to another version: the request and what became of each case."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from engine.migration import MigrationReport


class MigrationRequest(BaseModel):
    """Body of POST /processes/{key}/migrations."""

    model_config = ConfigDict(extra="forbid")

    from_version: int | None = Field(None, description="the version the cases are on (required)")
    to_version: int | None = Field(None, description="the version to move them to (default newest)")
    instance_ids: list[str] | None = Field(
        None, description="the cases to move (default every running case of from_version)"
    )
    dry_run: bool = Field(False, description="say what would happen and write nothing")


class MigrationItemRead(BaseModel):
    """One case: whether it moved (would move, in a dry run) and, when not, why."""

    instance_id: str
    ok: bool
    problem: str | None = Field(
        description="why the case stays where it is (names the element); null when it moves"
    )


class MigrationResult(BaseModel):
    """What a migration did (or, in a dry run, would do)."""

    items: list[MigrationItemRead]
    migrated: int = Field(description="cases moved (in a dry run: cases that would move)")
    from_version: int
    to_version: int
    dry_run: bool

    @classmethod
    def from_report(cls, report: MigrationReport) -> MigrationResult:
        """Show the report of `engine.migration.migrate_instances`."""
        return cls(
            items=[
                MigrationItemRead(instance_id=i.instance_id, ok=i.ok, problem=i.problem)
                for i in report.items
            ],
            migrated=report.migrated,
            from_version=report.from_version,
            to_version=report.to_version,
            dry_run=report.dry_run,
        )
