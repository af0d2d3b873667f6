"""Domain errors of the engine; `api/` maps each to one HTTP status.

An error raised with a catalogue key (engine/texts.py) takes its English message from
the catalogue, which the JSON API answers with; `text_in(language)` gives the same
error in the language of the person reading it (the pages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from engine import texts


class FlowdeskError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, message: str = "", *, key: str | None = None, **params: Any) -> None:
        message = message or (texts.english(key, **params) if key else "")
        super().__init__(message)
        self.message = message
        self.key = key
        self.params = params

    def text_in(self, language: str) -> str:
        """Return the error's message in `language` (the English message without a key)."""
        return texts.text(self.key, language, **self.params) if self.key else self.message


class NotFound(FlowdeskError):
    """The named thing does not exist (404)."""


class NotPermitted(FlowdeskError):
    """The actor's role does not allow this action (403)."""


class NotAuthenticated(FlowdeskError):
    """No valid credentials (401)."""


class TooManyAttempts(FlowdeskError):
    """Too many failed sign-ins for this username from this address (429);
    `retry_after` says in how many seconds to try again."""

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(key="signin_throttled", minutes=max(1, -(-retry_after // 60)))
        self.retry_after = retry_after


class Conflict(FlowdeskError):
    """The state changed under the caller: held by someone else, no longer open (409)."""


class TaskNotOpen(Conflict):
    """The task is completed or cancelled."""


class TaskHeldByOther(Conflict):
    """Someone else has claimed the task."""


class ConcurrentUpdate(Conflict):
    """Another operation changed the instance first."""


class DetailedConflict(Conflict):
    """A conflict that names what it is about: the 409's body is `{"message", **details}`."""

    def __init__(self, *, key: str, details: Mapping[str, Any], **params: Any) -> None:
        super().__init__(key=key, **params)
        self.details = dict(details)


class DuplicateCase(DetailedConflict):
    """Starting would repeat a case that is still open; `details` names it."""


class UserHoldsWork(Conflict):
    """The user still holds open tasks or cases (through an assignee variable), so they
    cannot be deactivated; hand their work over first. The API names the held cases
    `leads` (the only ones the shipped processes have)."""

    def __init__(self, *, username: str, task_ids: list[str], instance_ids: list[str]) -> None:
        super().__init__(
            key="error_user_holds_work",
            username=username,
            tasks=len(task_ids),
            cases=len(instance_ids),
        )
        self.task_ids = task_ids
        self.instance_ids = instance_ids


class _Worded:
    """A problem given as an English message, or by a catalogue key (and parameters)
    that words it in every language; the message is then the key's English text."""

    message: str
    key: str | None
    params: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not self.message and self.key:
            object.__setattr__(self, "message", texts.english(self.key, **self.params))

    def text_in(self, language: str) -> str:
        """Return the problem in `language` (the message as made without a key)."""
        return texts.text(self.key, language, **self.params) if self.key else self.message


@dataclass(frozen=True)
class FieldProblem(_Worded):
    """What is wrong with one field: the message, or a catalogue key that makes it."""

    field: str
    message: str = ""
    key: str | None = None
    params: Mapping[str, Any] = dataclass_field(default_factory=dict, compare=False, hash=False)


class InvalidData(FlowdeskError):
    """Submitted data is invalid; carries one problem per field (422)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

    def text_in(self, language: str) -> str:
        """Return every problem as `field: message` in `language`."""
        return "; ".join(f"{p.field}: {p.text_in(language)}" for p in self.problems)


@dataclass(frozen=True)
class BpmnProblem(_Worded):
    """What a deploy refuses, located on its element. `message` is English (the API's
    and the command line's); a problem made from a catalogue key reads in any language."""

    element_id: str | None
    element_name: str | None
    message: str = ""
    file: str | None = None
    key: str | None = None
    params: Mapping[str, Any] = dataclass_field(default_factory=dict, compare=False, hash=False)

    def format(self) -> str:
        """Render as `FILE: element_id (element name): message` for the command line."""
        where = self.element_id or "-"
        if self.element_name:
            where += f" ({self.element_name})"
        return f"{self.file or '-'}: {where}: {self.message}"


class InvalidBpmn(FlowdeskError):
    """A BPMN/DMN file cannot be deployed; carries every problem found (422)."""

    def __init__(self, problems: list[BpmnProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in BPMN")
        self.problems = problems


class ProcessError(FlowdeskError):
    """The process itself failed while running (a condition, script or decision raised) (422)."""

    def __init__(
        self, message: str, *, element_id: str | None = None, element_name: str | None = None
    ) -> None:
        super().__init__(message)
        self.element_id = element_id
        self.element_name = element_name
