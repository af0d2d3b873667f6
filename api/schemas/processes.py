"""Process definitions: the deployed versions, a deploy's result, the start form."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import Instant
from api.schemas.forms import FormRead
from engine.definitions import DeployedVersion
from engine.errors import BpmnProblem
from engine.models import ProcessVersion
from engine.version_stats import VersionStats


class ProcessSummary(BaseModel):
    """The newest version of a deployed process."""

    key: str
    name: str
    version: int
    deployed_at: Instant


class ProcessVersionRead(BaseModel):
    """One deployed version of a process."""

    key: str
    name: str
    version: int
    filename: str
    content_hash: str = Field(description="SHA-256 of the file; a changed file deploys anew")
    deployed_at: Instant
    deployed_by: str | None

    @classmethod
    def from_version(cls, key: str, version: ProcessVersion) -> ProcessVersionRead:
        """Show a version row of the process `key`."""
        return cls(
            key=key,
            name=version.name,
            version=version.version,
            filename=version.filename,
            content_hash=version.content_hash,
            deployed_at=version.deployed_at,
            deployed_by=version.deployed_by,
        )


class DeployedProcess(BaseModel):
    """A process or decision of the uploaded file, after the deploy."""

    key: str
    name: str
    version: int
    created: bool = Field(description="false when the content was unchanged: no new version")
    deployed_at: Instant

    @classmethod
    def from_result(cls, result: DeployedVersion) -> DeployedProcess:
        """Show one result of `definitions.deploy_files`."""
        return cls(
            key=result.key,
            name=result.name,
            version=result.version,
            created=result.created,
            deployed_at=result.deployed_at,
        )


class DeployResult(BaseModel):
    """What a deploy did: 201 when a version was added, 200 when nothing changed."""

    processes: list[DeployedProcess]
    key: str | None = Field(default=None, description="the first process's key (absent when none)")
    version: int | None = Field(
        default=None, description="the first process's version (absent when none)"
    )


class ValidationProblem(BaseModel):
    """One reason a deploy would refuse the file, located on its element when it has one."""

    element_id: str | None
    element_name: str | None
    message: str


class ValidationResult(BaseModel):
    """`POST /processes/validate`: whether the file would deploy, and every problem."""

    ok: bool
    problems: list[ValidationProblem]

    @classmethod
    def from_problems(cls, problems: list[BpmnProblem], language: str = "en") -> ValidationResult:
        """Show the problems `definitions.check_files` found (none: ok), in `language`
        where a problem has a catalogue text (the API's are English, as its deploy's)."""
        return cls(
            ok=not problems,
            problems=[
                ValidationProblem(
                    element_id=p.element_id,
                    element_name=p.element_name,
                    message=p.text_in(language),
                )
                for p in problems
            ],
        )


class StartForm(BaseModel):
    """The start form of a process's newest version."""

    key: str
    version: int
    form: FormRead | None = Field(description="null when the start event has no form")


class VersionInstances(BaseModel):
    """How many instances on the version now are running, completed or cancelled."""

    running: int
    completed: int
    cancelled: int


class ElementStatsRead(BaseModel):
    """One user task of a version: its figures over the instances on the version."""

    element_id: str
    completed: int = Field(description="tasks of the element completed")
    open: int = Field(description="tasks of the element open now")
    median_working_seconds: int | None = Field(
        description="median working time of the completed tasks with an SLA (paused time "
        "left out); null when none"
    )
    breached: int = Field(description="completed or open tasks whose SLA breached")
    breached_share: float | None = Field(
        description="breached / (completed + open), 0..1; null when there are none"
    )


class VersionStatsRead(BaseModel):
    """`GET /processes/{key}/versions/{n}/stats`: the heat map's figures of a version."""

    key: str
    version: int
    instances: VersionInstances
    elements: list[ElementStatsRead]

    @classmethod
    def from_stats(cls, stats: VersionStats) -> VersionStatsRead:
        """Show `engine.version_stats.version_stats`'s answer."""
        return cls(
            key=stats.key,
            version=stats.version,
            instances=VersionInstances(**stats.instances),
            elements=[
                ElementStatsRead(
                    element_id=e.element_id,
                    completed=e.completed,
                    open=e.open,
                    median_working_seconds=e.median_working_seconds,
                    breached=e.breached,
                    breached_share=e.breached_share,
                )
                for e in stats.elements
            ],
        )
